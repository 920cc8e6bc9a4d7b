"""Files and secrets on disk: the data folder and every folder under it 0700, every file 0600,
so another local account reads no session, TOTP secret, template or face crop."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from django.conf import settings

SCRIPT = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
connection.ensure_connection()
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE probe (x int)")
default_storage.save("alerts/crops/2026/x.jpg", ContentFile(b"face"))
from django.core.files.uploadedfile import SimpleUploadedFile
default_storage.save("enrollment/photos/y.jpg", SimpleUploadedFile("y.jpg", b"photo"))
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_folder_is_private_to_the_service_account(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")} | {
        "BANKWATCH_DATA_DIR": str(data),
        "BANKWATCH_MODELS_DIR": str(settings.MODELS_DIR),
    }
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    # a permissive umask, as a service account often has
    done = subprocess.run(
        ["sh", "-c", f"umask 022 && exec {sys.executable} {manage} shell -c '{SCRIPT}'"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _mode(data) == 0o700
    folders = [p for p in data.rglob("*") if p.is_dir()]
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"secret_key", "db.sqlite3", "x.jpg", "y.jpg"}
    assert {str(p.relative_to(data)): oct(_mode(p)) for p in folders if _mode(p) != 0o700} == {}
    assert {str(p.relative_to(data)): oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}


def test_an_existing_data_folder_is_made_private_at_start(tmp_path):
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    (data / "media").mkdir(mode=0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
        "BANKWATCH_DATA_DIR": str(data),
        "BANKWATCH_MODELS_DIR": str(settings.MODELS_DIR),
    }
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    subprocess.run([sys.executable, manage, "check"], env=env, check=True, capture_output=True)
    assert _mode(data) == 0o700 and _mode(data / "media") == 0o700


def test_uploads_are_saved_owner_only(settings):
    assert settings.FILE_UPLOAD_PERMISSIONS == 0o600
    assert settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS == 0o700
