"""Every biometric file goes out one way (bankwatch/biometrics.py): scoped, audited, never cached or sniffed."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEntry
from cameras.actions import create_camera
from enrollment.models import ReferencePhoto
from tests.factories import make_alert, make_subject

JPEG = b"\xff\xd8\xff\xe0 a face"


def _logged_in(user, client_class=Client):
    client = client_class()
    client.force_login(user)
    return client


@pytest.fixture
def alert(camera_with_token):
    return make_alert(camera_with_token[0], make_subject("Tran Van B", "Bank robbers"))


@pytest.fixture
def reference(alert):
    row = ReferencePhoto.objects.create(subject=alert.subject, status=ReferencePhoto.Status.ACCEPTED)
    row.image.save("ref.jpg", ContentFile(JPEG))
    row.face_crop.save("crop.jpg", ContentFile(JPEG))
    return row


def _assert_private(response) -> None:
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_pages_the_admin_and_the_api_serve_faces_privately_and_audit_each_view(cast, alert, reference):
    sighting = alert.sightings.get()
    bob = _logged_in(cast["bob"])
    for url in (
        f"/alerts/{alert.pk}/image/probe",
        f"/alerts/{alert.pk}/sightings/{sighting.pk}/face",
        f"/alerts/{alert.pk}/reference/{reference.pk}",
    ):
        _assert_private(bob.get(url))
    carol = _logged_in(cast["carol"])
    _assert_private(carol.get(reverse("admin:enrollment_referencephoto_file", args=[reference.pk, "crop"])))
    _assert_private(_logged_in(cast["carol"], APIClient).get(f"/api/v1/photos/{reference.pk}/crop"))

    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor__username"))
    assert actions.count(("alert.image_viewed", "bob")) == 2
    assert ("subject.photo_viewed", "bob") in actions
    assert actions.count(("photo.viewed", "carol")) == 2


def test_a_face_outside_the_users_scope_is_not_found_and_nothing_is_audited(cast, alert, reference):
    charlie = _logged_in(cast["charlie"])  # another bank
    assert charlie.get(f"/alerts/{alert.pk}/image/probe").status_code == 404
    assert charlie.get(f"/alerts/{alert.pk}/reference/{reference.pk}").status_code == 404
    other = make_alert(create_camera("Mekong Bank", "Can Tho", "Door")[0], alert.subject)
    theirs = other.sightings.get()
    assert _logged_in(cast["bob"]).get(f"/alerts/{alert.pk}/sightings/{theirs.pk}/face").status_code == 404
    assert _logged_in(cast["bob"], APIClient).get(f"/api/v1/photos/{reference.pk}/crop").status_code == 403
    assert not AuditEntry.objects.filter(action__in=["alert.image_viewed", "subject.photo_viewed", "photo.viewed"])
