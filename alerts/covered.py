"""Deciding what a covered face at the door becomes: nothing yet, a new covered-face event, or a
sighting on one. The same rules as a match (alerts/agreement.py), with "the same person" in place
of "the same subject", since a covered-face event names no one:

1. Two observations are of the same person when both have a face embedding at least
   COVERED_SAME_PERSON_SIMILARITY alike, or when neither has a face (face_hidden: the person
   detector saw someone whose face the face detector could not; one camera, one such person).
2. An open covered-face event of that person at this camera, seen within ALERT_COOLDOWN_SECONDS,
   takes the observation as a sighting (at most one per SIGHTING_INTERVAL_SECONDS).
3. Otherwise an event needs agreement: the same person covered in another frame of the same
   camera within AGREEMENT_WINDOW_SECONDS (face_hidden: in COVERED_HIDDEN_MIN_FRAMES frames).
   Until then the observation waits in PendingCovering; the sweep drops it once the window is
   long past.

`observe_covered` runs inside the job's transaction and locks the camera row first, so two workers
seeing the same person in two frames at the same moment still make one event.
"""

from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from numpy.typing import NDArray

from alerts.actions import add_sighting, raise_covered_event
from alerts.agreement import Observed
from alerts.models import Alert, Observation, PendingCovering
from cameras.models import Camera

HIDDEN = "face_hidden"


def raises_covered_events(camera: Camera) -> bool:
    """Whether this camera's role is one that raises covered-face events (BANKWATCH_COVERED_EVENT_ROLES)."""
    return getattr(camera, "role", "") in settings.COVERED_EVENT_ROLES


def _embedding(raw: bytes | memoryview | None) -> NDArray[np.float32] | None:
    return np.frombuffer(bytes(raw), dtype=np.float32) if raw else None


def same_person(a: NDArray[np.float32] | None, b: NDArray[np.float32] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None  # two hidden faces at one camera; a face and no face never
    return float(np.dot(a, b)) >= settings.COVERED_SAME_PERSON_SIMILARITY


def observe_covered(obs: Observation, face_index: int) -> tuple[Observed, Alert | None]:
    """Returns what happened and the event concerned (None when the observation is pending).

    `obs.covering` holds the labels (["face_hidden"] for a person with no visible face) and
    `obs.embedding` the face's embedding (None when hidden); `face_index` tells apart the covered
    faces of one frame."""
    assert transaction.get_connection().in_atomic_block, "observe_covered() must run inside the job's transaction"
    camera = Camera.objects.select_for_update(of=("self",)).select_related("branch__bank").get(pk=obs.camera.pk)
    obs.camera = camera
    recent = Alert.objects.filter(
        kind=Alert.Kind.COVERED,
        camera=camera,
        status__in=Alert.OPEN_STATUSES,
        last_seen_at__gte=obs.seen_at - timedelta(seconds=settings.ALERT_COOLDOWN_SECONDS),
    ).order_by("-last_seen_at")
    for event in recent:
        hidden = event.covering_labels == [HIDDEN]
        if (obs.embedding is None) != hidden or not same_person(obs.embedding, _embedding(event.probe_embedding)):
            continue
        if event.seen_recently_by(obs.camera, obs.seen_at):
            return Observed.REPEAT, event
        add_sighting(event, obs)
        return Observed.SIGHTING, event

    window = timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS)
    waiting = PendingCovering.objects.filter(
        camera=camera, seen_at__gte=obs.seen_at - window, seen_at__lte=obs.seen_at + window
    ).exclude(frame_id=obs.frame_id)
    partners: dict[int, PendingCovering] = {}  # one per frame: a frame is one view of the person
    for row in waiting.order_by("seen_at"):
        if row.frame_id not in partners and same_person(obs.embedding, row.face_embedding):
            partners[row.frame_id] = row
    needed = settings.COVERED_HIDDEN_MIN_FRAMES if obs.embedding is None else 2
    if len(partners) + 1 >= needed:
        chosen = list(partners.values())
        event = raise_covered_event([obs, *(p.to_observation(camera) for p in chosen)])
        PendingCovering.objects.filter(pk__in=[p.pk for p in chosen]).delete()
        return Observed.RAISED, event

    PendingCovering.hold(obs, face_index)
    return Observed.PENDING, None


def purge_expired_pending_coverings() -> int:
    """Drop covered faces that never found agreement (wall-clock age, well past the window)."""
    horizon = timezone.now() - timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS + settings.FRAME_STALE_SECONDS)
    deleted, _ = PendingCovering.objects.filter(created_at__lt=horizon).delete()
    return deleted
