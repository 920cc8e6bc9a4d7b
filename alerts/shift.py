"""The control room's shift and what happened in it: the dashboard's counters.

A shift starts at each of BANKWATCH_SHIFT_START_HOURS (local time, Asia/Ho_Chi_Minh by default);
the counters cover the alerts, covered-face events and camera problems of the user's scope since
the current shift began. The page updates them live from the feed.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from alerts.access import alerts_visible_to
from alerts.models import Alert
from audit.models import AuditEntry
from cameras.access import cameras_visible_to
from cameras.models import Camera


def shift_start(now: datetime | None = None) -> datetime:
    """When the current shift began: the latest start hour at or before now, today or yesterday."""
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [midnight + timedelta(hours=h) for h in settings.SHIFT_START_HOURS]
    past = [start for start in starts if start <= local]
    return max(past) if past else midnight - timedelta(days=1) + timedelta(hours=max(settings.SHIFT_START_HOURS))


def shift_counters(user: User, since: datetime, camera_ids: list[int] | None = None) -> dict[str, int]:
    """Alerts (matches), covered-face events and camera problems of the user's scope since `since`
    (`camera_ids`: the cameras of that scope, when the caller has them already)."""
    counts = (
        alerts_visible_to(user)
        .filter(created_at__gte=since)
        .aggregate(
            alerts=Count("pk", filter=Q(kind=Alert.Kind.MATCH)),
            covered=Count("pk", filter=Q(kind=Alert.Kind.COVERED)),
        )
    )
    if camera_ids is None:
        camera_ids = list(cameras_visible_to(user).values_list("pk", flat=True))
    problems = AuditEntry.objects.filter(
        action="camera.health_changed",
        object_type="cameras.camera",
        object_id__in=[str(pk) for pk in camera_ids],
        at__gte=since,
        detail__status__in=sorted(Camera.TAMPER_STATES),
    ).count()
    return {"alerts": counts["alerts"], "covered": counts["covered"], "camera_problems": problems}
