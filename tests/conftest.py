"""Shared fixtures: a small cast of users with known roles, real photos, temporary media.

alice   – bank security at Saigon Bank (whole bank)
bob     – bank security at Saigon Bank, District 1 branch only
charlie – bank security at another bank (Mekong Bank): must never see Saigon Bank's data
paula   – police liaison, Ho Chi Minh City
carol   – watchlist curator
audrey  – auditor
dora    – data protection officer (privacy/): the admin's data protection pages, nothing of the alert flow
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.test.client import ClientMixin

from accounts.actions import create_user
from accounts.models import User
from cameras.actions import create_camera
from cameras.models import Camera

DATASET = (Path(settings.BASE_DIR).parent / "shared" / "datasets" / "deepface-unit").resolve()
PASSWORD = "correct-horse-battery"


def photo(name: str) -> bytes:
    return (DATASET / name).read_bytes()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """SQLite test database in a file, not shared-cache memory: there, a job thread writing while the
    test thread writes fails at once with "database table is locked" (no busy timeout), which the
    embedded mode's file database never does."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Counters kept in the cache (sign-in back-off, camera rate limits, nonces) start at zero."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]

    # Redis (integration tests) also holds the Celery queue: its keys expire on their own.
    if isinstance(cache, LocMemCache):
        cache.clear()
    yield
    if isinstance(cache, LocMemCache):
        cache.clear()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # The test client speaks plain HTTP; production's HTTPS redirect is tested in test_deploy_check.py.
    settings.SECURE_SSL_REDIRECT = False
    # PBKDF2 costs ~0.4 s a password on this machine; the cast alone would take seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Periodic jobs (retention, frame sweep) must not run on their own in the middle of a test.
    settings.EMBEDDED_BEAT = False
    # Nor may the embedded stream supervisor (tests start their own run_cameras).
    settings.EMBEDDED_CAMERAS = False


def verify_second_factor(client: ClientMixin, user: User) -> None:
    """Mark the client's session as verified with the user's TOTP device (created confirmed when missing)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _test_sign_ins_pass_two_factor(monkeypatch):
    """client.login() and client.force_login() stand for a finished sign-in, second factor included,
    so tests of police and curator pages need no codes. tests/test_accounts_security.py drives the
    real password + TOTP forms instead."""
    from accounts.twofactor import requires_second_factor

    original = ClientMixin._login  # type: ignore[attr-defined]

    def _login(self, user, backend=None):
        original(self, user, backend)
        if requires_second_factor(user):
            verify_second_factor(self, user)

    monkeypatch.setattr(ClientMixin, "_login", _login)


def shared_dataset(name: str) -> Path:
    """A folder of ../shared/datasets; the test is skipped, saying where it looked, when it is absent."""
    folder = DATASET.parent / name
    if not folder.exists():
        pytest.skip(f"the shared photo set is not at {folder}")
    return folder


@pytest.fixture
def dataset() -> Path:
    return shared_dataset(DATASET.name)


@pytest.fixture
def faces_dev() -> Path:
    """The larger development set: one folder per identity, pairs.csv, labels.csv (its README)."""
    return shared_dataset("faces-dev")


@pytest.fixture
def covered_faces_dev() -> Path:
    """Real photos of covered and uncovered faces, one folder per label, labels.csv (its README)."""
    return shared_dataset("covered-faces-dev")


@pytest.fixture
def camera_with_token(db) -> tuple[Camera, str]:
    return create_camera("Saigon Bank", "District 1", "Lobby")


@pytest.fixture(autouse=True)
def _fresh_camera_health():
    """Camera ids repeat from test to test: no camera inherits another's running health state."""
    from django.core.cache import cache

    from cameras import health

    cache.clear()
    health._references.clear()


@pytest.fixture(autouse=True)
def _fresh_branch_banks():
    """Branch ids repeat from test to test with other banks: the gallery's branch -> bank cache
    (right for a process's life in production, where a branch never moves) starts empty."""
    from enrollment import gallery

    gallery._branch_banks.clear()


@pytest.fixture(autouse=True)
def _banks_in_ho_chi_minh_city(request):
    """A bank gets no police jurisdiction unless someone sets one (never guessed); the cast's police
    liaison works in Ho Chi Minh City, so banks the tests create are put there, as a curator would.
    Tests of the bank without one are marked banks_without_jurisdiction."""
    from django.db.models.signals import pre_save

    from organizations.models import Bank

    if request.node.get_closest_marker("banks_without_jurisdiction"):
        yield
        return

    def _set(sender, instance, **kwargs):
        if instance.pk is None and not instance.jurisdiction:
            instance.jurisdiction = "Ho Chi Minh City"

    pre_save.connect(_set, sender=Bank, dispatch_uid="tests-bank-jurisdiction")
    yield
    pre_save.disconnect(sender=Bank, dispatch_uid="tests-bank-jurisdiction")


@pytest.fixture(autouse=True)
def _english_in_tests(settings):
    # The product speaks Vietnamese by default (locale/vi); tests assert English text, so they
    # run with English as the default and the cast reads English. tests/test_i18n.py checks vi.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def cast(db) -> dict[str, User]:
    users = {
        "alice": create_user("alice", "bank_security", PASSWORD, bank_name="Saigon Bank"),
        "bob": create_user("bob", "bank_security", PASSWORD, bank_name="Saigon Bank", branch_name="District 1"),
        "charlie": create_user("charlie", "bank_security", PASSWORD, bank_name="Mekong Bank"),
        "paula": create_user("paula", "police", PASSWORD, jurisdiction="Ho Chi Minh City"),
        "carol": create_user("carol", "curator", PASSWORD),
        "audrey": create_user("audrey", "auditor", PASSWORD),
        "dora": create_user("dora", "data_protection_officer", PASSWORD),
    }
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(language="en")
    for user in users.values():
        user.language = "en"
    return users


@pytest.fixture(autouse=True)
def _fresh_frame_queue(settings):
    """Each test starts with no frame in flight (alerts/frame_queue.py keeps them in memory without Redis),
    and every frame analysed: tests push the same picture again and again, which motion gating would skip
    (tests/test_motion.py turns it on)."""
    from alerts import frame_queue, pipeline

    pipeline._cameras.clear()  # cameras the job read in an earlier test, whose pk a new one may reuse
    settings.MOTION_GATING = False
    settings.CAMERA_AUTH_CACHE_SECONDS = 0  # tests disable and rotate tokens between requests
    frame_queue._store = None
    yield
    frame_queue._store = None
