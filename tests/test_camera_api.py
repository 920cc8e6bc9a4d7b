"""Cameras over the API: every camera of the scope with its health for its readers; registering,
changing, disabling and rotating the token for the bank's administrators (and keys made --admin)
only, each audited; another bank's cameras are 404."""

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEntry
from cameras.actions import create_camera
from cameras.models import Camera
from integrations.actions import create_api_key
from organizations.models import Branch


def keyed(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def send(client: Client, method: str, path: str, body: dict) -> Any:
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def fleet(cast):
    ours, token = create_camera("Saigon Bank", "District 1", "Lobby")
    theirs, _ = create_camera("Mekong Bank", "Can Tho", "Door")
    _, admin = create_api_key("saigon-admin", "bank_security", bank_name="Saigon Bank", admin=True)
    _, reader = create_api_key("saigon-vms", "bank_security", bank_name="Saigon Bank")
    return {"ours": ours, "token": token, "theirs": theirs, "admin": keyed(admin), "reader": keyed(reader)}


def test_an_admin_key_registers_a_camera_at_its_banks_branch_and_gets_its_token_once(fleet):
    branch = Branch.objects.get(name="District 1")
    response = send(fleet["admin"], "post", "/api/v1/cameras/", {"branch": branch.pk, "name": "ATM 2", "role": "atm"})
    assert response.status_code == 201, response.content
    body = response.json()
    camera = Camera.objects.get(pk=body["camera"]["id"])
    assert camera.branch == branch and camera.role == "atm" and body["camera"]["status"] == "offline"
    assert Camera.authenticate(body["token"]) == camera and body["signing_secret"]
    assert body["token"] not in json.dumps(fleet["admin"].get(f"/api/v1/cameras/{camera.pk}/").json())
    entry = AuditEntry.objects.get(action="camera.created", object_id=str(camera.pk))
    assert entry.actor_label == "saigon-admin"


def test_a_camera_cannot_be_registered_at_another_banks_branch(fleet):
    mekong = Branch.objects.get(name="Can Tho")
    response = send(fleet["admin"], "post", "/api/v1/cameras/", {"branch": mekong.pk, "name": "Sneaky"})
    assert response.status_code == 400 and not Camera.objects.filter(name="Sneaky").exists()


def test_disabling_a_camera_refuses_its_token_and_tells_the_supervisors(fleet):
    camera = fleet["ours"]
    response = send(fleet["admin"], "patch", f"/api/v1/cameras/{camera.pk}/", {"enabled": False, "fps": 2})
    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False
    refreshed = Camera.objects.get(pk=camera.pk)
    assert refreshed.config_version == camera.config_version + 1 and refreshed.fps == 2
    assert Camera.authenticate(fleet["token"]) is None
    entry = AuditEntry.objects.get(action="camera.changed", object_id=str(camera.pk))
    assert sorted(entry.detail["fields"]) == ["fps", "is_active"]


def test_rotating_gives_a_new_token_and_grace_zero_ends_the_old_one_now(fleet):
    camera = fleet["ours"]
    response = send(fleet["admin"], "post", f"/api/v1/cameras/{camera.pk}/rotate-token", {"grace_seconds": 0})
    assert response.status_code == 200, response.content
    assert Camera.authenticate(response.json()["token"]) == camera
    assert Camera.authenticate(fleet["token"]) is None
    assert AuditEntry.objects.filter(action="camera.token_rotated", actor_label="saigon-admin").exists()


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("get", "", None), ("patch", "", {"enabled": False}), ("post", "rotate-token", {})],
)
def test_another_banks_camera_is_404_even_to_an_admin(fleet, method, suffix, body):
    path = f"/api/v1/cameras/{fleet['theirs'].pk}/{suffix}"
    response = fleet["admin"].get(path) if body is None else send(fleet["admin"], method, path, body or {})
    assert response.status_code == 404
    assert Camera.objects.get(pk=fleet["theirs"].pk).is_active


def test_readers_see_a_camera_with_its_health_but_may_not_change_it(fleet, cast):
    camera = fleet["ours"]
    body = fleet["reader"].get(f"/api/v1/cameras/{camera.pk}/").json()
    assert body["id"] == camera.pk and body["status"] == "offline" and "covered_false_alarms" in body
    assert send(fleet["reader"], "patch", f"/api/v1/cameras/{camera.pk}/", {"enabled": False}).status_code == 403
    alice = Client()
    alice.force_login(cast["alice"])
    assert send(alice, "post", f"/api/v1/cameras/{camera.pk}/rotate-token", {}).status_code == 403
    assert send(alice, "post", "/api/v1/cameras/", {"branch": camera.branch_id, "name": "X"}).status_code == 403
    assert Camera.objects.get(pk=camera.pk).is_active and Camera.authenticate(fleet["token"]) == camera


def test_a_superuser_manages_every_banks_cameras(fleet, settings):
    settings.REQUIRE_2FA = False
    root = User.objects.create_superuser("root", password="correct-horse-battery")
    client = Client()
    client.force_login(root)
    response = send(client, "patch", f"/api/v1/cameras/{fleet['theirs'].pk}/", {"name": "Front door"})
    assert response.status_code == 200, response.content
    assert Camera.objects.get(pk=fleet["theirs"].pk).name == "Front door"


def test_a_bad_stream_url_is_refused_with_the_reason(fleet):
    response = send(fleet["admin"], "patch", f"/api/v1/cameras/{fleet['ours'].pk}/", {"stream_url": "ftp://x/y"})
    assert response.status_code == 400 and "rtsp://" in json.dumps(response.json())
