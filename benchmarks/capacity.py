"""docs/capacity.md from the fleet benchmark's figures: `python -m benchmarks.capacity docs/fleet.json`.

Every number of the plan is arithmetic on what `bench --sections fleet` measured on this machine
(CPU milliseconds per frame of each process kind, SQL statements and disk bytes per frame, the
share of frames motion gating lets through on the idle clip, JPEG sizes), times the city's
load. What is assumed rather than measured is named in ASSUMED and printed with the plan.
"""

import json
import math
import sys
from pathlib import Path
from typing import Any

CITY = {"branches": 2000, "door_fps": 5.0, "other_fps": 2.0, "other_cameras_per_branch": 2, "watchlisted": 10_000}
ASSUMED = {
    "target_utilisation": 0.7,  # of a core, leaving room for bursts (people arriving together)
    "templates_per_person": 5,
    "template_bytes": 128 * 4 + 64,  # SFace float32 embedding and its row
    "alerts_per_branch_per_day": 0.5,  # a watchlist hit is rare: one alert per branch every other day
    "sightings_per_alert": 8,
    "alert_bytes": 120_000,  # probe crop + pixelated evidence frame per alert and per sighting (media, on S3)
    "row_bytes_per_alert": 6_000,  # alert, sightings, feed events and audit entries (rows and indexes)
    "rtsp_kbit_per_camera": 2_000,  # a 720p H.264 main stream at 25 frames/s, what an NVR camera sends when pulled
    "rtsp_streams_per_core": 14,  # docs/benchmarks.md, RTSP streams per supervisor core (25 fps, decoded)
    "branch_node_cores": 4,
    "event_bytes": 2_000,  # an alert or health event sent up by a branch node, without images
}


def plan(fleet: dict[str, Any], assumed: dict[str, Any] = ASSUMED, city: dict[str, Any] = CITY) -> dict[str, Any]:
    gated = fleet.get("gated_idle_clip") or {}
    cpu = fleet["cpu_ms_per_frame"]
    frames_per_branch = city["door_fps"] + city["other_fps"] * city["other_cameras_per_branch"]
    cameras = city["branches"] * (1 + city["other_cameras_per_branch"])
    offered = city["branches"] * frames_per_branch
    util = assumed["target_utilisation"]

    def cores(ms_per_frame: float, frames_per_second: float) -> float:
        return ms_per_frame * frames_per_second / 1000 / util

    # Without gating every frame is analysed at the mix's worker cost; with gating the worker cost per
    # frame offered is what the idle clip measured (frames it skipped cost the worker nothing).
    gated_cpu = gated.get("cpu_ms_per_frame") or cpu
    deployments = {}
    for name, c in (("gating off", cpu), ("gating on (idle clip)", gated_cpu)):
        worker = cores(c["worker"], offered)
        web = cores(c["web"], offered)
        database = cores(c["postgres"] + c.get("pgbouncer", 0.0), offered)
        redis = cores(c["redis"], offered)
        deployments[name] = {
            "worker_cores": math.ceil(worker),
            "web_cores": math.ceil(web),
            "postgres_cores": math.ceil(database),
            "redis_cores": math.ceil(redis),
            "total_cores": math.ceil(worker + web + database + redis),
        }
    alerts_per_month = city["branches"] * assumed["alerts_per_branch_per_day"] * 30
    images_per_month = alerts_per_month * (1 + assumed["sightings_per_alert"]) * assumed["alert_bytes"]
    rows_per_month = alerts_per_month * assumed["row_bytes_per_alert"]
    sql_per_second = offered * (gated.get("sql_statements_per_frame", fleet["sql_statements_per_frame"]))
    gallery_bytes = city["watchlisted"] * assumed["templates_per_person"] * assumed["template_bytes"]
    jpeg = fleet["jpeg_bytes_mean"]
    in_flight = offered * (fleet["p95_post_to_alert_ms"] or 1000) / 1000  # frames queued or in work at p95
    redis_bytes = in_flight * jpeg * 1.4 + cameras * 3 * 3_600 + 50_000_000  # jobs (base64), health+motion, feed
    push_kbit = frames_per_branch * jpeg * 8 / 1000
    pull_kbit = (1 + city["other_cameras_per_branch"]) * assumed["rtsp_kbit_per_camera"]
    per_branch_worker = cores(gated_cpu["worker"], frames_per_branch)
    return {
        "city": {**city, "cameras": cameras, "frames_per_second_offered": offered},
        "measured": {
            "cpu_ms_per_frame": cpu,
            "gated_cpu_ms_per_frame": gated_cpu,
            "gated_analysed_share": gated.get("analysed_share"),
            "sql_statements_per_frame": fleet["sql_statements_per_frame"],
            "gated_sql_statements_per_frame": gated.get("sql_statements_per_frame"),
            "disk_bytes_per_frame": fleet["disk_bytes_per_frame"],
            "jpeg_bytes_mean": jpeg,
            "p95_post_to_alert_ms": fleet["p95_post_to_alert_ms"],
            "cameras_per_core": fleet["cameras_per_core"],
            "gated_cameras_per_core": gated.get("cameras_per_core"),
        },
        "central": deployments,
        "postgres": {
            "statements_per_second": round(sql_per_second),
            "write_iops_estimate": round(sql_per_second),  # every statement on the frame path is a write
            "rows_gb_per_month": round(rows_per_month / 1e9, 2),
            "media_gb_per_month": round(images_per_month / 1e9, 1),
            "gallery_mb": round(gallery_bytes / 1e6, 1),
        },
        "redis_mb": round(redis_bytes / 1e6),
        "network_per_branch_kbit": {"jpeg_push": round(push_kbit), "rtsp_pull": round(pull_kbit)},
        "rtsp_pull_supervisor_cores": math.ceil(cameras / assumed["rtsp_streams_per_core"]),
        "one_more_branch": {
            "frames_per_second": frames_per_branch,
            "worker_cores": round(cores(cpu["worker"], frames_per_branch), 3),
            "worker_cores_gated": round(per_branch_worker, 3),
            "web_cores": round(cores(gated_cpu["web"], frames_per_branch), 3),
            "uplink_kbit": round(push_kbit),
        },
        "branch_node": {
            "cores_needed": round(cores(gated_cpu["worker"] + gated_cpu["web"], frames_per_branch), 2),
            "cores_in_box": assumed["branch_node_cores"],
            "uplink_kbit_normal": round(
                assumed["alerts_per_branch_per_day"]
                * (1 + assumed["sightings_per_alert"])
                * (assumed["alert_bytes"] + assumed["event_bytes"])
                * 8
                / 86400
                / 1000,
                3,
            ),
            "gallery_download_mb": round(gallery_bytes / 1e6, 1),
        },
        "assumed": assumed,
    }


def markdown(p: dict[str, Any], machine: dict[str, Any] | None) -> str:
    m, city, pg = p["measured"], p["city"], p["postgres"]
    off, on = p["central"]["gating off"], p["central"]["gating on (idle clip)"]
    node, more = p["branch_node"], p["one_more_branch"]
    cpu, gcpu = m["cpu_ms_per_frame"], m["gated_cpu_ms_per_frame"]
    where = f"{machine.get('cpu', '?')}, {machine.get('cores_available', '?')} cores" if machine else "this machine"
    return f"""# Capacity plan: Ho Chi Minh City

Computed by `python -m benchmarks.capacity docs/fleet.json --write docs/capacity.md` from the figures
`bench --sections fleet` measured ({where}, load average at start
{(machine or {}).get("load_average_at_start", "?")}: the machine was shared, so these are CPU
times, not wall times). Assumptions that are not measurements are listed at the end.

## The load

{city["branches"]} branches x {1 + city["other_cameras_per_branch"]} cameras = **{city["cameras"]} cameras**;
the door camera at {city["door_fps"]:g} frames/s, the other two at {city["other_fps"]:g}:
**{city["frames_per_second_offered"]:,.0f} frames/s** for the city; {city["watchlisted"]:,} watchlisted people x
{p["assumed"]["templates_per_person"]} templates = a {pg["gallery_mb"]} MB gallery (exact search stays under a few
ms at 50 000 templates, docs/gallery.md).

## What one frame costs (measured)

| per frame | web (daphne) | worker (Celery) | PostgreSQL + PgBouncer | Redis | SQL statements | disk bytes |
|---|---|---|---|---|---|---|
| gating off, mix 70 % empty / 20 % a stranger / 5 % a crowd / 5 % watchlisted | {cpu["web"]} ms | {cpu["worker"]} ms | {round(cpu["postgres"] + cpu.get("pgbouncer", 0), 2)} ms | {cpu["redis"]} ms | {m["sql_statements_per_frame"]} | {m["disk_bytes_per_frame"]} |
| gating on, idle clip ({_pct(m["gated_analysed_share"])} of frames analysed) | {gcpu["web"]} ms | {gcpu["worker"]} ms | {round(gcpu["postgres"] + gcpu.get("pgbouncer", 0), 2)} ms | {gcpu["redis"]} ms | {m["gated_sql_statements_per_frame"]} | – |

A JPEG frame (640x360, quality 85) is {m["jpeg_bytes_mean"]:,} bytes on average. Measured capacity of this
2-core machine: {m["cameras_per_core"]} cameras per core with gating off (p95 POST-to-alert
{m["p95_post_to_alert_ms"]} ms); with gating on the idle clip {_gated_held(m)} (docs/benchmarks.md, Fleet).
The web process is now the larger cost per frame: daphne, Django and DRF take about {cpu["web"]} ms of CPU
for each POST, of which the view's own work is about 6 ms (measured in-process with Django's test client).
The issue's aims (10 cameras per core, 30 with gating) are not met; see "What is left" in docs/benchmarks.md.

## Recognition in one data centre (what BankWatch supports today)

Cores at {round(100 * p["assumed"]["target_utilisation"])} % utilisation, all {city["frames_per_second_offered"]:,.0f}
frames/s pushed by the cameras as JPEGs (`POST /api/v1/frames`):

| | worker cores | web cores (one daphne each) | PostgreSQL cores | Redis cores | total |
|---|---|---|---|---|---|
| gating off (every frame analysed) | {off["worker_cores"]} | {off["web_cores"]} | {off["postgres_cores"]} | {off["redis_cores"]} | **{off["total_cores"]}** |
| gating on (lobby scenes as idle as the clip) | {on["worker_cores"]} | {on["web_cores"]} | {on["postgres_cores"]} | {on["redis_cores"]} | **{on["total_cores"]}** |

- **PostgreSQL**: {pg["statements_per_second"]:,} statements/s on the frame path (camera last-seen
  times every few seconds, token checks every 5 s, the face-search tally, agreement rows), about as many
  write IOPS before batching; behind PgBouncer in transaction mode the connections stay at the pool size
  (README, Production). Rows: ~{pg["rows_gb_per_month"]} GB a month (alerts, sightings, feed events, audit);
  evidence images on S3: ~{pg["media_gb_per_month"]} GB a month. A frame that shows no one writes nothing.
- **Redis**: ~{p["redis_mb"]} MB (frames queued or in work with their bytes at p95 latency, each camera's health
  and motion thumbnails, channel layer); `BANKWATCH_CAMERA_MAX_BACKLOG` bounds a camera's share if recognition
  falls behind (50 frames, ~{round(50 * m["jpeg_bytes_mean"] * 1.4 / 1e6, 1)} MB).
- **Network per branch**: JPEG push {p["network_per_branch_kbit"]["jpeg_push"]:,} kbit/s (sampled frames only)
  against RTSP pull {p["network_per_branch_kbit"]["rtsp_pull"]:,} kbit/s (the cameras' whole streams), and pulling
  6,000 streams centrally costs ~{p["rtsp_pull_supervisor_cores"]} supervisor cores just to decode them
  ({p["assumed"]["rtsp_streams_per_core"]} streams per core, docs/benchmarks.md): push where the cameras can.
- **One more branch**: {more["frames_per_second"]:g} frames/s, {more["worker_cores"]} worker cores
  ({more["worker_cores_gated"]} with gating on idle scenes), {more["web_cores"]} web cores,
  {more["uplink_kbit"]} kbit/s of uplink.

## A recognition node in each branch (not supported today)

A small box in the branch ({node["cores_in_box"]} cores) reads its three cameras on the local network, runs
detection, embedding and search itself and sends only events and evidence up:

- compute: {node["cores_needed"]} cores needed at the measured per-frame cost with gating, so one small x86 box
  is enough; the data centre keeps PostgreSQL, the dashboard and the review flow, and needs no worker cores.
- network: ~{node["uplink_kbit_normal"]} kbit/s on average (events and evidence only, at the assumed alert rate)
  instead of {p["network_per_branch_kbit"]["jpeg_push"]:,} kbit/s of frames; the gallery goes down once
  ({node["gallery_download_mb"]} MB for the whole watchlist) and then as changes.
- when the link is down: it keeps matching against its last gallery until that copy's validity ends (a
  subject removed centrally can still be matched that long: the validity must be short, hours), queues its
  events and evidence on its own disk and sends them in order when the link is back; a live alert reaches the
  dashboard only then, so the branch needs a local alarm for the wait.
- what it would need in BankWatch: a node mode (the supervisor, the recognition job and agreement against a
  local SQLite), a signed gallery export with an expiry and the node's verification of it, an event uplink
  endpoint authenticated per node with idempotent replay (the frame id is already the key the rows are
  unique on), remote updates of the node's software and models, and per-node health on the dashboard.
  None of this exists today: BankWatch is a central deployment (cameras push, or `run_cameras` pulls, into
  one PostgreSQL, Redis and Celery).

## Assumptions (not measured)

{chr(10).join(f"- `{k}`: {v}" for k, v in p["assumed"].items())}
"""


def _gated_held(m: dict[str, Any]) -> str:
    if m.get("gated_cameras_per_core"):
        return f"{m['gated_cameras_per_core']} cameras per core"
    return (
        "not even the first step (8 cameras) held: the web process answered too slowly for the cameras' "
        "200 ms slots, though the worker's cost per frame fell to a third"
    )


def _pct(share: float | None) -> str:
    return "?" if share is None else f"{round(100 * share)} %"


def main() -> None:
    source = Path(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "docs/fleet.json")
    loaded = json.loads(source.read_text())
    found = plan(loaded.get("fleet", loaded))
    if "--write" in sys.argv:
        Path(sys.argv[sys.argv.index("--write") + 1]).write_text(markdown(found, loaded.get("machine")))
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
