import io

import pytest
from PIL import Image

from recognition.images import PHOTO_FORMATS, InvalidImage, decode_image
from tests.conftest import photo


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_real_jpeg_decodes_to_bgr_pixels(dataset):
    pixels = decode_image(photo("img1.jpg"))
    assert pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype.name == "uint8"


def test_a_large_jpeg_decodes_at_reduced_scale_when_asked(dataset):
    full = decode_image(photo("img1.jpg"))
    small = decode_image(photo("img1.jpg"), max_side=300)
    assert max(small.shape[:2]) < max(full.shape[:2])
    assert max(small.shape[:2]) >= 300


def test_a_truncated_jpeg_is_refused_with_400(dataset):
    data = photo("img1.jpg")
    with pytest.raises(InvalidImage) as caught:
        decode_image(data[: len(data) // 2])
    assert caught.value.status == 400


def test_a_decompression_bomb_is_refused_with_413_before_decoding(settings):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    with pytest.raises(InvalidImage) as caught:
        decode_image(_png(4000, 4000))
    assert caught.value.status == 413


def test_too_many_bytes_is_refused_with_413(settings):
    settings.MAX_UPLOAD_BYTES = 2048
    with pytest.raises(InvalidImage) as caught:
        decode_image(b"\xff\xd8" + b"0" * 4096)
    assert caught.value.status == 413


@pytest.mark.parametrize("data", [b"hello, not an image", b"GIF89a" + b"\x00" * 64, b""])
def test_non_images_are_refused(data):
    with pytest.raises(InvalidImage) as caught:
        decode_image(data)
    assert caught.value.status in (400, 415)


def test_a_gif_is_refused_as_unsupported_type():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(InvalidImage) as caught:
        decode_image(buffer.getvalue())
    assert caught.value.status == 415


def test_webp_is_accepted_only_where_asked_for():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="WEBP")
    with pytest.raises(InvalidImage):
        decode_image(buffer.getvalue())
    assert decode_image(buffer.getvalue(), formats=PHOTO_FORMATS).shape == (10, 10, 3)
