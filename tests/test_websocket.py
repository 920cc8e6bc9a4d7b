import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.scope import bank_group, police_group
from bankwatch.asgi import application
from bankwatch.events import publish


def _cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _connect(user=None, origin=b"http://127.0.0.1"):
    headers = [(b"origin", origin)]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(_cookie_for)(user)))
    communicator = WebsocketCommunicator(application, "/ws/alerts/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_anonymous_socket_is_closed():
    communicator, connected, _ = await _connect()
    assert not connected
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_foreign_origin_is_refused(cast):
    communicator, connected, _ = await _connect(cast["alice"], origin=b"http://evil.example")
    assert not connected
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_bank_staff_receive_their_banks_events_and_not_another_banks(cast):
    alice = cast["alice"]
    charlie = cast["charlie"]
    ours, ok1, _ = await _connect(alice)
    theirs, ok2, _ = await _connect(charlie)
    assert ok1 and ok2
    await database_sync_to_async(publish)([bank_group(alice.bank_id)], {"type": "alert.created", "alert": {"id": 1}})
    assert (await ours.receive_json_from(timeout=2)) == {"type": "alert.created", "alert": {"id": 1}}
    assert await theirs.receive_nothing(timeout=0.3)
    await ours.disconnect()
    await theirs.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_roles_without_a_feed_are_refused(cast):
    communicator, connected, _ = await _connect(cast["audrey"])
    assert not connected
    await communicator.disconnect()


def test_police_groups_are_valid_channel_group_names():
    name = police_group("Thành phố Hồ Chí Minh")
    assert name.startswith("police-") and name.isascii() and len(name) < 100


def _cookie_started(user, seconds_ago: int) -> bytes:
    import time

    from accounts.middleware import SessionLimitsMiddleware

    client = Client()
    client.force_login(user)
    session = client.session
    session[SessionLimitsMiddleware.STARTED] = int(time.time()) - seconds_ago
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_of_a_session_past_its_lifetime_is_refused(cast):
    cookie = await database_sync_to_async(_cookie_started)(cast["alice"], settings.SESSION_COOKIE_AGE + 5)
    communicator = WebsocketCommunicator(
        application, "/ws/alerts/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4401
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_is_closed_when_its_session_ends_and_gets_nothing_more(cast):
    import asyncio

    alice = cast["alice"]
    cookie = await database_sync_to_async(_cookie_started)(alice, settings.SESSION_COOKIE_AGE - 1)
    communicator = WebsocketCommunicator(
        application, "/ws/alerts/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected
    await asyncio.sleep(1.5)
    await database_sync_to_async(publish)([bank_group(alice.bank_id)], {"type": "alert.created", "alert": {"id": 7}})
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
