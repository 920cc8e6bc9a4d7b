"""Running a measurement in a child process pinned to one core, with one thread per pool."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

# Set before the child imports numpy, OpenCV or ONNX Runtime, so no pool grows past one thread.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENCV_FOR_THREADS_NUM": "1",
    "BANKWATCH_INFERENCE_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


def cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def start(
    part: str, args: dict[str, Any], core: int | None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start `python -m benchmarks.child part args` pinned to `core` (None: left to the OS, like a
    Celery worker process)."""
    allowed = set(cores()) if core is None else {core}
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.child", part, json.dumps(args)],
        env={**os.environ, **ONE_THREAD, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, allowed),  # preexec_fn: no threads in the parent yet
    )


def result(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise RuntimeError(f"benchmark child timed out after {timeout:.0f} s: {err[-2000:]}") from None
    if process.returncode != 0 or not out.strip():
        raise RuntimeError(f"benchmark child failed ({process.returncode}): {err[-3000:]}")
    return dict(json.loads(out.strip().splitlines()[-1]))


def run(part: str, args: dict[str, Any], core: int, timeout: float = 900, env: dict[str, str] | None = None) -> Any:
    return result(start(part, args, core, env), timeout)


def run_together(
    part: str, args: dict[str, Any], on: Sequence[int | None], timeout: float = 900
) -> list[dict[str, Any]]:
    """The same part in one process per core at once; each waits for a common start time."""
    at = time.time() + 60  # time for every child to import, migrate its scratch database, enroll and warm up
    processes = [start(part, {**args, "start_at": at}, core) for core in on]
    return [result(p, timeout) for p in processes]


def memory_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a process (this one by default) now and at its peak (Linux /proc)."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    values = np.asarray(seconds, dtype=np.float64) * 1000
    return {
        "mean_ms": round(float(values.mean()), 2),
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "max_ms": round(float(values.max()), 2),
        "n": len(values),
    }


def wait_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)
