"""The entrance display: a paired display sees its camera's live view with anonymous boxes, the bank's
bilingual notice and, for a covered face, the bilingual prompt; it never learns who anyone is, and
nothing it is sent is stored."""

import base64
import json

import numpy as np
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from cameras.actions import create_camera
from cameras.devices import cookie_name, issue_pairing_code, revoke_device
from cameras.models import Camera, PairedDevice
from entrance.display import MESSAGE_KEYS, display_message, publish_to_display
from organizations.models import Bank
from recognition.images import decode_image

PROMPT_VI = "Vui lòng tháo mũ bảo hiểm, khẩu trang và kính râm"
PROMPT_EN = "Please remove your helmet, mask and sunglasses"


def _pair(camera: Camera, kind: str = "display") -> tuple[str, str]:
    code, _ = issue_pairing_code(camera, kind)
    response = Client().post("/pair/", {"code": code})
    if kind == "display":  # a display lands on its entrance page
        assert response.status_code == 302 and response["Location"] == f"/entrance/{camera.pk}/"
    name = cookie_name(camera.pk, kind)
    return name, response.cookies[name].value


def _device_client(camera: Camera, kind: str = "display") -> Client:
    name, token = _pair(camera, kind)
    client = Client()
    client.cookies[name] = token
    return client


@pytest.fixture
def door(db) -> Camera:
    return create_camera("Saigon Bank", "District 1", "Door", role="entrance")[0]


def test_a_paired_display_gets_the_full_screen_page_with_the_bilingual_notice_and_prompt(door):
    page = _device_client(door).get(f"/entrance/{door.pk}/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert PROMPT_VI in text and PROMPT_EN in text
    assert "Face recognition cameras are in operation at this branch for security." in text
    assert "Camera nhận diện khuôn mặt đang hoạt động tại chi nhánh này để bảo đảm an ninh." in text
    assert f"/ws/entrance/{door.pk}/" in text


def test_the_notice_is_the_banks_own_when_it_has_set_one(door):
    Bank.objects.filter(name="Saigon Bank").update(
        recognition_notice_vi="Saigon Bank dùng camera nhận diện khuôn mặt.",
        recognition_notice_en="Saigon Bank uses face recognition.",
    )
    text = _device_client(door).get(f"/entrance/{door.pk}/").content.decode()
    assert "Saigon Bank dùng camera nhận diện khuôn mặt." in text and "Saigon Bank uses face recognition." in text
    assert "in operation at this branch" not in text


def test_the_page_is_refused_to_everyone_but_a_display_paired_with_this_camera(door, cast):
    other = create_camera("Saigon Bank", "District 1", "Side door", role="entrance")[0]
    alice = Client()
    alice.force_login(cast["alice"])
    for client in (Client(), alice, _device_client(door, "capture"), _device_client(other)):
        assert client.get(f"/entrance/{door.pk}/").status_code == 404
    revoked = _device_client(door)
    assert revoked.get(f"/entrance/{door.pk}/").status_code == 200
    for device in PairedDevice.objects.filter(camera=door, kind="display"):
        revoke_device(device)
    assert revoked.get(f"/entrance/{door.pk}/").status_code == 404


def test_a_display_message_holds_the_frame_the_boxes_and_covered_and_nothing_else():
    image = np.full((720, 1280, 3), 120, dtype=np.uint8)
    message = display_message(image, [(640, 180, 128, 144)], True, timezone.now())
    assert set(message) == MESSAGE_KEYS
    assert (message["width"], message["height"]) == (640, 360)  # scaled down for the display
    assert message["boxes"] == [[0.5, 0.25, 0.1, 0.2]] and message["covered"] is True
    assert decode_image(base64.b64decode(message["frame"])).shape == (360, 640, 3)


def _socket(camera_id: int, cookie: tuple[str, str] | None) -> WebsocketCommunicator:
    from bankwatch.asgi import application

    headers = [(b"origin", b"http://127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"{cookie[0]}={cookie[1]}".encode()))
    return WebsocketCommunicator(application, f"/ws/entrance/{camera_id}/", headers=headers)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_display_socket_receives_its_cameras_frames_and_no_other_cameras(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    door, _ = await database_sync_to_async(create_camera)("Saigon Bank", "District 1", "Door", role="entrance")
    other, _ = await database_sync_to_async(create_camera)("Saigon Bank", "District 1", "Back", role="entrance")
    cookie = await database_sync_to_async(_pair)(door)
    await database_sync_to_async(_pair)(other)
    socket = _socket(door.pk, cookie)
    connected, _ = await socket.connect()
    assert connected
    image = np.zeros((360, 640, 3), dtype=np.uint8)
    sent = await database_sync_to_async(publish_to_display)(other, image, [(1, 1, 50, 50)], True, timezone.now())
    assert sent and await socket.receive_nothing(timeout=0.3)
    await database_sync_to_async(publish_to_display)(door, image, [(64, 36, 64, 72)], False, timezone.now())
    message = await socket.receive_json_from(timeout=5)
    assert set(message) == MESSAGE_KEYS and message["boxes"] == [[0.1, 0.1, 0.1, 0.2]] and not message["covered"]
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_camera_without_a_paired_display_sends_nothing_and_nothing_is_stored(settings, tmp_path):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    door, _ = await database_sync_to_async(create_camera)("Saigon Bank", "District 1", "Door", role="entrance")
    image = np.zeros((360, 640, 3), dtype=np.uint8)
    assert not await database_sync_to_async(publish_to_display)(door, image, [], True, timezone.now())
    await database_sync_to_async(_pair)(door)
    assert await database_sync_to_async(publish_to_display)(door, image, [], True, timezone.now())
    media = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] if settings.MEDIA_ROOT.exists() else []
    assert media == []  # frames sent to a display are never written


def test_a_display_message_serialises_to_json_without_any_identity_field():
    message = display_message(np.zeros((90, 160, 3), dtype=np.uint8), [(10, 10, 20, 20)], False, timezone.now())
    text = json.dumps({k: v for k, v in message.items() if k != "frame"})
    for word in ("name", "subject", "watchlist", "score", "match", "alert"):
        assert word not in text


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_revoking_the_display_closes_its_open_socket_at_the_next_frame(settings, monkeypatch):
    from entrance import consumers

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)
    door, _ = await database_sync_to_async(create_camera)("Saigon Bank", "District 1", "Door", role="entrance")
    cookie = await database_sync_to_async(_pair)(door)
    socket = _socket(door.pk, cookie)
    assert (await socket.connect())[0]
    image = np.zeros((90, 160, 3), dtype=np.uint8)
    await database_sync_to_async(publish_to_display)(door, image, [], False, timezone.now())
    assert (await socket.receive_json_from(timeout=5))["type"] == "display.frame"

    device = await database_sync_to_async(PairedDevice.objects.get)(camera=door)
    await database_sync_to_async(revoke_device)(device)
    await database_sync_to_async(_pair)(door)  # another display still paired: frames keep being sent
    await database_sync_to_async(publish_to_display)(door, image, [], False, timezone.now())
    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"
