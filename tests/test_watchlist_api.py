"""REST API for watchlists, subjects and photos: curators only; writes are audited and reach the gallery."""

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEntry
from enrollment import actions, gallery
from enrollment.models import ReferencePhoto, Subject, Watchlist
from organizations.actions import get_or_create_branch
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image
from recognition.model_id import model_id
from tests.conftest import photo


@pytest.fixture
def inline_jobs(monkeypatch):
    from bankwatch import jobs

    monkeypatch.setattr(jobs, "enqueue", jobs.run)


@pytest.fixture
def listed(cast) -> Subject:
    return actions.create_subject(actions.create_watchlist("Robbers"), "Person One")


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def endpoints(subject: Subject, photo_id: int = 0) -> list[tuple[str, str]]:
    return [
        ("get", "/api/v1/watchlists/"),
        ("post", "/api/v1/watchlists/"),
        ("get", f"/api/v1/watchlists/{subject.watchlist_id}/"),
        ("patch", f"/api/v1/watchlists/{subject.watchlist_id}/"),
        ("get", "/api/v1/subjects/"),
        ("post", "/api/v1/subjects/"),
        ("get", f"/api/v1/subjects/{subject.pk}/"),
        ("patch", f"/api/v1/subjects/{subject.pk}/"),
        ("delete", f"/api/v1/subjects/{subject.pk}/"),
        ("post", f"/api/v1/subjects/{subject.pk}/photos/"),
        ("get", "/api/v1/photos/"),
        ("delete", f"/api/v1/photos/{photo_id}/"),
    ]


@pytest.mark.parametrize("name", ["alice", "bob", "charlie", "paula", "audrey"])
def test_every_endpoint_refuses_users_who_are_not_curators(cast, listed, name):
    client = api(cast[name])
    kept = ReferencePhoto.objects.create(subject=listed, image="enrollment/photos/x.jpg")
    for method, url in endpoints(listed, kept.pk):
        assert getattr(client, method)(url, {}, format="json").status_code == 403, (method, url)
    assert Subject.objects.get(pk=listed.pk).status == Subject.Status.ACTIVE
    assert Watchlist.objects.count() == 1 and ReferencePhoto.objects.filter(pk=kept.pk).exists()


def test_every_endpoint_refuses_anonymous_callers(listed):
    for method, url in endpoints(listed):
        assert getattr(api(), method)(url, {}, format="json").status_code == 403, (method, url)


def test_a_curator_creates_a_watchlist_and_a_subject(cast):
    client = api(cast["carol"])
    branch = get_or_create_branch("Saigon Bank", "District 1")
    response = client.post(
        "/api/v1/watchlists/",
        {"name": "Wanted", "threshold": 0.45, "colour": "#123456", "sound": "chime", "branches": [branch.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    watchlist = Watchlist.objects.get(name="Wanted")
    assert (watchlist.threshold, list(watchlist.branches.all())) == (0.45, [branch])
    response = client.post(
        "/api/v1/subjects/",
        {"watchlist": watchlist.pk, "full_name": "Vo Van E", "legal_basis": "Warrant 9/2026", "status": "removed"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    subject = Subject.objects.get(full_name="Vo Van E")
    assert subject.added_by == cast["carol"] and subject.status == Subject.Status.ACTIVE
    assert AuditEntry.objects.filter(action="subject.created", object_id=str(subject.pk), actor=cast["carol"]).exists()


def test_a_bad_colour_or_threshold_is_refused(cast):
    response = api(cast["carol"]).post("/api/v1/watchlists/", {"name": "X", "colour": "red", "threshold": 3})
    assert response.status_code == 400 and set(response.json()) >= {"colour", "threshold"}


def test_an_uploaded_photo_is_enrolled_and_then_matches(cast, listed, dataset, inline_jobs):
    client = api(cast["carol"])
    response = client.post(
        f"/api/v1/subjects/{listed.pk}/photos/", {"image": io.BytesIO(photo("img1.jpg"))}, format="multipart"
    )
    assert response.status_code == 202, response.json()
    photo_id = response.json()["id"]
    body = client.get(f"/api/v1/photos/{photo_id}/").json()
    assert body["status"] == "accepted" and body["templates"] == [model_id()]
    assert client.get(body["crop_url"]).status_code == 200
    branch = get_or_create_branch("Saigon Bank", "District 1")
    probe = get_engine().analyze(decode_image(photo("img2.jpg"), max_side=1280, formats=PHOTO_FORMATS))[0].embedding
    assert gallery.search(probe[None, :], branch_id=branch.pk)[0][0].subject_id == listed.pk

    wrong = client.post(
        f"/api/v1/subjects/{listed.pk}/photos/", {"image": io.BytesIO(photo("img20.jpg"))}, format="multipart"
    ).json()
    assert client.get(f"/api/v1/photos/{wrong['id']}/").json()["status"] == "rejected"
    assert client.delete(f"/api/v1/photos/{wrong['id']}/").status_code == 204
    assert not ReferencePhoto.objects.filter(pk=wrong["id"]).exists()
    assert AuditEntry.objects.filter(action="photo.deleted", object_id=str(wrong["id"]), actor=cast["carol"]).exists()

    removed = client.delete(f"/api/v1/subjects/{listed.pk}/?reason=arrested")
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert gallery.search(probe[None, :], branch_id=branch.pk) == [[]]
    assert AuditEntry.objects.get(action="subject.removed", object_id=str(listed.pk)).detail["reason"] == "arrested"


def test_an_upload_that_is_not_an_image_is_refused(cast, listed):
    response = api(cast["carol"]).post(
        f"/api/v1/subjects/{listed.pk}/photos/", {"image": io.BytesIO(b"GIF89a...")}, format="multipart"
    )
    assert response.status_code == 415
    assert not ReferencePhoto.objects.exists()


def test_subjects_can_be_filtered_by_status_and_name(cast, listed):
    other = actions.create_subject(listed.watchlist, "Someone Else", aliases="Ghost")
    actions.remove_subject(other)
    client = api(cast["carol"])
    assert [s["id"] for s in client.get("/api/v1/subjects/?status=active").json()["results"]] == [listed.pk]
    assert [s["id"] for s in client.get("/api/v1/subjects/?q=ghost").json()["results"]] == [other.pk]


def test_the_schema_and_docs_describe_the_watchlist_api(client, cast):
    assert client.get(reverse("api-schema")).status_code == 403  # signed-in users only
    client.force_login(cast["carol"])
    schema = client.get(reverse("api-schema")).content.decode()
    for route in ("/api/v1/watchlists/", "/api/v1/subjects/{id}/photos/", "/api/v1/photos/"):
        assert route in schema
    client.force_login(cast["carol"])
    assert client.get(reverse("api-docs")).status_code == 200
