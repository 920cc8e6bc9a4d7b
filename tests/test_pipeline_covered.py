"""The recognition job at the door: real faces (the engine is real), the covering classifier and the
person detector stubbed at their boundary so each rule is checked on its own. The real classifier is
exercised end to end by tests/test_replay_covered.py and the browser tests."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from alerts import door as door_module
from alerts import pipeline
from alerts.frame_queue import new_frame_id
from alerts.models import Alert, Frame, PendingCovering, Sighting
from alerts.samples import compose, load
from cameras.actions import create_camera
from cameras.models import Camera
from recognition import covering, persons
from recognition.covering import Covering
from recognition.images import encode_jpeg
from tests.factories import enroll, make_subject


def _covering(*labels: str) -> Covering:
    scores = {label: (0.93 if label in labels else 0.02) for label in covering.LABELS}
    return Covering(scores=scores, labels=tuple(labels))


@pytest.fixture(autouse=True)
def _fresh_person_detector_turns(monkeypatch):
    monkeypatch.setattr(door_module, "_people_checked", {})


@pytest.fixture
def covered_as(monkeypatch):
    """Make the classifier say `labels` for every face (none: uncovered)."""
    said: dict[str, tuple[str, ...]] = {"labels": ()}
    monkeypatch.setattr(covering, "classify_faces", lambda image, faces: [_covering(*said["labels"]) for _ in faces])
    monkeypatch.setattr(persons, "detect_people", lambda image: [])

    def set_labels(*labels: str) -> None:
        said["labels"] = labels

    return set_labels


@pytest.fixture
def door(db) -> Camera:
    return create_camera("Saigon Bank", "District 1", "Door", role="entrance")[0]


def _process(camera: Camera, dataset: Path, name: str, seconds: float) -> pipeline.FrameOutcome:
    at = (timezone.now() + timedelta(seconds=seconds)).isoformat()
    jpeg = encode_jpeg(compose([load(dataset / name)]), quality=90)
    outcome = pipeline.process_frame(new_frame_id(), camera.pk, at, jpeg)
    assert outcome is not None
    return outcome


def _media_files(*folders: str) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for folder in folders for p in (root / folder).rglob("*") if p.is_file()]


def test_a_covered_face_at_the_door_in_two_frames_raises_one_covered_event_naming_no_one(door, dataset, covered_as):
    covered_as("mask")
    first = _process(door, dataset, "img2.jpg", 0)
    assert first.covered == [("pending", None)] and not Alert.objects.exists()
    second = _process(door, dataset, "img2.jpg", 1)
    [(what, event_id)] = second.covered
    assert what == "raised" and event_id is not None
    event = Alert.objects.get(pk=event_id)
    assert event.kind == "covered" and event.subject is None and event.covering_labels == ["mask"]
    assert event.covering["scores"] == {"mask": 0.93}  # only the labels found are kept
    assert event.probe_crop and event.evidence_frame and event.sightings.count() == 2
    assert _process(door, dataset, "img2.jpg", 3).covered[0][0] == "sighting"  # the same person, cool-down
    assert Alert.objects.count() == 1
    assert not Frame.objects.exists() and not _media_files("frames")


def test_an_uncovered_face_at_the_door_leaves_nothing(door, dataset, covered_as):
    covered_as()
    for second in (0, 1, 2):
        assert _process(door, dataset, "img2.jpg", second).covered == []
    assert not Alert.objects.exists() and not PendingCovering.objects.exists() and not Sighting.objects.exists()
    assert not _media_files("frames", "alerts")


def test_only_cameras_of_the_configured_roles_raise_covered_events(db, dataset, covered_as, settings):
    covered_as("helmet")
    lobby = create_camera("Saigon Bank", "District 1", "Lobby", role="lobby")[0]
    for second in (0, 1):
        assert _process(lobby, dataset, "img2.jpg", second).covered == []
    assert not Alert.objects.exists() and not PendingCovering.objects.exists()

    settings.COVERED_EVENT_ROLES = ["entrance", "lobby"]
    outcomes = [_process(lobby, dataset, "img2.jpg", second).covered for second in (10, 11)]
    assert [what for [(what, _)] in outcomes] == ["pending", "raised"]


def test_a_person_in_view_with_no_visible_face_at_the_door_raises_a_face_hidden_event(
    door, dataset, covered_as, monkeypatch, settings
):
    covered_as()
    settings.COVERED_HIDDEN_MIN_FRAMES = 3
    # A tall person at the left of the frame, away from the one face (which is centred).
    monkeypatch.setattr(persons, "detect_people", lambda image: [(0, 0, 150, settings.COVERED_HIDDEN_MIN_PERSON_PX)])
    results = [_process(door, dataset, "img2.jpg", second).covered for second in (0, 1, 2)]
    assert [what for [(what, _)] in results] == ["pending", "pending", "raised"]
    event = Alert.objects.get()
    assert event.covering_labels == ["face_hidden"] and not event.probe_crop and event.evidence_frame


def test_a_short_person_or_one_whose_face_is_seen_is_not_hidden(door, dataset, covered_as, monkeypatch, settings):
    covered_as()
    tall = settings.COVERED_HIDDEN_MIN_PERSON_PX
    # A person box around the whole frame holds the visible face; a short one is too far to judge.
    monkeypatch.setattr(persons, "detect_people", lambda image: [(0, 0, 640, 360), (0, 0, 100, tall - 1)])
    for second in (0, 1, 2, 3):
        assert _process(door, dataset, "img2.jpg", second).covered == []
    assert not Alert.objects.exists() and not PendingCovering.objects.exists()


def test_a_watchlist_match_on_a_covered_face_keeps_the_covering_on_the_alert(door, dataset, covered_as):
    robber = enroll(make_subject("Tran Van Robber"), "img1.jpg")
    covered_as("sunglasses")
    for second in (0, 1):
        _process(door, dataset, "img2.jpg", second)
    match = Alert.objects.get(kind="match")
    assert match.subject == robber and match.covering_labels == ["sunglasses"]
    assert Alert.objects.get(kind="covered").covering_labels == ["sunglasses"]


def test_the_person_detector_runs_on_at_most_one_frame_per_interval_of_a_camera(settings):
    settings.COVERED_HIDDEN_DETECT_SECONDS = 0.5
    start = timezone.now()
    due = [door_module.people_due(1, start + timedelta(seconds=t)) for t in (0, 0.2, 0.4, 0.6, 0.7, 1.2)]
    assert due == [True, False, False, True, False, True]
    assert door_module.people_due(2, start)  # each camera has its own turn


def test_a_masked_probe_is_searched_at_the_stricter_covered_threshold(door, dataset, covered_as, settings):
    robber = enroll(make_subject("Tran Van Robber"), "img1.jpg")
    covered_as("mask")
    for second in (0, 1):
        _process(door, dataset, "img2.jpg", second)
    match = Alert.objects.get(kind="match")
    expected = robber.watchlist.effective_threshold + settings.COVERED_THRESHOLD_MARGIN
    assert match.subject == robber and match.threshold == pytest.approx(expected)
    assert match.covering_labels == ["mask"]
