"""The fleet benchmark's load generator: `python -m benchmarks.fleet_load ARGS.json`, in its own process.

Each simulated camera is a thread with its own kept-alive HTTP connection, pushing frames
at `fps` on a fixed schedule, as a camera does (`Authorization: Camera <token>`). A frame
is drawn from the mix (no one, a stranger, a crowd, or a visit of the watchlisted person:
two frames in a row, so that agreement can raise the alert). A slot the camera could not
send on time (the previous POST still waiting) is counted as skipped. The bank's alert
events arrive through the Redis channel layer as on a dashboard socket; each is matched to
the watchlisted frame its camera posted last, which gives POST-to-alert latency. Prints
one JSON line: the counts, latencies and this process's own CPU seconds.
"""

import http.client
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.stack import push_frame


def _camera(
    index: int, token: str, args: dict[str, Any], frames: dict[str, list[bytes]], log: dict[str, Any], lock: Any
) -> None:
    rng = random.Random(args["seed"] * 1000 + index)
    mix = args["mix"]  # {"empty": .7, "stranger": .2, "crowd": .05, "listed": .05}
    kinds, weights = list(mix), list(mix.values())
    link = http.client.HTTPConnection("127.0.0.1", args["port"], timeout=30)
    interval = 1.0 / args["fps"]
    start = args["start_at"] + rng.random() * interval  # cameras are not in phase
    slots = int(args["seconds"] * args["fps"])
    visit = 0
    for slot in range(slots):
        due = start + slot * interval
        now = time.time()
        if now < due:
            time.sleep(due - now)
        elif now - due > interval:
            with lock:
                log["skipped"] += 1
            continue
        if visit == 0:
            kind = rng.choices(kinds, weights)[0]
            if kind == "listed":
                visit = 2
        if visit:
            kind, visit = "listed", visit - 1
        jpeg = frames[kind][rng.randrange(len(frames[kind]))]
        posted = time.perf_counter()
        try:
            status, body = push_frame(link, token, jpeg)
        except (OSError, http.client.HTTPException):
            link.close()
            link = http.client.HTTPConnection("127.0.0.1", args["port"], timeout=30)
            status, body = 0, {}
        answered = time.perf_counter()
        with lock:
            log["statuses"][status] += 1
            log["kinds"][kind] += 1
            log["post_ms"].append(1000 * (answered - posted))
            log["analysed"] += bool(status == 202 and body.get("analysed", True))
            if kind == "listed" and status == 202:
                log["listed"].setdefault(args["camera_ids"][index], []).append(posted)
    link.close()


def _latencies(events: list[tuple[float, dict[str, Any]]], listed: dict[int, list[float]]) -> list[float]:
    """Each alert event against the last watchlisted frame its camera posted before it (once each)."""
    used: set[tuple[int, float]] = set()
    samples = []
    for at, message in events:
        camera = int(((message.get("alert") or {}).get("camera") or {}).get("id") or 0)
        before = [t for t in listed.get(camera, []) if t <= at and (camera, t) not in used]
        if not before or at - before[-1] > 10:
            continue
        used.add((camera, before[-1]))
        samples.append(1000 * (at - before[-1]))
    return samples


def main() -> None:
    args = json.loads(Path(sys.argv[1]).read_text())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")
    import django

    django.setup()
    import numpy as np

    from accounts.scope import bank_group
    from benchmarks.harness import EventListener

    frames = {kind: [Path(p).read_bytes() for p in paths] for kind, paths in args["frames"].items()}
    listener = EventListener(bank_group(args["bank_id"]))
    log: dict[str, Any] = {
        "statuses": Counter(),
        "kinds": Counter(),
        "post_ms": [],
        "listed": {},
        "skipped": 0,
        "analysed": 0,
    }
    lock = threading.Lock()
    cpu_before = time.process_time()
    threads = [
        threading.Thread(target=_camera, args=(i, token, args, frames, log, lock), daemon=True)
        for i, token in enumerate(args["tokens"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args["seconds"] + 60)
    time.sleep(args.get("settle", 3.0))  # the last frames' alerts
    cpu = time.process_time() - cpu_before
    events = []
    while not listener.received.empty():
        at, message = listener.received.get()
        if str(message.get("type", "")).startswith("alert."):
            events.append((at, message))
    listener.close()
    samples = _latencies(events, log["listed"])
    post = np.asarray(log["post_ms"] or [0.0])
    print(
        json.dumps(
            {
                "posted": int(sum(log["statuses"].values())),
                "statuses": {str(k): v for k, v in log["statuses"].items()},
                "kinds": dict(log["kinds"]),
                "skipped_slots": log["skipped"],
                "analysed": log["analysed"],
                "post_ms": {
                    "p50": round(float(np.percentile(post, 50)), 1),
                    "p95": round(float(np.percentile(post, 95)), 1),
                },
                "alert_events": len(events),
                "post_to_alert_ms": sorted(round(s, 1) for s in samples),
                "load_cpu_seconds": round(cpu, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
