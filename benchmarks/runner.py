"""Runs every benchmark in pinned child processes and gathers one JSON-ready dict."""

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import cpu
from enrollment.gallery.hnsw import HNSW

SECTIONS = (
    "frames", "scaling", "stages", "identification", "search", "pipeline", "production", "fleet", "streams", "history",
)  # fmt: skip
# The production-mode latency runs against these (a database named bw_bench is created and dropped).
PRODUCTION_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bw_bench")
PRODUCTION_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@dataclass
class Run:
    dataset: str
    quick: bool
    cache: Path
    log: Callable[[str], None]
    results: dict[str, Any]

    @property
    def first(self) -> int:
        return cpu.cores()[0]

    @property
    def seconds(self) -> float:
        return 1.0 if self.quick else 5.0


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores_available": len(cpu.cores()),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def frames(run: Run) -> Any:
    """Frames per second without covering detection, then with it (recognition/covering.py)."""
    args = {"dataset": run.dataset, "seconds": run.seconds, "face_counts": [0, 1, 5]}
    result = cpu.run("frame_rates", args, run.first)
    covered = cpu.run("frame_rates", {**args, "with_covering": True}, run.first)
    result["covering_on"] = {
        count: {
            "fps_per_cpu_second": row.get("fps_per_cpu_second"),
            "ratio_to_off": round(row["fps_per_cpu_second"] / result["frames"][count]["fps_per_cpu_second"], 3)
            if row.get("fps_per_cpu_second") and result["frames"][count].get("fps_per_cpu_second")
            else None,
        }
        for count, row in covered["frames"].items()
    }
    return result


def scaling(run: Run) -> Any:
    """One worker process alone, then two at once: pinned one per core, and left to the OS."""
    cores = cpu.cores()
    if len(cores) < 2:
        return {"skipped": "one core available"}
    args = {"dataset": run.dataset, "seconds": run.seconds * 2, "face_counts": [1]}
    alone = cpu.run("frame_rates", args, cores[0])["frames"]["1"]["fps"]
    found: dict[str, Any] = {"one_process_fps": alone}
    for name, placement in (("pinned", [cores[0], cores[1]]), ("unpinned", [None, None])):
        together = cpu.run_together("frame_rates", args, placement)
        total = sum(r["frames"]["1"]["fps"] for r in together)
        found[name] = {
            "two_processes_fps": round(total, 2),
            "per_process_fps": [r["frames"]["1"]["fps"] for r in together],
            "speed_up": round(total / alone, 2),
        }
    return found


def stages(run: Run) -> Any:
    args = {"dataset": run.dataset, "rounds": 10 if run.quick else 60, "face_counts": [0, 1, 5]}
    return cpu.run("stage_costs", args, run.first)


def identification(run: Run) -> Any:
    probes = {"bankwatch": 0, "deepface_find": 0, "face_recognition": 0}
    if run.quick:
        probes = {"bankwatch": 4, "deepface_find": 3, "face_recognition": 2}
    found = {}
    for name, count in probes.items():
        run.log(f"bench:   {name}")
        found[name] = cpu.run(f"identify_{name}", {"dataset": run.dataset, "max_probes": count}, run.first)
    ours, ours_cpu = found["bankwatch"]["seconds_per_probe"], found["bankwatch"]["cpu_seconds_per_probe"]
    for row in found.values():
        row["bankwatch_speed_up"] = round(row["seconds_per_probe"] / ours, 2)
        row["bankwatch_speed_up_cpu"] = round(row["cpu_seconds_per_probe"] / ours_cpu, 2)
    return found


def search(run: Run) -> Any:
    args = {
        "sizes": [1000, 10000] if run.quick else [1000, 100_000, 1_000_000],
        "query_count": 50 if run.quick else 300,
        "cache": str(run.cache),
        "index_options": {k: v for k, v in HNSW.items() if k != "expansion_search"},
        "expansion_search": HNSW["expansion_search"],
        "hnsw_max": 10_000 if run.quick else 100_000,
        "sketch_candidates": 256,
    }
    return cpu.run("gallery_search", args, run.first, timeout=3600)


def pipeline(run: Run) -> Any:
    """benchmarks/pipeline.py on one core: the whole recognition job and POST-to-alert-event latency."""
    args = {
        "dataset": run.dataset,
        "cores": 1,
        **({"frames": 5, "pairs": 3} if run.quick else {"frames": 30, "pairs": 30}),
    }
    return cpu.run("pipeline", args, run.first, timeout=1800)


def production(run: Run) -> Any:
    """POST-to-alert-event latency with PostgreSQL, Redis and a Celery worker on another core."""
    cores = cpu.cores()
    env = {"DATABASE_URL": PRODUCTION_DATABASE_URL, "REDIS_URL": PRODUCTION_REDIS_URL}
    args = {"dataset": run.dataset, "pairs": 3 if run.quick else 30, "worker_core": cores[-1]}
    return cpu.run("production_latency", args, cores[0], timeout=1800, env=env)


def fleet_section(run: Run) -> Any:
    """The whole production stack under more and more cameras (benchmarks/fleet.py)."""
    from benchmarks.fleet import IDLE_MIX, fleet

    found = fleet(run.dataset, run.quick, run.log)
    try:
        found["gated_idle_clip"] = fleet(run.dataset, run.quick, run.log, gating=True, first=8, step=8, mix=IDLE_MIX)
    except Exception as exc:  # noqa: BLE001 - the ungated figures stand on their own
        found["gated_idle_clip"] = {"error": f"{exc.__class__.__name__}: {exc}"[:3000]}
    return found


def streams_section(run: Run) -> Any:
    """RTSP streams one supervisor process reads per core (benchmarks/streams.py)."""
    from benchmarks.streams import streams

    return streams(run.dataset, run.quick, run.log)


def history_section(run: Run) -> Any:
    """A year of a city's alerts, sightings, feed events and audit entries: the pages people wait on."""
    from benchmarks.year import history

    return history(run.quick, run.log)


STEPS: dict[str, Callable[[Run], Any]] = {
    "frames": frames,
    "scaling": scaling,
    "stages": stages,
    "identification": identification,
    "search": search,
    "pipeline": pipeline,
    "production": production,
    "fleet": fleet_section,
    "streams": streams_section,
    "history": history_section,
}


def run_all(
    dataset: Path, quick: bool, cache: Path, log: Callable[[str], None], sections: tuple[str, ...] = SECTIONS
) -> dict[str, Any]:
    run = Run(str(dataset), quick, cache, log, {"quick": quick, "machine": machine()})
    for name in sections:
        log(f"bench: {name} ...")
        started = time.perf_counter()
        try:
            run.results[name] = STEPS[name](run)
        except Exception as exc:  # noqa: BLE001 - one failing part must not lose the others' figures
            run.results[name] = {"error": f"{exc.__class__.__name__}: {exc}"[:3000]}
        log(f"bench: {name} done in {time.perf_counter() - started:.0f} s (load {os.getloadavg()[0]:.1f})")
    run.results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return run.results
