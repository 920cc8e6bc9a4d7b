"""What each audit action and object type means, in words a person reads (both languages).

The review page's history and the audit page both name actions through `action_words`; an
action missing here shows its internal name rather than nothing.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTIONS: dict[str, Promise] = {
    "alert.raised": _("Alert raised"),
    "alert.start_review": _("Review started"),
    "alert.confirm": _("Confirmed: it is this person"),
    "alert.dismiss": _("Dismissed"),
    "alert.escalate": _("Escalated to the police"),
    "alert.undo_dismissal": _("Dismissal undone"),
    "alert.closed_unreviewed": _("Closed unreviewed"),
    "alert.asked_to_uncover": _("Asked to uncover"),
    "alert.security_called": _("Security called"),
    "alert.false_alarm": _("Called a false alarm"),
    "alert.sighting_added": _("Seen again"),
    "alert.viewed": _("Alert viewed"),
    "alert.image_viewed": _("Alert image viewed"),
    "alert.counter_example_missing": _("No face to remember as not this person"),
    "alerts.listed": _("Alert list viewed"),
    "alerts.sound_muted": _("Alert sound muted"),
    "alerts.sound_unmuted": _("Alert sound turned back on"),
    "covered.raised": _("Covered face at the door"),
    "covered.sighting_added": _("Covered face seen again"),
    "case.opened": _("Case opened"),
    "case.note_added": _("Case note added"),
    "case.closed": _("Case closed"),
    "case.viewed": _("Case viewed"),
    "case.evidence_exported": _("Evidence exported"),
    "counter_example.added": _("Remembered as not this person"),
    "counter_example.withdrawn": _("Not-this-person memory withdrawn"),
}


def action_words(action: str) -> str:
    return str(ACTIONS.get(action, action))
