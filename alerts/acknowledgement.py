"""Which alerts nobody acknowledged in time (the periodic job "alerts.check_acknowledgements").

A watchlist may require acknowledgement within N seconds (`Watchlist.acknowledge_within_seconds`,
with `requires_acknowledgement`). An alert of it still new after N seconds is announced again on
the dashboard, mailed to the branch's security staff and sent to webhooks as
`alert.unacknowledged` (stage 1); still new after 2N it is escalated to the bank's security
managers (stage 2). Taking the alert into review is acknowledging it. Each step is
alerts.actions.flag_unacknowledged: once per alert and stage, however many workers check.
"""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from alerts.actions import UNACKNOWLEDGED_STAGES, flag_unacknowledged
from alerts.models import Alert


def _waiting() -> list[Alert]:
    """New alerts of watchlists with a deadline, not yet escalated: few, since alerts are reviewed."""
    return list(
        Alert.objects.filter(
            status=Alert.Status.NEW,
            unacknowledged_stage__lt=max(UNACKNOWLEDGED_STAGES),
            watchlist__requires_acknowledgement=True,
            watchlist__acknowledge_within_seconds__isnull=False,
        )
        .select_related("watchlist")
        .order_by("created_at")[:2000]
    )


def check_acknowledgements(now: Any = None) -> dict[str, int]:
    """Flag every alert past its deadline; returns how many reached each stage."""
    now = now or timezone.now()
    reached = dict.fromkeys(UNACKNOWLEDGED_STAGES, 0)
    for alert in _waiting():
        within = alert.watchlist.acknowledge_within_seconds if alert.watchlist else None
        if not within:
            continue
        late = (now - alert.created_at) / timedelta(seconds=within)
        stage = min(int(late), max(UNACKNOWLEDGED_STAGES))  # 1 past the deadline, 2 past twice it
        if stage > alert.unacknowledged_stage and flag_unacknowledged(alert, stage):
            reached[stage] += 1
    return {"reminded": reached[1], "escalated": reached[2]}
