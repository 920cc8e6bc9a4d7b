"""The live feed loses nothing: a socket that drops mid-burst gets every missed event once, and only its own."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from alerts.actions import review_alert
from alerts.models import AlertEvent
from bankwatch.asgi import application
from cameras.actions import create_camera
from tests.factories import make_alert, make_subject

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _connect(user, last_event_id: int | None = None) -> WebsocketCommunicator:
    path = "/ws/alerts/" if last_event_id is None else f"/ws/alerts/?last_event_id={last_event_id}"
    headers = [(b"origin", b"http://127.0.0.1"), (b"cookie", await database_sync_to_async(_cookie_for)(user))]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _drain(communicator: WebsocketCommunicator, quiet: float = 0.5) -> list[dict]:
    """Everything the socket sends until it has been quiet for `quiet` seconds.

    (receive_json_from's own timeout would cancel the consumer, so wait with receive_nothing.)
    """
    messages = []
    while not await communicator.receive_nothing(timeout=quiet):
        messages.append(await communicator.receive_json_from())
    return messages


async def test_a_socket_dropped_mid_burst_gets_every_alert_exactly_once_on_reconnect(cast, camera_with_token):
    """The burst runs on while the socket drops and while it reconnects: some alerts arrive live on the
    first socket, some only by replay, some race the replay (sent live and replayed); each is seen once."""
    camera = camera_with_token[0]
    subject = await database_sync_to_async(make_subject)()
    raise_one = database_sync_to_async(make_alert)
    dropped, raised_while_down = asyncio.Event(), asyncio.Event()
    first = await _connect(cast["alice"])

    async def burst() -> list[int]:
        ids = [(await raise_one(camera, subject)).pk for _ in range(3)]
        await dropped.wait()
        ids += [(await raise_one(camera, subject)).pk for _ in range(4)]  # nobody is listening
        raised_while_down.set()
        for _ in range(6):  # these race the reconnect and its replay
            ids.append((await raise_one(camera, subject)).pk)
            await asyncio.sleep(0.01)
        return ids

    burst_task = asyncio.create_task(burst())
    before_drop = [await first.receive_json_from(timeout=5) for _ in range(3)]
    await first.disconnect()
    dropped.set()
    await raised_while_down.wait()
    second = await _connect(cast["alice"], last_event_id=before_drop[-1]["event_id"])
    raised = await burst_task
    after = await _drain(second)
    await second.disconnect()

    alerts_after = [m["alert"]["id"] for m in after if m["type"] == "alert.created"]
    seen = [m["alert"]["id"] for m in before_drop] + alerts_after
    assert sorted(seen) == sorted(raised), "every alert exactly once across the two connections"
    event_ids = [m["event_id"] for m in after if "event_id" in m]
    assert len(event_ids) == len(set(event_ids))
    replayed = after[: [m["type"] for m in after].index("replay.done")]
    assert len(replayed) >= 4, "the alerts raised while no socket was open came back by replay"


async def test_a_resume_message_replays_what_was_missed(cast, camera_with_token):
    subject = await database_sync_to_async(make_subject)()
    alert = await database_sync_to_async(make_alert)(camera_with_token[0], subject)
    event = await database_sync_to_async(AlertEvent.objects.get)(alert=alert)
    socket = await _connect(cast["bob"])
    await socket.send_json_to({"type": "resume", "last_event_id": event.pk - 1})
    messages = await _drain(socket, 0.3)
    await socket.disconnect()
    assert messages[0] == {"type": "alert.created", "event_id": event.pk, "alert": event.payload}
    assert messages[-1]["type"] == "replay.done"


async def test_replay_gives_another_bank_nothing_and_the_police_only_escalations(cast, camera_with_token):
    subject = await database_sync_to_async(make_subject)()
    ours = await database_sync_to_async(make_alert)(camera_with_token[0], subject)
    mekong_camera, _ = await database_sync_to_async(create_camera)("Mekong Bank", "Can Tho", "Door")
    theirs = await database_sync_to_async(make_alert)(mekong_camera, subject)

    def escalate() -> None:
        alice = cast["alice"]
        review_alert(ours, alice, "confirm", version=1)
        review_alert(ours, alice, "escalate", version=2)

    await database_sync_to_async(escalate)()

    charlie = await _connect(cast["charlie"], last_event_id=0)
    charlies = await _drain(charlie, 0.3)
    await charlie.disconnect()
    assert {m["alert"]["id"] for m in charlies if "alert" in m} == {theirs.pk}

    paula = await _connect(cast["paula"], last_event_id=0)
    paulas = await _drain(paula, 0.3)
    await paula.disconnect()
    assert [(m["alert"]["id"], m["alert"]["status"]) for m in paulas if "alert" in m] == [(ours.pk, "escalated")]


async def test_a_bad_last_event_id_is_ignored_not_an_error(cast):
    socket = await _connect(cast["alice"])
    await socket.send_json_to({"type": "resume", "last_event_id": "drop table"})
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_replay_gives_branch_staff_only_their_branch(cast, camera_with_token):
    subject = await database_sync_to_async(make_subject)()
    ours = await database_sync_to_async(make_alert)(camera_with_token[0], subject)
    district3, _ = await database_sync_to_async(create_camera)("Saigon Bank", "District 3", "Door")
    await database_sync_to_async(make_alert)(district3, subject)
    bob = await _connect(cast["bob"], last_event_id=0)
    messages = await _drain(bob, 0.3)
    await bob.disconnect()
    assert [m["alert"]["id"] for m in messages if "alert" in m] == [ours.pk]


async def test_a_client_far_behind_gets_everything_in_pages(cast, camera_with_token, monkeypatch):
    from alerts import consumers

    monkeypatch.setattr(consumers, "REPLAY_PAGE", 2)
    subject = await database_sync_to_async(make_subject)()
    raised = [(await database_sync_to_async(make_alert)(camera_with_token[0], subject)).pk for _ in range(5)]
    socket = await _connect(cast["alice"], last_event_id=0)
    messages = await _drain(socket, 0.3)
    await socket.disconnect()
    assert [m["alert"]["id"] for m in messages if "alert" in m] == raised
    assert messages[-1]["type"] == "replay.done"


async def test_live_the_police_hear_only_the_escalation_and_another_bank_nothing(cast, camera_with_token):
    subject = await database_sync_to_async(make_subject)()
    paula, charlie = await _connect(cast["paula"]), await _connect(cast["charlie"])
    alert = await database_sync_to_async(make_alert)(camera_with_token[0], subject)

    def confirm_then_escalate() -> None:
        review_alert(alert, cast["alice"], "confirm", version=1)
        review_alert(alert, cast["alice"], "escalate", version=2)

    await database_sync_to_async(confirm_then_escalate)()
    heard = await _drain(paula, 0.3)
    assert [(m["type"], m["alert"]["status"]) for m in heard] == [("alert.updated", "escalated")]
    assert await charlie.receive_nothing(timeout=0.2)
    await paula.disconnect()
    await charlie.disconnect()


async def test_a_reconnecting_dashboard_hears_of_a_camera_tampered_and_one_recovered_while_it_was_away(
    cast, camera_with_token
):
    from cameras import health

    subject = await database_sync_to_async(make_subject)()
    alert = await database_sync_to_async(make_alert)(camera_with_token[0], subject)
    event = await database_sync_to_async(AlertEvent.objects.get)(alert=alert)

    def meanwhile() -> tuple[int, int, int]:
        door, lobby = camera_with_token[0], create_camera("Saigon Bank", "District 1", "Side door")[0]
        quiet = create_camera("Saigon Bank", "District 1", "Vault")[0]
        health.change_health(lobby.pk, "online", "")
        health.change_health(lobby.pk, "offline", "no frame for 15 s")
        health.change_health(door.pk, "obstructed", "the view is black")
        health.change_health(door.pk, "online", "")
        theirs = create_camera("Mekong Bank", "Can Tho", "Gate")[0]
        health.change_health(theirs.pk, "online", "")
        health.change_health(theirs.pk, "offline", "no frame for 15 s")
        return door.pk, lobby.pk, quiet.pk

    door, lobby, quiet = await database_sync_to_async(meanwhile)()
    socket = await _connect(cast["bob"], last_event_id=event.pk)
    messages = await _drain(socket, 0.3)
    await socket.disconnect()
    states = {m["camera"]["camera_id"]: m["camera"] for m in messages if m["type"] == "camera.updated"}
    assert set(states) == {door, lobby} and quiet not in states  # not one that never changed, nor another bank's
    assert states[lobby]["tampered"] is True and states[door]["status"] == "online"
    assert messages[-1]["type"] == "replay.done"
