"""Decoding untrusted image bytes safely: type, size, pixel and structure limits before any pixel is decoded.

Decoding cost is bounded by construction: bytes (BANKWATCH_MAX_UPLOAD_BYTES), pixels
(BANKWATCH_MAX_FRAME_PIXELS for camera frames, BANKWATCH_MAX_IMAGE_PIXELS for reference photos)
and, for progressive JPEGs, whose every scan walks the whole image again, the number of scans
(BANKWATCH_MAX_JPEG_SCANS), counted from the markers before the decoder sees the file.
"""

import io
import math
import warnings

import cv2
import numpy as np
from django.conf import settings
from numpy.typing import NDArray
from PIL import Image, ImageOps

CAMERA_FORMATS = ("JPEG", "PNG")
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")


class InvalidImageError(ValueError):
    """The bytes are not an image we accept. `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, code: str = "image.unreadable", **params: object) -> None:
        super().__init__(message)
        self.status = status
        # For readers in their own language: a code with parameters (enrollment/reasons.py words them).
        self.code = code
        self.params = params


def jpeg_scan_count(data: bytes) -> int:
    """How many scans (SOS markers) the JPEG's marker structure holds, walking segment lengths and
    the entropy-coded data after each SOS, so nothing inside a segment (an EXIF thumbnail) counts.
    Stops at EOI or at the first thing that is not a marker (the decoder then finds it corrupt)."""
    scans, pos, end = 0, 2, len(data)
    while pos + 4 <= end and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker != 0xDA:
            continue
        scans += 1
        while True:  # entropy-coded data: 0xFF is followed by 0x00 (stuffing) or a restart marker
            pos = data.find(b"\xff", pos)
            if pos < 0 or pos + 1 >= end:
                return scans
            following = data[pos + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                pos += 2 if following != 0xFF else 1
                continue
            break
    return scans


def decode_image(
    data: bytes, max_side: int = 0, formats: tuple[str, ...] = CAMERA_FORMATS, max_pixels: int | None = None
) -> NDArray[np.uint8]:
    """Decode JPEG or PNG bytes into a BGR array, refusing bombs, costly structures and truncated files.

    max_pixels defaults to BANKWATCH_MAX_IMAGE_PIXELS (reference photos); camera frames pass
    BANKWATCH_MAX_FRAME_PIXELS. max_side > 0 lets a large JPEG decode at a reduced scale (at least max_side on its
    longer side), which is much cheaper than decoding it whole and resizing. The pixels are
    copied once after decoding (EXIF rotation in place, one SIMD RGB->BGR swap).
    """
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise InvalidImageError(
            f"image is {len(data)} bytes; the limit is {settings.MAX_UPLOAD_BYTES}",
            413,
            "photo.too_large",
            size_bytes=len(data),
            limit_bytes=settings.MAX_UPLOAD_BYTES,
        )
    if not data:
        raise InvalidImageError("image is empty", code="image.empty")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidImageError(f"image has too many pixels: {exc}", 413, "image.too_many_pixels") from None
        except Exception:  # noqa: BLE001 - Pillow raises many kinds on hostile bytes; all are a 415
            raise InvalidImageError(
                f"not a readable image ({' or '.join(formats)} expected)", 415, formats=", ".join(formats)
            ) from None
        if image.format not in formats:
            raise InvalidImageError(
                f"unsupported image type {image.format}; send {' or '.join(formats)}",
                415,
                "image.unsupported",
                kind=str(image.format),
                formats=", ".join(formats),
            )
        width, height = image.size
        if width < 1 or height < 1:
            raise InvalidImageError("image has no pixels", code="image.empty")
        limit = settings.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
        if width * height > limit:
            raise InvalidImageError(
                f"image is {width}x{height} pixels; the limit is {limit} pixels",
                413,
                "image.dimensions",
                width=width,
                height=height,
                limit=limit,
            )
        if image.format == "JPEG":
            scans = jpeg_scan_count(data)
            if scans > settings.MAX_JPEG_SCANS:
                raise InvalidImageError(
                    f"JPEG has {scans} scans; the limit is {settings.MAX_JPEG_SCANS}",
                    413,
                    "image.too_many_scans",
                    scans=scans,
                    limit=settings.MAX_JPEG_SCANS,
                )
        try:
            longer = max(width, height)
            if max_side and image.format == "JPEG" and longer > max_side:
                # The decoder picks the smallest 1/2, 1/4 or 1/8 scale that is at least this size,
                # so the longer side keeps >= max_side pixels (a square box would keep the shorter).
                image.draft("RGB", (math.ceil(width * max_side / longer), math.ceil(height * max_side / longer)))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            raise InvalidImageError(f"image is truncated or corrupt: {exc}", code="image.corrupt") from None
    return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), dtype=np.uint8)


def encode_jpeg(pixels: NDArray[np.uint8], quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[:, :, ::-1])).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
