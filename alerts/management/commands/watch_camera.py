import json
import logging
import time
from pathlib import Path
from typing import Any

import cv2
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alerts.ingest import store_pixels
from alerts.models import Frame
from bankwatch import jobs
from cameras.models import Camera
from recognition.images import InvalidImage

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Pull frames from an RTSP, HTTP or file stream with OpenCV, sample them at --fps and feed them "
        "to the frame pipeline; reconnect with back-off when the stream drops. Runs until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("camera_id", type=int)
        parser.add_argument("url", help="rtsp://…, http://…, or a video file")
        parser.add_argument("--fps", type=float, default=4.0, help="frames per second sent for recognition")
        parser.add_argument("--max-backlog", type=int, default=8, help="skip frames while this many are unprocessed")
        parser.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0: never)")
        parser.add_argument("--max-backoff", type=float, default=30.0, help="longest wait between reconnections")

    def handle(self, *args: Any, **options: Any) -> None:
        camera = Camera.objects.select_related("branch__bank").filter(pk=options["camera_id"], is_active=True).first()
        if camera is None:
            raise CommandError(f"no active camera {options['camera_id']}")
        url: str = options["url"]
        is_file = Path(url).is_file()
        interval = 1.0 / options["fps"]
        sent = skipped = reconnects = 0
        backoff = 1.0
        try:
            while not options["max_frames"] or sent < options["max_frames"]:
                capture = cv2.VideoCapture(url)
                if not capture.isOpened():
                    reconnects += 1
                    logger.warning("camera %s: cannot open stream, retrying in %.0f s", camera.pk, backoff)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, options["max_backoff"])
                    continue
                last_sent = -interval
                while not options["max_frames"] or sent < options["max_frames"]:
                    ok, pixels = capture.read()  # read every frame so a live stream's buffer never lags
                    if not ok:
                        break
                    backoff = 1.0
                    # Files are sampled by their own clock, live streams by ours.
                    now = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000 if is_file else time.monotonic()
                    if now - last_sent < interval:
                        continue
                    last_sent = now
                    if self._backlog(camera) >= options["max_backlog"]:
                        skipped += 1  # recognition is behind: a fresh frame later beats a stale one now
                        continue
                    try:
                        store_pixels(camera, pixels)
                        sent += 1
                    except InvalidImage as exc:
                        logger.warning("camera %s: frame refused: %s", camera.pk, exc)
                capture.release()
                if is_file or (options["max_frames"] and sent >= options["max_frames"]):
                    break
                reconnects += 1
                logger.warning("camera %s: stream ended, reconnecting in %.0f s", camera.pk, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, options["max_backoff"])
        except KeyboardInterrupt:
            pass
        jobs.wait_idle(60)
        self.stdout.write(
            json.dumps({"camera_id": camera.pk, "frames": sent, "skipped": skipped, "reconnects": reconnects})
        )

    @staticmethod
    def _backlog(camera: Camera) -> int:
        return Frame.objects.filter(camera=camera, status__in=[Frame.Status.PENDING, Frame.Status.PROCESSING]).count()
