"""Someone always hears it: an alert nobody takes into review within its watchlist's deadline is
announced again, mailed to the branch's security staff, then escalated to the bank's security
managers; an escalation to the police mails the police liaisons. Real SMTP (aiosmtpd on localhost)."""

import email
import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from accounts.actions import create_user
from accounts.models import User
from alerts import actions
from alerts.acknowledgement import check_acknowledgements
from alerts.actions import review_alert
from alerts.models import Alert, AlertEvent
from audit.models import AuditEntry
from bankwatch import jobs
from tests.conftest import PASSWORD
from tests.factories import make_alert, make_subject

pytestmark = pytest.mark.django_db


class Inbox:
    """An SMTP server on localhost that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((sorted(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[list[str], email.message.Message]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def inbox(settings):
    server = Inbox()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.controller.stop()


@pytest.fixture
def jobs_inline(monkeypatch):
    """Queued jobs run at once, after the (test's) commit, in this thread."""
    monkeypatch.setattr(actions, "enqueue", lambda name, *args: jobs.run(name, *args))


@pytest.fixture
def staff(cast) -> dict[str, User]:
    people = dict(cast)
    people["mai"] = create_user("mai", "bank_security", PASSWORD, bank_name="Saigon Bank")
    people["dan"] = create_user("dan", "bank_security", PASSWORD, bank_name="Saigon Bank", branch_name="District 3")
    User.objects.filter(username="mai").update(is_security_manager=True)
    for user in people.values():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@example.vn", language="en")
    return people


def _plain(message: email.message.Message) -> str:
    assert not message.is_multipart()  # no image, no attachment of any kind
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_an_alert_nobody_acknowledges_is_announced_again_then_mailed_to_the_branch_then_to_the_manager(
    staff, camera_with_token, inbox, jobs_inline, django_capture_on_commit_callbacks
):
    subject = make_subject()
    subject.watchlist.acknowledge_within_seconds = 60
    subject.watchlist.save()
    alert = make_alert(camera_with_token[0], subject)
    raised = alert.created_at

    with django_capture_on_commit_callbacks(execute=True):
        assert check_acknowledgements(raised + timedelta(seconds=30)) == {"reminded": 0, "escalated": 0}
    assert inbox.messages == []

    with django_capture_on_commit_callbacks(execute=True):
        assert check_acknowledgements(raised + timedelta(seconds=61)) == {"reminded": 1, "escalated": 0}
        assert check_acknowledgements(raised + timedelta(seconds=62)) == {"reminded": 0, "escalated": 0}  # once
    [(to, message)] = inbox.wait(1)
    assert to == ["alice@example.vn", "bob@example.vn", "mai@example.vn"]  # not District 3's dan, not Mekong Bank's
    assert f"#{alert.pk}" in message["Subject"] and "not acknowledged" in message["Subject"]
    body = _plain(message)
    assert f"/alerts/{alert.pk}/" in body and subject.watchlist.name in body
    assert subject.full_name not in body + message["Subject"]  # the mail names the watchlist, not the person
    assert AuditEntry.objects.filter(action="alert.unacknowledged", object_id=str(alert.pk)).count() == 1
    assert AlertEvent.objects.filter(alert=alert, kind="alert.unacknowledged").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert check_acknowledgements(raised + timedelta(seconds=121)) == {"reminded": 0, "escalated": 1}
    messages = inbox.wait(2)
    assert len(messages) == 2 and messages[1][0] == ["mai@example.vn"]
    assert "escalated to you" in messages[1][1]["Subject"]
    assert AuditEntry.objects.filter(action="alert.unacknowledged_escalated", object_id=str(alert.pk)).count() == 1
    alert.refresh_from_db()
    assert alert.status == Alert.Status.NEW and alert.unacknowledged_stage == 2


def test_an_alert_taken_into_review_in_time_or_of_a_watchlist_without_a_deadline_sends_nothing(
    staff, camera_with_token, inbox, jobs_inline, django_capture_on_commit_callbacks
):
    timed = make_subject()
    timed.watchlist.acknowledge_within_seconds = 60
    timed.watchlist.save()
    reviewed = make_alert(camera_with_token[0], timed)
    review_alert(reviewed, staff["bob"], "start_review", version=reviewed.version)
    untimed = make_subject("Tran Thi B", watchlist="Missing persons")
    quiet = make_alert(camera_with_token[0], untimed)
    with django_capture_on_commit_callbacks(execute=True):
        assert check_acknowledgements(quiet.created_at + timedelta(days=1)) == {"reminded": 0, "escalated": 0}
    assert inbox.messages == []
    assert not AuditEntry.objects.filter(action__startswith="alert.unacknowledged").exists()


def test_an_escalation_to_the_police_mails_the_liaisons_of_the_banks_jurisdiction(
    staff, camera_with_token, inbox, jobs_inline, django_capture_on_commit_callbacks
):
    alert = make_alert(camera_with_token[0], make_subject())
    with django_capture_on_commit_callbacks(execute=True):
        alert = review_alert(alert, staff["alice"], "confirm", version=alert.version)
    assert inbox.messages == []  # confirming alone tells the police nothing
    with django_capture_on_commit_callbacks(execute=True):
        review_alert(alert, staff["alice"], "escalate", version=alert.version)
    [(to, message)] = inbox.wait(1)
    assert to == ["paula@example.vn"]
    assert "escalated to the police" in message["Subject"] and f"/alerts/{alert.pk}/" in _plain(message)
