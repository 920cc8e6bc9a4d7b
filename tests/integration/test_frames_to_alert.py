"""Frames pushed through the API, recognised by a real Celery worker process on PostgreSQL, reach a
bank's dashboard socket through the Redis channel layer as an alert event."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connections
from django.test import Client

from accounts.actions import create_user
from alerts.models import Alert
from alerts.samples import compose, load
from bankwatch.asgi import application
from benchmarks.harness import wait_for
from cameras.actions import create_camera
from enrollment.actions import add_photo, create_subject, create_watchlist
from enrollment.models import ReferencePhoto
from recognition.images import encode_jpeg
from tests.conftest import DATASET, PASSWORD
from tests.factories import frames_queued

pytestmark = pytest.mark.integration


def _setup(worker) -> tuple[str, bytes, list[bytes], int]:
    _, token = create_camera("Saigon Bank", "District 1", "Lobby")
    alice = create_user("alice", "bank_security", PASSWORD, bank_name="Saigon Bank")
    subject = create_subject(create_watchlist("Bank robbers"), "Tran Van Robber")
    photo = add_photo(subject, (DATASET / "img1.jpg").read_bytes(), "img1.jpg")  # enrolled by the worker
    accepted = wait_for(lambda: ReferencePhoto.objects.filter(pk=photo.pk, status="accepted").exists(), timeout=90)
    assert accepted, worker.output()[-3000:]
    client = Client()
    client.force_login(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()
    frames = [encode_jpeg(compose([load(DATASET / name)])) for name in ("img2.jpg", "img4.jpg")]
    return token, cookie, frames, subject.pk


def _push(token: str, jpeg: bytes) -> int:
    response = Client().post(
        "/api/v1/frames", {"image": ContentFile(jpeg, name="f.jpg")}, HTTP_AUTHORIZATION=f"Camera {token}"
    )
    assert response.status_code == 202, response.content
    return response.json()["frame_id"]


@pytest.mark.asyncio
async def test_frames_pushed_through_the_api_become_an_alert_event_for_the_bank(celery_worker, dataset):
    token, cookie, frames, subject_id = await sync_to_async(_setup)(celery_worker)
    socket = WebsocketCommunicator(
        application, "/ws/alerts/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
    )
    connected, _ = await socket.connect()
    assert connected
    try:
        for jpeg in frames:
            await sync_to_async(_push)(token, jpeg)
        event = await socket.receive_json_from(timeout=90)
        while event["type"] != "alert.created":  # a replay of earlier events would come first
            event = await socket.receive_json_from(timeout=90)
    finally:
        await socket.disconnect()
    assert event["alert"]["subject"]["id"] == subject_id
    alert = await Alert.objects.select_related("bank").aget(pk=event["alert"]["id"])
    assert alert.bank.name == "Saigon Bank" and alert.sightings is not None
    assert await sync_to_async(wait_for)(lambda: not frames_queued(), 30), celery_worker.output()[-3000:]
    assert await Alert.objects.acount() == 1
    await sync_to_async(connections.close_all)()  # this thread's connection would block dropping the test database
