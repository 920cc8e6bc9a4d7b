"""Stream settings of pulled cameras: source, URL, rate, and credentials encrypted at rest and never shown."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry
from cameras.actions import StreamConfigError, camera_credentials, create_camera
from cameras.credentials import StreamCredentials, decrypt, encrypt, redact, split_url, with_credentials
from cameras.models import Camera

pytestmark = pytest.mark.django_db
PASSWORD = "s3cr3t-Pa55!word"


def raw_rows() -> str:
    """Every column of every camera row as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cameras_camera")
        return repr(cursor.fetchall())


def test_a_password_in_the_url_is_moved_into_the_encrypted_field_and_never_printed():
    out = StringIO()
    call_command(
        "create_camera",
        *("--bank", "B", "--branch", "BR", "--name", "Door", "--role", "entrance", "--fps", "4"),
        *("--stream-url", f"rtsp://admin:{PASSWORD}@10.0.0.5:554/Streaming/Channels/101"),
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert PASSWORD not in out.getvalue()
    camera = Camera.objects.get(pk=printed["camera_id"])
    assert (camera.source, camera.fps, camera.role) == ("rtsp", 4.0, "entrance")
    assert camera.stream_url == "rtsp://10.0.0.5:554/Streaming/Channels/101"
    assert camera_credentials(camera) == StreamCredentials("admin", PASSWORD)
    assert PASSWORD not in raw_rows() and "admin" not in camera.stream_credentials


def test_the_password_may_come_from_the_environment_and_http_urls_are_snapshots(monkeypatch):
    monkeypatch.setenv("BANKWATCH_STREAM_PASSWORD", PASSWORD)
    out = StringIO()
    call_command(
        "create_camera",
        *("--bank", "B", "--branch", "BR", "--name", "Snap", "--username", "viewer"),
        *("--stream-url", "http://10.0.0.6/ISAPI/Streaming/channels/101/picture"),
        stdout=out,
    )
    camera = Camera.objects.get(pk=json.loads(out.getvalue())["camera_id"])
    assert (camera.source, camera.fps, camera.stream_auth) == ("snapshot", 5.0, "digest")
    assert camera_credentials(camera) == StreamCredentials("viewer", PASSWORD)


def test_bad_stream_settings_are_refused_and_create_nothing():
    for args in (
        ["--stream-url", "ftp://10.0.0.5/x"],
        ["--stream-url", "http://10.0.0.5/x", "--source", "rtsp"],
        ["--stream-url", "rtsp://10.0.0.5/x", "--fps", "0"],
    ):
        with pytest.raises(CommandError):
            call_command("create_camera", "--bank", "B", "--branch", "BR", "--name", "Bad", *args)
    assert not Camera.objects.filter(name="Bad").exists()
    with pytest.raises(StreamConfigError):
        create_camera("B", "BR", "Pull", source="rtsp")  # no URL


def test_credentials_round_trip_and_a_changed_key_is_a_clear_error(settings):
    token = encrypt(StreamCredentials("u", PASSWORD))
    assert PASSWORD not in token and decrypt(token) == StreamCredentials("u", PASSWORD)
    assert PASSWORD not in repr(decrypt(token))
    settings.SECRET_KEY = "another secret key entirely"
    with pytest.raises(ValueError, match="do not decrypt"):
        decrypt(token)


def test_redact_removes_user_info_and_each_secret_from_any_text():
    url = with_credentials("rtsp://10.0.0.5/live", StreamCredentials("admin", PASSWORD))
    assert split_url(url) == ("rtsp://10.0.0.5/live", StreamCredentials("admin", PASSWORD))
    message = f"[Errno 1094995529] Invalid data found when processing input: '{url}' ({PASSWORD})"
    cleaned = redact(message, PASSWORD)
    assert PASSWORD not in cleaned and "admin" not in cleaned and "rtsp://***@10.0.0.5/live" in cleaned


def test_the_admin_stores_a_password_it_never_shows_again_and_keeps_it_when_left_empty():
    admin = User.objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(admin)
    camera, _ = create_camera("B", "BR", "Door")
    form = {
        "branch": camera.branch_id,
        "name": "Door",
        "role": "entrance",
        "is_active": "on",
        "source": "rtsp",
        "stream_url": "rtsp://10.0.0.5/live",
        "stream_auth": "digest",
        "fps": "5",
        "stream_username": "admin",
        "stream_password": PASSWORD,
    }
    response = client.post(f"/admin/cameras/camera/{camera.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    camera.refresh_from_db()
    assert camera_credentials(camera) == StreamCredentials("admin", PASSWORD)
    page = client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert PASSWORD not in page and 'name="stream_password"' in page
    client.post(f"/admin/cameras/camera/{camera.pk}/change/", {**form, "stream_password": "", "fps": "3"})
    camera.refresh_from_db()
    assert camera.fps == 3 and camera_credentials(camera).password == PASSWORD
    assert camera.config_version == 3  # each save tells the supervisors
    entries = AuditEntry.objects.filter(action="camera.changed", object_id=str(camera.pk))
    assert entries.count() == 2 and PASSWORD not in repr(list(entries.values()))


def test_camera_status_and_the_api_give_health_in_scope_and_never_a_credential(cast):
    door, _ = create_camera(
        "Saigon Bank", "District 1", "Door", role="entrance", stream_url=f"rtsp://admin:{PASSWORD}@10.0.0.5/live"
    )
    Camera.objects.filter(pk=door.pk).update(health="obstructed", health_since=timezone.now(), last_error="black")
    other, _ = create_camera("Mekong Bank", "Can Tho", "Hall")
    out = StringIO()
    call_command("camera_status", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert PASSWORD not in out.getvalue() and "admin" not in out.getvalue()
    by_id = {line["camera_id"]: line for line in lines[:-1]}
    assert set(by_id[door.pk]) == {
        "camera_id", "name", "bank", "branch", "role", "source", "status", "since", "fps_received", "fps_processed", "last_error"
    }  # fmt: skip
    assert (by_id[door.pk]["status"], by_id[door.pk]["role"], by_id[door.pk]["source"]) == (
        "obstructed",
        "entrance",
        "rtsp",
    )
    assert lines[-1] == {"cameras": 2, "online": 0, "offline": 1, "tampered": 1}

    client = Client()
    client.force_login(cast["alice"])
    response = client.get("/api/v1/cameras/")
    assert response.status_code == 200 and PASSWORD not in response.content.decode()
    body = response.json()
    assert [row["camera_id"] for row in body["results"]] == [door.pk]  # not Mekong Bank's
    assert body["summary"] == {"cameras": 1, "online": 0, "offline": 0, "tampered": 1}
    assert body["results"][0]["tampered"] is True
    client.force_login(cast["charlie"])
    assert [row["camera_id"] for row in client.get("/api/v1/cameras/").json()["results"]] == [other.pk]
