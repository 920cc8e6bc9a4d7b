"""Browser tests: the real server (daphne, embedded mode) in a subprocess, driven by Debian's chromium.

The server runs against its own temporary data folder (SQLite, media, the in-memory channel
layer and the recognition worker inside the server process), exactly as `make run` serves.
Skipped, saying why, where /usr/bin/chromium or the shared photos are absent.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from benchmarks.harness import stop_process

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery"
TOTP_KEY = "3132333435363738393031323334353637383930"  # paula's authenticator, known to the test

SEED = """
import json
from pathlib import Path
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.actions import create_user
from bankwatch import jobs
from cameras.actions import create_camera
from cameras.devices import issue_pairing_code
from enrollment.actions import add_photo, create_subject, create_watchlist
from enrollment.models import ReferencePhoto

users = [
    create_user("alice", "bank_security", PASSWORD, bank_name="Saigon Bank"),
    create_user("charlie", "bank_security", PASSWORD, bank_name="Mekong Bank"),
    create_user("paula", "police", PASSWORD, jurisdiction="Ho Chi Minh City"),
    create_user("dung", "bank_security", PASSWORD, bank_name="Dong A Bank"),
]
for user in users:
    user.language = "en"
    user.save(update_fields=["language"])
TOTPDevice.objects.create(user=users[2], name="phone", confirmed=True, key=TOTP_KEY)
camera, token = create_camera("Saigon Bank", "District 1", "Lobby")
# Escalations need the bank's police jurisdiction (paula's) to be set.
from organizations.models import Bank
Bank.objects.filter(name="Saigon Bank").update(jurisdiction="Ho Chi Minh City")
create_camera("Mekong Bank", "Can Tho", "Door")
# The entrance of another bank, so that its covered-face events never reach alice's queue.
door, door_token = create_camera("Dong A Bank", "District 5", "Front door", role="entrance")
display_code, _ = issue_pairing_code(door, "display")
watchlist = create_watchlist("Bank robbers", colour="#b3261e", sound="siren")
subject = create_subject(watchlist, "Tran Van Robber", legal_basis="Warrant 12/2026 of the HCMC People's Court")
add_photo(subject, (Path(DATASET) / "img1.jpg").read_bytes(), "img1.jpg")
jobs.wait_idle(120)
assert ReferencePhoto.objects.get().status == "accepted", ReferencePhoto.objects.get().rejection_reason
print("SEED" + json.dumps({"token": token, "door_token": door_token, "door_id": door.pk, "display_code": display_code}))
"""


@dataclass
class Server:
    url: str
    camera_token: str
    log: Path
    env: dict[str, str]
    door_token: str = ""
    door_id: int = 0
    display_code: str = ""
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Stop the server process (a test of what the pages do when the server goes away)."""
        if self.process is not None:
            stop_process(self.process, timeout=10)
            self.process = None

    def start(self) -> None:
        """Start the server (again) on the same address and data folder; returns once it answers."""
        self.process = _spawn(self.url, self.env, self.log)

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        """Run a manage.py command against the server's data folder; its stdout."""
        done = subprocess.run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
            env=self.env | (extra_env or {}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def push_frame(self, image: Path, token: str = "") -> dict[str, Any]:
        """POST a camera frame to the frame API, as a camera does (the lobby camera unless `token`)."""
        boundary = "bankwatch-test-boundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{image.name}"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + image.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(  # noqa: S310 - our own local server
            f"{self.url}/api/v1/frames",
            data=body,
            headers={
                "Authorization": f"Camera {token or self.camera_token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local server
            return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent: `make browser-deps` installs Debian's chromium")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "deepface-unit"


def prepare_server(data: Path, extra_env: dict[str, str] | None = None) -> Server:
    """A migrated and seeded data folder and the Server that will serve it (not started yet)."""
    env = (
        {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "BANKWATCH_JOB_BACKEND")}
        | {
            "BANKWATCH_DATA_DIR": str(data),
            "BANKWATCH_MODELS_DIR": str(settings.MODELS_DIR),
            "DJANGO_SETTINGS_MODULE": "bankwatch.settings",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        | (extra_env or {})
    )
    python, manage = sys.executable, str(Path(settings.BASE_DIR) / "manage.py")
    subprocess.run([python, manage, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    script = f"PASSWORD={PASSWORD!r}\nTOTP_KEY={TOTP_KEY!r}\nDATASET={str(DATASET)!r}\n" + SEED
    seeded = subprocess.run([python, manage, "shell", "-c", script], env=env, capture_output=True, text=True)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    seed = json.loads(seeded.stdout.split("SEED", 1)[1])
    return Server(
        url=f"http://127.0.0.1:{_free_port()}",
        camera_token=seed["token"],
        log=data / "server.log",
        env=env,
        door_token=seed["door_token"],
        door_id=seed["door_id"],
        display_code=seed["display_code"],
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not DATASET.exists():
        pytest.skip(f"the shared photo set is not at {DATASET}")
    server = prepare_server(tmp_path_factory.mktemp("bankwatch-browser"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _spawn(url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """daphne serving `url` (http://127.0.0.1:PORT), once it answers; its output appended to `log`."""
    port = url.rsplit(":", 1)[1]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", port, "bankwatch.asgi:application"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login/", timeout=2):  # noqa: S310 - our own local server
                return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop_process(process, timeout=10)
                raise RuntimeError("the server did not start:\n" + log.read_text()[-3000:]) from None
            time.sleep(0.3)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
