import pytest
from django.test import Client


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_healthz_reports_each_dependency_to_a_signed_in_user(cast):
    response = _signed_in(cast["audrey"]).get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "channel_layer", "job_queue", "model_weights"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_answers_503_naming_missing_weights(cast, settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "nothing-here"
    response = _signed_in(cast["audrey"]).get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["model_weights"]
    assert "provision_models" in response.json()["checks"]["model_weights"]["detail"]


@pytest.mark.django_db
def test_an_anonymous_visitor_is_led_to_the_login_page():
    response = Client().get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert b'name="password"' in response.content


@pytest.mark.django_db
def test_the_dashboard_refuses_anonymous_visitors():
    response = Client().get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_user_logs_in_and_sees_the_dashboard(cast):
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": "correct-horse-battery"}, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert b"alert-list" in response.content


def test_a_wrong_password_is_refused(cast):
    response = Client().post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


@pytest.mark.django_db
def test_static_files_are_served_in_the_embedded_mode():
    from django.test import override_settings

    with override_settings(DEBUG=False):
        response = Client().get("/static/css/bankwatch.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
