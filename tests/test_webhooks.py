"""Webhooks against a real HTTP receiver on localhost: each event of a bank reaches its endpoint
signed, is retried with back-off until it is answered, is logged attempt by attempt, can be read
and replayed by the bank's administrators only, and never holds up the recognition job."""

import json
import time
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from alerts.actions import review_alert
from audit.models import AuditEntry
from bankwatch.jobs import wait_idle
from cameras.actions import create_camera
from cases.actions import close_case, open_case
from integrations import webhooks
from integrations.actions import add_webhook, create_api_key
from integrations.models import Webhook, WebhookDelivery
from tests.factories import make_alert, make_subject
from tests.webhook_receiver import Receiver, serve

pytestmark = pytest.mark.django_db(transaction=True)  # jobs run on threads after commit, as in production


@pytest.fixture
def receiver(transactional_db) -> Iterator[Receiver]:
    found = Receiver()
    server = serve(found)
    yield found
    wait_idle(30)  # no delivery job of this test may outlive its database
    server.shutdown()


def _deliver_until_settled(rounds: int = 40) -> None:
    """What the beat does every 10 s, quickly: queue the due retries and let them run."""
    for _ in range(rounds):
        wait_idle(30)
        if not WebhookDelivery.objects.filter(status__in=["pending", "retrying"]).exists():
            return
        webhooks.retry_due()
        time.sleep(0.05)


def test_add_webhook_prints_its_secret_once_and_refuses_plain_http_off_loopback(cast):
    out = StringIO()
    call_command("add_webhook", "--url", "https://vms.saigonbank.vn/hooks", "--bank", "Saigon Bank", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["secret"].startswith("whsec_")
    assert printed["secret"] not in Webhook.objects.get(pk=printed["webhook_id"]).secret  # stored encrypted
    with pytest.raises(CommandError, match="https"):
        call_command("add_webhook", "--url", "http://10.0.0.9/hooks", "--bank", "Saigon Bank", stdout=StringIO())


def test_an_alert_reaches_its_banks_webhook_signed_and_after_two_500s_on_the_third_try(cast, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05
    receiver.statuses = [500, 500, 200]
    _, secret = add_webhook(receiver.url, bank_name="Saigon Bank", events=("alert.created",))
    camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    alert = make_alert(camera, make_subject())
    _deliver_until_settled()

    assert receiver.wait_for(3) and len(receiver.requests) == 3
    for got in receiver.requests:
        assert webhooks.verify(secret, got.body, got.headers["BankWatch-Signature"])
        assert not webhooks.verify("whsec_wrong", got.body, got.headers["BankWatch-Signature"])
    event = json.loads(receiver.requests[-1].body)
    assert event["type"] == "alert.created" and event["data"]["id"] == alert.pk
    assert set(event) == {"type", "id", "occurred_at", "data"}
    assert event["data"]["images"]["probe"] == f"{settings.PUBLIC_URL}/api/v1/alerts/{alert.pk}/images/probe"
    assert "probe_crop" not in receiver.requests[-1].body.decode() and b"\xff\xd8" not in receiver.requests[-1].body
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert [(a.number, a.status_code) for a in delivery.attempt_log.all()] == [(1, 500), (2, 500), (3, 200)]
    assert all(a.response_ms >= 0 for a in delivery.attempt_log.all())


def test_another_banks_webhook_hears_nothing_and_the_police_hear_only_what_they_see(cast, receiver):
    mekong = Receiver()
    server = serve(mekong)
    try:
        add_webhook(mekong.url, bank_name="Mekong Bank")
        create_camera("Mekong Bank", "Can Tho", "Door")
        add_webhook(receiver.url, jurisdiction="Ho Chi Minh City")
        camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
        alert = make_alert(camera, make_subject())
        wait_idle(30)
        assert receiver.requests == [] and mekong.requests == []  # a new alert is the bank's alone
        alert = review_alert(alert, cast["alice"], "confirm", version=alert.version)
        alert = review_alert(alert, cast["alice"], "escalate", version=alert.version)
        case = open_case(alert, cast["paula"], version=alert.version)
        alert.refresh_from_db()
        close_case(case, cast["paula"], "arrested", version=alert.version)
        _deliver_until_settled()
        types = [json.loads(got.body)["type"] for got in receiver.requests]
        assert "case.opened" in types and "case.closed" in types and types.count("alert.updated") >= 2
        assert mekong.requests == []
    finally:
        server.shutdown()


def test_a_slow_receiver_does_not_slow_the_recognition_job(cast, receiver, dataset, settings, monkeypatch):
    from alerts import pipeline
    from alerts.ingest import store_pixels
    from alerts.samples import compose, load
    from recognition.engine import get_engine
    from tests.factories import enroll, recorded_frames

    settings.AGREEMENT_STRONG_MARGIN = 0.0  # one matching frame raises the alert
    settings.WEBHOOK_TIMEOUT_SECONDS = 10
    receiver.delay = 3.0
    add_webhook(receiver.url, bank_name="Saigon Bank", events=("alert.created",))
    camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    enroll(make_subject("Tran Van Robber"), "img1.jpg")
    get_engine()
    with monkeypatch.context() as patch:  # the frames' jobs, to run them here and time them
        patch.setattr("alerts.ingest.enqueue", lambda name, *args: None)
        queued = recorded_frames(patch)
        store_pixels(camera, compose([load(dataset / "img2.jpg")]), captured_at=timezone.now())
        store_pixels(camera, compose([load(dataset / "img4.jpg")]), captured_at=timezone.now())
    started = time.monotonic()
    outcome = pipeline.process_frame(*queued[0])
    took_first = time.monotonic() - started
    assert outcome is not None and outcome.results[0][0] == "raised"
    assert receiver.wait_for(1, timeout=10)  # the delivery started, and hangs for 3 s
    started = time.monotonic()
    pipeline.process_frame(*queued[1])  # the next frame, while the receiver is still busy
    took_second = time.monotonic() - started
    print(f"\nrecognition job with a 3 s webhook receiver: {took_first * 1000:.0f} ms, then {took_second * 1000:.0f} ms")
    assert took_first < 2.0 and took_second < 2.0
    assert WebhookDelivery.objects.get().status in ("pending", "delivered")
    wait_idle(30)
    assert WebhookDelivery.objects.get().status == "delivered"


def test_the_delivery_log_is_read_and_replayed_by_the_banks_administrators_only(cast, receiver):
    webhook, _ = add_webhook(receiver.url, bank_name="Saigon Bank")
    camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    make_alert(camera, make_subject())
    _deliver_until_settled()
    delivery = WebhookDelivery.objects.get()
    _, admin = create_api_key("saigon-admin", "bank_security", bank_name="Saigon Bank", admin=True)
    _, reader = create_api_key("saigon-vms", "bank_security", bank_name="Saigon Bank")
    _, other = create_api_key("mekong-admin", "bank_security", bank_name="Mekong Bank", admin=True)
    as_admin = Client(HTTP_AUTHORIZATION=f"Api-Key {admin}")
    log = as_admin.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/").json()
    assert [d["id"] for d in log["results"]] == [delivery.pk]
    assert log["results"][0]["attempt_log"][0]["status_code"] == 200
    assert "secret" not in json.dumps(as_admin.get("/api/v1/webhooks/").json())
    for outsider in (reader, other):
        client = Client(HTTP_AUTHORIZATION=f"Api-Key {outsider}")
        assert client.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/").status_code in (403, 404)
        assert client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay").status_code in (403, 404)
    assert WebhookDelivery.objects.count() == 1
    replayed = as_admin.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay")
    assert replayed.status_code == 202, replayed.content
    _deliver_until_settled()
    assert len(receiver.requests) == 2
    assert json.loads(receiver.requests[1].body)["id"] == json.loads(receiver.requests[0].body)["id"]


def test_a_delivery_that_never_succeeds_fails_after_its_retry_window(cast, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05
    settings.WEBHOOK_RETRY_HOURS = 0.3 / 3600  # 0.3 s instead of a day
    receiver.statuses = [503]
    add_webhook(receiver.url, bank_name="Saigon Bank")
    camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    make_alert(camera, make_subject())
    _deliver_until_settled()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts >= 2 and delivery.last_status_code == 503


def test_an_alert_nobody_acknowledges_reaches_the_webhook_as_alert_unacknowledged(cast, receiver):
    from datetime import timedelta

    from alerts.acknowledgement import check_acknowledgements

    add_webhook(receiver.url, bank_name="Saigon Bank", events=("alert.unacknowledged",))
    camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    subject = make_subject()
    subject.watchlist.acknowledge_within_seconds = 60
    subject.watchlist.save()
    alert = make_alert(camera, subject)
    assert check_acknowledgements(alert.created_at + timedelta(seconds=61)) == {"reminded": 1, "escalated": 0}
    _deliver_until_settled()
    [got] = receiver.requests
    event = json.loads(got.body)
    assert event["type"] == "alert.unacknowledged" and event["data"]["id"] == alert.pk
    assert event["data"]["status"] == "new"


def test_settled_deliveries_are_forgotten_after_the_retention_days(cast, receiver, settings):
    from datetime import timedelta

    settings.RETENTION_WEBHOOK_DAYS = 7
    add_webhook(receiver.url, bank_name="Saigon Bank", events=("alert.created",))
    camera, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    make_alert(camera, make_subject())
    _deliver_until_settled()
    delivery = WebhookDelivery.objects.get()
    assert webhooks.purge_log(delivery.created_at + timedelta(days=6)) == 0
    assert webhooks.purge_log(delivery.created_at + timedelta(days=7, seconds=1)) == 2  # the delivery and its attempt
    assert not WebhookDelivery.objects.exists()
    assert AuditEntry.objects.filter(action="webhook.log_purged", actor_label="retention").count() == 1


def test_a_covered_face_event_goes_out_as_covered_created_naming_no_one(cast, receiver):
    from tests.factories import make_covered_event

    add_webhook(receiver.url, bank_name="Saigon Bank", events=("covered.created",))
    camera, _ = create_camera("Saigon Bank", "District 1", "Door", role="entrance")
    event_row = make_covered_event(camera, labels=("helmet",))
    _deliver_until_settled()
    [got] = receiver.requests
    event = json.loads(got.body)
    assert event["type"] == "covered.created" and event["data"]["id"] == event_row.pk
    assert event["data"]["subject"] is None and event["data"]["covering"]["labels"] == ["helmet"]
