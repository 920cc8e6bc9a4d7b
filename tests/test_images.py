import io
import time

import pytest
from PIL import Image

from benchmarks.hostile_images import png_declaring, progressive_jpeg_with_scans
from recognition.decision import decode_frame
from recognition.images import PHOTO_FORMATS, InvalidImageError, decode_image, jpeg_scan_count
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
    with pytest.raises(InvalidImageError) as caught:
        decode_image(data[: len(data) // 2])
    assert caught.value.status == 400


def test_a_decompression_bomb_is_refused_with_413_before_decoding(settings):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    with pytest.raises(InvalidImageError) as caught:
        decode_image(_png(4000, 4000))
    assert caught.value.status == 413


def test_too_many_bytes_is_refused_with_413(settings):
    settings.MAX_UPLOAD_BYTES = 2048
    with pytest.raises(InvalidImageError) as caught:
        decode_image(b"\xff\xd8" + b"0" * 4096)
    assert caught.value.status == 413


@pytest.mark.parametrize("data", [b"hello, not an image", b"GIF89a" + b"\x00" * 64, b""])
def test_non_images_are_refused(data):
    with pytest.raises(InvalidImageError) as caught:
        decode_image(data)
    assert caught.value.status in (400, 415)


def test_a_gif_is_refused_as_unsupported_type():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(InvalidImageError) as caught:
        decode_image(buffer.getvalue())
    assert caught.value.status == 415


def test_webp_is_accepted_only_where_asked_for():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="WEBP")
    with pytest.raises(InvalidImageError):
        decode_image(buffer.getvalue())
    assert decode_image(buffer.getvalue(), formats=PHOTO_FORMATS).shape == (10, 10, 3)


def test_a_progressive_jpeg_with_20000_scans_is_refused_with_413_before_decoding():
    data = progressive_jpeg_with_scans(20_000, side=256)
    started = time.process_time()
    with pytest.raises(InvalidImageError) as caught:
        decode_image(data, max_side=64)
    assert caught.value.status == 413 and "20000 scans" in str(caught.value)
    assert time.process_time() - started < 1.0


def test_ordinary_progressive_and_baseline_jpegs_still_decode(dataset):
    assert jpeg_scan_count(photo("img1.jpg")) == 1
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo("img1.jpg"))).save(buffer, "JPEG", progressive=True)
    assert 2 <= jpeg_scan_count(buffer.getvalue()) <= 12
    assert decode_image(buffer.getvalue(), max_side=300).shape[2] == 3


def test_a_100_megapixel_png_of_a_few_hundred_bytes_is_refused_with_413():
    data = png_declaring(10_000, 10_000)
    assert len(data) < 20_000
    with pytest.raises(InvalidImageError) as caught:
        decode_image(data)
    assert caught.value.status == 413


def test_camera_frames_have_a_pixel_cap_far_below_the_photo_cap(settings):
    assert settings.MAX_FRAME_PIXELS <= 10_000_000 < settings.MAX_IMAGE_PIXELS
    buffer = io.BytesIO()
    Image.new("L", (4000, 3000), 100).save(buffer, "JPEG")  # 12 MP: a photo may be this big, a frame not
    with pytest.raises(InvalidImageError) as caught:
        decode_frame(buffer.getvalue())
    assert caught.value.status == 413
    assert decode_image(buffer.getvalue(), max_side=256).shape[:2] == (375, 500)
