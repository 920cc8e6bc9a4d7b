"""In real Chromium with a fake webcam (a clip made from the shared photos): a browser paired as a
camera's capture device sends its frames through the frame API, and they raise an alert that the
bank's dashboard shows live."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Server
from tests.streams import need_ffmpeg

pytestmark = pytest.mark.browser
DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "deepface-unit"


def fake_webcam(path: Path) -> Path:
    """A y4m clip (what Chromium's fake capture device reads) of the subject's second photo, 640x360."""
    scale = "scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,fps=10"
    subprocess.run(
        [need_ffmpeg(), "-loglevel", "error", "-y", "-loop", "1", "-t", "3", "-i", str(DATASET / "img2.jpg")]
        + ["-vf", scale, "-pix_fmt", "yuv420p", str(path)],
        check=True,
        timeout=120,
    )
    return path


@pytest.mark.timeout(240)
def test_a_paired_browser_webcam_raises_an_alert_on_the_banks_dashboard(server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    # A bank of its own, so that the other browser tests' banks see nothing of this.
    camera = json.loads(
        server.manage("create_camera", "--bank", "Tablet Bank", "--branch", "Thu Duc", "--name", "Tablet", "--fps", "2")
    )
    server.manage(
        "create_user",
        "tina",
        "--role",
        "bank_security",
        "--bank",
        "Tablet Bank",
        extra_env={"BANKWATCH_PASSWORD": PASSWORD},
    )
    code = json.loads(server.manage("pair_display", str(camera["camera_id"]), "--capture"))["code"]
    clip = fake_webcam(tmp_path / "webcam.y4m")

    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    args.append(f"--use-file-for-fake-video-capture={clip}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            dashboard = chromium.new_context(locale="en-GB").new_page()
            dashboard.goto(f"{server.url}/login/")
            dashboard.fill("#id_username", "tina")
            dashboard.fill("#id_password", PASSWORD)
            dashboard.click("button[type=submit].primary")
            dashboard.wait_for_url("**/dashboard/")
            dashboard.wait_for_selector('#feed-status[data-state="up"]', timeout=15_000)
            assert dashboard.locator("#alert-list .alert-card").count() == 0

            tablet = chromium.new_context(locale="en-GB").new_page()
            tablet.goto(f"{server.url}/pair/")
            tablet.fill("#id_code", code)
            tablet.click("button[type=submit].primary")
            tablet.wait_for_url(f"**/camera/{camera['camera_id']}/capture/")
            tablet.wait_for_function(
                "() => window.bankwatchCapture && window.bankwatchCapture.sent >= 2", timeout=30_000
            )

            row = dashboard.wait_for_selector("#alert-list .alert-card[data-alert-id]", timeout=90_000)
            assert row is not None and "Tran Van Robber" in row.inner_text()
            state: dict[str, Any] = tablet.evaluate("window.bankwatchCapture")
            assert state["failed"] == 0 and state["stopped"] is False
            # The tablet's cookie opens its capture page and nothing else of the product.
            assert tablet.request.get(f"{server.url}/dashboard/", max_redirects=0).status in (302, 403)
            assert tablet.request.get(f"{server.url}/api/v1/alerts/").status in (401, 403)
        finally:
            chromium.close()
