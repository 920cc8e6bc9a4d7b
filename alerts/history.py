"""An alert's history as its review page shows it: every move, with who, when, the reason and the note.

Read from the audit log (audit/log.py), which every move writes in the same transaction as the
row, so the history cannot disagree with what happened. Views of the alert are left out; they
are on the audit page.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from alerts.models import Alert
from audit.models import AuditEntry
from audit.words import action_words

# Entries about looking, not moving, sightings (listed beside the history on their own), and the
# alert's side of a case's moves (the case's own entry says it, with the outcome).
NOT_MOVES = (
    "alert.viewed",
    "alert.image_viewed",
    "alert.sighting_added",
    "covered.sighting_added",
    "case.viewed",
    "alert.case_opened",
    "alert.closed",
)


@dataclass(frozen=True)
class Move:
    at: datetime
    who: str
    action: str
    what: str
    reason: str
    note: str


def alert_history(alert: Alert) -> list[Move]:
    """Oldest first: the alert's own entries and those of its police case."""
    on_alert = Q(object_type="alerts.alert", object_id=str(alert.pk))
    case = getattr(alert, "case", None) if alert.status in Alert.WITH_CASE else None
    on_case = Q(object_type="cases.case", object_id=str(case.pk)) if case is not None else Q(pk__in=[])
    reasons = dict(Alert.DismissReason.choices)
    entries = AuditEntry.objects.filter(on_alert | on_case).exclude(action__in=NOT_MOVES).order_by("at", "id")
    return [
        Move(
            at=entry.at,
            who=entry.actor_label,
            action=entry.action,
            what=action_words(entry.action),
            reason=str(reasons.get(entry.detail.get("reason", ""), "")),
            note=str(entry.detail.get("note") or entry.detail.get("outcome") or ""),
        )
        for entry in entries
    ]
