"""Frames per second of one worker process, and what each stage costs timed alone.

A frame is a 640x360 JPEG, as a camera POSTs it. Per frame the worker does what the
recognition job (alerts.pipeline) does with the pixels: decode (at most the detector's
size), detect, align and embed every face, search the gallery (enrollment.gallery.search,
with the watchlist enrolled in a scratch database). The job's own bookkeeping (claiming
the frame row, reading and deleting its file) is in bench_pipeline's figures.
"""

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from benchmarks import cpu
from benchmarks.dataset import frames, identification_set
from benchmarks.world import watchlist_world
from enrollment import gallery
from recognition import covering
from recognition.engine import get_engine
from recognition.images import decode_image, encode_jpeg


def frame_jpegs(dataset: Path) -> dict[int, bytes]:
    """0, 1 and 5 face frames: the 1-face frame shows a listed person's probe photo, so it matches."""
    ident = identification_set(dataset)
    listed_probe = next(name for name, person in ident.probes.items() if person is not None)
    others = [ident.gallery[person] for person in sorted(ident.gallery)][1:5]
    return {
        count: encode_jpeg(pixels, quality=90)
        for count, pixels in frames(get_engine(), dataset, [listed_probe, *others]).items()
    }


def _steps(
    dataset: Path, branch_id: int, with_covering: bool = False
) -> tuple[dict[int, bytes], Callable[[bytes], int]]:
    engine = get_engine()
    side = settings.RECOGNITION_DETECT_MAX_SIDE

    def process(jpeg: bytes) -> int:
        faces = engine.analyze(decode_image(jpeg, max_side=side))
        if faces:
            gallery.search(np.stack([face.embedding for face in faces]), branch_id=branch_id)
        return len(faces)

    def process_covering(jpeg: bytes) -> int:
        """The same, with covering detection: faces down to the covering floor, each classified,
        the searchable ones searched (masked ones with the masked templates)."""
        image = decode_image(jpeg, max_side=side)
        faces = covering.covering_faces(engine, image)
        results = covering.classify_faces(image, faces)
        searched = [i for i, face in enumerate(faces) if engine.searchable(face)]
        if searched:
            gallery.search(
                np.stack([faces[i].embedding for i in searched]),
                branch_id=branch_id,
                covered=["mask" in results[i].labels for i in searched],
            )
        return len(searched)

    return frame_jpegs(dataset), process_covering if with_covering else process


def _timed(step: Callable[[], Any], seconds: float, minimum: int = 5) -> list[float]:
    times: list[float] = []
    until = time.perf_counter() + seconds
    while len(times) < minimum or time.perf_counter() < until:
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return times


def frame_rates(
    dataset: str, seconds: float, face_counts: list[int], start_at: float = 0.0, with_covering: bool = False
) -> dict[str, Any]:
    """Frames per second, one process on one core, for each frame kind in turn; and what
    enrolling the watchlist cost on the way. with_covering: with covering detection
    (recognition/covering.py) as the recognition job runs it, to compare with the figure without."""
    with watchlist_world(Path(dataset)) as world:
        jpegs, process = _steps(Path(dataset), world.branch_id, with_covering)
        for count in face_counts:
            for _ in range(3):
                process(jpegs[count])  # first calls allocate ONNX Runtime buffers
        cpu.wait_until(start_at)
        rates: dict[str, Any] = {}
        for count in face_counts:
            cpu_started = time.process_time()
            times = _timed(partial(process, jpegs[count]), seconds)
            cpu_seconds = time.process_time() - cpu_started
            rates[str(count)] = {
                "fps": round(len(times) / sum(times), 2),
                # CPU time of this one-thread process: what a frame costs a core even on a shared machine.
                "fps_per_cpu_second": round(len(times) / cpu_seconds, 2),
                "faces_found": process(jpegs[count]),
                **cpu.summary_ms(times),
            }
        return {"frames": rates, "enrollment": world.enrollment, **cpu.memory_mb()}


def stage_costs(dataset: str, rounds: int, face_counts: list[int]) -> dict[str, Any]:
    """Each stage timed alone on the same frame, against the whole pipeline.

    The stages and the whole run in turn within each round, so a busy machine slows all of
    them alike; the figures are medians over the rounds of CPU time (wall clock beside).
    """
    with watchlist_world(Path(dataset)) as world:
        return _stage_costs(Path(dataset), rounds, face_counts, world.branch_id)


def _stage_costs(dataset: Path, rounds: int, face_counts: list[int], branch_id: int) -> dict[str, Any]:
    engine = get_engine()
    jpegs, process = _steps(dataset, branch_id)
    side = settings.RECOGNITION_DETECT_MAX_SIDE
    costs: dict[str, Any] = {}
    for count in face_counts:
        jpeg = jpegs[count]
        image: NDArray[np.uint8] = decode_image(jpeg, max_side=side)
        rows = engine.detect(image)
        faces = engine.describe(image, rows)
        probes = np.stack([face.embedding for face in faces]) if faces else np.zeros((0, 128), np.float32)
        steps: dict[str, Callable[[], Any]] = {
            "decode": partial(decode_image, jpeg, max_side=side),
            "detect": partial(engine.detect, image),
            "align_embed": partial(engine.describe, image, rows),
            "search": partial(gallery.search, probes, branch_id=branch_id),
            "whole": partial(process, jpeg),
        }
        cpu_times: dict[str, list[float]] = {name: [] for name in steps}
        wall_times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(rounds + 2):
            for name, step in steps.items():
                started, cpu_started = time.perf_counter(), time.process_time()
                step()
                cpu_times[name].append(time.process_time() - cpu_started)
                wall_times[name].append(time.perf_counter() - started)
        # CPU time of this one-thread process: other programs on the machine do not inflate it.
        ms = {name: round(float(np.median(values[2:])) * 1000, 3) for name, values in cpu_times.items()}
        wall = {name: round(float(np.median(values[2:])) * 1000, 3) for name, values in wall_times.items()}
        parts = ms["decode"] + ms["detect"] + ms["align_embed"] + ms["search"]
        wall_parts = wall["decode"] + wall["detect"] + wall["align_embed"] + wall["search"]
        costs[str(count)] = {
            **ms,
            "sum_of_parts": round(parts, 3),
            "whole_over_parts": round(ms["whole"] / parts, 3),
            "wall_ms": wall,
            "wall_whole_over_parts": round(wall["whole"] / wall_parts, 3),
        }
    return costs
