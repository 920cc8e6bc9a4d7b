"""A door camera's clip made at test time from shared photos (an uncovered person, then a masked one, then
one in a motorbike helmet) through replay_video with the real detector and covering classifier: one
covered-face event per covered person, none for the uncovered one.

The covered photos are, in covered-faces-dev's file order, the first photo of the label that the
classifier was never trained on (the held-out quarter of recognition/covering_training.py) in which the
face detector finds exactly one face (one person at the door): mask, and motorbike helmet (the riders
the police describe). Chosen on the split and on detection, never on the classifier's answer.
"""

import io
import json
from pathlib import Path

import cv2
import pytest
from django.conf import settings
from django.core.management import call_command

from alerts.models import Alert, Frame
from alerts.samples import compose, load
from cameras.actions import create_camera

COVERED = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "covered-faces-dev"
# (dataset, photo, seconds on screen, what it shows)
SCRIPT = [
    ("deepface-unit", "img20.jpg", 2, "none"),
    ("covered-faces-dev", "mask/rwmfd_001.jpg", 2, "mask"),
    ("covered-faces-dev", "helmet/pavhelm_049.jpg", 2, "helmet"),
]
VIDEO_FPS = 5


def _make_clip(dataset: Path, path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), VIDEO_FPS, (640, 360))
    assert writer.isOpened()
    for folder, name, seconds, _ in SCRIPT:
        photo = load((dataset if folder == "deepface-unit" else COVERED) / name)
        frame = compose([photo])
        for _ in range(seconds * VIDEO_FPS):
            writer.write(frame)
    writer.release()
    return path


def test_the_clips_photos_are_held_out_of_the_classifiers_training():
    from recognition.covering_training import _bucket

    assert all(_bucket(name) == 0 for folder, name, _, _ in SCRIPT if folder == "covered-faces-dev")


@pytest.mark.django_db(transaction=True)
def test_a_door_clip_raises_one_covered_event_per_covered_person_and_none_for_the_uncovered_one(dataset, tmp_path):
    if not COVERED.exists():
        pytest.skip(f"the shared covered-face photos are not at {COVERED}")
    door, _ = create_camera("Saigon Bank", "District 1", "Door", role="entrance")
    clip = _make_clip(dataset, tmp_path / "door.avi")

    out = io.StringIO()
    call_command("replay_video", "--camera", str(door.pk), str(clip), "--fps", "3", stdout=out)
    summary = json.loads(out.getvalue().splitlines()[-1])

    assert summary["frames"] == 3 * sum(seconds for _, _, seconds, _ in SCRIPT)
    assert summary["alerts"] == []  # no one here is on a watchlist
    covered = summary["covered"]
    assert len(covered) == 2, covered  # the masked person and the helmeted one; the uncovered one raises nothing
    events = {event["event_id"]: Alert.objects.get(pk=event["event_id"]) for event in covered}
    first_seen = sorted(events.values(), key=lambda e: e.created_at)
    assert "mask" in first_seen[0].covering_labels, first_seen[0].covering
    assert "helmet" in first_seen[1].covering_labels, first_seen[1].covering
    for line in covered:
        assert line["camera_id"] == door.pk and line["frames"] >= 2
        assert line["labels"] == events[line["event_id"]].covering_labels
    assert all(e.kind == "covered" and e.subject_id is None for e in events.values())
    assert not Frame.objects.exists()
