"""Reasons in the reader's language: a refusal is stored as a code with parameters and worded through
gettext when shown, in Vietnamese or English, never as raw byte counts or Python exception text."""

import io
import zipfile
from dataclasses import replace

import cv2
import numpy as np
import pytest
from django.utils import translation
from rest_framework.test import APIClient

from enrollment import actions, importer
from enrollment.models import ReferencePhoto, Subject
from enrollment.quality import check
from enrollment.reasons import MESSAGES, render
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, InvalidImageError, decode_image, encode_jpeg
from tests.conftest import photo


@pytest.fixture
def subject(db) -> Subject:
    return actions.create_subject(actions.create_watchlist("Cướp ngân hàng"), "Nguyen Van A")


def _enroll(subject: Subject, data: bytes) -> ReferencePhoto:
    return actions.enroll_photo(actions.add_photo(subject, data, "photo.jpg").pk)


def _altered(name: str, change) -> bytes:
    return encode_jpeg(change(decode_image(photo(name), max_side=1280, formats=PHOTO_FORMATS)))


def test_a_rejected_photo_stores_a_code_and_reads_in_vietnamese_and_english(dataset, subject):
    rejected = _enroll(subject, photo("couple.jpg"))
    assert (rejected.rejection_code, rejected.rejection_params) == ("photo.several_faces", {"count": 2})
    assert rejected.rejection_reason.startswith("Several faces of similar size (2)")  # English, for search
    with translation.override("vi"):
        assert rejected.reason() == (
            "Có nhiều khuôn mặt cỡ tương đương (2): hãy dùng ảnh chỉ có người này, hoặc cắt ảnh."
        )
    with translation.override("en"):
        assert rejected.reason() == rejected.rejection_reason


def test_each_quality_reason_of_real_photos_reads_in_vietnamese(dataset, subject):
    image = decode_image(photo("img1.jpg"), max_side=1280, formats=PHOTO_FORMATS)
    real = get_engine().analyze(image)[0]
    (lx, ly), (rx, ry), _, *mouth = real.landmarks
    verdicts = {
        "no face": _enroll(subject, encode_jpeg(np.full((300, 300, 3), 120, np.uint8))),
        "small": _enroll(subject, _altered("img1.jpg", lambda p: cv2.resize(p, (110, 110 * p.shape[0] // p.shape[1])))),
        "blurred": _enroll(
            subject, _altered("img1.jpg", lambda p: cv2.GaussianBlur(p, (0, 0), 0.01 * max(p.shape[:2])))
        ),
    }
    unsure = check(image, [replace(real, confidence=0.7)])
    turned = check(image, [replace(real, landmarks=[(lx, ly), (rx, ry), (rx, (ly + ry) / 2 + 40), *mouth])])
    with translation.override("vi"):
        assert verdicts["no face"].reason() == "Không tìm thấy khuôn mặt nào trong ảnh."
        assert verdicts["small"].reason().startswith("Khuôn mặt quá nhỏ: rộng ")
        assert "cần ít nhất 60 px" in verdicts["small"].reason()
        assert verdicts["blurred"].reason().startswith("Khuôn mặt quá mờ (độ nét ")
        assert unsure.reason == (
            "Bộ phát hiện không chắc đây là một khuôn mặt rõ (0,7, cần ít nhất 0,8): hãy dùng ảnh rõ hơn, đủ sáng."
        )
        assert turned.reason.startswith("Khuôn mặt quay sang bên quá nhiều (khoảng ")
    assert {v.rejection_code for v in verdicts.values()} == {"photo.no_face", "photo.face_too_small", "photo.blurred"}


def test_a_photo_of_someone_else_reads_in_vietnamese_with_the_decimal_comma(dataset, subject):
    assert _enroll(subject, photo("img1.jpg")).status == "accepted"
    other = _enroll(subject, photo("img20.jpg"))
    assert other.rejection_code == "photo.not_this_subject"
    with translation.override("vi"):
        assert other.reason().startswith("Không giống các ảnh đã chấp nhận khác của đối tượng này (độ tương đồng 0,")


def test_an_oversized_upload_reads_in_megabytes_in_the_readers_language(settings):
    settings.MAX_UPLOAD_BYTES = 8 * 1024 * 1024
    with pytest.raises(InvalidImageError) as refused:
        decode_image(b"x" * int(23.7 * 1024 * 1024), formats=PHOTO_FORMATS)
    with translation.override("vi"):
        assert render(refused.value.code, refused.value.params) == "Ảnh 23,7 MB; tối đa 8 MB."
    with translation.override("en"):
        assert render(refused.value.code, refused.value.params) == "Photo 23.7 MB; at most 8 MB."


def test_the_api_words_an_upload_error_in_the_callers_language(cast, subject):
    carol = cast["carol"]
    carol.language = "vi"
    carol.save(update_fields=["language"])
    client = APIClient()
    client.force_login(carol)
    upload = io.BytesIO(b"%PDF-1.4 not a photo")
    upload.name = "scan.pdf"
    response = client.post(f"/api/v1/subjects/{subject.pk}/photos/", {"image": upload}, format="multipart")
    assert response.status_code == 415
    assert response.json() == {"error": "Không đọc được ảnh: hãy gửi JPEG, PNG, WEBP.", "code": "image.unreadable"}


def test_an_imports_report_and_progress_text_read_in_vietnamese(subject, monkeypatch):
    from bankwatch import jobs

    monkeypatch.setattr(jobs, "enqueue", jobs.run)
    job = actions.start_import(
        subject.watchlist, "full_name,watchlist\nLe Thi C,Danh sách không tồn tại\n".encode(), _empty_zip()
    )
    job.refresh_from_db()
    with translation.override("vi"):
        progress = importer.progress(job)
    assert [p["reason"] for p in progress["problems"]] == [
        "Không có danh sách theo dõi nào tên “Danh sách không tồn tại”: hãy kiểm tra chính tả, "
        "hoặc đánh dấu “Tạo các danh sách theo dõi còn thiếu”."
    ]
    assert progress["summary"].endswith(
        "0 trên 1 dòng là đối tượng có thể nhận diện; đã kiểm tra 0 trên 0 ảnh, 0 ảnh được chấp nhận."
    )


def test_every_reason_has_a_vietnamese_sentence():
    with translation.override("en"):
        english = {code: str(message) for code, message in MESSAGES.items()}
    with translation.override("vi"):
        untranslated = [code for code, message in MESSAGES.items() if str(message) == english[code]]
    assert untranslated == ["import.invalid"]  # "%(name)s: %(why)s" reads the same in both


def _empty_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w"):
        pass
    return archive.getvalue()
