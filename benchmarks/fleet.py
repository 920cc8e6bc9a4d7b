"""`bench --sections fleet`: the whole production stack on this machine under N cameras at once.

1. Start a private PostgreSQL cluster and Redis server (benchmarks/services.py), PgBouncer in
   transaction mode in front of PostgreSQL, migrate, then daphne and one Celery worker with one
   pool process per core (benchmarks/stack.py), as README's Production runs them.
2. Seed one bank with a branch and a push camera per simulated camera, and enroll the
   watchlisted person through the worker.
3. For N = first, first + step, ...: drive N cameras at `fps` from the load generator in its own
   process (benchmarks/fleet_load.py) for `seconds`, sampling PostgreSQL's connections and the
   job queue; wait for the queue to drain; count the CPU of each process kind (Linux /proc,
   reaped children included), PgBouncer's statement count and the bytes each process sent
   towards the disk. A step keeps up when every frame was accepted and sent on time, the queue
   at the end of the load holds at most one frame per camera, and p95 POST-to-alert is at most
   1 s; N rises until a step does not.
4. Report the last step that kept up, with every step beside it; tear everything down.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.pgbouncer import PgBouncer, pgbouncer
from benchmarks.services import Services, available, private_services
from benchmarks.stack import ROOT, Stack, production_stack

MIX = {"empty": 0.70, "stranger": 0.20, "crowd": 0.05, "listed": 0.05}
# The idle clip for motion gating: a lobby mostly empty, people passing now and then.
IDLE_MIX = {"empty": 0.90, "stranger": 0.06, "crowd": 0.02, "listed": 0.02}
LISTED_ENROLL = "img1.jpg"
LISTED = ["img2.jpg", "img4.jpg", "img5.jpg", "img6.jpg", "img7.jpg", "img10.jpg"]  # the same person as img1
STRANGERS = ["img20.jpg", "img22.jpg", "img23.jpg", "img24.jpg", "img25.jpg", "img26.jpg"]
POOL_SIZE = 8
CLOCK = os.sysconf("SC_CLK_TCK")


# --- what each process kind spent ------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _tree(root: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _usage(pid: int) -> tuple[float, int]:
    """(CPU seconds of the process and its reaped children, bytes it caused to be written to storage)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK  # utime stime cutime cstime
        written = 0
        with open(f"/proc/{pid}/io") as io:
            for line in io:
                key, _, value = line.partition(":")
                if key == "write_bytes":
                    written += int(value)
                elif key == "cancelled_write_bytes":
                    written -= int(value)
        return cpu, written
    except OSError:
        return 0.0, 0


def snapshot(roots: dict[str, list[int]]) -> dict[str, tuple[float, int]]:
    children = _children()
    found = {}
    for kind, pids in roots.items():
        cpu, written = 0.0, 0
        for root in pids:
            for pid in _tree(root, children):
                c, w = _usage(pid)
                cpu, written = cpu + c, written + w
        found[kind] = (cpu, written)
    return found


# --- sampling during a step ------------------------------------------------------------------


class Sampler(threading.Thread):
    """PostgreSQL's client connections to our database and the job queue's length, every 0.1 s."""

    def __init__(self, services: Services) -> None:
        super().__init__(daemon=True)
        import psycopg2
        import redis

        self.db = psycopg2.connect(services.postgres_url)
        self.db.autocommit = True
        self.redis = redis.Redis.from_url(services.redis_url)
        self.peak_connections = 0
        self.queue: list[tuple[float, int]] = []
        self.running = True

    def checkpoint(self) -> None:
        with self.db.cursor() as cursor:
            cursor.execute("CHECKPOINT")

    def queue_length(self) -> int:
        return int(self.redis.llen("celery"))

    def run(self) -> None:
        while self.running:
            with self.db.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bankwatch' "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                )
                self.peak_connections = max(self.peak_connections, int(cursor.fetchone()[0]))
            self.queue.append((time.time(), self.queue_length()))
            time.sleep(0.1)

    def queue_at(self, moment: float) -> int:
        before = [length for at, length in self.queue if at <= moment]
        return before[-1] if before else 0

    def stop(self) -> None:
        self.running = False
        self.join(timeout=5)
        self.db.close()


# --- set-up ----------------------------------------------------------------------------------


def _frames(dataset: Path, folder: Path) -> dict[str, list[str]]:
    """JPEGs of each kind, 640x360 as a branch camera gives; empty scenes differ by sensor noise."""
    from alerts.samples import compose, load
    from recognition.images import encode_jpeg

    rng = np.random.default_rng(5)
    kinds: dict[str, list[Any]] = {
        "empty": [],
        "stranger": [compose([load(dataset / name)]) for name in STRANGERS],
        "crowd": [compose([load(dataset / name) for name in STRANGERS[1:6]])],
        "listed": [compose([load(dataset / name)]) for name in LISTED],
    }
    wall = compose([])
    for _ in range(8):
        noise = rng.integers(-4, 5, wall.shape)
        kinds["empty"].append(np.clip(wall.astype(np.int16) + noise, 0, 255).astype(np.uint8))
    paths: dict[str, list[str]] = {}
    for kind, images in kinds.items():
        paths[kind] = []
        for i, image in enumerate(images):
            path = folder / f"{kind}{i}.jpg"
            path.write_bytes(encode_jpeg(image, quality=85))
            paths[kind].append(str(path))
    return paths


def _manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr[-3000:]}")
    return done.stdout


SEED = """
import json, time
from cameras.actions import create_camera
from enrollment.models import ReferencePhoto
from enrollment.actions import add_photo, create_subject, create_watchlist
cameras = [create_camera("Fleet Bank", f"Branch {i:04d}", "Door") for i in range(COUNT)]
subject = create_subject(create_watchlist("Bank robbers"), "Listed Person")
photo = add_photo(subject, open(PHOTO, "rb").read(), "listed.jpg")
deadline = time.monotonic() + 180
while ReferencePhoto.objects.get(pk=photo.pk).status == "pending" and time.monotonic() < deadline:
    time.sleep(0.3)
status = ReferencePhoto.objects.get(pk=photo.pk).status
print("SEED" + json.dumps({"tokens": [t for _, t in cameras], "camera_ids": [c.pk for c, _ in cameras],
      "bank_id": cameras[0][0].branch.bank_id, "enrolled": status}))
"""


def _seed(env: dict[str, str], count: int, photo: Path) -> dict[str, Any]:
    script = f"COUNT={count}\nPHOTO={str(photo)!r}\n" + SEED
    out = _manage(env, "shell", "-c", script)
    seeded: dict[str, Any] = json.loads(out.split("SEED", 1)[1])
    if seeded["enrolled"] != "accepted":
        raise RuntimeError(f"the watchlisted photo was not enrolled: {seeded['enrolled']}")
    return seeded


# --- a backlog drained -----------------------------------------------------------------------


def _celery(services: Services) -> Any:
    from celery import Celery

    return Celery("bankwatch-bench", broker=services.redis_url)


PROFILE_KINDS = [  # (what, a piece of the file path), the first found from the innermost frame outwards
    ("inference (ONNX Runtime / OpenVINO)", "onnxruntime"),
    ("inference (ONNX Runtime / OpenVINO)", "openvino"),
    ("inference (ONNX Runtime / OpenVINO)", "recognition/nets.py"),
    ("gallery search", "enrollment/gallery.py"),
    ("decode, resize, align (OpenCV, numpy)", "cv2"),
    ("decode, resize, align (OpenCV, numpy)", "recognition/"),
    ("database (Django ORM, psycopg2)", "django/db"),
    ("database (Django ORM, psycopg2)", "psycopg2"),
    ("Redis client (claims, backlog, cache)", "redis/"),
    ("Celery and kombu (message, ack, time limits)", "kombu/"),
    ("Celery and kombu (message, ack, time limits)", "celery/"),
    ("Celery and kombu (message, ack, time limits)", "billiard/"),
    ("BankWatch pipeline (other)", "alerts/"),
]


def _profile_top(raw: Path) -> list[dict[str, Any]]:
    """py-spy's raw (collapsed) stacks of one pool process: the share of its CPU samples by kind of work."""
    totals: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        kind = "other (Python runtime, imports, logging)"
        for frame in reversed(stack.split(";")):
            found = next((name for name, piece in PROFILE_KINDS if piece in frame), None)
            if found:
                kind = found
                break
        totals[kind] = totals.get(kind, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return [{"work": k, "share": round(v / max(samples, 1), 3)} for k, v in ranked]


def _drain(
    services: Services, stack: Stack, seeded: dict[str, Any], frames: dict[str, list[str]], count: int, folder: Path
) -> dict[str, Any]:
    """`count` frames of the mix queued while the workers do not consume, then drained by all of them:
    frames per second, each worker process's CPU share, and (py-spy, when installed) where one spent it."""
    import random

    from django.utils import timezone

    app = _celery(services)
    app.control.cancel_consumer("celery", reply=True, timeout=10)
    rng = random.Random(11)
    kinds, weights = list(MIX), list(MIX.values())
    jpegs = {kind: [Path(p).read_bytes() for p in paths] for kind, paths in frames.items()}
    at = timezone.now().isoformat()
    for i in range(count):
        kind = rng.choices(kinds, weights)[0]
        camera = seeded["camera_ids"][i % len(seeded["camera_ids"])]
        job = [time.time_ns() // 1000 * 1000 + i % 1000, camera, at, rng.choice(jpegs[kind])]
        app.send_task("alerts.process_frame", args=job)
    sampler = Sampler(services)
    children = _children()
    pool = [pid for w in stack.workers for pid in children.get(w.pid, [])]
    before = {pid: _usage(pid)[0] for pid in pool}
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    profile = None
    if Path(spy).exists() and pool:
        profile = subprocess.Popen(
            [spy, "record", "-p", str(pool[0]), "-r", "40", "-d", "600", "-f", "raw", "-o", str(folder / "drain.txt")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    started = time.monotonic()
    app.control.add_consumer("celery", reply=True, timeout=10)
    deadline = started + 300
    while sampler.queue_length() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the last frames in work
    seconds = time.monotonic() - started
    after = {pid: _usage(pid)[0] for pid in pool}
    sampler.db.close()
    if profile is not None:
        profile.send_signal(2)  # SIGINT: py-spy writes what it sampled
        try:
            profile.wait(timeout=30)
        except subprocess.TimeoutExpired:
            profile.kill()
    busy = [round((after[pid] - before[pid]) / seconds, 2) for pid in pool]
    found: dict[str, Any] = {
        "frames": count,
        "seconds": round(seconds, 2),
        "frames_per_second": round(count / seconds, 1),
        "worker_processes": len(pool),
        "cpu_share_per_process": busy,
        "worker_cpu_ms_per_frame": round(1000 * sum(after[p] - before[p] for p in pool) / count, 2),
    }
    if (folder / "drain.txt").exists():
        found["profile_of_one_process"] = _profile_top(folder / "drain.txt")
    return found


# --- one step --------------------------------------------------------------------------------


def _step(
    cameras: int,
    seconds: float,
    fps: float,
    mix: dict[str, float],
    seeded: dict[str, Any],
    frames: dict[str, list[str]],
    stack: Stack,
    services: Services,
    pooler: PgBouncer,
    env: dict[str, str],
    folder: Path,
    roots: dict[str, list[int]],
) -> dict[str, Any]:
    start_at = time.time() + 4  # the load process imports Django and subscribes first
    args = {
        "port": stack.port,
        "tokens": seeded["tokens"][:cameras],
        "camera_ids": seeded["camera_ids"][:cameras],
        "bank_id": seeded["bank_id"],
        "fps": fps,
        "seconds": seconds,
        "start_at": start_at,
        "mix": mix,
        "frames": frames,
        "seed": cameras,
    }
    (folder / "load.json").write_text(json.dumps(args))
    sampler = Sampler(services)
    sampler.checkpoint()  # what earlier steps and the migrations left unwritten is not this step's
    sampler.start()
    before, stats_before = snapshot(roots), pooler.stats("bankwatch")
    load = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fleet_load", str(folder / "load.json")],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = load.communicate(timeout=seconds + 120)
    if load.returncode != 0:
        sampler.stop()
        raise RuntimeError(f"the load generator failed: {err[-3000:]}")
    found = json.loads(out.strip().splitlines()[-1])
    backlog = sampler.queue_at(start_at + seconds)
    deadline = time.monotonic() + 120
    while sampler.queue_length() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # the frames the workers hold
    after, stats_after = snapshot(roots), pooler.stats("bankwatch")
    sampler.stop()
    accepted = int(found["statuses"].get("202", 0)) or 1
    latencies = found.pop("post_to_alert_ms")
    p95 = round(float(np.percentile(latencies, 95)), 1) if latencies else None
    refused = found["posted"] - int(found["statuses"].get("202", 0))
    kept_up = refused == 0 and found["skipped_slots"] == 0 and backlog <= cameras and (p95 or 0) <= 1000
    cpu = {kind: round(1000 * (after[kind][0] - before[kind][0]) / accepted, 2) for kind in roots}
    written = {kind: round((after[kind][1] - before[kind][1]) / accepted) for kind in roots}
    statements = stats_after.get("total_query_count", 0) - stats_before.get("total_query_count", 0)
    transactions = stats_after.get("total_xact_count", 0) - stats_before.get("total_xact_count", 0)
    return {
        "cameras": cameras,
        "offered_frames_per_second": round(cameras * fps, 1),
        "frames_per_second": round(accepted / seconds, 1),
        "kept_up": kept_up,
        "backlog_at_end": backlog,
        "refused": refused,
        "skipped_frames": refused + found["skipped_slots"],
        "p95_post_to_alert_ms": p95,
        "post_to_alert_samples": len(latencies),
        "p50_post_to_alert_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "post_ms": found["post_ms"],
        "cpu_ms_per_frame": cpu,
        "load_generator_cpu_ms_per_frame": round(1000 * found["load_cpu_seconds"] / accepted, 2),
        "sql_statements_per_frame": round(statements / accepted, 2),
        "sql_transactions_per_frame": round(transactions / accepted, 2),
        "peak_postgres_connections": sampler.peak_connections,
        "disk_bytes_per_frame": sum(written.values()),
        "disk_bytes_per_frame_by_process": written,
        "frames_by_kind": found["kinds"],
        "analysed_share": round(found["analysed"] / accepted, 3),
    }


def fleet(
    dataset: str,
    quick: bool,
    log: Any,
    gating: bool = False,
    first: int = 4,
    step: int = 4,
    most: int = 80,
    mix: dict[str, float] | None = None,
) -> dict[str, Any]:
    missing = available()
    if missing:
        return {"skipped": missing}
    from benchmarks.pgbouncer import available as pgbouncer_available

    if not pgbouncer_available():
        return {"skipped": "pgbouncer is absent (`make pgbouncer-deps`)"}
    mix = mix or MIX
    seconds = 12.0 if quick else 30.0
    fps = 5.0
    cores = len(os.sched_getaffinity(0))
    folder = Path(tempfile.mkdtemp(prefix="bankwatch-fleet-run-"))
    steps: list[dict[str, Any]] = []
    started = time.monotonic()
    budget = 200 if quick else 1500
    with private_services() as services, pgbouncer(services.postgres_url, POOL_SIZE) as pooler:
        env = {
            "DATABASE_URL": pooler.url,
            "BANKWATCH_DATABASE_POOLER": "pgbouncer",
            "REDIS_URL": services.redis_url,
            "BANKWATCH_DATA_DIR": str(folder / "data"),
            "BANKWATCH_MEDIA_ROOT": str(folder / "media"),
            "BANKWATCH_HTTPS": "0",
            "BANKWATCH_MOTION_GATING": "1" if gating else "0",
            "BANKWATCH_LOG_LEVEL": "WARNING",
            "SECRET_KEY": "fleet-benchmark-only",
        }
        _manage(env, "migrate", "--noinput")
        frames = _frames(Path(dataset), folder)
        jpeg_mean = round(sum(mix[k] * float(np.mean([Path(p).stat().st_size for p in frames[k]])) for k in mix))
        with production_stack(env, folder / "logs", worker_processes=1, concurrency=cores) as stack:
            seeded = _seed(env, most, Path(dataset) / LISTED_ENROLL)
            drain = None if gating else _drain(services, stack, seeded, frames, 150 if quick else 600, folder)
            log(f"bench:   drain {json.dumps(drain)[:2000]}")
            roots = {
                "web": [stack.web.pid],
                "worker": [w.pid for w in stack.workers],
                "postgres": [services.postgres_pid],
                "redis": [services.redis_pid],
                "pgbouncer": [pooler.pid],
            }
            cameras = first
            while cameras <= most:
                log(f"bench:   fleet {cameras} cameras")
                row = _step(cameras, seconds, fps, mix, seeded, frames, stack, services, pooler, env, folder, roots)
                steps.append(row)
                log(f"bench:   {json.dumps(row)}")
                if not row["kept_up"] or time.monotonic() - started > budget:
                    break
                cameras += step
    shutil.rmtree(folder, ignore_errors=True)
    held = [row for row in steps if row["kept_up"]]
    best = held[-1] if held else steps[0]
    return {
        "cameras": best["cameras"] if held else 0,
        "cameras_per_core": round((best["cameras"] if held else 0) / cores, 2),
        "cores": cores,
        "frames_per_second": best["frames_per_second"],
        "p95_post_to_alert_ms": best["p95_post_to_alert_ms"],
        "skipped_frames": best["skipped_frames"],
        "cpu_ms_per_frame": best["cpu_ms_per_frame"],
        "load_generator_cpu_ms_per_frame": best["load_generator_cpu_ms_per_frame"],
        "sql_statements_per_frame": best["sql_statements_per_frame"],
        "peak_postgres_connections": max(row["peak_postgres_connections"] for row in steps),
        "pool_size": POOL_SIZE,
        "disk_bytes_per_frame": best["disk_bytes_per_frame"],
        "analysed_share": best["analysed_share"],
        "jpeg_bytes_mean": jpeg_mean,
        "motion_gating": gating,
        "backlog_drain": drain,
        "fps_per_camera": fps,
        "seconds_per_step": seconds,
        "mix": mix,
        "steps": steps,
    }
