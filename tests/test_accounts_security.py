"""Sign-in throttling, the second factor for police and curators, and session expiry.

These drive the real forms (a POST to /login/), not client.login(), which conftest lets past
the second factor."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from tests.conftest import PASSWORD


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# --- throttling -----------------------------------------------------------------


def test_five_wrong_passwords_lock_that_user_name_out_from_that_address(cast, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        assert sign_in(client, "alice", "wrong-password").status_code == 200
    assert sign_in(client, "alice", "wrong-password").status_code == 429  # the fifth locks
    response = sign_in(client, "alice")  # the right password, too late
    assert response.status_code == 429
    assert b'id="locked-out"' in response.content and b"15" in response.content
    assert signed_in_user_id(client) is None
    assert int(response["Retry-After"]) > 14 * 60
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "alice" and attempt.ip_address == "203.0.113.7" and attempt.failures_since_start >= 5
    entry = AuditEntry.objects.get(action="auth.locked_out")
    assert entry.actor_label == "alice" and entry.ip == "203.0.113.7"


def test_a_lockout_touches_neither_other_addresses_nor_other_user_names(cast, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(2):
        sign_in(attacker, "alice", "wrong-password")
    assert sign_in(attacker, "alice").status_code == 429
    colleague = Client(REMOTE_ADDR="198.51.100.1")
    assert sign_in(colleague, "alice").status_code == 302
    assert signed_in_user_id(colleague) == str(cast["alice"].pk)
    assert sign_in(attacker, "bob").status_code == 302


def test_a_lockout_ends_by_itself_and_a_good_sign_in_clears_the_count(cast, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(2):
        sign_in(client, "alice", "wrong-password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS + 1))
    assert sign_in(client, "alice").status_code == 302
    assert not AccessAttempt.objects.exists()


def test_the_admin_sign_in_is_throttled_too(cast, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        client.post("/admin/login/", {"username": "carol", "password": "wrong-password"})
    response = client.post("/admin/login/", {"username": "carol", "password": PASSWORD})
    assert signed_in_user_id(client) is None
    assert "Too many failed sign-ins" in response.content.decode()


# --- second factor --------------------------------------------------------------


def test_a_police_liaison_enrols_an_authenticator_before_reaching_any_page(cast, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code otherwise delays the next try by a second
    client = Client()
    assert sign_in(client, "paula").status_code == 302
    assert client.get("/dashboard/")["Location"].startswith("/account/two-factor/?next=/dashboard/")
    assert client.get("/api/schema/").status_code == 403
    page = client.get("/account/two-factor/?next=/dashboard/")
    device = TOTPDevice.objects.get(user=cast["paula"], confirmed=False)
    assert page.context["secret"] and page.context["otpauth_uri"].startswith("otpauth://totp/")
    assert client.post("/account/two-factor/", {"token": "000000", "next": "/dashboard/"}).status_code == 200
    response = client.post("/account/two-factor/", {"token": code_for(device), "next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action="auth.2fa_enrolled", actor=cast["paula"]).exists()
    assert AuditEntry.objects.filter(action="auth.2fa_failed", actor=cast["paula"]).exists()


def test_a_curator_gives_a_fresh_code_for_the_admin_and_a_used_code_is_refused(cast):
    device = TOTPDevice.objects.create(user=cast["carol"], name="phone", confirmed=True)
    first = Client()
    sign_in(first, "carol")
    assert first.get("/admin/")["Location"].startswith("/account/two-factor/")
    token = code_for(device)
    assert first.post("/account/two-factor/", {"token": token, "next": "/admin/"})["Location"] == "/admin/"
    assert first.get("/admin/").status_code == 200
    replay = Client()
    sign_in(replay, "carol")
    response = replay.post("/account/two-factor/", {"token": token, "next": "/admin/"})
    assert response.status_code == 200 and "wrong or expired" in response.content.decode()
    assert replay.get("/admin/").status_code == 302


def test_an_offsite_next_link_after_the_code_stays_on_site(cast):
    device = TOTPDevice.objects.create(user=cast["paula"], name="phone", confirmed=True)
    client = Client()
    sign_in(client, "paula")
    response = client.post("/account/two-factor/", {"token": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_bank_security_staff_need_no_second_factor(cast):
    client = Client()
    sign_in(client, "alice")
    assert client.get("/dashboard/").status_code == 200


def test_an_auditor_needs_the_second_factor_before_any_biometric_page(cast, camera_with_token):
    """Auditors read every bank's alerts and faces: a password alone is not enough."""
    from tests.factories import make_alert, make_subject

    alert = make_alert(camera_with_token[0], make_subject())
    client = Client()
    assert sign_in(client, "audrey").status_code == 302
    for url in ("/dashboard/", f"/alerts/{alert.pk}/", "/audit/"):
        assert client.get(url)["Location"].startswith("/account/two-factor/"), url
    assert client.get("/api/v1/alerts/").status_code == 403


def test_the_requirement_can_be_switched_off_for_a_closed_demo(cast, settings):
    settings.REQUIRE_2FA = False
    client = Client()
    sign_in(client, "paula")
    assert client.get("/dashboard/").status_code == 200


def _cookie(client: Client) -> bytes:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_police_socket_without_the_second_factor_is_closed(cast):
    from bankwatch.asgi import application

    def password_only() -> bytes:
        client = Client()
        sign_in(client, "paula")
        return _cookie(client)

    def verified() -> bytes:
        client = Client()
        client.force_login(cast["paula"])  # conftest verifies the session
        return _cookie(client)

    for cookie, expected in (
        (await database_sync_to_async(password_only)(), False),
        (await database_sync_to_async(verified)(), True),
    ):
        communicator = WebsocketCommunicator(
            application, "/ws/alerts/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
        )
        connected, _ = await communicator.connect()
        assert connected is expected
        await communicator.disconnect()


# --- sessions -------------------------------------------------------------------


def _age_session(client: Client, **seconds_ago: int) -> None:
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[f"bw_session_{key}"] = now - ago
    session.save()


def test_a_session_ends_after_idle_time(cast, settings):
    client = Client()
    client.force_login(cast["alice"])
    assert client.get("/dashboard/").status_code == 200
    _age_session(client, seen=settings.SESSION_IDLE_SECONDS + 5)
    assert client.get("/dashboard/")["Location"].startswith("/login/")
    assert signed_in_user_id(client) is None


def test_a_busy_session_still_ends_its_fixed_time_after_sign_in(cast, settings):
    client = Client()
    client.force_login(cast["alice"])
    client.get("/dashboard/")
    _age_session(client, started=settings.SESSION_COOKIE_AGE + 5, seen=10)
    assert client.get("/dashboard/")["Location"].startswith("/login/")


def test_the_session_cookie_dies_with_the_browser(cast):
    client = Client()
    response = sign_in(client, "alice")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and not cookie["max-age"] and not cookie["expires"]


# --- client addresses behind a proxy, per-user-name back-off ----------------------


def test_behind_a_trusted_proxy_the_address_is_read_from_the_right_of_x_forwarded_for(cast, settings):
    """A client that writes its own X-Forwarded-For entry each time (the proxy appends the real
    address) is still one address: five wrong passwords lock it out."""
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for attempt in range(4):
        forwarded = f"198.51.100.{attempt}, 203.0.113.7"
        assert sign_in(proxy, "alice", "wrong-password", HTTP_X_FORWARDED_FOR=forwarded).status_code == 200
    assert (
        sign_in(proxy, "alice", "wrong-password", HTTP_X_FORWARDED_FOR="198.51.100.4, 203.0.113.7").status_code == 429
    )
    response = sign_in(proxy, "alice", HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.7")
    assert response.status_code == 429 and signed_in_user_id(proxy) is None
    entry = AuditEntry.objects.get(action="auth.locked_out")
    assert entry.ip == "203.0.113.7"
    # A colleague behind the same proxy, at another address, is not affected.
    colleague = Client(REMOTE_ADDR="10.0.0.2")
    assert sign_in(colleague, "alice", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 302


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(cast, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    client = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(2):
        sign_in(client, "alice", "wrong-password", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
    assert sign_in(client, "alice", HTTP_X_FORWARDED_FOR="198.51.100.50").status_code == 429
    assert AuditEntry.objects.get(action="auth.locked_out").ip == "203.0.113.7"


def test_an_invalid_forwarded_address_is_stored_nowhere_and_the_lockout_holds(cast, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    assert sign_in(proxy, "alice", "wrong-password", HTTP_X_FORWARDED_FOR="not-an-address").status_code == 200
    assert sign_in(proxy, "alice", "wrong-password", HTTP_X_FORWARDED_FOR="not-an-address").status_code == 429
    assert sign_in(proxy, "alice", HTTP_X_FORWARDED_FOR="not-an-address").status_code == 429
    entry = AuditEntry.objects.get(action="auth.locked_out")
    assert entry.ip is None
    # daphne --proxy-headers hands the leftmost entry on as the peer address: refused as well.
    spoofed = Client(REMOTE_ADDR="not-an-address")
    assert sign_in(spoofed, "bob", "wrong-password").status_code == 200
    assert not AuditEntry.objects.exclude(ip=None).filter(actor_label="bob").exists()


def test_wrong_passwords_from_many_addresses_slow_that_user_name_down(cast, settings):
    """Each address stays under its own limit, but the user name as a whole backs off."""
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_BACKOFF_AFTER = 10
    settings.LOGIN_BACKOFF_MAX_SECONDS = 60
    for attempt in range(10):
        client = Client(REMOTE_ADDR=f"198.51.100.{attempt}")
        assert sign_in(client, "alice", "wrong-password").status_code == 200
    fresh = Client(REMOTE_ADDR="192.0.2.200")
    response = sign_in(fresh, "alice")  # even the right password waits out the back-off
    assert response.status_code == 429 and signed_in_user_id(fresh) is None
    assert "Retry-After" in response and 1 <= int(response["Retry-After"]) <= settings.LOGIN_BACKOFF_MAX_SECONDS
    assert sign_in(Client(REMOTE_ADDR="192.0.2.201"), "bob").status_code == 302  # other names unaffected


def test_the_authenticator_set_up_shows_a_qr_code_of_the_otpauth_link_drawn_on_the_server(cast):
    from accounts.views import qr_svg

    client = Client()
    sign_in(client, "paula")
    page = client.get("/account/two-factor/?next=/dashboard/")
    device = TOTPDevice.objects.get(user=cast["paula"], confirmed=False)
    html = page.content.decode()
    assert 'id="otp-qr"' in html and "<svg" in html.split('id="otp-qr"', 1)[1].split("</figure>", 1)[0]
    assert qr_svg(device.config_url) in html  # the code of this device's link, not another's
    assert qr_svg(device.config_url) != qr_svg(device.config_url + "x")
