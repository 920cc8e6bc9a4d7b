import pytest
from django.core.exceptions import ImproperlyConfigured

from bankwatch.env import envbool, envchoice, envfloat, envint


def test_unset_variables_give_the_defaults(monkeypatch):
    monkeypatch.delenv("BW_TEST", raising=False)
    assert envint("BW_TEST", 7) == 7
    assert envbool("BW_TEST", True) is True
    assert envfloat("BW_TEST", 0.5) == 0.5


def test_it_reads_typed_values(monkeypatch):
    monkeypatch.setenv("BW_TEST", "42")
    assert envint("BW_TEST", 1) == 42
    monkeypatch.setenv("BW_TEST", "off")
    assert envbool("BW_TEST", True) is False


@pytest.mark.parametrize(
    "reader",
    [
        lambda: envint("BW_TEST", 1),
        lambda: envbool("BW_TEST", False),
        lambda: envfloat("BW_TEST", 0.1, 0.0, 1.0),
        lambda: envchoice("BW_TEST", "a", ("a", "b")),
    ],
)
def test_a_bad_value_raises_improperly_configured_naming_the_variable(monkeypatch, reader):
    monkeypatch.setenv("BW_TEST", "not-valid-9x")
    with pytest.raises(ImproperlyConfigured, match="BW_TEST='not-valid-9x'"):
        reader()


def test_django_refuses_to_start_with_a_bad_setting():
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='bankwatch.settings'; django.setup()",
        ],
        env={**__import__("os").environ, "BANKWATCH_JOB_THREADS": "zero"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "BANKWATCH_JOB_THREADS='zero'" in result.stderr


def test_behind_pgbouncer_django_opens_no_server_side_cursors():
    import json
    import subprocess
    import sys

    script = (
        "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE']='bankwatch.settings'; django.setup(); "
        "from django.conf import settings; print(json.dumps(settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']))"
    )
    found = {}
    for pooler in ("none", "pgbouncer"):
        env = {
            **__import__("os").environ,
            "DATABASE_URL": "postgres://bankwatch@127.0.0.1:6432/bankwatch",
            "BANKWATCH_DATABASE_POOLER": pooler,
        }
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        found[pooler] = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"none": False, "pgbouncer": True}
