"""Masked templates (issue 11, deliverable 5) through the real enrollment job and gallery, on
real deepface-unit photos: img1 and img2 show the same person, img20 someone else."""

import numpy as np
import pytest

from enrollment import gallery
from enrollment.models import FaceTemplate, ReferencePhoto
from organizations.actions import get_or_create_branch
from recognition import covering, masking
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image
from tests.conftest import photo
from tests.test_gallery import enroll


def _masked_probe(name: str) -> tuple[np.ndarray, covering.Covering]:
    """The face of a photo as a camera would see it behind a mask: drawn on, then detected again."""
    engine = get_engine()
    image = decode_image(photo(name), max_side=1280, formats=PHOTO_FORMATS)
    masked = masking.draw_synthetic_mask(image, engine.analyze(image)[0])
    face = covering.covering_faces(engine, masked)[0]
    return face.embedding, covering.classify(masked, face)


@pytest.fixture
def branch(db):
    return get_or_create_branch("Saigon Bank", "District 1")


@pytest.fixture
def enrolled(dataset, branch, django_capture_on_commit_callbacks):
    from enrollment import actions

    person = actions.create_subject(actions.create_watchlist("Robbers"), "Person One", legal_basis="Warrant 1/2026")
    assert enroll(person, "img1.jpg", django_capture_on_commit_callbacks).status == ReferencePhoto.Status.ACCEPTED
    return person


def test_an_accepted_photo_gets_a_plain_and_a_masked_template(enrolled):
    plain, masked = (
        np.frombuffer(bytes(t.embedding), dtype=np.float32)
        for t in FaceTemplate.objects.filter(subject=enrolled).order_by("masked")
    )
    assert list(FaceTemplate.objects.filter(subject=enrolled).values_list("masked", flat=True).order_by("masked")) == [
        False,
        True,
    ]
    assert abs(float(np.linalg.norm(masked)) - 1.0) < 1e-3
    assert 0.2 < float(plain @ masked) < 0.99  # the same face, much changed by the mask


def test_a_masked_probe_is_searched_with_the_masked_templates_at_the_stricter_threshold(enrolled, branch, settings):
    probe, result = _masked_probe("img2.jpg")
    assert "mask" in result.labels
    [matches] = gallery.search(probe[None, :], branch_id=branch.pk, covered=[True])
    assert [m.subject_id for m in matches] == [enrolled.pk]
    assert matches[0].covered_probe is True
    assert matches[0].threshold == pytest.approx(
        enrolled.watchlist.effective_threshold + settings.COVERED_THRESHOLD_MARGIN
    )


def test_a_masked_probe_of_someone_else_finds_no_one(enrolled, branch):
    probe, _ = _masked_probe("img20.jpg")
    assert gallery.search(probe[None, :], branch_id=branch.pk, covered=[True]) == [[]]


def test_an_uncovered_probe_never_meets_the_masked_templates(enrolled, branch):
    masked = FaceTemplate.objects.get(subject=enrolled, masked=True)
    as_probe = np.frombuffer(bytes(masked.embedding), dtype=np.float32)[None, :]
    plain = np.frombuffer(bytes(FaceTemplate.objects.get(subject=enrolled, masked=False).embedding), dtype=np.float32)
    [uncovered] = gallery.search(as_probe, branch_id=branch.pk)
    [covered] = gallery.search(as_probe, branch_id=branch.pk, covered=[True])
    assert covered and covered[0].score == pytest.approx(1.0, abs=1e-4)
    assert all(m.score == pytest.approx(float(as_probe[0] @ plain), abs=1e-4) for m in uncovered)
    assert all(not m.covered_probe for m in uncovered)


def test_with_masked_templates_off_a_photo_gets_only_its_plain_template(
    dataset,
    branch,
    django_capture_on_commit_callbacks,
    settings,
):
    from enrollment import actions

    settings.MASKED_TEMPLATES = False
    person = actions.create_subject(actions.create_watchlist("Robbers"), "Person Two", legal_basis="Warrant 2/2026")
    assert enroll(person, "img1.jpg", django_capture_on_commit_callbacks).status == ReferencePhoto.Status.ACCEPTED
    assert list(FaceTemplate.objects.filter(subject=person).values_list("masked", flat=True)) == [False]
