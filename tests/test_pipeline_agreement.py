"""Agreement and cool-down: one lucky frame raises nothing; two agreeing ones raise one alert; later ones add sightings."""

from datetime import timedelta

import pytest
from django.db import transaction

from alerts.agreement import observe, purge_expired_pending
from alerts.models import Alert, PendingMatch, Sighting
from cameras.actions import create_camera
from tests.factories import make_observation, make_subject


@pytest.fixture
def subject(db):
    return make_subject()


def _observe(subject, obs):
    with transaction.atomic():
        return observe(subject.pk, subject.watchlist_id, obs)


def test_one_weak_match_waits_and_a_second_frame_raises_one_alert_with_both_sightings(camera_with_token, subject):
    camera, _ = camera_with_token
    first = make_observation(camera, score=0.45)
    assert _observe(subject, first) == ("pending", None)
    assert _observe(subject, first) == ("pending", None)  # the same frame again is not agreement
    assert not Alert.objects.exists() and PendingMatch.objects.count() == 1

    second = make_observation(camera, score=0.5, seen_at=first.seen_at + timedelta(seconds=2))
    what, alert = _observe(subject, second)
    assert what == "raised" and alert is not None
    assert alert.score == 0.5
    assert sorted(alert.sightings.values_list("frame_id", flat=True)) == sorted([first.frame_id, second.frame_id])
    assert not PendingMatch.objects.exists()


def test_a_far_stronger_score_raises_at_once(camera_with_token, subject, settings):
    camera, _ = camera_with_token
    what, alert = _observe(subject, make_observation(camera, score=0.363 + settings.AGREEMENT_STRONG_MARGIN + 0.01))
    assert what == "raised" and alert.sightings.count() == 1


def test_matches_outside_the_window_or_from_another_camera_do_not_agree(camera_with_token, subject, settings):
    camera, _ = camera_with_token
    other, _ = create_camera("Saigon Bank", "District 1", "Door")
    first = make_observation(camera, score=0.45)
    late = make_observation(
        camera, score=0.45, seen_at=first.seen_at + timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS + 1)
    )
    elsewhere = make_observation(other, score=0.45, seen_at=first.seen_at)
    for obs in (first, late, elsewhere):
        assert _observe(subject, obs)[0] == "pending"
    assert not Alert.objects.exists() and PendingMatch.objects.count() == 3


def test_an_open_alert_takes_further_matches_as_sightings_from_any_camera_of_the_branch(camera_with_token, subject):
    camera, _ = camera_with_token
    door, _ = create_camera("Saigon Bank", "District 1", "Door")
    _, alert = _observe(subject, make_observation(camera, score=0.9))
    t0 = alert.last_seen_at
    assert _observe(subject, make_observation(door, score=0.45, seen_at=t0 + timedelta(seconds=5))) == (
        "sighting",
        alert,
    )
    # within the sighting interval of the same camera, a lower score adds nothing
    assert _observe(subject, make_observation(door, score=0.44, seen_at=t0 + timedelta(seconds=5.3)))[0] == "repeat"
    assert _observe(subject, make_observation(camera, score=0.5, seen_at=t0 + timedelta(seconds=60)))[0] == "sighting"
    assert Alert.objects.count() == 1 and Sighting.objects.count() == 3
    alert.refresh_from_db()
    assert alert.last_seen_at == t0 + timedelta(seconds=60)


def test_a_dismissed_alert_or_one_past_the_cooldown_does_not_absorb_new_matches(camera_with_token, subject, settings):
    camera, _ = camera_with_token
    _, alert = _observe(subject, make_observation(camera, score=0.9))
    Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.DISMISSED)
    assert _observe(subject, make_observation(camera, score=0.9))[0] == "raised"
    later = alert.last_seen_at + timedelta(seconds=settings.ALERT_COOLDOWN_SECONDS + 5)
    assert _observe(subject, make_observation(camera, score=0.9, seen_at=later))[0] == "raised"
    assert Alert.objects.count() == 3


def test_pending_matches_expire(camera_with_token, subject, settings):
    camera, _ = camera_with_token
    _observe(subject, make_observation(camera, score=0.45))
    settings.AGREEMENT_WINDOW_SECONDS = -settings.FRAME_STALE_SECONDS - 1  # everything is already old
    assert purge_expired_pending() == 1
    assert not PendingMatch.objects.exists()
