"""The gallery, on real photos (deepface-unit, pairs from master.csv) through the real enrollment job.

img1 and img2 show the same person; img20 someone else.
"""

from datetime import timedelta
from functools import cache

import numpy as np
import pytest
from django.utils import timezone

from enrollment import actions, gallery
from enrollment.models import FaceTemplate, GalleryVersion, ReferencePhoto, Subject
from organizations.actions import get_or_create_branch
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image
from recognition.model_id import model_id
from tests.conftest import photo


@cache
def embedding(name: str) -> np.ndarray:
    faces = get_engine().analyze(decode_image(photo(name), max_side=1280, formats=PHOTO_FORMATS))
    return faces[0].embedding


def enroll(subject: Subject, name: str, capture) -> ReferencePhoto:
    with capture() as callbacks:
        uploaded = actions.add_photo(subject, photo(name), name)
    assert len(callbacks) == 1, "the enrollment job is queued once the upload commits"
    return actions.enroll_photo(uploaded.pk)


@pytest.fixture
def branch(db):
    return get_or_create_branch("Saigon Bank", "District 1")


@pytest.fixture
def subject(dataset, branch, django_capture_on_commit_callbacks) -> Subject:
    watchlist = actions.create_watchlist("Robbers")
    person = actions.create_subject(watchlist, "Person One", legal_basis="Warrant 1/2026")
    assert enroll(person, "img1.jpg", django_capture_on_commit_callbacks).status == ReferencePhoto.Status.ACCEPTED
    return person


def test_another_photo_of_the_same_person_finds_the_subject(subject, branch):
    [matches] = gallery.search(embedding("img2.jpg")[None, :], branch_id=branch.pk)
    assert [m.subject_id for m in matches] == [subject.pk]
    assert matches[0].watchlist_id == subject.watchlist_id
    assert matches[0].score >= matches[0].threshold == subject.watchlist.effective_threshold


def test_a_photo_of_someone_else_finds_no_one(subject, branch):
    assert gallery.search(embedding("img20.jpg")[None, :], branch_id=branch.pk) == [[]]


def test_it_answers_each_probe_of_a_batch(subject, branch):
    probes = np.stack([embedding("img20.jpg"), embedding("img2.jpg")])
    results = gallery.search(probes, branch_id=branch.pk)
    assert [[m.subject_id for m in r] for r in results] == [[], [subject.pk]]


def test_a_removed_subject_is_not_found_by_the_very_next_search(subject, branch):
    probe = embedding("img2.jpg")[None, :]
    assert gallery.search(probe, branch_id=branch.pk)[0]
    actions.remove_subject(subject, reason="arrested")
    assert gallery.search(probe, branch_id=branch.pk) == [[]]
    assert Subject.objects.get(pk=subject.pk).status == Subject.Status.REMOVED


def test_an_expired_subject_is_not_found_by_the_very_next_search(subject, branch, monkeypatch):
    probe = embedding("img2.jpg")[None, :]
    subject.expires_at = timezone.now() + timedelta(hours=1)
    subject.save()
    assert gallery.search(probe, branch_id=branch.pk)[0]
    # An hour later nothing has been written, yet the subject has expired.
    later = timezone.now() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert gallery.search(probe, branch_id=branch.pk) == [[]]
    assert actions.expire_due_subjects() == 1
    assert Subject.objects.get(pk=subject.pk).status == Subject.Status.EXPIRED


def test_a_new_subject_is_found_by_the_very_next_search(subject, branch, django_capture_on_commit_callbacks):
    probe = embedding("img20.jpg")[None, :]
    assert gallery.search(probe, branch_id=branch.pk) == [[]]
    other = actions.create_subject(subject.watchlist, "Person Two")
    enroll(other, "img21.jpg", django_capture_on_commit_callbacks)
    assert [m.subject_id for m in gallery.search(probe, branch_id=branch.pk)[0]] == [other.pk]


def test_a_stricter_watchlist_threshold_applies_to_the_very_next_search(subject, branch):
    probe = embedding("img2.jpg")[None, :]
    [[match]] = gallery.search(probe, branch_id=branch.pk)
    subject.watchlist.threshold = match.score + 0.01
    subject.watchlist.save()
    assert gallery.search(probe, branch_id=branch.pk) == [[]]


def test_a_watchlist_for_another_bank_does_not_apply_here(subject, branch):
    elsewhere = get_or_create_branch("Mekong Bank", "Can Tho")
    subject.watchlist.banks.add(elsewhere.bank)
    probe = embedding("img2.jpg")[None, :]
    assert gallery.search(probe, branch_id=branch.pk) == [[]]
    assert gallery.search(probe, branch_id=elsewhere.pk)[0][0].subject_id == subject.pk
    subject.watchlist.branches.add(branch)
    assert gallery.search(probe, branch_id=branch.pk)[0][0].subject_id == subject.pk


def test_a_counter_example_closer_than_the_subject_suppresses_the_match(subject, branch):
    probe = embedding("img2.jpg")
    assert gallery.search(probe[None, :], branch_id=branch.pk)[0]
    counter = actions.add_counter_example(subject, probe, created_by=None, source_alert_id=None)
    # img2 is the subject's own face: held as a likely true match until a curator applies it.
    assert counter.status == "held" and gallery.search(probe[None, :], branch_id=branch.pk)[0]
    actions.approve_counter_example(counter, everywhere=True, actor=None)
    assert gallery.search(probe[None, :], branch_id=branch.pk) == [[]]
    # Another photo of the subject is still closer to the subject than to that counter-example.
    assert gallery.search(embedding("img1.jpg")[None, :], branch_id=branch.pk)[0][0].subject_id == subject.pk


def test_templates_of_another_model_are_not_searched(subject, branch, settings):
    settings.RECOGNITION_MODEL = "Dlib"
    assert gallery.search(embedding("img2.jpg")[None, :], branch_id=branch.pk) == [[]]


def test_the_approximate_index_finds_the_same_best_match_as_exact_search(subject, branch, settings):
    """Real embeddings of 12 people among 3000 random distractor templates; probes: other photos."""
    people = ["img1.jpg", "img16.jpg", "img20.jpg", "img3.jpg", "img12.jpg", "img14.jpg", "img22.jpg",
              "img23.jpg", "img25.jpg", "img30.jpg", "img33.jpg", "img40.jpg"]  # fmt: skip
    probes = ["img2.jpg", "img4.jpg", "img17.jpg", "img21.jpg", "img10.jpg", "img5.jpg"]
    watchlist = subject.watchlist
    rng = np.random.default_rng(7)
    distractors = rng.standard_normal((3000, 128)).astype(np.float32)
    distractors /= np.linalg.norm(distractors, axis=1, keepdims=True)
    vectors = [embedding(p) for p in people] + list(distractors)
    subjects = Subject.objects.bulk_create(Subject(watchlist=watchlist, full_name=f"S{i}") for i in range(len(vectors)))
    photos = ReferencePhoto.objects.bulk_create(
        ReferencePhoto(subject=s, image="x.jpg", status="accepted") for s in subjects
    )
    FaceTemplate.objects.bulk_create(
        FaceTemplate(photo=p, subject=s, model_id=model_id(), embedding=v.tobytes())
        for p, s, v in zip(photos, subjects, vectors, strict=True)
    )
    GalleryVersion.bump()  # bulk_create sends no signals
    queries = np.stack([embedding(p) for p in probes])

    settings.GALLERY_INDEX = "exact"
    exact = gallery.search(queries, branch_id=branch.pk)
    settings.GALLERY_INDEX = "usearch"
    assert gallery.wait_for_index(120)
    assert gallery.uses_index(gallery.snapshot())
    approximate = gallery.search(queries, branch_id=branch.pk)
    settings.GALLERY_INDEX = "sketch"
    assert gallery.uses_index(gallery.snapshot())
    sketched = gallery.search(queries, branch_id=branch.pk)

    assert sum(1 for r in exact if r) >= 4, "most probes are of enrolled people"

    def best(results):
        return [(r[0].subject_id, round(r[0].score, 4)) if r else None for r in results]

    assert best(approximate) == best(exact)
    assert best(sketched) == best(exact)


def test_with_the_approximate_index_changes_still_show_on_the_very_next_search(
    subject, branch, settings, django_capture_on_commit_callbacks
):
    settings.GALLERY_INDEX = "usearch"
    assert gallery.wait_for_index(60) and gallery.uses_index(gallery.snapshot())
    probe = embedding("img20.jpg")[None, :]
    assert gallery.search(probe, branch_id=branch.pk) == [[]]
    other = actions.create_subject(subject.watchlist, "Person Two")
    enroll(other, "img21.jpg", django_capture_on_commit_callbacks)
    assert [m.subject_id for m in gallery.search(probe, branch_id=branch.pk)[0]] == [other.pk]
    actions.remove_subject(other)
    assert gallery.search(probe, branch_id=branch.pk) == [[]]
    assert gallery.wait_for_index(60) and gallery.uses_index(gallery.snapshot())
    assert gallery.search(embedding("img2.jpg")[None, :], branch_id=branch.pk)[0][0].subject_id == subject.pk
