import json
import time
from datetime import timedelta
from typing import Any

import cv2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max
from django.utils import timezone

from alerts import frame_queue
from alerts.ingest import BacklogFullError, store_pixels
from alerts.models import Alert, Sighting
from alerts.pipeline import FrameOutcome, frame_processed
from bankwatch import jobs
from cameras.models import Camera


class Command(BaseCommand):
    help = (
        "Feed a video file through the frame pipeline as if CAMERA had sent it, wait until every frame "
        "is processed, print a JSON line per alert and, last, a summary (with the covered-face events the "
        'video raised under "covered"). Capture times run from now.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--camera", type=int, required=True, help="camera id")
        parser.add_argument("video", help="a video file OpenCV can read")
        parser.add_argument("--fps", type=float, default=5.0, help="frames sampled per second of video")
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for processing")

    def handle(self, *args: Any, **options: Any) -> None:
        camera = Camera.objects.select_related("branch__bank").filter(pk=options["camera"]).first()
        if camera is None:
            raise CommandError(f"no camera {options['camera']}")
        capture = cv2.VideoCapture(options["video"])
        if not capture.isOpened():
            raise CommandError(f"cannot open video {options['video']}")
        faces: dict[int, int] = {}

        def count(sender: Any, outcome: FrameOutcome, **kwargs: Any) -> None:
            faces[outcome.frame_id] = outcome.faces

        frame_processed.connect(count, weak=False)
        try:
            frame_ids = self._feed(camera, capture, options["fps"])
            self._wait(camera.pk, options["timeout"])
        finally:
            frame_processed.disconnect(count)
            capture.release()

        alerts = []
        touched = (
            Sighting.objects.filter(frame_id__in=frame_ids, camera=camera)
            .values("alert_id")
            .annotate(best=Max("score"))
            .order_by("alert_id")
        )
        covered = []
        for row in touched:
            alert = Alert.objects.select_related("subject", "watchlist").get(pk=row["alert_id"])
            if alert.subject is None or alert.watchlist is None:  # a covered-face event: no one identified
                covered.append(
                    {
                        "event_id": alert.pk,
                        "camera_id": alert.camera_id,
                        "labels": alert.covering_labels,
                        "frames": alert.sightings.filter(frame_id__in=frame_ids).count(),
                    }
                )
                continue
            line = {
                "alert_id": alert.pk,
                "subject": alert.subject.full_name,
                "watchlist": alert.watchlist.name,
                "sightings": alert.sightings.filter(frame_id__in=frame_ids).count(),
                "max_score": round(row["best"], 4),
            }
            alerts.append(line)
            self.stdout.write(json.dumps(line, ensure_ascii=False))
        seen = [faces[i] for i in frame_ids if i in faces]
        summary = {"frames": len(frame_ids), "faces": sum(seen) if settings.JOB_BACKEND == "thread" else None}
        self.stdout.write(json.dumps({**summary, "alerts": alerts, "covered": covered}, ensure_ascii=False))

    def _feed(self, camera: Camera, capture: cv2.VideoCapture, fps: float) -> list[int]:
        """Sample the video at `fps` by its own clock; each sample goes through store_frame like an upload."""
        started = timezone.now()
        step = 1.0 / fps if fps > 0 else 0.0
        next_at = 0.0
        frame_ids = []
        index = 0
        native_fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        while capture.grab():
            position = index / native_fps
            index += 1
            if position + 1e-6 < next_at:
                continue
            next_at += step
            ok, pixels = capture.retrieve()
            if not ok:
                break
            while True:
                try:
                    frame = store_pixels(camera, pixels, captured_at=started + timedelta(seconds=position))
                    break
                except BacklogFullError:  # a video is read faster than recognition: wait, as a camera would
                    time.sleep(0.05)
            frame_ids.append(frame.pk)
        return frame_ids

    def _wait(self, camera_id: int, timeout: float) -> None:
        if settings.JOB_BACKEND == "thread":
            if not jobs.wait_idle(timeout):
                raise CommandError("frames still being processed after the timeout")
            return
        deadline = time.monotonic() + timeout
        while frame_queue.backlog(camera_id):
            if time.monotonic() > deadline:
                raise CommandError("frames still being processed after the timeout")
            time.sleep(0.5)
