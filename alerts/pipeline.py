"""The recognition job: one stored frame in, nothing or alert evidence out.

process_frame(frame_id):
1. Claim the frame with one conditional UPDATE (pending -> processing); a duplicated or
   retried job that loses the claim does nothing.
2. Decode it once (at most about the detector's size), detect and embed every face,
   search the gallery with each watchlist's own threshold (enrollment.gallery.search).
3. Classify every face's covering (recognition.covering). A camera with a paired entrance
   display gets the frame, the face boxes and covered yes/no at once (entrance.display: no
   identity, nothing stored).
4. For each subject matched (its best face in this frame), keep the aligned crop and the
   frame with every other face pixelated (and the covering, when the face was covered), and
   let alerts.agreement decide: pending, new alert, or sighting.
5. On a camera whose role raises covered-face events (BANKWATCH_COVERED_EVENT_ROLES), each
   covered face, and on an entrance camera each person in view with no visible face
   (recognition.persons), becomes a covered observation (alerts.door) and alerts.covered
   decides: pending, new event, or sighting.
6. Delete the frame, row and file, in every outcome: what an alert keeps is its own
   blurred copy. A face that matched no one leaves nothing, not even a log line.

sweep() takes back frames a crashed worker left behind, purges what has expired and returns the
frames to queue again (the sweep task queues them: this module never imports a task).
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from alerts import door
from alerts.agreement import Observed, observe, purge_expired_pending
from alerts.covered import observe_covered, purge_expired_pending_coverings, raises_covered_events
from alerts.field_rates import count_searches
from alerts.models import Frame, Observation
from enrollment import gallery
from entrance.display import publish_to_display
from recognition import covering, decision, persons
from recognition.blur import blur_faces
from recognition.engine import Face, get_engine
from recognition.images import InvalidImageError, encode_jpeg

logger = logging.getLogger(__name__)

# Sent in the process that ran the job, with outcome=FrameOutcome (replay_video and bench use it).
frame_processed = Signal()


@dataclass
class FrameOutcome:
    frame_id: int
    camera_id: int
    faces: int = 0
    matches: int = 0
    results: list[tuple[Observed, int | None]] = field(default_factory=list)  # (what happened, alert id)
    covered: list[tuple[Observed, int | None]] = field(default_factory=list)  # (what happened, covered-face event id)


def claim(frame_id: int) -> Frame | None:
    claimed = Frame.objects.filter(pk=frame_id, status=Frame.Status.PENDING).update(
        status=Frame.Status.PROCESSING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if claimed != 1:
        return None
    return Frame.objects.select_related("camera__branch__bank").get(pk=frame_id)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def _faces_at_blur_confidence(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Every face box the detector finds at BANKWATCH_BLUR_MIN_CONFIDENCE, far below the search
    floor: an evidence frame hides a bystander the search would not have looked at too."""
    engine = get_engine()
    floor = settings.BLUR_MIN_CONFIDENCE
    if engine.detector == "yunet":
        return [(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in engine.detect(image, min_confidence=floor)]
    return [face.box for face in engine.analyze(image, min_confidence=floor)]


def _observations(
    frame: Frame, image: np.ndarray, faces: list[Face], usable: list[int], coverings: list[covering.Covering]
) -> list[tuple[int, int, Observation]]:
    """(subject id, watchlist id, observation) for each subject matched, from its best face."""
    if not usable:
        return []
    # A masked probe is also compared with the masked templates, at a stricter threshold (enrollment.gallery).
    masked = ["mask" in coverings[i].labels for i in usable]
    results = gallery.search(
        np.stack([faces[i].embedding for i in usable]), branch_id=frame.camera.branch_id, covered=masked
    )
    best: dict[int, tuple[int, gallery.Match]] = {}
    for index, matches in zip(usable, results, strict=True):
        for match in matches:
            if match.subject_id not in best or match.score > best[match.subject_id][1].score:
                best[match.subject_id] = (index, match)
    observations = []
    faint = _faces_at_blur_confidence(image) if best else []
    for subject_id, (index, match) in best.items():
        face = faces[index]
        bystanders = [f.box for j, f in enumerate(faces) if j != index]
        bystanders += [box for box in faint if _overlap(box, face.box) < 0.3]
        observations.append(
            (
                subject_id,
                match.watchlist_id,
                Observation(
                    camera=frame.camera,
                    frame_id=frame.pk,
                    seen_at=frame.captured_at,
                    score=match.score,
                    threshold=match.threshold,
                    box=list(face.box),
                    face_crop=encode_jpeg(face.crop),
                    frame_image=encode_jpeg(blur_faces(image, bystanders), quality=85),
                    embedding=face.embedding,
                    covering=door.covering_record(coverings[index]) if coverings[index].covered else {},
                ),
            )
        )
    return observations


def _recognise(frame: Frame) -> FrameOutcome:
    with frame.image.open("rb") as handle:
        data = handle.read()
    image = decision.decode_frame(data)
    faces, usable = decision.probe_faces(get_engine(), image)
    coverings = covering.classify_faces(image, faces)
    camera = frame.camera
    covered = door.covered_indexes(faces, coverings)
    publish_to_display(camera, image, [f.box for f in faces], bool(covered), frame.captured_at)
    outcome = FrameOutcome(frame.pk, frame.camera_id, faces=len(faces))
    observations = _observations(frame, image, faces, usable, coverings) if faces else []
    outcome.matches = len(observations)
    at_door: list[tuple[int, Observation]] = []
    if raises_covered_events(camera):
        at_door = door.covered_observations(frame, image, faces, coverings)
        if camera.role == camera.Role.ENTRANCE and door.people_due(camera.pk, frame.captured_at):
            at_door += door.hidden_observations(frame, image, faces, persons.detect_people(image))
    with transaction.atomic():
        count_searches(frame.camera_id, len(usable))
        for subject_id, watchlist_id, obs in observations:
            what, alert = observe(subject_id, watchlist_id, obs)
            outcome.results.append((what, alert.pk if alert else None))
        for face_index, obs in at_door:
            what, event = observe_covered(obs, face_index)
            outcome.covered.append((what, event.pk if event else None))
        Frame.objects.filter(pk=frame.pk).delete()
    if frame.image:
        frame.image.delete(save=False)
    return outcome


def _give_up_or_retry(frame: Frame, error: str, retry: bool) -> None:
    """A failed attempt: back to pending for the sweep, or failed (and its image gone) for good."""
    if retry and frame.attempts < settings.FRAME_MAX_ATTEMPTS:
        Frame.objects.filter(pk=frame.pk, status=Frame.Status.PROCESSING).update(
            status=Frame.Status.PENDING, error=error[:300]
        )
        return
    Frame.objects.filter(pk=frame.pk).update(
        status=Frame.Status.FAILED, error=error[:300], processed_at=timezone.now(), image=""
    )
    if frame.image:
        frame.image.delete(save=False)


def process_frame(frame_id: int) -> FrameOutcome | None:
    """The job body (Celery task or embedded thread). None when another job has this frame."""
    frame = claim(frame_id)
    if frame is None:
        return None
    try:
        outcome = _recognise(frame)
    except InvalidImageError as exc:
        _give_up_or_retry(frame, f"unreadable image: {exc}", retry=False)
        return None
    except Exception as exc:  # the soft time limit included; a hard kill is the sweep's to find
        # Only the class and frame id are logged: the message could carry data about the face.
        logger.warning("frame %s failed: %s", frame_id, exc.__class__.__name__)
        _give_up_or_retry(frame, exc.__class__.__name__, retry=True)
        raise
    frame_processed.send(sender=Frame, outcome=outcome)
    return outcome


@dataclass
class Sweep:
    """What one sweep did, and the frames it hands back to be queued again (alerts/tasks.py queues them)."""

    requeue: list[int]
    reclaimed: int
    failed: int
    failed_deleted: int
    pending_matches_expired: int
    pending_coverings_expired: int

    def summary(self) -> dict[str, int]:
        return {
            "reclaimed": self.reclaimed,
            "failed": self.failed,
            "requeued": len(self.requeue),
            "failed_deleted": self.failed_deleted,
            "pending_matches_expired": self.pending_matches_expired,
            "pending_coverings_expired": self.pending_coverings_expired,
        }


def sweep() -> Sweep:
    """Take back frames claimed by a crashed worker; fail those out of attempts; purge expired rows;
    return the frames left pending too long, for the caller to queue again."""
    now = timezone.now()
    stale_claim = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 5)
    reclaimed = Frame.objects.filter(
        status=Frame.Status.PROCESSING, claimed_at__lt=stale_claim, attempts__lt=settings.FRAME_MAX_ATTEMPTS
    ).update(status=Frame.Status.PENDING, error="worker lost")
    failed = 0
    for frame in Frame.objects.filter(status=Frame.Status.PROCESSING, claimed_at__lt=stale_claim):
        _give_up_or_retry(frame, "worker lost on every attempt", retry=False)
        failed += 1
    stale = now - timedelta(seconds=settings.FRAME_STALE_SECONDS)
    requeue = list(
        Frame.objects.filter(status=Frame.Status.PENDING, received_at__lt=stale).values_list("id", flat=True)[:1000]
    )
    old_failures, _ = Frame.objects.filter(
        status=Frame.Status.FAILED, processed_at__lt=now - timedelta(days=1)
    ).delete()
    return Sweep(
        requeue=requeue,
        reclaimed=reclaimed,
        failed=failed,
        failed_deleted=old_failures,
        pending_matches_expired=purge_expired_pending(),
        pending_coverings_expired=purge_expired_pending_coverings(),
    )
