"""`manage.py check --deploy` is clean under production settings, and HTTPS is enforced there."""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings
from django.test import Client


def production_env(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANKWATCH_", "DEBUG"))}
    return {
        **env,
        "SECRET_KEY": secrets.token_urlsafe(50),
        # Nothing listens on port 1: the deploy checks must not need the services.
        "DATABASE_URL": "postgres://bankwatch:secret@127.0.0.1:1/bankwatch",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "BANKWATCH_S3_BUCKET": "bankwatch-evidence",
        "ALLOWED_HOSTS": "bankwatch.example.vn",
        "CSRF_TRUSTED_ORIGINS": "https://bankwatch.example.vn",
        "BANKWATCH_DATA_DIR": data_dir,
        "BANKWATCH_MODELS_DIR": str(settings.MODELS_DIR),
    }


def test_check_deploy_reports_no_issue_under_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=production_env(str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output


def test_production_redirects_plain_http_to_https_but_lets_health_probes_through(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    response = Client().get("/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/login/"
    assert Client().get("/healthz").status_code in (200, 503)
    secure = Client().get("/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_media_live_in_a_private_bucket_behind_short_lived_signed_urls(tmp_path):
    code = "import json; from django.conf import settings; print(json.dumps(settings.STORAGES['default']))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=production_env(str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout.strip().splitlines()[-1])
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "bankwatch-evidence"
    assert options["default_acl"] == "private" and options["querystring_auth"] is True
    assert 0 < options["querystring_expire"] <= 300
