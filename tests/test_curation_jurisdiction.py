"""Jurisdiction is never guessed: a bank gets one only when someone says which, a police user only
with --jurisdiction, and a bank without one cannot escalate, saying why."""

import json
import os

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from alerts.actions import ReviewError, review_alert
from cameras.actions import create_camera
from organizations.models import Bank
from tests.factories import make_alert, make_subject

pytestmark = pytest.mark.banks_without_jurisdiction


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_bank_created_by_create_camera_without_jurisdiction_has_none_and_the_json_line_says_so(db, capsys):
    call_command("create_camera", bank="Hanoi Bank", branch="Hoan Kiem", name="Lobby")
    out = _last_json(capsys)
    assert Bank.objects.get(name="Hanoi Bank").jurisdiction == "" and out["jurisdiction"] == ""
    assert out["warnings"] == [
        "bank 'Hanoi Bank' has no police jurisdiction, so its alerts cannot be escalated: "
        "set it in the admin (Banks) or create the bank's first camera with --jurisdiction"
    ]


def test_create_camera_with_jurisdiction_sets_it_for_a_new_bank_and_never_changes_an_existing_one(db, capsys):
    call_command("create_camera", bank="Hanoi Bank", branch="Hoan Kiem", name="Lobby", jurisdiction="Ha Noi")
    out = _last_json(capsys)
    assert Bank.objects.get(name="Hanoi Bank").jurisdiction == "Ha Noi" and out["warnings"] == []
    call_command("create_camera", bank="Hanoi Bank", branch="Ba Dinh", name="Door", jurisdiction="Hai Phong")
    out = _last_json(capsys)
    assert Bank.objects.get(name="Hanoi Bank").jurisdiction == "Ha Noi"
    assert out["warnings"] == [
        "bank 'Hanoi Bank' already has the jurisdiction 'Ha Noi'; --jurisdiction was not applied"
    ]


def test_create_user_refuses_a_police_user_without_jurisdiction_naming_the_flag(db, monkeypatch):
    monkeypatch.setitem(os.environ, "BANKWATCH_PASSWORD", "correct-horse-battery")
    with pytest.raises(CommandError) as refused:
        call_command("create_user", "hung", role="police")
    assert "--jurisdiction" in str(refused.value)
    assert not User.objects.filter(username="hung").exists()
    call_command("create_user", "hung", role="police", jurisdiction="Ha Noi")
    assert User.objects.get(username="hung").jurisdiction == "Ha Noi"


def test_a_bank_without_jurisdiction_cannot_escalate_and_says_why_until_one_is_set(cast):
    camera, _ = create_camera("Hanoi Bank", "Hoan Kiem", "Lobby")
    ha = User.objects.create_user("ha", role="bank_security", bank=camera.branch.bank)
    alert = make_alert(camera, make_subject())
    alert = review_alert(alert, ha, "start_review", version=alert.version)
    alert = review_alert(alert, ha, "confirm", version=alert.version)
    with pytest.raises(ReviewError) as refused:
        review_alert(alert, ha, "escalate", version=alert.version)
    assert str(refused.value) == (
        "Hanoi Bank has no police jurisdiction yet, so no police liaison would receive this escalation: "
        "ask an administrator to set the bank's jurisdiction, then escalate again."
    )
    alert.refresh_from_db()
    assert alert.status == "confirmed"
    Bank.objects.filter(pk=camera.branch.bank_id).update(jurisdiction="Ha Noi")
    alert.refresh_from_db()
    assert review_alert(alert, ha, "escalate", version=alert.version).status == "escalated"


def test_the_admin_lists_banks_without_a_jurisdiction(client, db):
    Bank.objects.create(name="Hanoi Bank")
    Bank.objects.create(name="Saigon Bank", jurisdiction="Ho Chi Minh City")
    admin = User.objects.create_superuser("root", password="correct-horse-battery")
    client.force_login(admin)
    page = client.get("/admin/organizations/bank/?jurisdiction__isempty=1").content.decode()
    assert "Hanoi Bank" in page and "Saigon Bank" not in page
