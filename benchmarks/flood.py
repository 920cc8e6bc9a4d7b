"""One camera's flood against another bank's robber alert, in the embedded mode (scratch database,
jobs on threads of this process, the in-memory channel layer):

    python -m benchmarks.flood [--frames 400] [--dataset ../shared/datasets/deepface-unit] [--threads 2]

Camera B (one bank) sees a watchlisted person: its first frame waits for agreement, its second
raises the alert. The latency is from B's second frame being accepted to the `alert.created` event
reaching a client subscribed to B's bank, measured

1. with nothing else queued;
2. just after camera A (another bank) queued `--frames` frames of an unlisted face, with the
   frame queue serving cameras round-robin (alerts/frame_queue.py, what the product does);
3. the same flood with the queue first in, first out (how jobs ran before: B's frame waits
   behind all of A's).

A's frames are queued through alerts.ingest.store_frame, the frame API's own path, without the
API's per-camera rate limit, with motion gating off and the backlog cap raised above the flood
(the cap, 50 frames by default, would otherwise refuse most of it with 503). Prints one JSON object.
"""

import argparse
import json
import time
from collections import deque
from pathlib import Path
from typing import Any

DEFAULT_DATASET = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "deepface-unit"


def _fifo_store() -> Any:
    """The embedded store with one queue for every camera, first in, first out (the order before)."""
    from alerts import frame_queue

    class Fifo(frame_queue._Memory):
        def __init__(self) -> None:
            super().__init__()
            self.line: deque[frame_queue.Job] = deque()

        def put(self, job: frame_queue.Job) -> None:
            with self.lock:
                self.line.append(job)

        def take(self) -> frame_queue.Job | None:
            with self.lock:
                return self.line.popleft() if self.line else None

        def remove(self, camera_id: int, frame_id: int) -> None:
            with self.lock:
                self.line = deque(job for job in self.line if job.frame_id != frame_id)

    return Fifo()


def run(dataset: Path, frames: int, threads: int) -> dict[str, Any]:
    from django.test.utils import override_settings

    from accounts.scope import bank_group
    from alerts import frame_queue
    from alerts.ingest import store_frame
    from alerts.samples import compose, load
    from bankwatch import jobs
    from benchmarks.harness import EventListener, scratch_environment
    from benchmarks.pipeline import LISTED_ENROLL, LISTED_FRAMES, NOT_LISTED
    from cameras.actions import create_camera
    from enrollment.actions import add_photo, create_subject, create_watchlist, enroll_photo
    from recognition.engine import get_engine
    from recognition.images import encode_jpeg

    get_engine()
    jobs._executor = None  # a pool of `threads`, made under the settings below
    with (
        override_settings(JOB_THREADS=threads, MOTION_GATING=False, CAMERA_MAX_BACKLOG=frames + 50),
        scratch_environment(),
    ):
        a, _ = create_camera("Flood Bank", "Branch A", "Lobby")
        b, _ = create_camera("Robbed Bank", "Branch B", "Door")
        subject = create_subject(create_watchlist("Bank robbers"), "Robber")
        photo = add_photo(subject, (dataset / LISTED_ENROLL).read_bytes(), LISTED_ENROLL)
        jobs.wait_idle(60)
        photo.refresh_from_db()
        if photo.status != "accepted":
            enroll_photo(photo.pk)
        first, second = (encode_jpeg(compose([load(dataset / name)])) for name in LISTED_FRAMES)
        unlisted = encode_jpeg(compose([load(dataset / NOT_LISTED["1_face"][0])]))
        listener = EventListener(bank_group(b.branch.bank_id))

        def robber_alert_ms(flood: int) -> dict[str, float]:
            store_frame(b, first)  # waits for agreement
            jobs.wait_idle(60)
            started = time.perf_counter()
            for _ in range(flood):
                store_frame(a, unlisted)
            flooded = time.perf_counter()
            store_frame(b, second)
            queued = time.perf_counter()
            alert_ms = 1000 * (listener.wait_for("alert.created", timeout=600) - queued)
            jobs.wait_idle(600)
            return {
                "robber_alert_ms": round(alert_ms, 1),
                "flood_queued_ms": round(1000 * (flooded - started), 1),
                "drained_s": round(time.perf_counter() - started, 1),
            }

        try:
            robber_alert_ms(0)  # warm-up: sessions, gallery, channel layer
            quiet = [robber_alert_ms(0)["robber_alert_ms"] for _ in range(3)]
            fair = robber_alert_ms(frames)
            frame_queue._store = _fifo_store()
            try:
                fifo = robber_alert_ms(frames)
            finally:
                frame_queue._store = None
        finally:
            listener.close()
            jobs.executor().shutdown(wait=True)
            jobs._executor = None
    return {
        "flood_frames": frames,
        "job_threads": threads,
        "frame": "640x360 JPEG, one unlisted face (camera A); the watchlisted face (camera B)",
        "robber_alert_ms_quiet": sorted(quiet),
        "with_flood_round_robin": fair,
        "with_flood_first_in_first_out": fifo,
    }


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")
    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2, help="job threads (BANKWATCH_JOB_THREADS)")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    args = parser.parse_args()
    print(json.dumps(run(args.dataset.resolve(), args.frames, args.threads), indent=2))


if __name__ == "__main__":
    main()
