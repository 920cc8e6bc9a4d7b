"""The recognition job: one frame's bytes in, nothing or alert evidence out.

process_frame(frame_id, camera_id, captured_at, data):
1. Claim the frame (alerts/frame_queue.py: SET NX in Redis, in memory in the embedded mode); a
   second delivery of a processed frame does nothing, one of a frame in work elsewhere is retried.
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
6. Write only when there is something to keep, in one transaction: the rows carry the frame id,
   unique per camera, so a re-run adds nothing. A frame with no face searched and none covered
   costs no SQL statement; the frame itself was never stored (what an alert keeps is its own
   blurred copy), and a face that matched no one leaves nothing, not even a log line.
7. Mark the frame done.

sweep() purges the agreement's expired pending rows.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

from alerts import door, frame_queue
from alerts.agreement import Observed, observe, purge_expired_pending
from alerts.covered import observe_covered, purge_expired_pending_coverings, raises_covered_events
from alerts.field_rates import count_searches
from alerts.models import Observation
from cameras.models import Camera
from enrollment import gallery
from entrance.display import publish_to_display
from recognition import covering, decision, persons
from recognition.blur import blur_faces, overlap
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


@dataclass(frozen=True)
class FrameJob:
    """One frame as its job carries it: the bytes, the camera (with branch and bank) and when it was seen."""

    pk: int
    camera: Camera
    captured_at: datetime
    data: bytes

    @property
    def camera_id(self) -> int:
        return int(self.camera.pk)


_cameras: dict[int, tuple[float, Camera]] = {}
CAMERA_CACHE_SECONDS = 30.0


def _camera(camera_id: int) -> Camera:
    """The camera with its branch and bank, read once per CAMERA_CACHE_SECONDS per process, not per frame
    (a camera moved to another branch is searched against the new branch's watchlists within that time)."""
    cached = _cameras.get(camera_id)
    if cached is not None and time.monotonic() - cached[0] < CAMERA_CACHE_SECONDS:
        return cached[1]
    camera = Camera.objects.select_related("branch__bank").get(pk=camera_id)
    _cameras[camera_id] = (time.monotonic(), camera)
    return camera


def _faces_at_blur_confidence(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Every face box the detector finds at BANKWATCH_BLUR_MIN_CONFIDENCE, far below the search
    floor: an evidence frame hides a bystander the search would not have looked at too."""
    engine = get_engine()
    floor = settings.BLUR_MIN_CONFIDENCE
    if engine.detector == "yunet":
        return [(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in engine.detect(image, min_confidence=floor)]
    return [face.box for face in engine.analyze(image, min_confidence=floor)]


def _observations(
    frame: FrameJob, image: np.ndarray, faces: list[Face], usable: list[int], coverings: list[covering.Covering]
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
        bystanders += [box for box in faint if overlap(box, face.box) < 0.3]
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


def _recognise(frame: FrameJob) -> FrameOutcome:
    image = decision.decode_frame(frame.data)
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
    if not (usable or at_door):
        return outcome  # no face searched and none covered: no SQL statement, nothing kept
    with transaction.atomic():
        count_searches(frame.camera_id, len(usable))
        for subject_id, watchlist_id, obs in observations:
            what, alert = observe(subject_id, watchlist_id, obs)
            outcome.results.append((what, alert.pk if alert else None))
        for face_index, obs in at_door:
            what, event = observe_covered(obs, face_index)
            outcome.covered.append((what, event.pk if event else None))
    return outcome


def process_frame(frame_id: int, camera_id: int, captured_at: str, data: bytes) -> FrameOutcome | None:
    """The job body (Celery task or embedded thread). None when the frame was processed already.

    Raises ClaimHeldError while another job holds the frame (the task retries after it), and
    re-raises any other failure after giving the claim back (the task retries it)."""
    if not frame_queue.claim(frame_id):
        return None
    try:
        frame = FrameJob(frame_id, _camera(camera_id), datetime.fromisoformat(captured_at), data)
        outcome = _recognise(frame)
    except (InvalidImageError, Camera.DoesNotExist):
        frame_queue.finish(camera_id, frame_id)  # nothing to retry: the bytes or the camera are gone for good
        return None
    except Exception as exc:  # the soft time limit included; a hard kill is the redelivery's to redo
        # Only the class and frame id are logged: the message could carry data about the face.
        logger.warning("frame %s failed: %s", frame_id, exc.__class__.__name__)
        frame_queue.release(frame_id)
        raise
    frame_queue.finish(camera_id, frame_id)
    frame_processed.send(sender=FrameJob, outcome=outcome)
    return outcome


@dataclass
class Sweep:
    """What one sweep purged."""

    pending_matches_expired: int
    pending_coverings_expired: int

    def summary(self) -> dict[str, int]:
        return {
            "pending_matches_expired": self.pending_matches_expired,
            "pending_coverings_expired": self.pending_coverings_expired,
        }


def sweep() -> Sweep:
    """Purge the agreement's expired pending rows. Lost frames need no sweep: a job whose worker died
    is delivered again by the broker (late acknowledgement) and alerts.frame_queue runs it once."""
    return Sweep(
        pending_matches_expired=purge_expired_pending(),
        pending_coverings_expired=purge_expired_pending_coverings(),
    )
