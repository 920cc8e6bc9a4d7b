"""Hostile images built on the spot (never stored): the progressive JPEG with thousands of scans
and the PNG that declares 100 MP in a few hundred bytes. Used by tests/test_images.py and by

    python -m benchmarks.hostile_images [--scans 20000] [--side 2048]

which prints the CPU seconds the frame API's check and the recognition job's decode spend on
the scan-heavy JPEG (process time, this process), and what they answer.
"""

import argparse
import io
import json
import struct
import time
import zlib

from PIL import Image


def progressive_jpeg_with_scans(scans: int, side: int = 1024) -> bytes:
    """A flat grey progressive JPEG whose last AC scan is repeated until it has `scans` scans.

    Each repeat is 16 bytes (the band is all zeros: one end-of-band run), yet the decoder walks
    every block of the image once per scan."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 128).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    start = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    present = data.count(b"\xff\xda")
    return data[:end] + data[start:end] * max(0, scans - present) + b"\xff\xd9"


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring width x height grey pixels, with one tiny compressed row after it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    import django

    django.setup()
    from django.conf import settings

    from recognition.decision import decode_frame
    from recognition.images import InvalidImageError, decode_image

    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=20000)
    parser.add_argument("--side", type=int, default=2048)
    args = parser.parse_args()
    data = progressive_jpeg_with_scans(args.scans, args.side)
    result: dict[str, object] = {"bytes": len(data), "scans": args.scans, "side": args.side}
    steps = {
        "frame_api_check": lambda: decode_image(data, max_side=64, max_pixels=settings.MAX_FRAME_PIXELS),
        "recognition_job_decode": lambda: decode_frame(data),
    }
    for name, step in steps.items():
        started = time.process_time()
        try:
            step()
            answer = "decoded"
        except InvalidImageError as exc:
            answer = f"{exc.status} {exc}"
        result[name] = {"cpu_seconds": round(time.process_time() - started, 3), "answer": answer}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
