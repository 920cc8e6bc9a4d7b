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

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.actions import Observation, add_sighting, raise_alert
from alerts.models import Alert, PendingMatch, Sighting
from cameras.models import Camera
from enrollment.models import Subject, Watchlist

OPEN_STATUSES = [s for s in Alert.Status if s not in (Alert.Status.DISMISSED, Alert.Status.CLOSED)]


def _pending_to_observation(row: PendingMatch, camera: Camera) -> Observation:
    return Observation(
        camera=camera,
        frame_id=row.frame_id,
        seen_at=row.seen_at,
        score=row.score,
        threshold=row.threshold,
        box=list(row.box),
        face_crop=bytes(row.face_crop),
        frame_image=bytes(row.frame_image),
        embedding=np.frombuffer(bytes(row.embedding), dtype=np.float32),
    )


def _is_repeat(alert: Alert, obs: Observation) -> bool:
    interval = timedelta(seconds=settings.SIGHTING_INTERVAL_SECONDS)
    if alert.score is None or obs.score > alert.score:
        return False
    return Sighting.objects.filter(
        alert=alert, camera=obs.camera, seen_at__gt=obs.seen_at - interval, seen_at__lt=obs.seen_at + interval
    ).exists()


def observe(subject_id: int, watchlist_id: int, obs: Observation) -> tuple[str, Alert | None]:
    """Returns what happened ("raised", "sighting", "repeat", "pending") and the alert concerned."""
    assert transaction.get_connection().in_atomic_block, "observe() must run inside the job's transaction"
    subject = Subject.objects.select_for_update().get(pk=subject_id)
    camera = obs.camera
    open_alert = (
        Alert.objects.filter(
            subject=subject,
            branch_id=camera.branch_id,
            status__in=OPEN_STATUSES,
            last_seen_at__gte=obs.seen_at - timedelta(seconds=settings.ALERT_COOLDOWN_SECONDS),
        )
        .order_by("-last_seen_at")
        .first()
    )
    if open_alert is not None:
        if _is_repeat(open_alert, obs):
            return "repeat", open_alert
        add_sighting(open_alert, obs)
        return "sighting", open_alert

    window = timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS)
    partners = list(
        PendingMatch.objects.filter(
            camera=camera, subject=subject, seen_at__gte=obs.seen_at - window, seen_at__lte=obs.seen_at + window
        ).exclude(frame_id=obs.frame_id)
    )
    strong = obs.score >= obs.threshold + settings.AGREEMENT_STRONG_MARGIN
    if partners or strong:
        observations = [obs, *(_pending_to_observation(p, camera) for p in partners)]
        alert = raise_alert(subject, Watchlist.objects.get(pk=watchlist_id), observations)
        PendingMatch.objects.filter(pk__in=[p.pk for p in partners]).delete()
        return "raised", alert

    PendingMatch.objects.get_or_create(
        camera=camera,
        subject=subject,
        frame_id=obs.frame_id,
        defaults={
            "watchlist_id": watchlist_id,
            "seen_at": obs.seen_at,
            "score": obs.score,
            "threshold": obs.threshold,
            "box": obs.box,
            "face_crop": obs.face_crop,
            "frame_image": obs.frame_image,
            "embedding": np.asarray(obs.embedding, np.float32).tobytes(),
        },
    )
    return "pending", None


def purge_expired_pending() -> int:
    """Drop first observations that never found agreement (wall-clock age, well past the window)."""
    horizon = timezone.now() - timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS + settings.FRAME_STALE_SECONDS)
    deleted, _ = PendingMatch.objects.filter(created_at__lt=horizon).delete()
    return deleted
