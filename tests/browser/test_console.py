"""In real Chromium, the control-room console and the review that cannot go wrong by one key:
cards in priority order with faces, caution flags and strength in words; one siren at a time with
four alerts waiting; a full-width banner and a beep while the server is down, gone when it is back;
"not this person" asked again and undone; "may be armed" on the review page."""

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.browser.conftest import PASSWORD, Server
from tests.browser.console_seed import SEED

pytestmark = pytest.mark.browser
DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "deepface-unit"

# Every sound the page starts: its file and when; each "plays" for 1 s, then says it ended.
FAKE_AUDIO = """() => {
    window.played = [];
    window.Audio = class {
        constructor(src) { this.src = src; }
        play() {
            window.played.push({src: this.src, at: Date.now()});
            setTimeout(() => { if (this.onended) { this.onended(); } }, 1000);
            return Promise.resolve();
        }
    };
}"""


@pytest.fixture(scope="module")
def control_room(server: Server) -> dict[str, int]:
    out = server.manage("shell", "-c", f"PASSWORD={PASSWORD!r}\nDATASET={str(DATASET)!r}\n" + SEED)
    return json.loads(out.split("CONSOLE", 1)[1])


def _sign_in(browser: Any, server: Server, username: str, width: int = 1920, height: int = 1080) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/dashboard/")
    return page


def _console_with_sound(browser: Any, server: Server) -> Any:
    """vy's console, live, with sound turned on and every sound it starts recorded in window.played."""
    page = _sign_in(browser, server, "vy")
    page.wait_for_selector('#feed-status[data-state="up"]', timeout=15_000)
    page.evaluate(FAKE_AUDIO)
    page.click("#enable-alerts")
    return page


def _status(page: Any, server: Server, alert_id: int) -> str:
    return str(page.request.get(f"{server.url}/api/v1/alerts/{alert_id}/").json()["status"])


def test_the_console_shows_cards_by_priority_with_faces_caution_and_strength_in_words(browser, server, control_room):
    page = _sign_in(browser, server, "vy")
    page.wait_for_selector('#feed-status[data-state="up"]', timeout=15_000)
    cards = page.locator("#alert-list .alert-card")
    assert cards.count() == 4
    order = [int(cards.nth(i).get_attribute("data-alert-id")) for i in range(4)]
    # Wanted persons (high priority) first, then bank robbers newest first, then card fraud (low).
    assert order == [control_room[k] for k in ("armed", "second", "robber", "fraud")]
    armed = cards.nth(0)
    assert "may be armed · may be violent" in armed.locator('[data-field="caution"]').inner_text().lower()
    assert armed.locator('[data-field="strength"]').inner_text() == "strong match"  # 0.61: 0.247 over
    assert "0.610" in armed.locator('[data-field="strength"]').get_attribute("title")
    assert cards.nth(2).locator('[data-field="strength"]').inner_text() == "very strong match"  # 0.78
    assert cards.nth(3).locator('[data-field="strength"]').inner_text() == "possible match"  # 0.43
    for image in ("probe", "reference"):
        assert armed.locator(f'img[data-field="{image}"]').evaluate("img => img.naturalWidth") > 100
    assert page.inner_text("#waiting [data-field=count]") == "4"
    assert int(page.inner_text("#count-alerts")) == 4
    assert page.locator("#camera-status-list li").count() == 3
    # Full width: the queue uses the screen, not a 1,160 px column.
    assert page.eval_on_selector("#alert-list", "list => list.getBoundingClientRect().width") > 1400
    page.context.close()


def test_with_four_waiting_alerts_only_one_sound_plays_at_a_time(browser, server, control_room):
    page = _console_with_sound(browser, server)
    # Four alerts arriving in the same millisecond: one sound, not four.
    page.evaluate(
        """(ids) => ids.forEach((id, i) => window.bankwatchConsole.handle({type: "alert.created", alert: Object.assign(
            {}, window.bankwatchConsole.alert(id), {id: 90000 + i, status: "new"})}))""",
        [control_room[k] for k in ("armed", "second", "robber", "fraud")],
    )
    assert len(page.evaluate("window.played")) == 1
    # Then the oldest unacknowledged alert sounds again, alone, every 10 s, never two at once.
    page.wait_for_timeout(11_500)
    played = page.evaluate("window.played")
    assert len(played) == 2
    starts = [p["at"] for p in played]
    assert all(later - earlier >= 1000 for earlier, later in itertools.pairwise(starts))
    assert played[1]["src"].endswith("/siren.wav")  # the oldest waiting alert is a bank robber's
    page.context.close()


def test_the_mute_is_visible_audited_and_silences_the_siren(browser, server, control_room):
    page = _sign_in(browser, server, "vy")
    page.evaluate(FAKE_AUDIO)
    page.click("#enable-alerts")
    page.click("#mute")
    page.wait_for_selector("#muted:not([hidden])")
    assert "Muted until" in page.inner_text("#muted")
    page.evaluate("window.BankWatchSound.play('siren')")
    assert page.evaluate("window.played") == []
    page.click("#mute")  # now "Sound back on"
    page.wait_for_selector("#muted", state="hidden")
    entries = server.manage(
        "shell",
        "-c",
        "from audit.models import AuditEntry as A; print(list(A.objects.filter(action__startswith='alerts.sound_').values_list('action', 'actor_label')))",
    )
    assert "('alerts.sound_muted', 'vy')" in entries and "('alerts.sound_unmuted', 'vy')" in entries
    page.evaluate("localStorage.removeItem('bankwatch.mutedUntil')")
    page.context.close()


def test_the_feed_down_banner_appears_when_the_server_stops_and_goes_when_it_returns(browser, server, control_room):
    page = _console_with_sound(browser, server)
    assert page.is_hidden("#feed-down")
    server.stop()
    try:
        page.wait_for_selector("#feed-down:not([hidden])", timeout=15_000)
        assert "may be missed" in page.inner_text("#feed-down")
        width = page.eval_on_selector("#feed-down", "b => b.getBoundingClientRect().width")
        assert width >= 1900  # the whole width of the 1920 px screen
        assert any(p["src"].endswith("/beep.wav") for p in page.evaluate("window.played"))
    finally:
        server.start()
    page.wait_for_selector("#feed-down", state="hidden", timeout=30_000)
    page.wait_for_selector('#feed-status[data-state="up"]', timeout=15_000)
    page.context.close()


def test_not_this_person_needs_the_confirmation_and_can_be_undone(browser, server, control_room):
    page = _sign_in(browser, server, "vy")
    alert_id = control_room["fraud"]
    page.goto(f"{server.url}/alerts/{alert_id}/")
    page.keyboard.press("1")
    page.wait_for_selector("#confirm-not-this-person:not([hidden])")
    time.sleep(0.5)
    assert _status(page, server, alert_id) == "new"  # one key decided nothing
    page.keyboard.press("Escape")
    page.wait_for_selector("#confirm-not-this-person", state="hidden")
    page.keyboard.press("1")
    page.keyboard.press("1")  # asked again, and confirmed
    page.wait_for_selector("#alert-status:has-text('Dismissed')")
    assert _status(page, server, alert_id) == "dismissed"
    counters = "from enrollment.models import CounterExample as C; print(C.objects.filter(source_alert_id=%d).count())"
    assert server.manage("shell", "-c", counters % alert_id).split()[-1] == "1"
    assert "Undo" in page.inner_text("#undo")
    page.keyboard.press("z")
    page.wait_for_selector("#alert-status:has-text('New')")
    assert _status(page, server, alert_id) == "new"
    assert server.manage("shell", "-c", counters % alert_id).split()[-1] == "0"
    history = page.inner_text("#history")
    assert "Dismissed" in history and "Dismissal undone" in history and "vy" in history
    page.context.close()


def test_the_review_page_shows_a_may_be_armed_note_the_face_boxes_and_the_guards(browser, server, control_room):
    page = _sign_in(browser, server, "vy")
    alert_id = control_room["armed"]
    page.goto(f"{server.url}/alerts/{alert_id}/")
    assert "may be armed" in page.inner_text("#caution-flags").lower()
    assert "May be armed: carried a knife" in page.inner_text("#subject-facts")
    assert "HCMC-PC-2025-0117" in page.inner_text("#subject-facts")
    page.wait_for_selector("a.boxed .facebox:not([hidden])")
    box = page.eval_on_selector("a.boxed .facebox", "b => b.getBoundingClientRect().width")
    assert box > 10
    # The face beside the score is the best sighting's (0.61), not the first one (0.58).
    assert "0.610" in page.inner_text(".faces figure:first-child figcaption")
    page.keyboard.press("e")
    assert "Confirm the alert first" in page.inner_text("#key-hint")
    page.keyboard.press("4")  # "other" with no note
    assert "note" in page.inner_text("#key-hint")
    assert page.evaluate("document.activeElement.id") == "note"
    assert _status(page, server, alert_id) == "new"
    page.context.close()
