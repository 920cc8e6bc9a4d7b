"""How many 1280x720 H.264 RTSP streams one supervisor process reads per core, sampling 5 frames/s.

The parent makes a 720p clip from the shared photos (panning, with sensor noise, 2 Mbit/s, a
keyframe every 2 s, no B-frames: as an IP camera sends it), serves it as N RTSP streams
(tests/streams.py: Debian's ffmpeg `-re` into a small RTSP server) and runs the reading in a
child pinned to one core: N reader loops of cameras/sources.rtsp_samples, the supervisor's own
code, each on its own thread as in run_cameras, decoding every frame and converting the sampled
ones to pixels. The servers run outside that core. The child's CPU time (all its threads,
`time.process_time`) over the wall time is the share of a core the streams need. On a loaded
machine the servers may deliver fewer frames than the clip's rate, so the streams actually read
are counted as frames decoded per second over the source's frame rate: streams per core is that
over the core share, and CPU per sampled frame is the CPU time over the frames sampled.
"""

import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import cpu


def make_clip(dataset: Path, path: Path, fps: int, seconds: int = 20) -> Path:
    """1280x720, `fps` frames/s, a slow pan over a photo with sensor noise, 2 Mbit/s, keyframe every 2 s."""
    photo = dataset / "couple.jpg"
    pan = "scale=1480:900:force_original_aspect_ratio=increase,crop=1280:720:x='mod(t*20\\,200)':y=40"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-t", str(seconds), "-r", str(fps), "-i", str(photo)]
        + ["-vf", f"{pan},noise=alls=3:allf=t,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast"]
        + ["-tune", "zerolatency", "-g", str(2 * fps), "-bf", "0", "-b:v", "2M", "-maxrate", "2M", "-bufsize", "2M"]
        + [str(path)],
        check=True,
        timeout=600,
    )
    return path


def read_streams(urls: list[str], seconds: float, fps: float, fast_decode: bool = False) -> dict[str, Any]:
    """In the pinned child: read every URL on its own thread for `seconds`; CPU and frames counted."""
    from cameras.credentials import StreamCredentials
    from cameras.sources import Counters, SourceError, StreamConfig, rtsp_samples

    stop = threading.Event()
    counters = [Counters() for _ in urls]
    errors: list[str] = []

    def read(index: int, url: str) -> None:
        config = StreamConfig(index, "rtsp", url, StreamCredentials("bench", "bench"), "digest", fps, 1)
        while not stop.is_set():
            try:
                for _ in rtsp_samples(config, stop, counters[index], fast_decode=fast_decode):
                    pass
            except SourceError as exc:
                errors.append(str(exc))
                stop.wait(1)

    threads = [threading.Thread(target=read, args=(i, url), daemon=True) for i, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    time.sleep(3)  # connected, past the first keyframe
    start = [(c.decoded, c.sampled) for c in counters]
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    time.sleep(seconds)
    cpu_seconds, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
    decoded = sum(c.decoded - s[0] for c, s in zip(counters, start, strict=True))
    sampled = sum(c.sampled - s[1] for c, s in zip(counters, start, strict=True))
    stop.set()
    return {
        "streams": len(urls),
        "cpu_seconds": round(cpu_seconds, 3),
        "wall_seconds": round(wall, 3),
        "decoded_fps": round(decoded / wall, 1),
        "sampled_fps_per_stream": round(sampled / wall / len(urls), 2),
        "errors": errors[:3],
    }


def streams(dataset: str, quick: bool, log: Any) -> dict[str, Any]:
    from tests.streams import RtspCamera

    cores = cpu.cores()
    reader_core = cores[0]
    seconds = 5.0 if quick else 20.0
    counts = [4] if quick else [4, 8]
    found: dict[str, Any] = {"reader_core": reader_core, "sample_fps": 5, "cases": []}
    with tempfile.TemporaryDirectory() as work:
        for source_fps in (25, 5):
            clip = make_clip(Path(dataset), Path(work) / f"720p{source_fps}.mp4", source_fps)
            for fast in (False,) if source_fps == 5 else (False, True):
                for count in counts:
                    servers = [RtspCamera(clip, "bench", "bench", Path(work)) for _ in range(count)]
                    for server in servers:
                        server.start()
                    try:
                        log(f"bench: streams {count} x 720p{source_fps}{' fast' if fast else ''}")
                        args = {"urls": [s.url for s in servers], "seconds": seconds, "fps": 5.0, "fast_decode": fast}
                        got = cpu.run("read_streams", args, reader_core, timeout=seconds * 4 + 120)
                    finally:
                        for server in servers:
                            server.stop()
                    share = got["cpu_seconds"] / got["wall_seconds"]
                    read = got["decoded_fps"] / source_fps  # streams delivered in full
                    sampled = got["sampled_fps_per_stream"] * count * got["wall_seconds"]
                    found["cases"].append(
                        {
                            "source": f"1280x720 H.264 {source_fps} fps, 2 Mbit/s",
                            "fast_decode": fast,
                            **got,
                            "core_share": round(share, 3),
                            "streams_read": round(read, 2),
                            "streams_per_core": round(read / share, 1) if share else None,
                            "cpu_ms_per_sampled_frame": round(1000 * got["cpu_seconds"] / sampled, 2)
                            if sampled
                            else None,
                        }
                    )
    return found
