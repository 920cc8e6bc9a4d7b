"""Camera credentials: stored only as hashes, rotated without downtime."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from cameras.models import Camera, hash_token


def rotate(capsys, camera: Camera, *extra: str) -> dict:
    call_command("rotate_camera_token", str(camera.pk), *extra)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_only_a_hash_of_the_token_is_stored(camera_with_token):
    camera, token = camera_with_token
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cameras_camera WHERE id = %s", [camera.pk])
        row = [str(value) for value in cursor.fetchone()]
    assert hash_token(token) in row
    assert not any(token in value for value in row)


def test_the_old_token_keeps_working_during_the_grace_period_and_not_after(camera_with_token, capsys):
    camera, old = camera_with_token
    out = rotate(capsys, camera, "--grace", "600")
    new = out["token"]
    assert new != old and Camera.authenticate(new) == camera
    assert Camera.authenticate(old) == camera  # still inside the grace period
    camera.refresh_from_db()
    assert camera.token_hash == hash_token(new) and camera.previous_token_hash == hash_token(old)
    assert out["old_token_valid_until"] == camera.previous_token_valid_until.isoformat()  # type: ignore[union-attr]
    Camera.objects.filter(pk=camera.pk).update(previous_token_valid_until=timezone.now() - timedelta(seconds=1))
    assert Camera.authenticate(old) is None
    assert Camera.authenticate(new) == camera
    assert AuditEntry.objects.filter(action="camera.token_rotated", object_id=str(camera.pk)).count() == 1


def test_grace_zero_revokes_the_old_token_at_once(camera_with_token, capsys):
    camera, old = camera_with_token
    out = rotate(capsys, camera, "--grace", "0")
    assert Camera.authenticate(old) is None and Camera.authenticate(out["token"]) == camera
    assert out["old_token_valid_until"] is None


def test_a_second_rotation_ends_the_first_tokens_grace(camera_with_token, capsys):
    camera, first = camera_with_token
    second = rotate(capsys, camera)["token"]
    third = rotate(capsys, camera)["token"]
    assert Camera.authenticate(first) is None
    assert Camera.authenticate(second) == camera and Camera.authenticate(third) == camera


def test_a_disabled_camera_is_refused_with_either_token(camera_with_token, capsys):
    camera, old = camera_with_token
    new = rotate(capsys, camera)["token"]
    Camera.objects.filter(pk=camera.pk).update(is_active=False)
    assert Camera.authenticate(old) is None and Camera.authenticate(new) is None


def test_rotating_an_unknown_camera_or_a_negative_grace_is_an_error(camera_with_token):
    camera, _ = camera_with_token
    with pytest.raises(CommandError, match="no camera"):
        call_command("rotate_camera_token", "999999")
    with pytest.raises(CommandError, match="grace"):
        call_command("rotate_camera_token", str(camera.pk), "--grace", "-1")
