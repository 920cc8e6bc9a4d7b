"""Benchmark of the frame pipeline in the embedded mode, on a scratch database and media folder
(benchmarks.harness.scratch_environment). `manage.py bench_pipeline` runs it; `manage.py bench`
runs that command pinned to one core.

1. Frames per second of one worker process (pinned to `cores` cores) running the recognition
   job on stored 640x360 JPEG frames with 0, 1 and 5 faces, none of them on the watchlist,
   by the wall clock and by the process's CPU time (the second does not drop when other
   programs share the cores), plus where the time of a 1-face frame goes.
2. POST to alert event: a watchlisted person's frame is posted (it waits for agreement), then a
   second one; the time from that second POST until the `alert.created` event reaches a
   channel-layer client subscribed to the bank, p50 and p95. Agreement is always required here
   (no strong-score shortcut) and the cool-down is off, so every pair raises a new alert.
"""

import os
import statistics
import time
from pathlib import Path
from queue import Empty
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.scope import bank_group
from alerts import frame_queue, pipeline
from alerts.samples import compose, load
from bankwatch import jobs
from benchmarks.harness import EventListener, post_frame, scratch_environment
from cameras.actions import create_camera
from cameras.models import Camera
from recognition.engine import get_engine
from recognition.images import decode_image, encode_jpeg

NOT_LISTED = {"0_faces": [], "1_face": ["img20.jpg"], "5_faces": [f"img{n}.jpg" for n in (22, 23, 24, 25, 26)]}
LISTED_ENROLL, LISTED_FRAMES = "img1.jpg", ("img2.jpg", "img4.jpg")


def run(dataset: str | Path, frames: int = 30, pairs: int = 20, cores: int = 1) -> dict[str, Any]:
    """Every figure of the pipeline benchmark; `cores` pins this process (0: all cores)."""
    dataset = Path(dataset)
    if not (dataset / LISTED_ENROLL).exists():
        raise FileNotFoundError(f"photos not found in {dataset}")
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cores]))
        cv2.setNumThreads(cores)
    engine = get_engine()
    with scratch_environment():
        camera, token = create_camera("Bench Bank", "Bench Branch", "Bench camera")
        _enroll(dataset)
        throughput = {
            kind: _throughput(camera, encode_jpeg(compose([load(dataset / n) for n in names])), frames)
            for kind, names in NOT_LISTED.items()
        }
        stages = _stages(encode_jpeg(compose([load(dataset / NOT_LISTED["1_face"][0])])), frames)
        latency = _latency(camera, token, dataset, pairs)
    return {
        "model": engine.model_id,
        "frame": "640x360 JPEG",
        "cores": cores or os.cpu_count(),
        "frames_per_second_per_worker": throughput,
        "one_face_stages_ms": stages,
        "post_to_alert_event_ms": latency,
    }


def _enroll(dataset: Path) -> None:
    from enrollment.actions import add_photo, create_subject, create_watchlist, enroll_photo

    subject = create_subject(create_watchlist("Bench watchlist"), "Bench Subject")
    photo = add_photo(subject, (dataset / LISTED_ENROLL).read_bytes(), LISTED_ENROLL)
    jobs.wait_idle(60)
    photo.refresh_from_db()
    if photo.status != "accepted":
        photo = enroll_photo(photo.pk)


def _throughput(camera: Camera, jpeg: bytes, count: int) -> dict[str, Any]:
    """The job itself (claim, decode, detect, embed, search) on frames as their jobs carry them."""
    at = timezone.now().isoformat()
    frame_ids = [frame_queue.new_frame_id() for _ in range(count + 2)]
    faces = [pipeline.process_frame(i, camera.pk, at, jpeg) for i in frame_ids[:2]]  # warm-up
    started, cpu_started = time.perf_counter(), time.process_time()
    for frame_id in frame_ids[2:]:
        pipeline.process_frame(frame_id, camera.pk, at, jpeg)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "faces": faces[0].faces if faces[0] else None,
        "fps": round(count / seconds, 1),
        "ms_per_frame": round(1000 * seconds / count, 1),
        # CPU time of this process: what a frame costs a core, whatever else the machine is doing.
        "fps_per_cpu_second": round(count / cpu_seconds, 1),
    }


def _stages(jpeg: bytes, count: int) -> dict[str, float]:
    engine = get_engine()
    started = time.perf_counter()
    for _ in range(count):
        image = decode_image(jpeg, max_side=settings.RECOGNITION_DETECT_MAX_SIDE)
    decoded = time.perf_counter()
    for _ in range(count):
        engine.analyze(image)
    analysed = time.perf_counter()
    return {
        "decode": round(1000 * (decoded - started) / count, 1),
        "detect_and_embed": round(1000 * (analysed - decoded) / count, 1),
    }


def _latency(camera: Camera, token: str, dataset: Path, pairs: int) -> dict[str, Any]:
    listener = EventListener(bank_group(camera.branch.bank_id))
    client = Client()
    first, second = (encode_jpeg(compose([load(dataset / name)])) for name in LISTED_FRAMES)
    samples = []
    try:
        for _ in range(pairs):
            post_frame(client, token, first)  # waits in PendingMatch for agreement
            jobs.wait_idle(30)
            started = time.perf_counter()
            post_frame(client, token, second)
            try:
                samples.append(1000 * (listener.wait_for("alert.created") - started))
            except Empty:
                raise RuntimeError("no alert event within 10 s") from None
            jobs.wait_idle(30)
    finally:
        listener.close()
    return summary(samples)


def summary(samples_ms: list[float]) -> dict[str, Any]:
    samples = sorted(samples_ms)
    return {
        "n": len(samples),
        "p50": round(statistics.median(samples), 1),
        "p95": round(float(np.percentile(samples, 95)), 1),
        "max": round(samples[-1], 1),
    }
