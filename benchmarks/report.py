"""docs/benchmarks.md and docs/benchmarks.png from the results of benchmarks.runner."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOW = """\
## How it is measured

- Every figure "per core" comes from a child process pinned to one core
  (`os.sched_setaffinity`) with every thread pool at one thread (`OMP_NUM_THREADS=1`,
  `BANKWATCH_INFERENCE_THREADS=1` for ONNX Runtime and OpenCV, TensorFlow's pools at 1):
  see `benchmarks/cpu.py`. Models are loaded and warmed up before timing.
- Frames are 640x360 JPEGs cut from the deepface-unit photos (`benchmarks/dataset.py`):
  one face 120 px tall; five 80 px faces side by side; and the one-face frame with the
  face blurred away. Per frame the worker decodes, detects, aligns and embeds every face,
  and searches the watchlist with `enrollment.gallery.search` on a scratch database
  where the watchlist was enrolled through `enrollment.actions` (`benchmarks/frames.py`,
  `benchmarks/world.py`).
- Identification: people are the connected components of the "same" pairs of the two
  labelled pair files (nobody is labelled by hand). The watchlist holds the first photo of
  the first 7 people; every other photo of all 13 people is a probe, so probes of the 6
  unlisted people must match no one. Each approach runs on the same photos, on the same
  core, in its own process (`benchmarks/identification.py`).
- Gallery search: synthetic unit vectors (`benchmarks/search.py`), one query at a time on
  one thread; recall = how often the approximate search returns the exact best template.
- Recognition job and POST-to-alert-event latency: `manage.py bench_pipeline` (alerts),
  run on one core by this command.
"""


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _header(results: dict[str, Any]) -> list[str]:
    machine = results["machine"]
    loads = [machine["load_average_at_start"][0], machine.get("load_average_at_end", [0])[0]]
    busy = max(loads) > 0.5 * machine["cores_available"]
    return [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python manage.py bench`); the JSON it prints holds every figure.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores_available']} cores available, Python {machine['python']}. "
        f"Load average (1 min) at start {loads[0]}, at end {loads[1]}"
        + (" — **a busy machine: other jobs shared these cores, so times are inflated and noisy**" if busy else "")
        + (" — **quick run (tiny sizes), not for quoting**" if results.get("quick") else "")
        + "."
        + (f" Note: {machine['note']}." if machine.get("note") else ""),
        "",
        "![benchmarks](benchmarks.png)",
    ]


def _mark(ok: bool) -> str:
    return "reached" if ok else "**not reached**"


def _aims(results: dict[str, Any]) -> list[str]:
    """The issue's aims against this run's figures (per core = CPU time of a one-thread process)."""
    rows = []
    if _ok(results, "frames"):
        one = results["frames"]["frames"]["1"]
        per_core = one.get("fps_per_cpu_second", one["fps"])
        rows.append(
            (
                "≥ 15 frames/s per core, one face, 640x360",
                f"{per_core:.1f} per CPU-second ({one['fps']:.1f} wall)",
                per_core >= 15,
            )
        )
    if _ok(results, "pipeline") and "post_to_alert_event_ms" in results["pipeline"]:
        p95 = results["pipeline"]["post_to_alert_event_ms"]["p95"]
        rows.append(("p95 POST-to-alert ≤ 300 ms, embedded", f"{p95:.0f} ms", p95 <= 300))
    if _ok(results, "identification"):
        ident = results["identification"]
        ours = ident["bankwatch"]
        for key, aim in (("deepface_find", 2.5), ("face_recognition", 20.0)):
            if key in ident:
                other = ident[key]
                ratio = other.get("bankwatch_speed_up_cpu", other["bankwatch_speed_up"])
                rows.append(
                    (
                        f"≥ {aim:g}× {NAMES[key]} per core, accuracy equal or better",
                        f"×{ratio:.1f} (CPU), accuracy {ours['accuracy']:.3f} vs {other['accuracy']:.3f}",
                        ratio >= aim and ours["accuracy"] >= other["accuracy"],
                    )
                )
    if _ok(results, "stages"):
        worst = max(row["whole_over_parts"] for row in results["stages"].values())
        rows.append(("whole pipeline ≤ 1.3× the sum of its parts", f"worst {worst:.2f}× (0, 1, 5 faces)", worst <= 1.3))
    if _ok(results, "search") and "1000000" in results["search"]["sizes"]:
        sketch = results["search"]["sizes"]["1000000"]["sketch"]
        rows.append(
            (
                "1 000 000 templates in ≤ 10 ms, recall ≥ 0.99",
                f"{sketch['p50_ms']:.1f} ms p50 / {sketch['p95_ms']:.1f} ms p95, recall {sketch['recall']:.3f} (sketch)",
                sketch["p50_ms"] <= 10 and sketch["recall"] >= 0.99,
            )
        )
    if not rows:
        return []
    lines = ["## Aims (issue 7) against this run", "", "| aim | this run | |", "|---|---|---|"]
    lines += [f"| {aim} | {value} | {_mark(ok)} |" for aim, value, ok in rows]
    return lines


def _frames(results: dict[str, Any]) -> list[str]:
    frames = results["frames"]
    lines = [
        "## Frames per second, one worker process on one core (640x360)",
        "",
        "| faces in frame | frames/s (wall clock) | frames per CPU-second | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
    ]
    for count, row in frames["frames"].items():
        lines.append(
            f"| {count} | {_fmt(row['fps'])} | {_fmt(row.get('fps_per_cpu_second'))} | {_fmt(row['p50_ms'])} | "
            f"{_fmt(row['p95_ms'])} |"
        )
    lines += [
        "",
        "Frames per CPU-second divides by the CPU time the one-thread worker actually got: on a shared",
        "machine it is the fairer per-core figure; on a quiet one the two agree.",
    ]
    covering_on = frames.get("covering_on")
    if covering_on:
        lines += [
            "",
            "With covering detection (mask, helmet, sunglasses, hood: faces down to the covering",
            "detector floor, each classified; aim ≥ 90 % of the figure without):",
            "",
            "| faces in frame | frames per CPU-second, covering on | on / off |",
            "|---|---|---|",
        ]
        lines += [
            f"| {count} | {_fmt(row.get('fps_per_cpu_second'))} | {_fmt(row.get('ratio_to_off'), 3)} |"
            for count, row in covering_on.items()
        ]
    lines += [
        "",
        f"Memory per worker process (Django, models loaded, watchlist enrolled, after the frames): "
        f"{_fmt(frames['rss_mb'], 0)} MB resident, peak {_fmt(frames['peak_rss_mb'], 0)} MB.",
    ]
    enrollment = frames.get("enrollment")
    if enrollment:
        lines += [
            "",
            f"Enrollment (upload to stored template, `add_photo` + the enrollment job, one core): "
            f"{_fmt(enrollment['mean_ms'] / 1000, 3)} s per photo on average (p95 {_fmt(enrollment['p95_ms'] / 1000, 3)} s), "
            f"{enrollment['accepted']}/{enrollment['photos']} photos accepted.",
        ]
    return lines


def _scaling(results: dict[str, Any]) -> list[str]:
    scaling = results["scaling"]
    if "skipped" in scaling:
        return [f"Scaling: skipped ({scaling['skipped']})."]
    lines = [
        f"Scaling, one face per frame: 1 process {_fmt(scaling['one_process_fps'])} frames/s; 2 processes together:"
    ]
    for name, how in (("pinned", "pinned one per core"), ("unpinned", "placed by the OS, as Celery workers are")):
        row = scaling.get(name)
        if row is None and name == "pinned" and "two_processes_fps" in scaling:
            row = scaling  # results of an older run
        if row:
            lines.append(
                f"- {how}: {_fmt(row['two_processes_fps'])} frames/s ({row['per_process_fps']}), ×{_fmt(row['speed_up'], 2)}."
            )
    return lines


def _stages(results: dict[str, Any]) -> list[str]:
    lines = [
        "## The whole pipeline against its parts timed alone (median CPU ms per frame, one core)",
        "",
        "Each part runs alone on the same frame, in turn with the whole pipeline in every round.",
        "",
        "| faces | decode | detect | align + embed | search | sum of parts | whole | whole / sum | same by wall clock |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for count, row in results["stages"].items():
        lines.append(
            f"| {count} | {_fmt(row['decode'], 2)} | {_fmt(row['detect'], 2)} | {_fmt(row['align_embed'], 2)} | "
            f"{_fmt(row['search'], 3)} | {_fmt(row['sum_of_parts'], 2)} | {_fmt(row['whole'], 2)} | "
            f"{_fmt(row['whole_over_parts'], 2)} | {_fmt(row.get('wall_whole_over_parts'), 2)} |"
        )
    return lines


NAMES = {
    "bankwatch": "BankWatch",
    "deepface_find": "`DeepFace.find` (SFace + YuNet)",
    "face_recognition": "`face_recognition` library",
}


def _identification(results: dict[str, Any]) -> list[str]:
    ident = results["identification"]
    first = next(iter(ident.values()))
    lines = [
        "## Identification side by side (same photos, same core)",
        "",
        f"Watchlist of 7 people, {first['probes']} probe photos (full-size JPEGs read from disk, up to 4600 px).",
        "CPU time is the per-core comparison: each approach ran in a process pinned to one core, but",
        "DeepFace's ONNX Runtime session starts a thread per core and ONNX Runtime places its threads",
        "itself, so `DeepFace.find` also used the other core (its CPU time exceeds its wall time).",
        "",
        "| approach | s / probe (wall) | CPU s / probe | p95 ms | right | wrong | BankWatch faster by (wall / CPU) "
        "| threshold | gallery build s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in ident.items():
        lines.append(
            f"| {NAMES.get(key, key)} | {_fmt(row['seconds_per_probe'], 3)} | {_fmt(row.get('cpu_seconds_per_probe'), 3)} | "
            f"{_fmt(row['p95_ms'], 0)} | {row['correct']}/{row['probes']} ({_fmt(row['accuracy'] * 100, 1)} %) | "
            f"{', '.join(row['wrong']) or '–'} | ×{_fmt(row['bankwatch_speed_up'], 1)} / "
            f"×{_fmt(row.get('bankwatch_speed_up_cpu'), 1)} | {row['threshold']} | {_fmt(row['gallery_seconds'], 1)} |"
        )
    return lines


def _search(results: dict[str, Any]) -> list[str]:
    search = results["search"]
    hnsw = search["hnsw"]
    lines = [
        f"## Gallery search ({search['queries']} queries, one at a time, one thread)",
        "",
        "- exact: one matrix product over every template (`enrollment.gallery`'s default).",
        f"- HNSW: usearch, {hnsw['dtype']}, connectivity {hnsw['connectivity']}, expansion_add "
        f"{hnsw['expansion_add']}, expansion_search {hnsw['expansion_search']}, top {hnsw['candidates']} "
        "scored exactly: `enrollment.gallery` with `BANKWATCH_GALLERY_INDEX=usearch`.",
        f"- sketch: `enrollment/gallery/sketch.py`, sign-bit sketches, the {search['sketch_candidates']} nearest scored exactly.",
        "",
        "| templates | exact p50 / p95 ms | HNSW p50 / p95 ms | HNSW recall | HNSW build s | sketch p50 / p95 ms | sketch recall | sketch build s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, row in search["sizes"].items():
        h = row.get("hnsw")
        hnsw_cells = (
            f"{_fmt(h['p50_ms'], 2)} / {_fmt(h['p95_ms'], 2)} | {_fmt(h['recall'], 3)} | "
            f"{_fmt(h['build_s']) if h['build_s'] is not None else 'cached'}"
            if h
            else "not built here (see below) | – | –"
        )
        k = row["sketch"]
        lines.append(
            f"| {int(size):,} | {_fmt(row['exact']['p50_ms'], 2)} / {_fmt(row['exact']['p95_ms'], 2)} | {hnsw_cells} | "
            f"{_fmt(k['p50_ms'], 2)} / {_fmt(k['p95_ms'], 2)} | {_fmt(k['recall'], 3)} | {_fmt(row['sketch_build_s'], 2)} |"
        )
    return lines


def _pipeline(results: dict[str, Any]) -> list[str]:
    found = results["pipeline"]
    lines = ["## Recognition job and POST-to-alert-event latency (`bench_pipeline`, one core)", ""]
    latency = found.get("post_to_alert_event_ms")
    if latency:
        lines += [
            f"Embedded mode, POST of the frame that completes agreement until the `alert.created` event "
            f"reaches a subscribed client: p50 {_fmt(latency['p50'])} ms, p95 {_fmt(latency['p95'])} ms, "
            f"max {_fmt(latency['max'])} ms ({latency['n']} alerts).",
            "",
        ]
    lines += ["```json", json.dumps(found, indent=1), "```"]
    return lines


def _production(results: dict[str, Any]) -> list[str]:
    found = results["production"]
    if "skipped" in found:
        return [f"Production-mode latency: skipped ({found['skipped']})."]
    return [
        "## POST-to-alert-event latency, production mode",
        "",
        f"PostgreSQL, Redis (broker and channel layer), one Celery worker process (`--pool=solo`) pinned to its "
        f"own core; the POST goes through Django's test client in the bench process (`benchmarks/latency.py`): "
        f"p50 {_fmt(found['p50'])} ms, p95 {_fmt(found['p95'])} ms, max {_fmt(found['max'])} ms ({found['n']} alerts).",
        "",
        f"Memory of the Celery worker process after the run: {_fmt(found.get('worker_rss_mb'), 0)} MB resident, "
        f"peak {_fmt(found.get('worker_peak_rss_mb'), 0)} MB.",
    ]


def _streams(results: dict[str, Any]) -> list[str]:
    found = results["streams"]
    lines = [
        "## RTSP streams per supervisor core (decode and sampling)",
        "",
        f"N RTSP streams read by one `run_cameras`-style process pinned to core {found['reader_core']} "
        f"(`cameras/sources.py` over PyAV, one thread per stream, every frame decoded, {found['sample_fps']} "
        "frames/s converted to pixels); the streams are served from the other core (`benchmarks/streams.py`). "
        "Streams read = frames decoded per second over the source's rate (a loaded machine's servers may "
        "deliver fewer); streams per core = streams read over the share of the core they took.",
        "",
        "| source | fast decode | streams served | streams read | CPU share of the core | streams per core "
        "| CPU ms per sampled frame | sampled frames/s per stream |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case in found["cases"]:
        lines.append(
            f"| {case['source']} | {'yes' if case['fast_decode'] else 'no'} | {case['streams']} | "
            f"{_fmt(case.get('streams_read'), 1)} | {_fmt(case['core_share'], 2)} | {_fmt(case['streams_per_core'])} | "
            f"{_fmt(case['cpu_ms_per_sampled_frame'], 2)} | {_fmt(case['sampled_fps_per_stream'], 2)} |"
        )
    return lines


def _fleet_run(found: dict[str, Any], title: str) -> list[str]:
    if "skipped" in found or "error" in found:
        return [f"{title}: {'skipped' if 'skipped' in found else 'failed'} ({found.get('skipped') or found['error']})."]
    cpu = found["cpu_ms_per_frame"]
    lines = [
        f"**{title}** (mix {', '.join(f'{k} {round(100 * v)} %' for k, v in found['mix'].items())}, "
        f"{found['fps_per_camera']:g} frames/s per camera, {found['seconds_per_step']:g} s per step): "
        f"**{found['cameras']} cameras held, {found['cameras_per_core']} per core** "
        f"({found['frames_per_second']} frames/s, p95 POST-to-alert {_fmt(found['p95_post_to_alert_ms'], 0)} ms, "
        f"{found['skipped_frames']} frames skipped); CPU ms per frame: web {cpu['web']}, worker {cpu['worker']}, "
        f"PostgreSQL {cpu['postgres']}, Redis {cpu['redis']}, PgBouncer {cpu.get('pgbouncer', '–')}; load "
        f"generator {found['load_generator_cpu_ms_per_frame']} (its own process, not counted above); "
        f"{found['sql_statements_per_frame']} SQL statements and {found['disk_bytes_per_frame']} bytes written to "
        f"disk per frame; PostgreSQL connections at most {found['peak_postgres_connections']} "
        f"(PgBouncer pool {found['pool_size']}).",
        "",
        "| cameras | offered frames/s | accepted frames/s | kept up | queue at end | p95 POST-to-alert ms | "
        "web | worker | postgres | redis | SQL/frame | disk bytes/frame | PG connections |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in found["steps"]:
        c = row["cpu_ms_per_frame"]
        lines.append(
            f"| {row['cameras']} | {row['offered_frames_per_second']} | {row['frames_per_second']} | "
            f"{'yes' if row['kept_up'] else 'no'} | {row['backlog_at_end']} | {_fmt(row['p95_post_to_alert_ms'], 0)} | "
            f"{c['web']} | {c['worker']} | {c['postgres']} | {c['redis']} | {row['sql_statements_per_frame']} | "
            f"{row['disk_bytes_per_frame']} | {row['peak_postgres_connections']} |"
        )
    drain = found.get("backlog_drain")
    if drain:
        lines += [
            "",
            f"Backlog drained ({drain['frames']} frames of the mix queued while the workers did not consume): "
            f"{drain['frames_per_second']} frames/s by {drain['worker_processes']} pool processes, each busy "
            f"{', '.join(str(b) for b in drain['cpu_share_per_process'])} of a core, "
            f"{drain['worker_cpu_ms_per_frame']} CPU ms per frame.",
        ]
        if drain.get("profile_of_one_process"):
            lines += ["", "Where one pool process spent its CPU while draining (py-spy samples, by kind of work):", ""]
            lines += [f"- {row['share']:.0%} {row['work']}" for row in drain["profile_of_one_process"]]
    return lines


def _fleet(results: dict[str, Any]) -> list[str]:
    found = results["fleet"]
    lines = [
        "## Fleet: the production stack under many cameras (`bench --sections fleet`)",
        "",
        "A private PostgreSQL cluster, Redis, PgBouncer (transaction mode), daphne and one Celery worker with "
        "one pool process per core, all on this machine and set up and torn down by the bench "
        "(`benchmarks/fleet.py`); push cameras over HTTP with their tokens from a load generator in its own "
        "process; the number of cameras rises until the stack falls behind (a frame refused or sent late, more "
        "than one frame per camera still queued at the end, or p95 POST-to-alert over 1 s). "
        "CPU per frame is every process of each kind (reaped children included) over the step and the drain "
        "after it, divided by the frames accepted. Plot: `docs/fleet.png`.",
        "",
    ]
    lines += _fleet_run(found, "Motion gating off")
    if "gated_idle_clip" in found:
        lines += ["", *_fleet_run(found["gated_idle_clip"], "Motion gating on, idle clip")]
    return lines


def fleet_plot(results: dict[str, Any], path: Path) -> None:
    """p95 POST-to-alert and CPU ms per frame of each process kind against cameras."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [("gating off", results["fleet"])]
    if "gated_idle_clip" in results["fleet"]:
        runs.append(("gating on, idle clip", results["fleet"]["gated_idle_clip"]))
    figure, (latency, cpu) = plt.subplots(1, 2, figsize=(11, 4))
    for name, found in runs:
        steps = found.get("steps") or []
        cameras = [row["cameras"] for row in steps]
        latency.plot(cameras, [row["p95_post_to_alert_ms"] or 0 for row in steps], marker="o", label=name)
        for kind in ("web", "worker", "postgres", "redis"):
            cpu.plot(cameras, [row["cpu_ms_per_frame"][kind] for row in steps], marker=".", label=f"{kind} ({name})")
    latency.axhline(1000, color="grey", linestyle="--", linewidth=0.8)
    latency.set_xlabel("cameras at 5 frames/s")
    latency.set_ylabel("p95 POST-to-alert (ms)")
    latency.legend()
    cpu.set_xlabel("cameras at 5 frames/s")
    cpu.set_ylabel("CPU ms per accepted frame")
    cpu.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


SECTIONS: list[tuple[str, Callable[[dict[str, Any]], list[str]]]] = [
    ("frames", _frames),
    ("scaling", _scaling),
    ("stages", _stages),
    ("identification", _identification),
    ("search", _search),
    ("pipeline", _pipeline),
    ("production", _production),
    ("streams", _streams),
    ("fleet", _fleet),
]


def _history(results: dict[str, Any]) -> list[str]:
    found = results["history"]
    lines = ["## A year of data (`bench --sections history`)", ""]
    if {"error", "skipped"} & set(found):
        return [*lines, f"Not measured: {found.get('skipped') or found.get('error')}"]
    volume = found["volume"]
    lines += [
        f"A private PostgreSQL filled by SQL with {volume['days']} days of {volume['cameras']:,} cameras "
        f"({volume['branches']:,} branches, {volume['banks']} banks, {volume['subjects']:,} subjects) at "
        f"{volume['alerts_per_camera_day']} alert a camera a day: {volume['alerts']:,} alerts, "
        f"{volume['sightings']:,} sightings, {volume['feed_events']:,} feed events, "
        f"{volume['audit_entries']:,} audit entries, {volume['database_mb']:,} MB (`benchmarks/year.py`). "
        "Each page through the real views, 20 times, as the user who waits on it.",
        "",
        "| what | p50 ms | p95 ms | aim: p95 ≤ 200 ms |",
        "|---|---|---|---|",
    ]
    for name, timing in found["timings"].items():
        lines.append(
            f"| {name.replace('_', ' ')} | {_fmt(timing['p50_ms'])} | {_fmt(timing['p95_ms'])} | "
            f"{_mark(timing['p95_ms'] <= 200)} |"
        )
    purge = found["retention_feed_purge"]
    lines += [
        "",
        f"Retention purged {purge['purged']:,} feed events in {purge['seconds']} s in {purge['statements']} "
        f"statements; the longest took {purge['longest_statement_s']} s (how long a lock is held).",
    ]
    return lines


SECTIONS.append(("history", _history))


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name} -->", f"<!-- /{name} -->"


def splice(existing: str, name: str, results: dict[str, Any]) -> str:
    """docs/benchmarks.md with one section replaced (a `--sections fleet` or `history` run keeps the others)."""
    start, end = _markers(name)
    block = "\n".join([start, *dict(SECTIONS)[name](results), end])
    if start in existing and end in existing:
        head, rest = existing.split(start, 1)
        return head + block + rest.split(end, 1)[1]
    marker = "## How it is measured"
    if marker in existing:
        head, rest = existing.split(marker, 1)
        return head + block + "\n\n" + marker + rest
    return existing.rstrip("\n") + "\n\n" + block + "\n"


def markdown(results: dict[str, Any], history: str) -> str:
    lines = _header(results)
    aims = _aims(results)
    if aims:
        lines += ["", *aims]
    for name, section in SECTIONS:
        if name not in results:
            continue
        lines.append("")
        if "error" in results[name]:
            lines.append(f"**{name}: failed** — `{results[name]['error'][:500]}`")
        elif name in ("fleet", "history"):
            lines += [_markers(name)[0], *section(results), _markers(name)[1]]
        else:
            lines += section(results)
    lines += ["", HOW, history]
    return "\n".join(lines) + "\n"


def _ok(results: dict[str, Any], name: str) -> bool:
    return name in results and "error" not in results[name]


def plot(results: dict[str, Any], path: Path) -> None:  # noqa: C901 - one panel per section, each optional
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 3, figsize=(17, 8))
    if _ok(results, "frames"):
        rates = results["frames"]["frames"]
        ax = axes[0][0]
        labels = [f"{c} face{'s' if c != '1' else ''}" for c in rates]
        values = [rates[c]["fps"] for c in rates]
        if _ok(results, "scaling"):
            scaling = results["scaling"]
            both = scaling.get("unpinned") or scaling.get("pinned") or scaling
            if "two_processes_fps" in both:
                labels.append("1 face,\n2 processes")
                values.append(both["two_processes_fps"])
        ax.bar(labels, values, color=["#888", "#2a7", "#27a", "#a72"][: len(values)])
        ax.axhline(15, color="red", linestyle="--", linewidth=1, label="aim: 15 frames/s per core")
        ax.set_title("640x360 frames per second (one core per process)")
        ax.legend()
    if _ok(results, "stages"):
        ax = axes[0][1]
        stages = results["stages"]
        bottom = [0.0] * len(stages)
        for part, colour in (("decode", "#bbb"), ("detect", "#27a"), ("align_embed", "#2a7"), ("search", "#a72")):
            heights = [stages[c][part] for c in stages]
            ax.bar([f"{c} faces\nparts" for c in stages], heights, bottom=bottom, label=part, color=colour)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.bar([f"{c} faces\nwhole" for c in stages], [stages[c]["whole"] for c in stages], color="#555", label="whole")
        ax.set_ylabel("CPU ms per frame (median)")
        ax.set_title("Parts timed alone vs the whole pipeline")
        ax.legend(fontsize=8)
    if _ok(results, "identification"):
        ax = axes[1][0]
        ident = results["identification"]
        short = {"bankwatch": "BankWatch", "deepface_find": "DeepFace.find", "face_recognition": "face_recognition"}
        bars = ax.bar(
            [short.get(k, k) for k in ident],
            [ident[k]["seconds_per_probe"] * 1000 for k in ident],
            color=["#2a7", "#27a", "#a72"],
        )
        for bar, key in zip(bars, ident, strict=True):
            ax.annotate(
                f"{ident[key]['accuracy'] * 100:.0f} % right",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
            )
        ax.set_yscale("log")
        ax.set_ylabel("ms per probe photo, one core (log)")
        ax.set_title("Identification against a 7-person watchlist")
    if _ok(results, "search"):
        ax = axes[1][1]
        search = results["search"]["sizes"]
        sizes = [int(size) for size in search]
        ax.plot(sizes, [search[s]["exact"]["p50_ms"] for s in search], "o-", label="exact (numpy)")
        ax.plot(sizes, [search[s]["sketch"]["p50_ms"] for s in search], "o-", label="sign-bit sketch + exact rerank")
        built = [s for s in search if "hnsw" in search[s]]
        ax.plot([int(s) for s in built], [search[s]["hnsw"]["p50_ms"] for s in built], "o-", label="usearch HNSW")
        for size, key in zip(sizes, search, strict=True):
            ax.annotate(
                f"recall {search[key]['sketch']['recall']:.2f}", (size, search[key]["sketch"]["p50_ms"]), fontsize=8
            )
        ax.axhline(10, color="red", linestyle="--", linewidth=1, label="aim: 10 ms")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("templates")
        ax.set_ylabel("ms per query (median)")
        ax.set_title("Gallery search")
        ax.legend(fontsize=8)
    latencies = {}
    if _ok(results, "pipeline") and "post_to_alert_event_ms" in results["pipeline"]:
        latencies["embedded"] = results["pipeline"]["post_to_alert_event_ms"]
    if _ok(results, "production") and "p50" in results["production"]:
        latencies["production\n(Redis, Celery)"] = results["production"]
    ax = axes[0][2]
    if latencies:
        names = list(latencies)
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], [latencies[n]["p50"] for n in names], width=0.4, label="p50")
        ax.bar([i + 0.2 for i in x], [latencies[n]["p95"] for n in names], width=0.4, label="p95")
        ax.set_xticks(list(x), names)
        ax.axhline(300, color="red", linestyle="--", linewidth=1, label="aim: p95 300 ms (embedded)")
        ax.set_ylabel("ms from POST to alert.created")
        ax.set_title("POST-to-alert-event latency")
        ax.legend(fontsize=8)
    else:
        ax.set_axis_off()
    axes[1][2].set_axis_off()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


HISTORY_FILE = Path(__file__).resolve().parent / "history.md"


def write(results: dict[str, Any], docs: Path, sections: tuple[str, ...] = ()) -> None:
    """docs/benchmarks.md (with benchmarks/history.md appended) and docs/benchmarks.png; a run of the
    fleet alone replaces only its section of an existing page. docs/fleet.png after a fleet run."""
    docs.mkdir(parents=True, exist_ok=True)
    page = docs / "benchmarks.md"
    if len(sections) == 1 and sections[0] in ("fleet", "history") and page.exists():
        page.write_text(splice(page.read_text(), sections[0], results))
    else:
        history = HISTORY_FILE.read_text() if HISTORY_FILE.exists() else ""
        page.write_text(markdown(results, history))
        plot(results, docs / "benchmarks.png")
    if "fleet" in results and not {"error", "skipped"} & set(results["fleet"]):
        fleet_plot(results, docs / "fleet.png")
        (docs / "fleet.json").write_text(json.dumps({"machine": results.get("machine"), "fleet": results["fleet"]}))
