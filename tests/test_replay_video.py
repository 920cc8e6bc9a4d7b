"""A real video through the whole pipeline in the embedded mode: one alert per watchlisted person who appears, none for others."""

import io
import json
from pathlib import Path

import cv2
import pytest
from django.core.management import call_command

from alerts.models import Alert, Frame, PendingMatch
from alerts.samples import compose, load
from tests.factories import enroll, make_subject

# (photo, seconds on screen): the robber in two different photos, a stranger, the fraudster, another stranger.
SCRIPT = [("img2.jpg", 2), ("img4.jpg", 2), ("img20.jpg", 2), ("img17.jpg", 3), ("img21.jpg", 2)]
VIDEO_FPS = 5


def _make_clip(dataset: Path, path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), VIDEO_FPS, (640, 360))
    assert writer.isOpened()
    for name, seconds in SCRIPT:
        frame = compose([load(dataset / name)])
        for _ in range(seconds * VIDEO_FPS):
            writer.write(frame)
    writer.release()
    return path


@pytest.mark.django_db(transaction=True)
def test_replaying_a_video_raises_one_alert_per_listed_person_with_several_sightings(
    camera_with_token, dataset, tmp_path
):
    camera, _ = camera_with_token
    robber = enroll(make_subject("Tran Van Robber"), "img1.jpg")
    fraudster = enroll(make_subject("Le Thi Fraud", watchlist="Wanted"), "img16.jpg")
    clip = _make_clip(dataset, tmp_path / "lobby.avi")

    out = io.StringIO()
    call_command("replay_video", "--camera", str(camera.pk), str(clip), "--fps", "3", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    summary = lines[-1]

    assert summary["frames"] == 3 * sum(seconds for _, seconds in SCRIPT)
    assert summary["faces"] == summary["frames"]  # one person on screen throughout
    by_subject = {a["subject"]: a for a in summary["alerts"]}
    assert set(by_subject) == {robber.full_name, fraudster.full_name}
    assert lines[:-1] == summary["alerts"]
    assert by_subject[robber.full_name]["sightings"] >= 3
    assert by_subject[fraudster.full_name]["sightings"] >= 2
    assert by_subject[fraudster.full_name]["watchlist"] == "Wanted"
    assert Alert.objects.count() == 2
    assert not Frame.objects.exists() and not PendingMatch.objects.exists()
