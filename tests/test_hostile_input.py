"""Hostile input: property-based uploads and API bodies (hypothesis). Every one must answer 4xx
(never 2xx, never 500: the test client re-raises any server exception), write nothing to the
database or to storage, and leave no temporary file behind.

Limits are lowered for the run (MAX_UPLOAD_BYTES, MAX_IMAGE_PIXELS and MAX_FRAME_PIXELS, the in-memory upload size) so
that the oversized and spilled-to-disk cases stay small and fast. TRIED counts the inputs sent;
the last test checks that at least 500 went through.
"""

import io
import json
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image
from rest_framework import serializers

from alerts import frame_queue
from alerts.models import Alert
from audit.models import AuditEntry
from cameras import signing
from cases.models import Case
from enrollment.models import ReferencePhoto
from recognition.images import CAMERA_FORMATS, PHOTO_FORMATS, encode_jpeg
from tests.factories import frames_queued, make_alert, make_subject

FRAMES = "/api/v1/frames"
BOUNDARY = b"hostileboundary7MA4YWxkTrZu0gW"
MAX_UPLOAD = 20_000
MAX_PIXELS = 200_000
TRIED: list[str] = []
PROFILE = hsettings(
    deadline=None,
    database=None,  # keep nothing between runs, write no .hypothesis folder into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _picture(fmt: str, size: tuple[int, int] = (48, 32)) -> bytes:
    pixels = np.random.default_rng(7).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    if fmt == "JPEG":
        return encode_jpeg(pixels, quality=80)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


JPEG, PNG = _picture("JPEG"), _picture("PNG")
OTHER_FORMATS = {fmt: _picture(fmt) for fmt in ("GIF", "BMP", "TIFF", "WEBP", "ICO", "PPM")}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _huge_png(width: int, height: int) -> bytes:
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b"")


def _huge_jpeg(width: int, height: int) -> bytes:
    sof = JPEG.index(b"\xff\xc0")
    return JPEG[: sof + 5] + struct.pack(">HH", height, width) + JPEG[sof + 9 :]


def _bad_crc_png(position: int, value: int) -> bytes:
    data = bytearray(PNG)
    index = 16 + position % 13  # inside IHDR's data or CRC, whose check then fails
    data[index] = (data[index] + 1 + value % 255) % 256
    return bytes(data)


def _not_a_datetime(text: str) -> bool:
    try:
        serializers.DateTimeField().run_validation(text)
    except serializers.ValidationError:
        return True
    return False


big = st.integers(min_value=MAX_PIXELS // 10, max_value=65_535)


def bad_images_for(accepted: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    """Malformed images, and real images of a type the endpoint does not take."""
    wrong_types = [data for fmt, data in OTHER_FORMATS.items() if fmt not in accepted]
    return st.one_of(
        st.sampled_from(wrong_types),
        st.sampled_from([b"%PDF-1.7\n", b"PK\x03\x04", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"{}", b"\x00"]),
        broken_images,
    )


broken_images = st.one_of(
    st.sampled_from([JPEG, PNG]).flatmap(lambda b: st.integers(0, len(b) - 16).map(lambda n: b[:n])),  # truncated
    st.tuples(st.integers(0, 50), st.integers(0, 255)).map(lambda t: _bad_crc_png(*t)),  # corrupt
    st.tuples(st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b""]), st.binary(max_size=300)).map(
        lambda t: t[0] + t[1]
    ),  # garbage behind a magic number
    st.tuples(big, big).filter(lambda wh: wh[0] * wh[1] > MAX_PIXELS).map(lambda wh: _huge_png(*wh)),
    st.tuples(big, big).filter(lambda wh: wh[0] * wh[1] > MAX_PIXELS).map(lambda wh: _huge_jpeg(*wh)),
    st.integers(MAX_UPLOAD + 1, MAX_UPLOAD + 3000).map(lambda n: JPEG + b"\0" * (n - len(JPEG))),  # oversized
)
bad_images = bad_images_for(CAMERA_FORMATS)
odd_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["../../etc/passwd", "a\x00b.jpg", "\u202egpj.exe", "ｆｕｌｌ.jpg", "x" * 5000, "😀.png"]),
)


@pytest.fixture
def sandbox(settings, tmp_path, camera_with_token) -> Iterator[dict[str, Any]]:
    """Lowered limits, a private temp folder (uploads spill there above 1 KiB) and the camera's token."""
    settings.MAX_UPLOAD_BYTES = MAX_UPLOAD
    settings.MAX_IMAGE_PIXELS = settings.MAX_FRAME_PIXELS = MAX_PIXELS
    settings.CAMERA_MAX_FRAMES_PER_SECOND = 100_000  # hundreds of inputs from one camera in seconds
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD + 4096
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    temp = tmp_path / "temp"
    temp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    saved, tempfile.tempdir = tempfile.tempdir, str(temp)
    camera, token = camera_with_token
    audit_before = AuditEntry.objects.count()
    yield {"token": token, "camera": camera, "temp": temp, "media": Path(settings.MEDIA_ROOT), "audit": audit_before}
    tempfile.tempdir = saved


def _files_under(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def assert_refused_and_nothing_left(response: Any, box: dict[str, Any], kind: str) -> None:
    TRIED.append(kind)
    accepted = frames_queued()
    frame_queue._store = None  # so that one wrongly accepted input cannot fail the examples after it
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300], accepted)
    assert not accepted and AuditEntry.objects.count() == box["audit"]
    assert _files_under(box["media"]) == []
    assert _files_under(box["temp"]) == []


@hsettings(PROFILE, max_examples=220)
@given(image=bad_images, name=odd_text, captured_at=st.one_of(st.none(), odd_text))
def test_malformed_frame_uploads_are_refused_and_leave_nothing(sandbox, image, name, captured_at):
    # Built by hand: the test client would refuse some of these file names before sending them.
    parts = [
        b'Content-Disposition: form-data; name="image"; filename="' + name.encode("utf-8", "replace") + b'"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + image
    ]
    if captured_at is not None:
        parts.append(
            b'Content-Disposition: form-data; name="captured_at"\r\n\r\n' + captured_at.encode("utf-8", "replace")
        )
    body = b"".join(b"--" + BOUNDARY + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + BOUNDARY + b"--\r\n"
    response = Client().generic(
        "POST",
        FRAMES,
        body,
        content_type="multipart/form-data; boundary=" + BOUNDARY.decode(),
        HTTP_AUTHORIZATION=f"Camera {sandbox['token']}",
    )
    assert_refused_and_nothing_left(response, sandbox, "frame-image")


@hsettings(PROFILE, max_examples=60)
@given(
    captured_at=st.one_of(
        odd_text.filter(lambda t: t.strip() != "" and _not_a_datetime(t)),
        st.sampled_from(["2999-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "0000-00-00", "1e400", "NaN"]),
    ),
    extra=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=100), max_size=3),
)
def test_a_good_image_with_a_bad_field_is_refused(sandbox, captured_at, extra):
    data: dict[str, Any] = {**extra, "image": SimpleUploadedFile("f.jpg", JPEG), "captured_at": captured_at}
    response = Client().post(FRAMES, data, HTTP_AUTHORIZATION=f"Camera {sandbox['token']}")
    assert_refused_and_nothing_left(response, sandbox, "frame-field")


content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "text/plain; charset=utf-16",
            "application/x-www-form-urlencoded",
            "multipart/form-data",  # no boundary
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=x; charset=ebcdic",
            "image/jpeg",
        ]
    ),
    st.text(max_size=40).map(lambda t: "multipart/form-data; boundary=" + t),
)


@hsettings(PROFILE, max_examples=90)
@given(body=st.one_of(st.binary(max_size=2000), st.sampled_from([JPEG, PNG])), content_type=content_types)
def test_raw_bodies_with_odd_content_types_are_refused(sandbox, body, content_type):
    try:
        content_type.encode("latin-1")
    except UnicodeEncodeError:
        content_type = content_type.encode("utf-8").decode("latin-1")  # what a client puts on the wire
    response = Client().generic(
        "POST", FRAMES, body, content_type=content_type, HTTP_AUTHORIZATION=f"Camera {sandbox['token']}"
    )
    assert_refused_and_nothing_left(response, sandbox, "frame-body")


@hsettings(PROFILE, max_examples=60)
@given(
    authorization=st.one_of(st.none(), st.text(max_size=80), st.text(max_size=60).map(lambda t: "Camera " + t)),
    signature=st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {
                signing.TIMESTAMP_HEADER: st.one_of(st.text(max_size=20), st.integers().map(str)),
                signing.NONCE_HEADER: st.text(max_size=140),
                signing.SIGNATURE_HEADER: st.text(max_size=80),
            }
        ),
    ),
)
def test_wrong_credentials_and_forged_signatures_are_refused(sandbox, authorization, signature):
    headers: dict[str, Any] = {}
    if signature is not None:
        authorization = f"Camera {sandbox['token']}"  # a real token: only the signature is forged
        headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signature.items()}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    headers = {k: v.encode("utf-8", "replace").decode("latin-1") for k, v in headers.items()}
    response = Client().post(FRAMES, {"image": SimpleUploadedFile("f.jpg", JPEG)}, **headers)
    assert_refused_and_nothing_left(response, sandbox, "frame-credentials")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
review_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "action": st.one_of(st.sampled_from(["confirm", "dismiss", "escalate", "start_review"]), json_values),
            "reason": st.one_of(st.sampled_from(["not_this_person", "other"]), json_values),
            "note": st.one_of(st.text(min_size=2001, max_size=2100), json_values),
            "version": st.one_of(st.integers().filter(lambda v: v != 1), json_values),
        },
    ),
    json_values,
)


@pytest.fixture
def an_alert(sandbox, cast) -> Alert:
    return make_alert(sandbox["camera"], make_subject(), with_images=False)


@pytest.fixture
def signed_in(cast) -> dict[str, Client]:
    clients = {}
    for name in ("alice", "paula", "carol"):
        clients[name] = Client()
        clients[name].force_login(cast[name])
    return clients


@hsettings(PROFILE, max_examples=80)
@given(body=review_bodies)
def test_malformed_review_bodies_change_no_alert(an_alert, signed_in, sandbox, body):
    response = signed_in["alice"].post(
        f"/api/v1/alerts/{an_alert.pk}/review", json.dumps(body), content_type="application/json"
    )
    TRIED.append("review-body")
    assert 400 <= response.status_code < 500, (body, response.content[:300])
    alert = Alert.objects.get(pk=an_alert.pk)
    assert (alert.status, alert.version, alert.reviewed_by_id) == (Alert.Status.NEW, 1, None)


@hsettings(PROFILE, max_examples=50)
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=100).map(lambda t: t.encode("utf-16")),
        st.just(b'{"action": "confirm", "version": 1'),
        st.just(b'\xef\xbb\xbf{"action": "confirm", "version": 1.5}'),
    ),
    content_type=st.sampled_from(
        ["application/json", "application/json; charset=latin-1", "text/plain", "application/xml"]
    ),
)
def test_undecodable_api_bodies_are_refused(an_alert, signed_in, sandbox, raw, content_type):
    opened = signed_in["paula"].generic("POST", "/api/v1/cases/", raw, content_type=content_type)
    reviewed = signed_in["alice"].generic(
        "POST", f"/api/v1/alerts/{an_alert.pk}/review", raw, content_type=content_type
    )
    TRIED.extend(["case-body", "review-body"])
    for response in (opened, reviewed):
        assert 400 <= response.status_code < 500, (raw, response.status_code, response.content[:300])
    assert not Case.objects.exists()
    assert Alert.objects.get(pk=an_alert.pk).version == 1


@hsettings(PROFILE, max_examples=40)
@given(body=st.fixed_dictionaries({}, optional={"alert": json_values, "version": json_values, "note": json_values}))
def test_malformed_case_bodies_open_no_case(an_alert, signed_in, sandbox, body):
    response = signed_in["paula"].post("/api/v1/cases/", json.dumps(body), content_type="application/json")
    TRIED.append("case-body")
    assert 400 <= response.status_code < 500, (body, response.content[:300])
    assert not Case.objects.exists()


@hsettings(PROFILE, max_examples=100)
@given(image=bad_images_for(PHOTO_FORMATS), name=odd_text)
def test_malformed_reference_photos_are_refused_and_leave_nothing(sandbox, signed_in, image, name):
    subject = make_subject()
    upload = io.BytesIO(image)
    upload.name = name or "photo.jpg"
    response = signed_in["carol"].post(f"/api/v1/subjects/{subject.pk}/photos/", {"image": upload})
    TRIED.append("reference-photo")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    # This subject's: a job thread of an earlier test (a bulk import) may still be writing its own photos.
    assert not ReferencePhoto.objects.filter(subject=subject).exists()
    assert _files_under(sandbox["media"]) == [] and _files_under(sandbox["temp"]) == []


def test_the_service_still_takes_a_good_frame_after_all_that(sandbox, monkeypatch):
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    response = Client().post(
        FRAMES, {"image": SimpleUploadedFile("f.jpg", JPEG)}, HTTP_AUTHORIZATION=f"Camera {sandbox['token']}"
    )
    assert response.status_code == 202 and frames_queued() == 1
    print(f"\nhostile inputs tried: {len(TRIED)} ({', '.join(f'{k}={TRIED.count(k)}' for k in sorted(set(TRIED)))})")
    every_kind = {
        "frame-image",
        "frame-field",
        "frame-body",
        "frame-credentials",
        "review-body",
        "case-body",
        "reference-photo",
    }
    if set(TRIED) == every_kind:  # the whole file ran (not a -k selection)
        assert len(TRIED) >= 500
