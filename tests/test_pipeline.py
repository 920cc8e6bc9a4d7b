"""The recognition job on real photos: non-matches leave nothing; matches need agreement; a job runs once."""

import logging
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from alerts import pipeline
from alerts.ingest import store_pixels
from alerts.models import Alert, Frame, PendingMatch, Sighting
from alerts.samples import compose, load
from bankwatch import jobs
from recognition.engine import get_engine
from recognition.images import decode_image
from tests.factories import enroll, make_subject


@pytest.fixture
def robber(dataset):  # type: ignore[no-untyped-def]
    return enroll(make_subject("Tran Van Robber"), "img1.jpg")


def _frame(camera, dataset: Path, *names: str, seconds: float = 0.0) -> Frame:  # type: ignore[no-untyped-def]
    pixels = compose([load(dataset / name) for name in names])
    return store_pixels(camera, pixels, captured_at=timezone.now() + timedelta(seconds=seconds))


def _media_files(*folders: str) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for folder in folders for p in (root / folder).rglob("*") if p.is_file()]


def test_a_face_that_matches_no_one_leaves_no_file_no_row_and_no_log_line(camera_with_token, dataset, robber, caplog):
    camera, _ = camera_with_token
    frame = _frame(camera, dataset, "img20.jpg")
    assert _media_files("frames")
    with caplog.at_level(logging.DEBUG):
        outcome = pipeline.process_frame(frame.pk)
    assert outcome is not None and outcome.faces == 1 and outcome.matches == 0
    assert not Frame.objects.exists() and not PendingMatch.objects.exists()
    assert not Alert.objects.exists() and not Sighting.objects.exists()
    assert not _media_files("frames", "alerts")
    assert not [r for r in caplog.records if r.name.startswith(("alerts", "recognition"))]


def test_agreeing_frames_raise_one_alert_with_blurred_evidence_and_a_duplicate_job_adds_nothing(
    camera_with_token, dataset, robber, settings
):
    settings.AGREEMENT_STRONG_MARGIN = 1.0  # these photos match strongly; make the first frame wait for a second
    camera, _ = camera_with_token
    first = _frame(camera, dataset, "img2.jpg", "img20.jpg")
    second = _frame(camera, dataset, "img21.jpg", "img4.jpg", seconds=1)

    assert pipeline.process_frame(first.pk).results == [("pending", None)]  # type: ignore[union-attr]
    assert pipeline.process_frame(first.pk) is None  # delivered twice: the claim fails, nothing happens
    outcome = pipeline.process_frame(second.pk)
    assert outcome is not None and outcome.faces == 2
    [(what, alert_id)] = outcome.results
    assert what == "raised"
    assert pipeline.process_frame(second.pk) is None

    alert = Alert.objects.get()
    assert alert.pk == alert_id and alert.subject == robber and alert.score >= alert.threshold  # type: ignore[operator]
    assert sorted(alert.sightings.values_list("frame_id", flat=True)) == [first.pk, second.pk]
    assert not Frame.objects.exists() and not PendingMatch.objects.exists() and not _media_files("frames")
    # The evidence frame shows the robber; the bystander beside him is pixelated past detection.
    with alert.evidence_frame.open("rb") as handle:
        evidence = get_engine().analyze(decode_image(handle.read()))
    assert len(evidence) == 1
    box = evidence[0].box
    assert abs(box[0] - alert.box[0]) < 10 and abs(box[1] - alert.box[1]) < 10
    assert alert.probe_crop and alert.probe_embedding


def test_the_sweep_requeues_frames_a_crashed_worker_left_and_gives_up_after_the_attempts(
    camera_with_token, monkeypatch
):
    camera, _ = camera_with_token
    queued: list[int] = []
    monkeypatch.setattr("bankwatch.jobs.enqueue", lambda task, frame_id: queued.append(frame_id))
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    crashed, lost, hopeless = (
        Frame.objects.create(camera=camera, captured_at=long_ago, status=status, claimed_at=long_ago, attempts=n)
        for status, n in [
            (Frame.Status.PROCESSING, 1),
            (Frame.Status.PENDING, 0),
            (Frame.Status.PROCESSING, settings.FRAME_MAX_ATTEMPTS),
        ]
    )
    Frame.objects.update(received_at=long_ago)
    hopeless.image.save("x.jpg", ContentFile(b"\xff\xd8"))

    result = jobs.run("alerts.sweep_frames")  # the beat's job: sweep, then queue what it hands back

    assert sorted(queued) == sorted([crashed.pk, lost.pk])
    assert result["reclaimed"] == 1 and result["failed"] == 1
    hopeless.refresh_from_db()
    assert hopeless.status == Frame.Status.FAILED and not hopeless.image
    assert not _media_files("frames")


@pytest.mark.django_db(transaction=True)
def test_a_frame_delivered_to_several_workers_at_once_makes_one_alert(camera_with_token, dataset, settings):
    from concurrent.futures import ThreadPoolExecutor

    from bankwatch.jobs import wait_idle

    settings.AGREEMENT_STRONG_MARGIN = 0.0  # any match raises alone, so every delivery would raise one
    camera, _ = camera_with_token
    enroll(make_subject("Tran Van Robber"), "img1.jpg")
    frame = _frame(camera, dataset, "img2.jpg")  # queued once by the upload itself
    with ThreadPoolExecutor(2) as pool:  # and delivered twice more, at the same moment
        outcomes = list(pool.map(pipeline.process_frame, [frame.pk, frame.pk]))
    assert wait_idle(60)
    assert sum(outcome is not None for outcome in outcomes) <= 1
    assert Alert.objects.count() == 1 and Sighting.objects.count() == 1
    assert not Frame.objects.exists()


def test_a_failing_job_puts_the_frame_back_and_gives_up_after_the_attempts(camera_with_token, monkeypatch, settings):
    class BrokenEngine:
        def analyze(self, image: object, min_confidence: float | None = None) -> list:
            raise RuntimeError("onnxruntime fell over")

    monkeypatch.setattr(pipeline, "get_engine", BrokenEngine)
    camera, _ = camera_with_token
    frame = store_pixels(camera, compose([]))
    for attempt in range(1, settings.FRAME_MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):
            pipeline.process_frame(frame.pk)
        frame.refresh_from_db()
        assert frame.attempts == attempt and frame.error == "RuntimeError"
        if attempt < settings.FRAME_MAX_ATTEMPTS:
            assert frame.status == Frame.Status.PENDING and frame.image
    assert frame.status == Frame.Status.FAILED and not frame.image
    assert not _media_files("frames")


def test_a_stored_frame_that_turns_out_corrupt_fails_at_once_and_its_file_goes(camera_with_token):
    camera, _ = camera_with_token
    frame = store_pixels(camera, compose([]))
    with frame.image.open("wb") as handle:
        handle.write(b"\xff\xd8 not really a jpeg")
    assert pipeline.process_frame(frame.pk) is None
    frame.refresh_from_db()
    assert frame.status == Frame.Status.FAILED and frame.error.startswith("unreadable image")
    assert not _media_files("frames")


def test_the_evidence_frame_pixelates_a_bystander_the_search_floor_did_not_take(
    camera_with_token, dataset, robber, settings, monkeypatch
):
    """A bystander tilted on their side is found by the detector at about 0.75; with a search floor of
    0.8 (BANKWATCH_MIN_DETECTOR_CONFIDENCE) it is not searched, yet the evidence hides it."""
    import cv2

    from alerts.ingest import store_pixels
    from alerts.samples import compose, load

    settings.AGREEMENT_STRONG_MARGIN = 0.0  # one frame raises the alert
    engine = get_engine()
    monkeypatch.setattr(engine, "min_confidence", 0.8)
    pixels = compose([load(dataset / "img2.jpg"), load(dataset / "img20.jpg")])
    right = pixels.shape[1] // 2
    turned = cv2.warpAffine(
        pixels, cv2.getRotationMatrix2D((479, 121), 90, 1.0), pixels.shape[1::-1], borderMode=cv2.BORDER_REPLICATE
    )
    pixels[:, right:] = turned[:, right:]
    seen = engine.analyze(pixels, min_confidence=settings.BLUR_MIN_CONFIDENCE)
    assert len([f for f in seen if f.box[0] >= right]) == 1 and len(engine.analyze(pixels)) == 1
    frame = store_pixels(camera_with_token[0], pixels)
    [(what, _)] = pipeline.process_frame(frame.pk).results  # type: ignore[union-attr]
    assert what == "raised"
    with Alert.objects.get().evidence_frame.open("rb") as handle:
        evidence = decode_image(handle.read())
    # The bystander's box holds flat blocks (pixelated), the robber's box his face.
    [bystander] = [f.box for f in seen if f.box[0] >= right]
    x, y, w, h = bystander
    region = evidence[y : y + h, x + w // 4 : x + w - w // 4].astype(np.int16)
    assert np.abs(np.diff(region, axis=1)).mean() < 2.0
    face = evidence[100:200, 125:195].astype(np.int16)
    assert np.abs(np.diff(face, axis=1)).mean() > 2.0
