"""The dashboard as a control-room console: what each card says (faces, caution, strength in words),
the shift's counters, the camera panel, and an audited mute."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from alerts.feed import serialize_alert
from alerts.shift import shift_counters, shift_start
from alerts.strength import strength
from audit.models import AuditEntry
from cameras.actions import create_camera
from cameras.health import change_health
from enrollment.models import ReferencePhoto
from tests.factories import make_alert, make_covered_event, make_sighting, make_subject

HCMC = ZoneInfo("Asia/Ho_Chi_Minh")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _json(page: str, element_id: str):
    start = page.index(f'<script id="{element_id}" type="application/json">') + len(
        f'<script id="{element_id}" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


@pytest.mark.parametrize(
    ("score", "threshold", "words"),
    [(0.70, 0.363, "very_strong"), (0.60, 0.363, "strong"), (0.45, 0.363, "possible"), (None, None, "")],
)
def test_match_strength_is_said_in_words_from_the_margin_over_the_threshold(score, threshold, words):
    assert strength(score, threshold) == words


def test_a_card_carries_the_best_face_the_reference_photo_the_caution_flags_and_the_priority(cast, camera_with_token):
    subject = make_subject()
    subject.armed, subject.violent = True, True
    subject.save()
    subject.watchlist.priority = 1
    subject.watchlist.save()
    photo = ReferencePhoto.objects.create(subject=subject, image="enrollment/photos/x.jpg", status="accepted")
    alert = make_alert(camera_with_token[0], subject, score=0.5)
    best = make_sighting(alert, score=0.75)
    assert best is not None
    alert.refresh_from_db()
    card = serialize_alert(alert)
    assert card["images"]["best"] == f"/alerts/{alert.pk}/sightings/{best.pk}/face"
    assert card["images"]["reference"] == f"/alerts/{alert.pk}/reference/{photo.pk}"
    assert [flag["code"] for flag in card["subject"]["caution"]] == ["armed", "violent"]
    assert (card["watchlist"]["priority"], card["strength"]) == (1, "very_strong")


def test_the_dashboard_queue_gives_the_same_cards_as_one_alert_serialised_alone(cast, camera_with_token):
    alert = make_alert(camera_with_token[0], make_subject())
    make_sighting(alert, score=0.7)
    page = _client(cast["alice"]).get("/dashboard/").content.decode()
    [card] = _json(page, "initial-queue")
    alert.refresh_from_db()
    assert card == serialize_alert(alert)


@pytest.mark.parametrize(
    ("local", "start"),
    [
        ("2026-12-03 05:59", "2026-12-02 22:00"),
        ("2026-12-03 06:00", "2026-12-03 06:00"),
        ("2026-12-03 13:30", "2026-12-03 06:00"),
        ("2026-12-03 23:10", "2026-12-03 22:00"),
    ],
)
def test_the_shift_began_at_the_last_start_hour_in_ho_chi_minh_time(local, start):
    now = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=HCMC)
    assert shift_start(now).astimezone(HCMC).strftime("%Y-%m-%d %H:%M") == start


def test_the_shift_counters_count_this_shifts_alerts_covered_faces_and_camera_problems(cast, camera_with_token):
    camera = camera_with_token[0]
    make_alert(camera, make_subject())
    make_alert(camera, make_subject("Le Thi C", "Wanted"))
    make_covered_event(camera)
    change_health(camera.pk, "obstructed")
    change_health(camera.pk, "online")
    mekong, _ = create_camera("Mekong Bank", "Can Tho", "Door")
    make_alert(mekong, make_subject())  # another bank: not alice's
    change_health(mekong.pk, "offline")
    since = shift_start()
    assert shift_counters(cast["alice"], since) == {"alerts": 2, "covered": 1, "camera_problems": 1}
    assert shift_counters(cast["alice"], since + timedelta(days=1)) == {"alerts": 0, "covered": 0, "camera_problems": 0}
    page = _client(cast["alice"]).get("/dashboard/").content.decode()
    assert '<dd id="count-alerts">2</dd>' in page and '<dd id="count-camera-problems">1</dd>' in page


def test_the_camera_panel_lists_every_camera_of_the_users_scope_with_its_state(cast, camera_with_token):
    d3, _ = create_camera("Saigon Bank", "District 3", "Door")
    create_camera("Mekong Bank", "Can Tho", "Door")
    change_health(d3.pk, "frozen")
    page = _client(cast["alice"]).get("/dashboard/").content.decode()
    cameras = _json(page, "camera-health")["cameras"]
    assert sorted((c["branch"], c["name"], c["status"]) for c in cameras) == [
        ("District 1", "Lobby", camera_with_token[0].health),
        ("District 3", "Door", "frozen"),
    ]
    assert 'id="camera-panel"' in page
    assert 'id="camera-panel"' not in _client(cast["paula"]).get("/dashboard/").content.decode()


def test_muting_the_sound_is_audited_with_who_and_how_long(cast):
    answer = _client(cast["alice"]).post("/alerts/sound/mute", {"minutes": "15"})
    assert answer.status_code == 200 and answer.json()["muted_until"]
    entry = AuditEntry.objects.get(action="alerts.sound_muted")
    assert (entry.actor, entry.detail["minutes"]) == (cast["alice"], 15)
    _client(cast["alice"]).post("/alerts/sound/mute", {"minutes": "0"})
    assert AuditEntry.objects.filter(action="alerts.sound_unmuted", actor=cast["alice"]).count() == 1


def test_a_mute_of_another_length_or_by_someone_without_a_siren_is_refused(cast):
    assert _client(cast["alice"]).post("/alerts/sound/mute", {"minutes": "600"}).status_code == 400
    assert _client(cast["audrey"]).post("/alerts/sound/mute", {"minutes": "5"}).status_code == 403
    assert not AuditEntry.objects.filter(action__startswith="alerts.sound_").exists()


def test_the_dashboard_is_a_full_width_console_with_a_feed_down_banner(cast):
    page = _client(cast["alice"]).get("/dashboard/").content.decode()
    assert '<main class="console">' in page
    assert 'id="feed-down"' in page and 'id="waiting"' in page and "sound.js" in page
