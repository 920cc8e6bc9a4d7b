"""The enrollment job's quality gate on real photos (deepface-unit), through actions.enroll_photo."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from audit.models import AuditEntry
from enrollment import actions
from enrollment.models import FaceTemplate, ReferencePhoto, Subject
from enrollment.quality import check, estimate_yaw
from recognition.engine import Face, get_engine
from recognition.images import PHOTO_FORMATS, InvalidImageError, decode_image, encode_jpeg
from recognition.model_id import model_id as current_model_id
from tests.conftest import DATASET, photo


@pytest.fixture
def subject(db) -> Subject:
    return actions.create_subject(actions.create_watchlist("Robbers"), "Person One")


def enroll_bytes(subject: Subject, data: bytes, name: str = "photo.jpg") -> ReferencePhoto:
    photo_row = actions.add_photo(subject, data, name)
    assert photo_row.status == ReferencePhoto.Status.PENDING
    return actions.enroll_photo(photo_row.pk)


def altered(name: str, change) -> bytes:
    pixels = decode_image(photo(name), max_side=1280, formats=PHOTO_FORMATS)
    return encode_jpeg(change(pixels))


def test_a_clear_portrait_is_accepted_with_its_crop_and_template(dataset, subject):
    enrolled = enroll_bytes(subject, photo("img1.jpg"), "img1.jpg")
    assert enrolled.status == ReferencePhoto.Status.ACCEPTED and enrolled.rejection_reason == ""
    assert enrolled.processed_at is not None and enrolled.quality["faces"] == 1
    crop = decode_image(enrolled.face_crop.read(), formats=PHOTO_FORMATS)
    assert crop.shape == (112, 112, 3)
    template = FaceTemplate.objects.get(photo=enrolled, masked=False)
    assert FaceTemplate.objects.filter(photo=enrolled, masked=True).count() == 1  # for masked probes
    assert template.model_id == current_model_id() and template.subject_id == subject.pk
    assert abs(float(np.linalg.norm(np.frombuffer(template.embedding, np.float32))) - 1) < 1e-4
    assert AuditEntry.objects.filter(action="photo.accepted", object_id=str(enrolled.pk)).exists()


@pytest.mark.parametrize("name", ["couple.jpg", "selfie-many-people.jpg"])
def test_a_photo_with_several_faces_of_similar_size_is_rejected(dataset, subject, name):
    enrolled = enroll_bytes(subject, photo(name), name)
    assert enrolled.status == ReferencePhoto.Status.REJECTED
    assert enrolled.rejection_reason.startswith("Several faces of similar size")
    assert not FaceTemplate.objects.filter(photo=enrolled).exists()
    entry = AuditEntry.objects.get(action="photo.rejected", object_id=str(enrolled.pk))
    assert entry.detail["reason"] == enrolled.rejection_reason


def test_a_tiny_copy_is_rejected_as_too_small(dataset, subject):
    # img1's face is about 45 % of the photo's width: at 110 px wide it is about 50 px across.
    tiny = altered("img1.jpg", lambda p: cv2.resize(p, (110, round(110 * p.shape[0] / p.shape[1]))))
    enrolled = enroll_bytes(subject, tiny)
    assert enrolled.status == ReferencePhoto.Status.REJECTED
    assert enrolled.rejection_reason.startswith("Face too small")


def test_a_heavily_blurred_copy_is_rejected_as_blurred(dataset, subject):
    blurred = altered("img1.jpg", lambda p: cv2.GaussianBlur(p, (0, 0), 0.01 * max(p.shape[:2])))
    enrolled = enroll_bytes(subject, blurred)
    assert enrolled.status == ReferencePhoto.Status.REJECTED
    assert enrolled.rejection_reason.startswith("Face too blurred")
    assert not enrolled.face_crop, "a rejected photo keeps no face crop"


def test_a_photo_of_someone_else_than_the_subjects_other_photos_is_rejected(dataset, subject):
    assert enroll_bytes(subject, photo("img1.jpg")).status == "accepted"
    same = enroll_bytes(subject, photo("img2.jpg"))
    assert same.status == "accepted" and same.quality["similarity_to_subject"] >= 0.363
    other = enroll_bytes(subject, photo("img20.jpg"))
    assert other.status == "rejected"
    assert other.rejection_reason.startswith("Does not look like this subject's other accepted photos")
    assert FaceTemplate.objects.filter(subject=subject, masked=False).count() == 2


def test_a_photo_without_a_face_is_rejected(db, subject):
    enrolled = enroll_bytes(subject, encode_jpeg(np.full((300, 300, 3), 120, np.uint8)))
    assert (enrolled.status, enrolled.rejection_reason) == ("rejected", "No face found in the photo.")


def test_bytes_that_are_not_an_image_are_refused_before_anything_is_stored(db, subject):
    with pytest.raises(InvalidImageError):
        actions.add_photo(subject, b"%PDF-1.4 not a photo", "scan.pdf")
    assert not ReferencePhoto.objects.exists()


def test_yaw_is_read_from_the_nose_between_the_eyes():
    frontal = [(40.0, 50.0), (80.0, 50.0), (60.0, 70.0)]
    turned = [(40.0, 50.0), (80.0, 50.0), (80.0, 70.0)]  # nose under the right eye: about 45 degrees
    tilted = [(40.0, 50.0), (70.0, 80.0), (50.0, 75.0)]  # rolled 45 degrees, nose still centred
    assert estimate_yaw(frontal) == pytest.approx(0.0)
    assert estimate_yaw(turned) == pytest.approx(45.0)
    assert (estimate_yaw(tilted) or 0.0) < 10


@pytest.fixture(scope="module")
def portrait() -> tuple[np.ndarray, Face]:
    if not DATASET.exists():
        pytest.skip(f"the shared photo set is not at {DATASET}")
    image = decode_image(photo("img1.jpg"), max_side=1280, formats=PHOTO_FORMATS)
    return image, get_engine().analyze(image)[0]


def test_each_rule_of_the_gate_gives_its_own_reason(dataset, portrait):
    image, real = portrait
    assert check(image, [real]).accepted
    unsure = replace(real, confidence=0.7)
    assert check(image, [unsure]).reason.startswith("The detector is not confident")
    (lx, ly), (rx, ry), _, *mouth = real.landmarks
    turned = replace(real, landmarks=[(lx, ly), (rx, ry), (rx, (ly + ry) / 2 + 40), *mouth])  # nose under an eye
    verdict = check(image, [turned])
    assert verdict.reason.startswith("Face turned too far") and verdict.measures["yaw_degrees"] > 40
    small_second = replace(real, box=(0, 0, real.box[2] // 3, real.box[3] // 3))
    assert check(image, [real, small_second]).accepted, "a face far behind the subject does not count"
