"""MQTT events (BANKWATCH_MQTT_URL, e.g. mqtt://user:pass@broker:1883 or mqtts://…): the convention
of Frigate, Home Assistant and Node-RED, and one of ONVIF Profile M's transports.

Every event goes to `bankwatch/<bank slug>/<branch slug>/<event type>` at QoS 1 (at least once),
not retained. One paho-mqtt client per process keeps the connection, reconnecting with back-off
(1 s doubling to 30 s); a publish waits at most BANKWATCH_MQTT_TIMEOUT_SECONDS for the broker's
PUBACK and otherwise fails its job (logged). A match carries ONVIF's face-recognition fields
under "onvif" (integrations/tasks.py onvif_face).
"""

import json
import os
import socket
import ssl
import threading
import time
import unicodedata
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from django.conf import settings
from django.utils.text import slugify

_client: paho.Client | None = None
_client_url = ""
_lock = threading.Lock()


def slug(name: str) -> str:
    """ASCII topic level: "Ngân hàng Sài Gòn" -> "ngan-hang-sai-gon" (đ/Đ are not decomposed by NFKD)."""
    name = name.replace("đ", "d").replace("Đ", "D")
    return slugify(unicodedata.normalize("NFKD", name)) or "unnamed"


def topic(bank: str, branch: str, event_type: str) -> str:
    return f"{settings.MQTT_TOPIC_PREFIX}/{slug(bank)}/{slug(branch)}/{event_type}"


def _connect(url: str) -> paho.Client:
    parts = urlsplit(url)
    # Unique per process: a broker drops the older of two connections with one client id.
    client_id = f"bankwatch-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme == "mqtts":
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.connect_async(parts.hostname or "127.0.0.1", parts.port or (8883 if parts.scheme == "mqtts" else 1883))
    client.loop_start()  # its network thread reconnects by itself
    return client


def client() -> paho.Client:
    global _client, _client_url
    with _lock:
        if _client is None or _client_url != settings.MQTT_URL:
            if _client is not None:
                _client.loop_stop()
                _client.disconnect()
            _client, _client_url = _connect(settings.MQTT_URL), settings.MQTT_URL
        return _client


def publish(bank: str, branch: str, event: dict[str, Any]) -> str:
    """Publish one event at QoS 1 and wait for the broker's acknowledgement; the topic."""
    name = topic(bank, branch, event["type"])
    connection = client()
    # paho refuses a publish while (re)connecting: wait for the connection as long as for an acknowledgement.
    deadline = time.monotonic() + settings.MQTT_TIMEOUT_SECONDS
    while not connection.is_connected() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not connection.is_connected():
        raise ConnectionError(f"MQTT broker not reachable within {settings.MQTT_TIMEOUT_SECONDS} s; {name} not sent")
    info = connection.publish(name, json.dumps(event, separators=(",", ":")), qos=1)
    info.wait_for_publish(timeout=settings.MQTT_TIMEOUT_SECONDS)
    if not info.is_published():
        raise TimeoutError(f"MQTT broker did not acknowledge {name} within {settings.MQTT_TIMEOUT_SECONDS} s")
    return name
