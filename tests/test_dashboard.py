"""The dashboard queue and the evidence images: scoped, filtered, oldest first, audited."""

import json

import pytest
from django.test import Client

from alerts.actions import review_alert
from audit.models import AuditEntry
from cameras.actions import create_camera
from tests.factories import make_alert, make_subject


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queue(response) -> list[dict]:
    page = response.content.decode()
    start = page.index('<script id="initial-queue" type="application/json">') + len(
        '<script id="initial-queue" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


@pytest.fixture
def alerts(cast, camera_with_token):
    d1 = camera_with_token[0]
    d3, _ = create_camera("Saigon Bank", "District 3", "Door")
    mekong, _ = create_camera("Mekong Bank", "Can Tho", "Door")
    robbers = make_subject("Tran Van B", "Bank robbers")
    wanted = make_subject("Le Thi C", "Wanted", threshold=0.4)
    return {
        "d1": make_alert(d1, robbers),
        "d3": make_alert(d3, wanted),
        "mekong": make_alert(mekong, robbers),
        "d1_later": make_alert(d1, wanted),
    }


def test_the_queue_holds_the_users_open_alerts_oldest_first(cast, alerts):
    queue = _queue(_client(cast["alice"]).get("/dashboard/"))
    assert [a["id"] for a in queue] == [alerts["d1"].pk, alerts["d3"].pk, alerts["d1_later"].pk]
    assert queue[0]["watchlist"]["colour"].startswith("#") and queue[0]["images"]["probe"]


def test_branch_staff_see_their_branch_and_another_bank_sees_none_of_ours(cast, alerts):
    assert {a["id"] for a in _queue(_client(cast["bob"]).get("/dashboard/"))} == {
        alerts["d1"].pk,
        alerts["d1_later"].pk,
    }
    assert [a["id"] for a in _queue(_client(cast["charlie"]).get("/dashboard/"))] == [alerts["mekong"].pk]


def test_filters_by_branch_watchlist_and_status(cast, alerts):
    alice = _client(cast["alice"])
    by_branch = _queue(alice.get("/dashboard/", {"branch": alerts["d3"].branch_id}))
    assert [a["id"] for a in by_branch] == [alerts["d3"].pk]
    by_list = _queue(alice.get("/dashboard/", {"watchlist": alerts["d1"].watchlist_id}))
    assert [a["id"] for a in by_list] == [alerts["d1"].pk]
    review_alert(alerts["d1"], cast["alice"], "dismiss", reason="duplicate", version=1)
    assert alerts["d1"].pk not in [a["id"] for a in _queue(alice.get("/dashboard/"))]
    dismissed = _queue(alice.get("/dashboard/", {"status": "dismissed"}))
    assert [a["id"] for a in dismissed] == [alerts["d1"].pk]


def test_the_police_queue_holds_only_escalations(cast, alerts):
    assert _queue(_client(cast["paula"]).get("/dashboard/")) == []
    review_alert(alerts["d3"], cast["alice"], "confirm", version=1)
    review_alert(alerts["d3"], cast["alice"], "escalate", version=2)
    assert [a["id"] for a in _queue(_client(cast["paula"]).get("/dashboard/"))] == [alerts["d3"].pk]


def test_the_dashboard_has_the_feed_indicator_and_is_audited(cast, alerts):
    response = _client(cast["alice"]).get("/dashboard/")
    assert b'id="feed-status"' in response.content and b"dashboard.js" in response.content
    entry = AuditEntry.objects.get(action="alerts.listed", actor=cast["alice"])
    assert set(entry.detail["ids"]) == {alerts["d1"].pk, alerts["d3"].pk, alerts["d1_later"].pk}


def test_evidence_images_are_served_to_the_bank_and_audited(cast, alerts):
    alert = alerts["d1"]
    sighting = alert.sightings.get()
    bob = _client(cast["bob"])
    for url in (
        f"/alerts/{alert.pk}/image/probe",
        f"/alerts/{alert.pk}/image/frame",
        f"/alerts/{alert.pk}/sightings/{sighting.pk}/frame",
        f"/alerts/{alert.pk}/sightings/{sighting.pk}/face",
    ):
        response = bob.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # type: ignore[attr-defined]
        assert response["Cache-Control"] == "private, no-store"
    assert AuditEntry.objects.filter(action="alert.image_viewed", actor=cast["bob"]).count() == 4


@pytest.mark.parametrize("who", ["charlie", "carol", "paula", None])
def test_outsiders_get_no_evidence_image(cast, alerts, who):
    alert = alerts["d1"]
    sighting = alert.sightings.get()
    client = _client(cast[who]) if who else Client()
    for url in (f"/alerts/{alert.pk}/image/probe", f"/alerts/{alert.pk}/sightings/{sighting.pk}/frame"):
        response = client.get(url)
        assert response.status_code in (302, 404), (who, url)
    assert not AuditEntry.objects.filter(action="alert.image_viewed").exists()


def test_a_sighting_of_another_alert_is_not_served_through_ours(cast, alerts):
    theirs = alerts["mekong"].sightings.get()
    response = _client(cast["alice"]).get(f"/alerts/{alerts['d1'].pk}/sightings/{theirs.pk}/frame")
    assert response.status_code == 404


def test_reference_photos_only_for_the_alerts_subject(cast, alerts):
    from django.core.files.base import ContentFile

    from enrollment.models import ReferencePhoto

    ours = ReferencePhoto.objects.create(subject=alerts["d1"].subject, status=ReferencePhoto.Status.ACCEPTED)
    ours.image.save("ref.jpg", ContentFile(b"\xff\xd8\xff\xe0fake"))
    other = ReferencePhoto.objects.create(subject=alerts["d3"].subject, status=ReferencePhoto.Status.ACCEPTED)
    other.image.save("ref2.jpg", ContentFile(b"\xff\xd8\xff\xe0fake"))
    alice = _client(cast["alice"])
    assert alice.get(f"/alerts/{alerts['d1'].pk}/reference/{ours.pk}").status_code == 200
    assert alice.get(f"/alerts/{alerts['d1'].pk}/reference/{other.pk}").status_code == 404
    assert _client(cast["charlie"]).get(f"/alerts/{alerts['d1'].pk}/reference/{ours.pk}").status_code == 404
    assert AuditEntry.objects.filter(action="subject.photo_viewed", object_id=str(alerts["d1"].subject_id)).count() == 1
    page = alice.get(f"/alerts/{alerts['d1'].pk}/").content.decode()
    assert f"/alerts/{alerts['d1'].pk}/reference/{ours.pk}" in page


def test_the_dashboard_does_not_grow_queries_with_the_queue(cast, camera_with_token, django_assert_max_num_queries):
    subject = make_subject()
    for _ in range(15):
        make_alert(camera_with_token[0], subject, with_images=False)
    client = _client(cast["alice"])
    # 20: the camera panel adds two queries (the scope's branches, its cameras) and the shift counters three
    # (the scope's branches, the alert counts, the camera problems), whatever the queue
    with django_assert_max_num_queries(20):
        assert client.get("/dashboard/").status_code == 200


def test_the_watchlist_filter_lists_only_the_watchlists_of_the_users_scope(cast, camera_with_token):
    from enrollment.actions import create_watchlist
    from organizations.models import Bank

    everywhere = create_watchlist("Wanted nationwide")
    saigon_only = create_watchlist("Saigon Bank internal")
    saigon_only.banks.set([Bank.objects.get(name="Saigon Bank")])
    mekong_only = create_watchlist("Mekong Bank internal")
    create_camera("Mekong Bank", "Can Tho", "Door")
    mekong_only.banks.set([Bank.objects.get(name="Mekong Bank")])

    def offered(user) -> set[str]:
        return {w.name for w in _client(user).get("/dashboard/").context["watchlists"]}

    assert offered(cast["alice"]) == {everywhere.name, saigon_only.name}
    assert offered(cast["charlie"]) == {everywhere.name, mekong_only.name}
    page = _client(cast["alice"]).get("/dashboard/").content.decode()
    assert "Mekong Bank internal" not in page


def test_a_branch_user_is_offered_only_watchlists_reaching_their_branch(cast, camera_with_token):
    from enrollment.actions import create_watchlist
    from organizations.models import Branch

    create_camera("Saigon Bank", "District 3", "Door")
    d3_only = create_watchlist("District 3 only")
    d3_only.branches.set([Branch.objects.get(name="District 3")])
    assert "District 3 only" not in {w.name for w in _client(cast["bob"]).get("/dashboard/").context["watchlists"]}
    assert "District 3 only" in {w.name for w in _client(cast["alice"]).get("/dashboard/").context["watchlists"]}
