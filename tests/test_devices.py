"""Paired browsers (cameras/devices.py): one-time codes, device tokens scoped to one camera and kind."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry
from cameras.actions import create_camera
from cameras.devices import (
    authenticate_device,
    cookie_name,
    device_from_request,
    device_from_scope,
    issue_pairing_code,
)
from cameras.models import Camera, PairedDevice, PairingCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def camera() -> Camera:
    return create_camera("Saigon Bank", "District 1", "Door", role="entrance")[0]


def pair(client: Client, code: str) -> tuple[int, str | None]:
    response = client.post("/pair/", {"code": code})
    cookie = next((c.value for name, c in response.cookies.items() if name.startswith("bw_device_")), None)
    return response.status_code, cookie


def pair_with_csrf(client: Client, code: str) -> int:
    """The pairing form as a browser fills it in: GET it (which sets the CSRF cookie), then POST."""
    client.get("/pair/")
    token = client.cookies["csrftoken"].value
    return client.post("/pair/", {"code": code, "csrfmiddlewaretoken": token}).status_code


def test_pair_display_prints_a_code_that_is_stored_only_as_its_hash_and_audited(camera):
    out = StringIO()
    call_command("pair_display", str(camera.pk), stdout=out)
    printed = json.loads(out.getvalue().strip().splitlines()[-1])
    assert printed["camera_id"] == camera.pk and printed["kind"] == "display"
    code = printed["code"]
    stored = PairingCode.objects.get(camera=camera)
    assert code.replace("-", "") not in stored.code_hash and stored.used_at is None
    assert stored.expires_at > timezone.now()
    assert AuditEntry.objects.filter(action="camera.pairing_code_issued", object_id=str(camera.pk)).exists()

    out = StringIO()
    call_command("pair_display", str(camera.pk), "--capture", stdout=out)
    assert json.loads(out.getvalue())["kind"] == "capture"


def test_a_code_pairs_one_device_whose_cookie_opens_only_its_camera_and_kind(camera):
    code, _ = issue_pairing_code(camera, "display")
    status, token = pair(Client(HTTP_USER_AGENT="Tablet browser"), code.lower())  # typed in any case
    assert status in (200, 302) and token
    device = PairedDevice.objects.get()
    assert (device.camera_id, device.kind, device.user_agent) == (camera.pk, "display", "Tablet browser")
    assert token not in device.token_hash
    assert AuditEntry.objects.filter(action="camera.device_paired", object_id=str(device.pk)).exists()

    assert authenticate_device(token, camera.pk, "display") == device
    other = create_camera("Saigon Bank", "District 1", "Counter")[0]
    assert authenticate_device(token, other.pk, "display") is None
    assert authenticate_device(token, camera.pk, "capture") is None
    assert authenticate_device("bwd_wrong", camera.pk, "display") is None

    scope = {"cookies": {cookie_name(camera.pk, "display"): token}}
    assert device_from_scope(scope, camera.pk, "display") == device
    assert device_from_scope(scope, other.pk, "display") is None


def test_a_used_or_expired_code_is_refused_and_creates_nothing(camera):
    code, _ = issue_pairing_code(camera, "capture")
    assert pair(Client(), code)[0] in (200, 302)
    status, cookie = pair(Client(), code)
    assert (status, cookie) == (400, None)

    late, pairing = issue_pairing_code(camera, "capture")
    PairingCode.objects.filter(pk=pairing.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert pair(Client(), late) == (400, None)
    assert PairedDevice.objects.count() == 1


def test_too_many_wrong_codes_from_one_address_lock_it_out_even_with_a_right_code(camera, settings):
    settings.PAIRING_ATTEMPT_LIMIT = 3
    client = Client()
    for _ in range(3):
        assert pair(client, "WRONG-CODE")[0] == 400
    code, _ = issue_pairing_code(camera, "display")
    assert pair(client, code) == (400, None)
    assert not PairedDevice.objects.exists()


def test_a_revoked_device_or_a_disabled_camera_is_refused(camera, rf):
    code, _ = issue_pairing_code(camera, "display")
    _, token = pair(Client(), code)
    request = rf.get("/", HTTP_COOKIE=f"{cookie_name(camera.pk, 'display')}={token}")
    assert device_from_request(request, camera.pk, "display") is not None

    Camera.objects.filter(pk=camera.pk).update(is_active=False)
    assert device_from_request(request, camera.pk, "display") is None
    Camera.objects.filter(pk=camera.pk).update(is_active=True)

    admin = User.objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(admin)
    device = PairedDevice.objects.get()
    response = client.post(
        "/admin/cameras/paireddevice/", {"action": "revoke_devices", "_selected_action": [device.pk]}, follow=True
    )
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert device_from_request(request, camera.pk, "display") is None
    assert AuditEntry.objects.filter(action="camera.device_revoked", actor=admin, object_id=str(device.pk)).exists()


def test_create_camera_sets_the_role_and_refuses_an_unknown_one():
    out = StringIO()
    call_command("create_camera", "--bank", "B", "--branch", "BR", "--name", "Door", "--role", "entrance", stdout=out)
    camera = Camera.objects.get(pk=json.loads(out.getvalue())["camera_id"])
    assert camera.role == "entrance"
    assert create_camera("B", "BR", "Hall")[0].role == "other"
    with pytest.raises(CommandError):  # argparse's error, as call_command raises it
        call_command("create_camera", "--bank", "B", "--branch", "BR", "--name", "X", "--role", "roof")
    assert not Camera.objects.filter(name="X").exists()


def test_a_capture_device_sends_frames_through_the_frame_api_with_its_cookie_and_csrf_only(
    camera, dataset, monkeypatch
):
    from alerts import frame_queue, ingest

    monkeypatch.setattr(ingest, "enqueue", lambda name, *args: None)  # recognition is not under test here
    browser = Client(enforce_csrf_checks=True)
    code, _ = issue_pairing_code(camera, "capture")
    assert pair_with_csrf(browser, code) == 302
    page = browser.get(f"/camera/{camera.pk}/capture/")
    assert page.status_code == 200
    csrf = page.context["config"]["csrfToken"]

    def post(client: Client, camera_id: int, csrf: str = "") -> int:
        image = SimpleUploadedFile("frame.jpg", (dataset / "img1.jpg").read_bytes(), "image/jpeg")
        headers = {"X-BankWatch-Camera": str(camera_id)} | ({"X-CSRFToken": csrf} if csrf else {})
        return client.post("/api/v1/frames", {"image": image}, headers=headers).status_code

    assert post(browser, camera.pk, csrf) == 202
    assert frame_queue.backlog(camera.pk) == 1
    assert post(browser, camera.pk) == 403  # no CSRF token
    other = create_camera("Saigon Bank", "District 1", "Counter")[0]
    assert post(browser, other.pk, csrf) in (401, 403)
    display = Client(enforce_csrf_checks=True)
    code, _ = issue_pairing_code(camera, "display")
    assert pair_with_csrf(display, code) == 302
    assert display.get(f"/camera/{camera.pk}/capture/").status_code == 403
    assert post(display, camera.pk, csrf) in (401, 403)
    assert frame_queue.backlog(camera.pk) == 1
