"""In real Chromium: a camera frame becomes an alert on the open dashboard without a reload; the bank
confirms and escalates it by keyboard; the police see the escalation live; another bank never sees it."""

import hashlib
import json
import os
import time
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django_otp.oath import totp

from tests.browser.conftest import PASSWORD, TOTP_KEY, Server

pytestmark = pytest.mark.browser
DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "deepface-unit"
SCREENSHOTS = os.environ.get("BANKWATCH_SCREENSHOTS", "")  # e.g. docs/screenshots: also save the pictures


def _sign_in(browser: Any, server: Server, username: str) -> Any:
    # A browser in another time zone: the page still shows Ho Chi Minh City time.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB", timezone_id="Europe/Paris")
    page = context.new_page()
    page.frames_received = []  # every WebSocket message this page gets
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: page.frames_received.append(payload)))
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    if "/two-factor/" in page.url:
        page.fill("input[name=token]", f"{totp(bytes.fromhex(TOTP_KEY)):06d}")
        page.click("button[type=submit].primary")
    page.wait_for_url("**/dashboard/")
    page.wait_for_selector('#feed-status[data-state="up"]', timeout=15_000)
    page.evaluate("window.noReload = true")
    return page


def _alerts_in(frames: list[str], alert_id: int) -> list[dict[str, Any]]:
    messages = [json.loads(f) for f in frames]
    return [m for m in messages if m.get("alert", {}).get("id") == alert_id]


@pytest.fixture(scope="module")
def story(browser: Any, server: Server) -> dict[str, Any]:
    return {
        "alice": _sign_in(browser, server, "alice"),
        "charlie": _sign_in(browser, server, "charlie"),
        "paula": _sign_in(browser, server, "paula"),
    }


def test_a_frame_pushed_through_the_api_appears_on_the_open_dashboard_without_reload(server, story):
    alice = story["alice"]
    assert alice.locator("#alert-list .alert-card").count() == 0
    # Record the sound and the browser notification the page makes (headless Chromium shows neither).
    alice.evaluate(
        """() => {
        window.played = []; window.notified = [];
        window.Audio = class { constructor(src) { this.src = src; } play() { window.played.push(this.src); return Promise.resolve(); } };
        window.Notification = class { constructor(title, options) { window.notified.push(title); } };
        window.Notification.permission = "granted";
        window.Notification.requestPermission = () => Promise.resolve("granted");
    }"""
    )
    alice.click("#enable-alerts")
    for name in ("img2.jpg", "img5.jpg"):  # two frames of the subject: the agreement rule may want both
        server.push_frame(DATASET / name)
        time.sleep(1.0)
    row = alice.wait_for_selector("#alert-list .alert-card[data-alert-id]", timeout=60_000)
    story["alert_id"] = int(row.get_attribute("data-alert-id"))
    assert "Tran Van Robber" in row.inner_text()
    assert alice.evaluate("window.noReload") is True, "the page was not reloaded"
    created = alice.request.get(f"{server.url}/api/v1/alerts/{story['alert_id']}/").json()["created_at"]
    local = datetime.fromisoformat(created).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert local.strftime("%H:%M:%S") in row.inner_text()
    colour = alice.eval_on_selector("#alert-list .alert-card", "card => getComputedStyle(card).borderTopColor")
    assert colour == "rgb(179, 38, 30)"  # the watchlist's colour, #b3261e
    # The camera's face beside the subject's reference photo, both served, and the strength in words.
    for image in ("probe", "reference"):
        src = row.query_selector(f'img[data-field="{image}"]').get_attribute("src")
        assert alice.request.get(server.url + src).body()[:2] == b"\xff\xd8", image
    assert "match" in row.query_selector('[data-field="strength"]').inner_text()
    assert "threshold" in row.query_selector('[data-field="strength"]').get_attribute("title")
    assert alice.evaluate("window.played") == ["/static/sounds/siren.wav"]  # the watchlist's sound
    assert alice.request.get(f"{server.url}/static/sounds/siren.wav").body()[:4] == b"RIFF"
    assert alice.evaluate("window.notified") == ["New alert: Tran Van Robber"]
    if SCREENSHOTS:
        alice.wait_for_timeout(600)
        alice.screenshot(path=str(Path(SCREENSHOTS) / "dashboard.png"), full_page=True)


def test_the_bank_confirms_and_escalates_by_keyboard_and_the_police_see_it_live(server, story):
    alice, paula = story["alice"], story["paula"]
    alert_id = story["alert_id"]
    assert paula.locator(f'#alert-list .alert-card[data-alert-id="{alert_id}"]').count() == 0
    alice.click(f'#alert-list .alert-card[data-alert-id="{alert_id}"] a')
    alice.wait_for_url(f"**/alerts/{alert_id}/")
    alice.wait_for_selector(".faces img")
    if SCREENSHOTS:
        alice.wait_for_timeout(300)
        alice.screenshot(path=str(Path(SCREENSHOTS) / "review.png"), full_page=True)
    # A second reviewer (another tab) confirms first: the open page says so at once ...
    other = alice.context.new_page()
    other.goto(f"{server.url}/alerts/{alert_id}/")
    other.keyboard.press("c")
    other.wait_for_selector("#alert-status:has-text('Confirmed')")
    alice.wait_for_selector("#changed-meanwhile:not([hidden])", timeout=10_000)
    assert "Confirmed" in alice.inner_text("#changed-meanwhile")
    # ... and a stale decision sent anyway gets a clear conflict, not a silent overwrite
    # ("not this person" is asked again first: 1, then 1 to confirm).
    alice.keyboard.press("1")
    alice.wait_for_selector("#confirm-not-this-person:not([hidden])")
    alice.keyboard.press("1")
    alice.wait_for_selector("#review-error")
    assert "changed by someone else" in alice.inner_text("#review-error")
    assert "Confirmed" in alice.inner_text("#alert-status")
    other.close()
    alice.keyboard.press("e")
    alice.wait_for_selector("#alert-status:has-text('Escalated')")

    row = paula.wait_for_selector(f'#alert-list .alert-card[data-alert-id="{alert_id}"]', timeout=15_000)
    assert "Escalated" in row.inner_text()
    assert paula.evaluate("window.noReload") is True
    detail = alice.request.get(f"{server.url}/api/v1/alerts/{alert_id}/").json()
    assert detail["status"] == "escalated" and detail["version"] == 3


def test_another_bank_never_sees_it_on_the_page_in_the_api_or_on_the_socket(server, story):
    charlie, alert_id = story["charlie"], story["alert_id"]
    assert charlie.locator("#alert-list .alert-card").count() == 0
    assert _alerts_in(charlie.frames_received, alert_id) == []
    assert charlie.frames_received, "charlie's socket was open and heard at least the replay marker"
    assert charlie.request.get(f"{server.url}/api/v1/alerts/{alert_id}/").status == 404
    assert charlie.request.get(f"{server.url}/api/v1/alerts/").json()["count"] == 0
    assert charlie.request.get(f"{server.url}/alerts/{alert_id}/").status == 404
    assert charlie.request.get(f"{server.url}/alerts/{alert_id}/image/probe").status == 404
    # Meanwhile the bank's dashboard heard it raised, and the police heard only the escalation.
    assert next(m["type"] for m in _alerts_in(story["alice"].frames_received, alert_id)) == "alert.created"
    assert {m["alert"]["status"] for m in _alerts_in(story["paula"].frames_received, alert_id)} == {"escalated"}


def test_the_police_open_a_case_note_it_export_the_evidence_and_close_it(server, story):
    paula, alert_id = story["paula"], story["alert_id"]
    paula.click(f'#alert-list .alert-card[data-alert-id="{alert_id}"] a')
    paula.wait_for_url(f"**/alerts/{alert_id}/")
    paula.keyboard.press("o")
    paula.wait_for_url("**/cases/*/")
    paula.fill("#text", "Patrol 12 on the way")
    paula.click("text=Add note")
    paula.wait_for_selector("ol.notes li:has-text('Patrol 12 on the way')")
    with paula.expect_download() as download:
        paula.click("#export")
    archive = zipfile.ZipFile(download.value.path())
    assert {"metadata.json", "SHA256SUMS", "images/probe.jpg"} <= set(archive.namelist())
    # The probe in the zip is the crop of the best-scoring sighting, byte for byte.
    meta = json.loads(archive.read("metadata.json"))
    assert meta["probe"]["score"] == max(s["score"] for s in meta["sightings"])
    face = paula.request.get(f"{server.url}/alerts/{alert_id}/sightings/{meta['probe']['sighting_id']}/face").body()
    assert hashlib.sha256(archive.read("images/probe.jpg")).digest() == hashlib.sha256(face).digest()
    if SCREENSHOTS:
        paula.screenshot(path=str(Path(SCREENSHOTS) / "case.png"), full_page=True)
    paula.fill("#outcome", "Suspect detained at the branch")
    paula.click("text=Close the case")
    paula.wait_for_selector("#case-status:has-text('Closed')")
    detail = paula.request.get(f"{server.url}/api/v1/alerts/{alert_id}/").json()
    assert detail["status"] == "closed"


def _alerts_summary(page: Any, server: Server) -> list[tuple[int, int, str]]:
    results = page.request.get(f"{server.url}/api/v1/alerts/").json()["results"]
    return [(a["id"], a["sightings"], a["status"]) for a in results]


def test_the_indicator_says_when_the_feed_is_down_and_nothing_is_lost_on_reconnect(server, story):
    alice = story["alice"]
    alice.goto(f"{server.url}/dashboard/")
    alice.wait_for_selector('#feed-status[data-state="up"]')
    seen_before = alice.evaluate("window.bankwatchFeed.lastEventId")
    # Cut the feed: every reconnect attempt goes to a closed port until we let it through again.
    alice.evaluate(
        """() => {
        window.RealWebSocket = window.WebSocket;
        window.WebSocket = class extends window.RealWebSocket { constructor() { super("ws://127.0.0.1:9/"); } };
        window.bankwatchFeed.socket.close();
    }"""
    )
    alice.wait_for_selector('#feed-status[data-state="down"]')
    assert "down" in alice.inner_text("#feed-status").lower()

    before = _alerts_summary(alice, server)
    server.push_frame(DATASET / "img1.jpg")  # the subject again, while alice's feed is down
    deadline = time.monotonic() + 60
    while _alerts_summary(alice, server) == before:
        assert time.monotonic() < deadline, "the frame raised nothing"
        time.sleep(0.5)
    assert alice.evaluate("window.bankwatchFeed.lastEventId") == seen_before, "nothing arrived while down"

    alice.evaluate("() => { window.WebSocket = window.RealWebSocket; }")
    alice.wait_for_selector('#feed-status[data-state="up"]', timeout=15_000)
    # a function, not an expression string: Playwright would eval() a string, which the page's CSP forbids
    alice.wait_for_function(f"() => window.bankwatchFeed.lastEventId > {seen_before}", timeout=15_000)
    assert alice.evaluate("window.noReload") is None  # this page was loaded by goto above, never since
