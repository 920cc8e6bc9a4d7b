"""In real Chromium, with the real detector and covering classifier: the entrance display paired with
its one-time code shows the door camera's live view with a box on every face and, for a covered face,
the bilingual prompt, then goes back to idle; the branch's dashboard shows the covered-face event live
with its own look and sound; and a watchlisted person at the door sees exactly what anyone else sees.

Figures (display frames/s, POST-to-covered-event latency) are printed, not asserted (the machine is
shared: speed is for benchmarks); run with -s to read them.
"""

import json
import os
import re
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from alerts.samples import compose, load
from recognition.images import encode_jpeg
from tests.browser.conftest import PASSWORD, Server

pytestmark = pytest.mark.browser
SHARED = Path(settings.BASE_DIR).parent / "shared" / "datasets"
MASKED = SHARED / "covered-faces-dev" / "mask" / "rwmfd_001.jpg"  # chosen as in tests/test_replay_covered.py
ROBBER = SHARED / "deepface-unit" / "img2.jpg"  # Tran Van Robber, enrolled from img1.jpg by the seed
STRANGER = SHARED / "deepface-unit" / "img20.jpg"
PROMPT_VI = "Vui lòng tháo mũ bảo hiểm, khẩu trang và kính râm"
PROMPT_EN = "Please remove your helmet, mask and sunglasses"
IDENTITY_WORDS = ("Tran", "Robber", "Bank robbers", "watchlist", "subject", "score", "match", "alert")
PUSH_FPS = 8.0
SCREENSHOTS = os.environ.get("BANKWATCH_SCREENSHOTS", "")  # e.g. docs/screenshots: also save the pictures


def _frame_file(photo: Path, folder: Path) -> Path:
    """A 640x360 camera frame of the photo, written at test time (never into the repository)."""
    path = folder / (photo.stem + "-frame.jpg")
    if not path.exists():
        path.write_bytes(encode_jpeg(compose([load(photo)]), quality=90))
    return path


def _push_for(server: Server, frame: Path, seconds: float) -> list[float]:
    """Push one frame again and again as the door camera, at most PUSH_FPS a second; returns the send
    times (ms). The embedded server's SQLite may answer 503 (Retry-After) when it is busy; a camera
    sends that frame again, and so does this."""
    sent: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        sent.append(time.time() * 1000)
        try:
            server.push_frame(frame, token=server.door_token)
        except urllib.error.HTTPError as exc:
            assert exc.code == 503, exc  # noqa: PT017 - a push the busy server refuses is allowed, any other is not
            sent.pop()
        time.sleep(max(0.0, 1.0 / PUSH_FPS - (time.monotonic() - started)))
    return sent


def _frame_rate(page: Any, since_ms: float) -> tuple[int, float]:
    """Frames the display drew since then, and its rate over them (frames/s)."""
    drawn = [t for t in page.evaluate("window.bankwatchEntrance.drawnAt") if t >= since_ms]
    if len(drawn) < 2:
        return len(drawn), 0.0
    return len(drawn), (len(drawn) - 1) / ((drawn[-1] - drawn[0]) / 1000)


@pytest.fixture(scope="module")
def display(browser: Any, server: Server) -> Any:
    """The tablet at the door: paired by typing the one-time code, then full screen on its page."""
    for path in (MASKED, ROBBER, STRANGER):
        if not path.exists():
            pytest.skip(f"shared photo {path} is absent")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.messages = []  # every message the display's socket receives
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: page.messages.append(payload)))
    page.goto(f"{server.url}/pair/")
    page.fill("#id_code", server.display_code)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/entrance/{server.door_id}/")
    page.wait_for_selector('body[data-socket="up"]', timeout=15_000)
    return page


@pytest.fixture(scope="module")
def guard(browser: Any, server: Server) -> Any:
    """Dong A Bank's security on the dashboard, with sound and notifications recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", "dung")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/dashboard/")
    page.evaluate(
        """() => {
        localStorage.setItem("bankwatch.alerting", "on");
        window.played = []; window.notified = [];
        window.Audio = class { constructor(src) { this.src = src; } play() { window.played.push(this.src); return Promise.resolve(); } };
        window.Notification = class { constructor(title) { window.notified.push(title); } };
        window.Notification.permission = "granted";
        // When the first covered-face row appears (the POST-to-event latency is read from it).
        new MutationObserver(() => {
            if (!window.coveredSeenAt && document.querySelector('#alert-list .alert-card[data-kind="covered"]')) { window.coveredSeenAt = Date.now(); }
        }).observe(document.getElementById("alert-list"), { childList: true });
    }"""
    )
    page.wait_for_selector('#feed-status[data-state="up"]', timeout=15_000)
    return page


def _display_messages(page: Any, since: int = 0) -> list[dict[str, Any]]:
    return [json.loads(m) for m in page.messages[since:]]


def test_the_display_shows_boxes_and_the_prompt_for_a_covered_face_and_the_dashboard_the_event(
    server, display, guard, tmp_path_factory
):
    folder = tmp_path_factory.mktemp("frames")
    masked, stranger = _frame_file(MASKED, folder), _frame_file(STRANGER, folder)
    assert display.is_hidden("#prompt")
    assert "nhận diện khuôn mặt" in display.inner_text("#notice") and "Face recognition" in display.inner_text(
        "#notice"
    )

    messages_before = len(display.messages)
    sent = _push_for(server, masked, 4.0)
    display.wait_for_selector("#prompt:not([hidden])", timeout=15_000)
    prompt = display.inner_text("#prompt")
    assert PROMPT_VI in prompt and PROMPT_EN in prompt
    assert int(display.get_attribute("#live", "data-boxes")) >= 1
    display.wait_for_timeout(1500)  # the last frames in flight
    drawn, fps = _frame_rate(display, sent[0])
    received = len(display.messages) - messages_before
    # The display draws what it is sent (its rate is the camera's, less what recognition could not keep
    # up with on this machine: the figure is printed, not asserted, as the machine is shared).
    assert drawn >= 2 and drawn >= 0.9 * received, (drawn, received)
    if SCREENSHOTS:
        display.screenshot(path=str(Path(SCREENSHOTS) / "entrance-prompt.png"))

    # The dashboard: the covered-face event arrives live, in its own look, with its own sound.
    row = guard.wait_for_selector('#alert-list .alert-card[data-kind="covered"]', timeout=60_000)
    latency = (guard.evaluate("window.coveredSeenAt") - sent[1]) / 1000  # from the 2nd covered frame's POST
    text = row.inner_text()
    assert "Covered face" in text and "mask" in text and "no one identified" in text
    assert row.query_selector("img.covered-thumb") is not None
    assert guard.evaluate("window.played")[0].endswith("/static/sounds/covered.wav")
    assert guard.evaluate("window.notified")[0].startswith("Covered face at the door: mask")
    if SCREENSHOTS:
        guard.wait_for_timeout(600)
        guard.screenshot(path=str(Path(SCREENSHOTS) / "dashboard-covered.png"))
    thumb = row.query_selector("img.covered-thumb").get_attribute("src")
    assert guard.request.get(server.url + thumb).body()[:2] == b"\xff\xd8"

    # Uncovered again: the prompt goes away by itself.
    _push_for(server, stranger, 3.0)
    display.wait_for_selector("#prompt", state="hidden", timeout=15_000)
    load = os.getloadavg()[0]
    print(
        f"\nentrance display: {drawn} of {len(sent)} frames pushed (at most {PUSH_FPS}/s) drawn, at {fps:.1f} frames/s;"
        f" POST of the 2nd covered frame to the covered-face event on the dashboard: {latency:.2f} s"
        f" (load average {load:.1f} on {os.cpu_count()} CPUs)"
    )


def test_a_watchlisted_person_at_the_door_sees_exactly_what_anyone_else_sees(server, display, guard, tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    robber, stranger = _frame_file(ROBBER, folder), _frame_file(STRANGER, folder)

    def look(frame: Path) -> tuple[str, list[dict[str, Any]]]:
        since = len(display.messages)
        _push_for(server, frame, 2.5)
        display.wait_for_timeout(1000)
        return display.inner_text("body"), _display_messages(display, since)

    robber_text, robber_messages = look(robber)
    stranger_text, stranger_messages = look(stranger)
    assert robber_messages and stranger_messages
    assert robber_text == stranger_text  # not one character differs
    for messages in (robber_messages, stranger_messages):
        assert {tuple(sorted(m)) for m in messages} == {("at", "boxes", "covered", "frame", "height", "type", "width")}
        assert all(len(m["boxes"]) == 1 and m["covered"] is False for m in messages)
    for text in [robber_text, *(json.dumps({k: v for k, v in m.items() if k != "frame"}) for m in robber_messages)]:
        for word in IDENTITY_WORDS:
            assert not re.search(word, text, re.IGNORECASE), (word, text[:200])
    assert display.is_hidden("#prompt")
    # Meanwhile the bank was told: the robber was recognised, on the dashboard only.
    row = guard.wait_for_selector('#alert-list .alert-card:has-text("Tran Van Robber")', timeout=60_000)
    assert row is not None
