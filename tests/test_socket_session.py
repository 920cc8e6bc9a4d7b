"""Sockets follow the session: checked at every event and every resume, one replay at a time,
resumes rate-limited, and the Origin checked exactly (scheme, host and port)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from accounts.scope import bank_group
from bankwatch.asgi import application
from bankwatch.events import publish
from tests.factories import make_alert, make_subject

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _signed_in(user: User) -> tuple[Client, bytes]:
    client = Client()
    client.force_login(user)
    return client, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _socket(cookie: bytes, origin: bytes = b"http://127.0.0.1:8000", host: bytes = b"127.0.0.1:8000"):
    headers = [(b"origin", origin), (b"host", host), (b"cookie", cookie)]
    communicator = WebsocketCommunicator(application, "/ws/alerts/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def _event(user: User) -> None:
    assert user.bank_id is not None
    await database_sync_to_async(publish)([bank_group(user.bank_id)], {"type": "alert.created", "alert": {"id": 1}})


async def _closed(communicator: WebsocketCommunicator) -> bool:
    output = await communicator.receive_output(timeout=2)
    return output["type"] == "websocket.close"


async def test_a_socket_is_closed_at_the_next_event_after_sign_out(cast):
    client, cookie = await database_sync_to_async(_signed_in)(cast["alice"])
    socket, connected = await _socket(cookie)
    assert connected
    await database_sync_to_async(client.logout)()
    await _event(cast["alice"])
    assert await _closed(socket)


async def test_a_socket_is_closed_at_the_next_event_after_the_user_is_deactivated(cast):
    _, cookie = await database_sync_to_async(_signed_in)(cast["alice"])
    socket, connected = await _socket(cookie)
    assert connected
    await database_sync_to_async(User.objects.filter(pk=cast["alice"].pk).update)(is_active=False)
    await _event(cast["alice"])
    assert await _closed(socket)


async def test_a_resume_after_the_session_is_gone_replays_nothing_and_closes(cast, camera_with_token):
    await database_sync_to_async(make_alert)(camera_with_token[0], await database_sync_to_async(make_subject)())
    _, cookie = await database_sync_to_async(_signed_in)(cast["alice"])
    socket, connected = await _socket(cookie)
    assert connected
    await database_sync_to_async(Session.objects.all().delete)()
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    assert await _closed(socket)


async def test_resumes_are_rate_limited_and_one_replay_runs_at_a_time(cast, camera_with_token, settings):
    settings.FEED_RESUMES_PER_MINUTE = 3
    await database_sync_to_async(make_alert)(camera_with_token[0], await database_sync_to_async(make_subject)())
    _, cookie = await database_sync_to_async(_signed_in)(cast["alice"])
    socket, connected = await _socket(cookie)
    assert connected
    for _ in range(10):
        await socket.send_json_to({"type": "resume", "last_event_id": 0})
    messages = []
    while not await socket.receive_nothing(timeout=0.7):
        messages.append(await socket.receive_json_from())
    done = [m for m in messages if m["type"] == "replay.done"]
    refused = [m for m in messages if m["type"] == "resume.refused"]
    assert 1 <= len(done) <= 3 and len(done) + len(refused) == 10
    assert all(m["retry_after"] >= 1 for m in refused)
    await socket.disconnect()


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (b"http://127.0.0.1:8000", True),
        (b"http://127.0.0.1:9000", False),  # another port of the same host
        (b"https://127.0.0.1:8000", False),  # another scheme
        (b"http://localhost:8000", False),  # another (allowed) host name
    ],
)
async def test_the_origin_must_be_the_pages_own_scheme_host_and_port(cast, origin, accepted):
    _, cookie = await database_sync_to_async(_signed_in)(cast["alice"])
    socket, connected = await _socket(cookie, origin=origin)
    assert connected is accepted
    await socket.disconnect()
