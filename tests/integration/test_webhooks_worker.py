"""Webhooks in production mode: an alert raised in this process (PostgreSQL) is announced and
delivered by a real Celery worker through Redis, to a real HTTP receiver on localhost."""

import json

import pytest

from benchmarks.harness import wait_for
from cameras.actions import create_camera
from integrations import webhooks
from integrations.actions import add_webhook
from integrations.models import WebhookDelivery
from tests.factories import make_alert, make_subject
from tests.webhook_receiver import Receiver, serve

pytestmark = pytest.mark.integration


def test_a_celery_worker_delivers_an_alert_to_the_banks_webhook_signed(celery_worker):
    receiver = Receiver()
    server = serve(receiver)
    try:
        camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
        _, secret = add_webhook(receiver.url, bank_name="Saigon Bank", events=("alert.created",))
        alert = make_alert(camera, make_subject())  # commits: its feed event is queued to Redis
        assert receiver.wait_for(1, timeout=120), celery_worker.output()[-3000:]
        got = receiver.requests[0]
        assert webhooks.verify(secret, got.body, got.headers["BankWatch-Signature"])
        assert json.loads(got.body)["data"]["id"] == alert.pk
        delivered = wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").first(), timeout=30)
        assert delivered is not None and delivered.attempts == 1
    finally:
        server.shutdown()
