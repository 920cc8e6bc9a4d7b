"""Screenshots of the console for docs/screenshots (a script, not a test):

    BANKWATCH_MODELS_DIR=... python -m tests.browser.screenshots [docs/screenshots]

Serves a scratch data folder seeded like the browser tests (tests/browser/conftest.py SEED and
console_seed.py: several watchlists, an armed subject, an escalation with a case), signs in as a
bank guard, a police liaison and an auditor in English and in Vietnamese, and saves the dashboard,
review, case and audit pages at 1920x1080 and 2560x1440, and the police inbox and case at 390x844.
"""

import os
import sys
import tempfile
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")
django.setup()

from django_otp.oath import totp  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DATASET, PASSWORD, TOTP_KEY, prepare_server  # noqa: E402
from tests.browser.console_seed import SEED  # noqa: E402

STORY = r"""
import json
from accounts.actions import create_user
from alerts.actions import raise_alert, review_alert
from alerts.models import Alert
from cases.actions import add_case_note, open_case
from accounts.models import User
for name, role, language in (("phuong", "police", "vi"), ("an", "auditor", "en"), ("binh", "auditor", "vi")):
    user = create_user(name, role, PASSWORD, jurisdiction="Ho Chi Minh City" if role == "police" else "")
    user.language = language
    user.save(update_fields=["language"])
vy, paula = User.objects.get(username="vy"), User.objects.get(username="paula")
ids = json.loads(IDS)
robber = Alert.objects.get(pk=ids["robber"])
robber = review_alert(robber, vy, "start_review", version=robber.version)
robber = review_alert(robber, vy, "confirm", note="Same scar on the left cheek; grey jacket, counter 2", version=robber.version)
robber = review_alert(robber, vy, "escalate", version=robber.version)
case = open_case(robber, paula, version=robber.version, note="Patrol 12 on the way")
add_case_note(case, paula, "Suspect left by motorbike towards Nguyen Hue; plate partly seen")
armed = Alert.objects.get(pk=ids["armed"])
armed = review_alert(armed, vy, "confirm", note="Matches the wanted notice; may carry a knife", version=armed.version)
review_alert(armed, vy, "escalate", version=armed.version)
# Le Van Dao again, at the entrance: a new alert with his caution flags on the dashboard.
from alerts.frame_queue import new_frame_id
from alerts.models import Observation, Sighting
from django.utils import timezone
seen = Sighting.objects.filter(alert_id=ids["armed"]).order_by("-score").first()
again = Observation(
    camera=seen.camera, frame_id=new_frame_id(), seen_at=timezone.now(), score=0.74, threshold=0.363,
    box=seen.box, face_crop=seen.face_crop.open("rb").read(), frame_image=seen.frame_image.open("rb").read(),
)
raise_alert(armed.subject, armed.watchlist, [again])
print("STORY" + json.dumps({"case": case.pk}))
"""


def _sign_in(browser, url: str, username: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    if "/two-factor/" in page.url:
        page.fill("input[name=token]", f"{totp(bytes.fromhex(TOTP_KEY)):06d}")
        page.click("button[type=submit].primary")
        page.wait_for_load_state()
    return page


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="bankwatch-screens-"))
    server = prepare_server(data, {"BANKWATCH_REQUIRE_2FA": "0"})
    ids = server.manage("shell", "-c", f"PASSWORD={PASSWORD!r}\nDATASET={str(DATASET)!r}\n" + SEED).split("CONSOLE", 1)[
        1
    ]
    server.manage("shell", "-c", f"PASSWORD={PASSWORD!r}\nIDS={ids.strip()!r}\n" + STORY)
    made: list[Path] = []
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            people = {
                "en": {"bank": "vy", "police": "paula", "audit": "an"},
                "vi": {"bank": "vo", "police": "phuong", "audit": "binh"},
            }
            case_url = None
            for lang, who in people.items():
                for width, height in ((1920, 1080), (2560, 1440)):
                    size = f"{width}x{height}"
                    page = _sign_in(browser, server.url, who["bank"], width, height)
                    page.wait_for_selector('#feed-status[data-state="up"]', timeout=20_000)
                    page.wait_for_timeout(800)
                    made.append(out / f"console-dashboard-{lang}-{size}.png")
                    page.screenshot(path=str(made[-1]))
                    page.click("#alert-list .alert-card.has-caution a")
                    page.wait_for_timeout(800)
                    made.append(out / f"console-review-{lang}-{size}.png")
                    page.screenshot(path=str(made[-1]), full_page=True)
                    page.context.close()
                    police = _sign_in(browser, server.url, who["police"], width, height)
                    police.goto(f"{server.url}/police/")
                    case_url = police.locator("#cases a").first.get_attribute("href")
                    police.goto(server.url + case_url)
                    police.wait_for_timeout(600)
                    made.append(out / f"console-case-{lang}-{size}.png")
                    police.screenshot(path=str(made[-1]), full_page=True)
                    police.context.close()
                    audit = _sign_in(browser, server.url, who["audit"], width, height)
                    audit.goto(f"{server.url}/audit/")
                    made.append(out / f"console-audit-{lang}-{size}.png")
                    audit.screenshot(path=str(made[-1]))
                    audit.context.close()
                phone = _sign_in(browser, server.url, who["police"], 390, 844)
                phone.goto(f"{server.url}/police/")
                phone.wait_for_timeout(600)
                made.append(out / f"console-police-inbox-{lang}-390x844.png")
                phone.screenshot(path=str(made[-1]), full_page=True)
                phone.goto(server.url + str(case_url))
                phone.wait_for_timeout(600)
                made.append(out / f"console-case-{lang}-390x844.png")
                phone.screenshot(path=str(made[-1]), full_page=True)
                phone.context.close()
            browser.close()
    finally:
        server.stop()
    return made


if __name__ == "__main__":
    for path in main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
