"""Decoding untrusted image bytes safely: type, size and pixel limits before any pixel is decoded."""

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


class InvalidImage(ValueError):
    """The bytes are not an image we accept. `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def decode_image(data: bytes, max_side: int = 0, formats: tuple[str, ...] = CAMERA_FORMATS) -> NDArray[np.uint8]:
    """Decode JPEG or PNG bytes into a BGR array, refusing bombs and truncated files.

    max_side > 0 lets a large JPEG decode at a reduced scale (at least max_side on its
    longer side), which is much cheaper than decoding it whole and resizing. The pixels are
    copied once after decoding (EXIF rotation in place, one SIMD RGB->BGR swap).
    """
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise InvalidImage(f"image is {len(data)} bytes; the limit is {settings.MAX_UPLOAD_BYTES}", 413)
    if not data:
        raise InvalidImage("image is empty")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise InvalidImage(f"image has too many pixels: {exc}", 413) from None
        except Exception:
            raise InvalidImage(f"not a readable image ({' or '.join(formats)} expected)", 415) from None
        if image.format not in formats:
            raise InvalidImage(f"unsupported image type {image.format}; send {' or '.join(formats)}", 415)
        width, height = image.size
        if width < 1 or height < 1:
            raise InvalidImage("image has no pixels")
        if width * height > settings.MAX_IMAGE_PIXELS:
            raise InvalidImage(
                f"image is {width}x{height} pixels; the limit is {settings.MAX_IMAGE_PIXELS} pixels", 413
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
            raise InvalidImage(f"image is truncated or corrupt: {exc}") from None
    return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), dtype=np.uint8)


def encode_jpeg(pixels: NDArray[np.uint8], quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[:, :, ::-1])).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
