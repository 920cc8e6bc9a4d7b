"""Deciding what a matching observation becomes: nothing yet, a new alert, or a sighting.

1. An open alert on the subject at this branch, seen within ALERT_COOLDOWN_SECONDS, takes
   the observation as a sighting (at most one per camera per SIGHTING_INTERVAL_SECONDS
   unless the score beats the alert's).
2. Otherwise an alert needs agreement: a second observation of the subject by the same
   camera, from another frame, within AGREEMENT_WINDOW_SECONDS of capture time, or one score
   at least AGREEMENT_STRONG_MARGIN above the threshold. The first observation waits in
   PendingMatch until then, and the sweep drops it once the window is long past.

`observe` runs inside the job's transaction and locks the subject row first, so two
workers seeing the same person at the same moment still make one alert.
"""

from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.actions import add_sighting, raise_alert
from alerts.models import Alert, Observation, PendingMatch
from enrollment.models import Subject, Watchlist


class Observed(StrEnum):
    """What an observation became."""

    RAISED = "raised"  # a new alert
    SIGHTING = "sighting"  # a sighting on an open alert
    REPEAT = "repeat"  # nothing: the open alert has this camera's sighting of the moment already
    PENDING = "pending"  # held, waiting for agreement


def _is_repeat(alert: Alert, obs: Observation) -> bool:
    """A sighting the alert has already, unless this one scores higher."""
    if alert.score is None or obs.score > alert.score:
        return False
    return alert.seen_recently_by(obs.camera, obs.seen_at)


def observe(subject_id: int, watchlist_id: int, obs: Observation) -> tuple[Observed, Alert | None]:
    """Returns what happened and the alert concerned (None when the observation is pending)."""
    assert transaction.get_connection().in_atomic_block, "observe() must run inside the job's transaction"
    subject = Subject.objects.select_for_update().get(pk=subject_id)
    camera = obs.camera
    open_alert = (
        Alert.objects.filter(
            subject=subject,
            branch_id=camera.branch_id,
            status__in=Alert.OPEN_STATUSES,
            last_seen_at__gte=obs.seen_at - timedelta(seconds=settings.ALERT_COOLDOWN_SECONDS),
        )
        .order_by("-last_seen_at")
        .first()
    )
    if open_alert is not None:
        if _is_repeat(open_alert, obs):
            return Observed.REPEAT, open_alert
        add_sighting(open_alert, obs)
        return Observed.SIGHTING, open_alert

    window = timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS)
    partners = list(
        PendingMatch.objects.filter(
            camera=camera, subject=subject, seen_at__gte=obs.seen_at - window, seen_at__lte=obs.seen_at + window
        ).exclude(frame_id=obs.frame_id)
    )
    strong = obs.score >= obs.threshold + settings.AGREEMENT_STRONG_MARGIN
    if partners or strong:
        observations = [obs, *(p.to_observation(camera) for p in partners)]
        alert = raise_alert(subject, Watchlist.objects.get(pk=watchlist_id), observations)
        PendingMatch.objects.filter(pk__in=[p.pk for p in partners]).delete()
        return Observed.RAISED, alert

    PendingMatch.hold(subject, watchlist_id, obs)
    return Observed.PENDING, None


def purge_expired_pending() -> int:
    """Drop first observations that never found agreement (wall-clock age, well past the window)."""
    horizon = timezone.now() - timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS + settings.FRAME_STALE_SECONDS)
    deleted, _ = PendingMatch.objects.filter(created_at__lt=horizon).delete()
    return deleted
