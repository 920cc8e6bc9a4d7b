"""Counter-examples are curated (real photos, the real engine): a "not this person" applies at once only
where its reviewer works; everywhere needs a curator; a likely true match is held; they expire."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts import pipeline
from alerts.actions import review_alert
from alerts.frame_queue import new_frame_id
from alerts.models import Alert
from alerts.samples import compose, load
from audit.models import AuditEntry
from cameras.actions import create_camera
from enrollment import actions
from enrollment.models import CounterExample, Subject
from recognition.images import encode_jpeg
from tests.factories import enroll, make_subject


def _frame(camera, dataset: Path, name: str, seconds: float) -> tuple[Any, ...]:
    at = (timezone.now() + timedelta(seconds=seconds)).isoformat()
    return (new_frame_id(), camera.pk, at, encode_jpeg(compose([load(dataset / name)]), quality=90))


def _seen(camera, dataset: Path, name: str, seconds: float) -> list[str]:
    """What the recognition job did with this photo at this camera: "raised", "sighting"… or nothing."""
    outcome = pipeline.process_frame(*_frame(camera, dataset, name, seconds))
    assert outcome is not None and outcome.faces == 1
    return [what for what, _ in outcome.results]


@pytest.fixture
def robber(cast, dataset, settings) -> Subject:
    # A watchlist far too lax (0.05), so that a customer who is not the subject is matched:
    # img20 and img21 (one customer) score about 0.1 against the subject's img1.
    settings.AGREEMENT_STRONG_MARGIN = 0.0  # one frame is enough to raise
    settings.MIN_WATCHLIST_THRESHOLD = -1.0
    return enroll(make_subject("Tran Van Robber", "Lax list", threshold=0.05), "img1.jpg")


@pytest.fixture
def cameras(cast) -> dict[str, Any]:
    return {
        "saigon_d1": create_camera("Saigon Bank", "District 1", "Lobby")[0],
        "saigon_d3": create_camera("Saigon Bank", "District 3", "Lobby")[0],
        "mekong": create_camera("Mekong Bank", "Can Tho", "Lobby")[0],
    }


def _dismiss_not_this_person(alert: Alert, user) -> CounterExample:
    review_alert(alert, user, "dismiss", reason="not_this_person", version=alert.version)
    return CounterExample.objects.get(source_alert_id=alert.pk)


def test_not_this_person_at_bank_b_does_not_stop_an_alert_at_bank_a_until_a_curator_approves_it(
    cast, robber, cameras, dataset
):
    assert _seen(cameras["mekong"], dataset, "img20.jpg", 0) == ["raised"]
    counter = _dismiss_not_this_person(Alert.objects.get(), cast["charlie"])
    assert counter.bank is not None and (counter.bank.name, counter.branch, counter.status) == (
        "Mekong Bank",
        None,
        "active",
    )
    assert counter.expires_at is not None

    assert _seen(cameras["mekong"], dataset, "img21.jpg", 20) == []  # at bank B: the customer is left alone
    assert _seen(cameras["saigon_d1"], dataset, "img21.jpg", 40) == ["raised"]  # at bank A: not Mekong's call

    actions.approve_counter_example(counter, everywhere=True, actor=cast["carol"])
    assert _seen(cameras["saigon_d3"], dataset, "img21.jpg", 60) == []  # now everywhere
    entry = AuditEntry.objects.get(action="counter_example.approved", object_id=str(counter.pk))
    assert (entry.actor, entry.detail["scope"]) == (cast["carol"], "everywhere")
    assert _seen(cameras["saigon_d3"], dataset, "img2.jpg", 80) == ["raised"]  # the subject still is


def test_branch_staff_teach_only_their_branch(cast, robber, cameras, dataset):
    assert _seen(cameras["saigon_d1"], dataset, "img20.jpg", 0) == ["raised"]
    counter = _dismiss_not_this_person(Alert.objects.get(), cast["bob"])  # bob: District 1 only
    assert counter.branch is not None and counter.branch.name == "District 1"
    assert _seen(cameras["saigon_d1"], dataset, "img21.jpg", 20) == []
    assert _seen(cameras["saigon_d3"], dataset, "img21.jpg", 40) == ["raised"]


def test_a_not_this_person_on_a_likely_true_match_is_held_and_not_applied(cast, robber, cameras, dataset):
    assert _seen(cameras["saigon_d1"], dataset, "img2.jpg", 0) == ["raised"]  # the subject himself
    counter = _dismiss_not_this_person(Alert.objects.get(), cast["alice"])
    assert counter.status == CounterExample.Status.HELD and (counter.similarity_to_subject or 0.0) > 0.2
    assert AuditEntry.objects.filter(action="counter_example.held", object_id=str(counter.pk)).exists()
    assert _seen(cameras["saigon_d3"], dataset, "img2.jpg", 20) == ["raised"]


def test_a_counter_example_expires_with_the_dismissed_alerts_retention(cast, robber, cameras, dataset, settings):
    from retention.jobs import run_all

    assert _seen(cameras["mekong"], dataset, "img20.jpg", 0) == ["raised"]
    counter = _dismiss_not_this_person(Alert.objects.get(), cast["charlie"])
    assert counter.expires_at is not None
    expected = counter.created_at + timedelta(days=settings.RETENTION_DISMISSED_ALERT_DAYS)
    assert abs((counter.expires_at - expected).total_seconds()) < 5
    CounterExample.objects.filter(pk=counter.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _seen(cameras["mekong"], dataset, "img21.jpg", 20) == ["raised"]  # expired: no longer applied
    assert run_all()["counter_examples_expired"] == 1 and not CounterExample.objects.exists()


def test_the_admin_lists_counter_examples_with_their_author_and_undoes_one(client, cast, robber, cameras, dataset):
    assert _seen(cameras["mekong"], dataset, "img20.jpg", 0) == ["raised"]
    counter = _dismiss_not_this_person(Alert.objects.get(), cast["charlie"])
    client.force_login(cast["carol"])
    subjects = client.get(reverse("admin:enrollment_subject_changelist")).content.decode()
    assert f"?subject__id__exact={robber.pk}" in subjects  # the subject's list links to its counter-examples
    assert '<span style="color:#1b6e20">1</span>' in subjects  # its one accepted photo, counted once
    page = client.get(
        reverse("admin:enrollment_counterexample_changelist") + f"?subject__id__exact={robber.pk}"
    ).content.decode()
    assert "Tran Van Robber" in page and "charlie" in page and "Mekong Bank" in page
    response = client.post(
        reverse("admin:enrollment_counterexample_changelist"), {"action": "undo", "_selected_action": [counter.pk]}
    )
    assert response.status_code == 302 and not CounterExample.objects.exists()
    assert AuditEntry.objects.get(action="counter_example.withdrawn").actor == cast["carol"]
    assert _seen(cameras["mekong"], dataset, "img21.jpg", 20) == ["raised"]
    client.force_login(cast["alice"])
    assert client.get(reverse("admin:enrollment_counterexample_changelist")).status_code == 302  # curators only
