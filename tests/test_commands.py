import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from cameras.models import Camera, hash_token


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_create_camera_makes_bank_branch_and_a_hashed_token(db, capsys):
    call_command("create_camera", bank="Saigon Bank", branch="District 1", name="Lobby")
    out = _last_json(capsys)
    camera = Camera.objects.get(pk=out["camera_id"])
    assert camera.branch.bank.name == "Saigon Bank" and camera.branch.name == "District 1"
    assert camera.token_hash == hash_token(out["token"]) != out["token"]
    assert Camera.authenticate(out["token"]) == camera
    assert Camera.authenticate(out["token"] + "x") is None


def test_create_user_takes_the_password_from_the_environment(db, capsys, monkeypatch):
    monkeypatch.setenv("BANKWATCH_PASSWORD", "a-long-password-1")
    call_command("create_user", "alice", role="bank_security", bank="Saigon Bank", branch="District 1")
    out = _last_json(capsys)
    user = User.objects.get(pk=out["user_id"])
    assert out == {"user_id": user.pk, "username": "alice", "role": "bank_security"}
    assert user.check_password("a-long-password-1")
    assert (
        user.bank is not None
        and user.bank.name == "Saigon Bank"
        and [b.name for b in user.branches.all()] == ["District 1"]
    )


def test_create_user_refuses_without_a_password(db, monkeypatch):
    monkeypatch.delenv("BANKWATCH_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="BANKWATCH_PASSWORD"):
        call_command("create_user", "x", role="auditor")
    assert not User.objects.exists()


def test_bank_security_needs_a_bank(db, monkeypatch):
    monkeypatch.setenv("BANKWATCH_PASSWORD", "a-long-password-1")
    with pytest.raises(CommandError, match="--bank"):
        call_command("create_user", "x", role="bank_security")


def test_ensure_admin_generates_a_password_once(db, capsys, monkeypatch):
    monkeypatch.delenv("BANKWATCH_ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    first = _last_json(capsys)
    assert User.objects.get(username="admin").check_password(first["password"])
    call_command("ensure_admin")
    assert _last_json(capsys)["password"] is None
