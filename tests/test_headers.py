"""Headers and leaks: a Content-Security-Policy with same-origin scripts on every page,
no-store on every page and API response for a signed-in user (alert, watchlist and biometric
data), and an anonymous /healthz that says only ok or failing."""

import re

import pytest
from django.test import Client

from enrollment import actions
from tests.conftest import photo


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _script_src(response) -> str:
    policy = response["Content-Security-Policy"]
    return re.search(r"script-src ([^;]+)", policy).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("who", "url"),
    [(None, "/login/"), ("alice", "/dashboard/"), ("carol", "/admin/"), ("alice", "/api/docs/"), ("audrey", "/audit/")],
)
def test_every_page_sends_a_policy_allowing_only_same_origin_scripts(cast, who, url):
    client = _client(cast[who]) if who else Client()
    response = client.get(url)
    assert response.status_code == 200
    assert _script_src(response).split() == ["'self'"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    inline = re.findall(rb"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>\s*\S", response.content)
    assert inline == [], f"{url} has an inline script the policy would block"


@pytest.mark.django_db
@pytest.mark.parametrize(("secure", "socket"), [(False, "ws://testserver"), (True, "wss://testserver")])
def test_the_policy_lets_pages_connect_only_to_their_own_origin_and_its_socket(secure, socket):
    response = Client().get("/login/", secure=secure)
    connect = re.search(r"connect-src ([^;]+)", response["Content-Security-Policy"])
    assert connect is not None, "no connect-src: a page could send data to any host"
    assert connect.group(1).split() == ["'self'", socket]


def test_pages_api_responses_and_biometric_files_are_not_cached(dataset, cast):
    subject = actions.create_subject(actions.create_watchlist("Robbers"), "Person One")
    stored = actions.add_photo(subject, photo("img1.jpg"), "img1.jpg")
    urls = {
        "alice": ["/dashboard/", "/api/v1/alerts/"],
        "carol": [
            "/api/v1/watchlists/",
            f"/api/v1/photos/{stored.pk}/image",
            f"/admin/enrollment/referencephoto/{stored.pk}/file/image/",
        ],
    }
    for who, paths in urls.items():
        client = _client(cast[who])
        for url in paths:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "no-store" in response["Cache-Control"] and "max-age=60" not in response["Cache-Control"], url


@pytest.mark.django_db
def test_anonymous_healthz_says_only_ok_or_failing():
    response = Client().get("/healthz")
    assert response.json() in ({"status": "ok"}, {"status": "failing"})
    assert response.status_code in (200, 503)
