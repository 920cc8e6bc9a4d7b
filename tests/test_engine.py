"""Pairs are labelled in master.csv. DeepFace's SFace + YuNet on real photos, both as shipped and through DeepFace's own model classes: no stubs here."""

import numpy as np
import pytest
from django.conf import settings

from recognition.engine import Engine, get_engine, similarity
from recognition.images import PHOTO_FORMATS, decode_image
from tests.conftest import photo

RUNTIMES = ["default", "deepface"]


def _engine(runtime: str) -> Engine:
    """The shipped engine, or one running DeepFace's own SFace and YuNet model classes."""
    if runtime == "default":
        return get_engine()
    from recognition.engine import _engine as build

    return build(
        "SFace",
        "yunet",
        settings.RECOGNITION_MIN_DETECTOR_CONFIDENCE,
        settings.RECOGNITION_DETECT_MAX_SIDE,
        1,
        "deepface",
    )


def _embedding(name: str, runtime: str = "default") -> np.ndarray:
    faces = _engine(runtime).analyze(decode_image(photo(name), max_side=1280, formats=PHOTO_FORMATS))
    assert faces, f"no face found in {name}"
    return faces[0].embedding


def test_each_face_has_a_box_landmarks_confidence_and_unit_embedding(dataset):
    face = get_engine().analyze(decode_image(photo("img1.jpg"), max_side=1280))[0]
    x, y, w, h = face.box
    assert w > 40 and h > 40 and x >= 0 and y >= 0
    assert len(face.landmarks) == 5
    assert 0.6 <= face.confidence <= 1.0
    assert face.embedding.shape == (128,)
    assert abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-4
    assert face.crop.shape == (112, 112, 3)


@pytest.mark.parametrize(
    ("left", "right"),
    [("img1.jpg", "img2.jpg"), ("img1.jpg", "img4.jpg"), ("img16.jpg", "img17.jpg"), ("img20.jpg", "img21.jpg")],
)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_photos_of_the_same_person_match(dataset, left, right, runtime):
    assert similarity(_embedding(left, runtime), _embedding(right, runtime)) >= settings.RECOGNITION_THRESHOLD


@pytest.mark.parametrize(
    ("left", "right"), [("img20.jpg", "img1.jpg"), ("img16.jpg", "img1.jpg"), ("img20.jpg", "img17.jpg")]
)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_photos_of_different_people_do_not_match(dataset, left, right, runtime):
    assert similarity(_embedding(left, runtime), _embedding(right, runtime)) < settings.RECOGNITION_THRESHOLD


@pytest.mark.parametrize("name", ["img1.jpg", "img20.jpg", "couple.jpg", "selfie-many-people.jpg"])
def test_the_shipped_runtime_gives_deepfaces_own_detections_and_embeddings(dataset, name):
    pixels = decode_image(photo(name), max_side=1280, formats=PHOTO_FORMATS)
    ours, theirs = get_engine().analyze(pixels), _engine("deepface").analyze(pixels)
    assert len(ours) == len(theirs) > 0
    for mine, reference in zip(ours, theirs, strict=True):
        assert np.abs(np.subtract(mine.box, reference.box)).max() <= 2
        assert similarity(mine.embedding, reference.embedding) > 0.999


def test_it_finds_every_face_in_a_group_photo(dataset):
    assert len(get_engine().analyze(decode_image(photo("couple.jpg"), max_side=1280))) == 2
    assert len(get_engine().analyze(decode_image(photo("selfie-many-people.jpg"), max_side=1280))) >= 4


def test_an_image_without_a_face_gives_no_faces():
    blank = np.full((360, 640, 3), 127, dtype=np.uint8)
    assert get_engine().analyze(blank) == []


def test_the_engine_is_loaded_once_per_process():
    assert get_engine() is get_engine()
