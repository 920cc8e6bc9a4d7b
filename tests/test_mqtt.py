"""MQTT against the real Mosquitto on 127.0.0.1:1883 (skipped, saying so, where none listens):
an alert is published once, at QoS 1, to bankwatch/<bank>/<branch>/<event type> with ONVIF's
face-recognition fields, and a subscriber of another bank hears nothing."""

import json
import socket
import time
import uuid
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest

from bankwatch.jobs import wait_idle
from cameras.actions import create_camera
from integrations import mqtt
from tests.factories import make_alert, make_subject

BROKER = ("127.0.0.1", 1883)


def _broker_listening() -> bool:
    try:
        socket.create_connection(BROKER, timeout=1).close()
    except OSError:
        return False
    return True


class Subscriber:
    def __init__(self, pattern: str) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda client, userdata, message: self.messages.append(message)
        subscribed: list[bool] = []
        self.client.on_subscribe = lambda *args: subscribed.append(True)
        self.client.connect(*BROKER)
        self.client.loop_start()
        self.client.subscribe(pattern, qos=1)
        deadline = time.monotonic() + 5
        while not subscribed and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def broker(settings, transactional_db) -> Iterator[str]:
    if not _broker_listening():
        pytest.skip(f"no MQTT broker listens on {BROKER[0]}:{BROKER[1]} (Mosquitto runs there on python-svc machines)")
    prefix = f"bankwatch-test-{uuid.uuid4().hex[:8]}"  # other test runs on the same broker stay apart
    settings.MQTT_URL = f"mqtt://{BROKER[0]}:{BROKER[1]}"
    settings.MQTT_TOPIC_PREFIX = prefix
    yield prefix
    wait_idle(30)


def test_topic_levels_are_ascii_slugs_of_the_vietnamese_names(settings):
    settings.MQTT_TOPIC_PREFIX = "bankwatch"
    assert mqtt.topic("Ngân hàng Đà Nẵng", "Chi nhánh Hải Châu", "alert.created") == (
        "bankwatch/ngan-hang-da-nang/chi-nhanh-hai-chau/alert.created"
    )


def test_an_alert_is_published_once_to_its_topic_and_another_banks_subscriber_hears_nothing(broker):
    ours = Subscriber(f"{broker}/saigon-bank/#")
    theirs = Subscriber(f"{broker}/mekong-bank/#")
    try:
        create_camera("Mekong Bank", "Can Tho", "Door")
        camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
        alert = make_alert(camera, make_subject("Tran Van Robber"))
        assert wait_idle(30)
        deadline = time.monotonic() + 5
        while not ours.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # anything more would have come by now
    finally:
        ours.close()
        theirs.close()
    created = [m for m in ours.messages if m.topic.endswith("/alert.created")]
    assert [m.topic for m in created] == [f"{broker}/saigon-bank/district-1/alert.created"]
    assert created[0].qos == 1 and not created[0].retain
    event = json.loads(created[0].payload)
    assert event["type"] == "alert.created" and event["data"]["id"] == alert.pk
    onvif = event["onvif"]
    x, y, w, h = alert.box
    assert alert.score is not None
    assert onvif["Topic"] == "tns1:RuleEngine/FaceRecognition/Recognition"
    assert onvif["Data"] == {
        "Likelihood": round(alert.score, 4),
        "EnrollmentID": f"subject-{alert.subject_id}",
        "Label": "Tran Van Robber",
        "BoundingBox": {"left": x, "top": y, "right": x + w, "bottom": y + h},
        "ImageUri": event["data"]["images"]["probe"],
    }
    assert onvif["Data"]["ImageUri"].startswith("http")
    assert theirs.messages == []


def test_the_first_event_of_a_fresh_process_waits_for_the_connection_and_is_not_lost(broker):
    mqtt._client = None  # as in a process that has published nothing yet
    ours = Subscriber(f"{broker}/#")
    try:
        assert mqtt.publish("Saigon Bank", "District 1", {"type": "camera.updated", "id": "x"}).endswith(
            "/saigon-bank/district-1/camera.updated"
        )
        deadline = time.monotonic() + 5
        while not ours.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ours.close()
    assert [json.loads(m.payload)["id"] for m in ours.messages] == ["x"]
