"""Test data built through the real actions, never half-made rows.

make_alert(camera, subject) raises an alert through alerts.actions.raise_alert, so it has
its audit entry, its feed event and (by default) small synthetic images.
"""

import itertools

import numpy as np
from django.utils import timezone

from alerts.actions import add_sighting, raise_alert
from alerts.models import Alert, Observation, Sighting
from cameras.models import Camera
from enrollment.actions import create_subject, create_watchlist
from enrollment.models import Subject, Watchlist
from recognition.images import encode_jpeg

_frame_ids = itertools.count(1_000_000)


def _image(width: int, height: int, shade: int) -> bytes:
    pixels = np.full((height, width, 3), shade, dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = (40, 90, 200)
    return encode_jpeg(pixels, quality=70)


def random_embedding(seed: int = 0) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def make_subject(
    name: str = "Nguyen Van A", watchlist: str = "Bank robbers", threshold: float | None = None
) -> Subject:
    """A watchlist subject with no templates (enough for alert tests; enroll photos to make it match)."""
    listing = Watchlist.objects.filter(name=watchlist).first() or create_watchlist(watchlist, threshold=threshold)
    return create_subject(listing, name, legal_basis="Warrant 12/2026")


def make_observation(camera: Camera, score: float = 0.6, with_images: bool = True, **changes: object) -> Observation:
    obs = Observation(
        camera=camera,
        frame_id=next(_frame_ids),
        seen_at=timezone.now(),
        score=score,
        threshold=0.363,
        box=[100, 80, 120, 140],
        face_crop=_image(112, 112, 150) if with_images else b"",
        frame_image=_image(640, 360, 90) if with_images else b"",
        embedding=random_embedding(next(_frame_ids)),
    )
    for key, value in changes.items():
        setattr(obs, key, value)
    return obs


def make_covered_observation(
    camera: Camera, labels: tuple[str, ...] = ("mask",), person: int | None = 7, **changes: object
) -> Observation:
    """A covered face at `camera` (labels with their confidences). `person` seeds its embedding, so
    two observations with one `person` are the same face; None is a hidden face (no face seen)."""
    scores = {label: 0.9 for label in labels if label != "face_hidden"}
    obs = make_observation(
        camera,
        score=max(scores.values(), default=1.0),
        threshold=0.0,
        embedding=random_embedding(person) if person is not None else None,
        covering={"labels": list(labels), "scores": scores},
    )
    if person is None:
        obs.face_crop = b""
    for key, value in changes.items():
        setattr(obs, key, value)
    return obs


def make_covered_event(camera: Camera, labels: tuple[str, ...] = ("mask",), person: int = 7) -> Alert:
    """A covered-face event raised through raise_covered_event (row + audit + feed event)."""
    from alerts.actions import raise_covered_event

    return raise_covered_event([make_covered_observation(camera, labels, person) for _ in range(2)])


def make_alert(camera: Camera, subject: Subject, score: float = 0.6, with_images: bool = True) -> Alert:
    """An alert on `subject` seen by `camera`, raised through raise_alert (row + audit + feed event)."""
    return raise_alert(subject, subject.watchlist, [make_observation(camera, score, with_images)])


def make_sighting(alert: Alert, score: float = 0.55, with_images: bool = True) -> Sighting | None:
    return add_sighting(alert, make_observation(alert.camera, score, with_images))


def enroll(subject: Subject, *photo_names: str) -> Subject:
    """Enroll dataset photos through enrollment.actions (quality gate, template), as a curator would."""
    from bankwatch.jobs import wait_idle
    from enrollment.actions import add_photo, enroll_photo
    from enrollment.models import ReferencePhoto
    from tests.conftest import photo

    for name in photo_names:
        reference = add_photo(subject, photo(name), name)
        wait_idle(60)  # in a transactional test the enrollment job ran on a worker thread
        reference.refresh_from_db()
        if reference.status == ReferencePhoto.Status.PENDING:  # inside a test transaction it never started
            reference = enroll_photo(reference.pk)
        assert reference.status == ReferencePhoto.Status.ACCEPTED, reference.rejection_reason
    return subject


def recorded_frames(monkeypatch) -> list[tuple]:
    """Every frame ingestion puts in alerts.frame_queue from now on, as the arguments of
    alerts.pipeline.process_frame (the frame's bytes among them); the frames are queued as ever."""
    from alerts import frame_queue

    found: list[tuple] = []
    real_put = frame_queue.put

    def put(job: frame_queue.Job) -> None:
        found.append(job.args())
        real_put(job)

    monkeypatch.setattr(frame_queue, "put", put)
    return found


def frames_queued() -> int:
    """Frames accepted and not yet processed, over every camera (alerts/frame_queue.py: no row is written)."""
    from alerts import frame_queue
    from cameras.models import Camera

    return sum(frame_queue.backlog(pk) for pk in Camera.objects.values_list("pk", flat=True))
