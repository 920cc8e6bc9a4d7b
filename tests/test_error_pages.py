"""BankWatch-branded 403, 404 and 500 pages in the user's language, each with a way back."""

from django.test import Client
from django.urls import path


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", _boom)]


def test_a_page_outside_the_users_scope_is_a_branded_404_in_their_language(cast):
    client = Client()
    client.force_login(cast["alice"])
    page = client.get("/alerts/999999/")
    assert page.status_code == 404
    html = page.content.decode()
    assert 'id="error-page"' in html and "Page not found" in html and 'href="/"' in html
    cast["alice"].language = "vi"
    cast["alice"].save(update_fields=["language"])
    assert "Không tìm thấy trang" in client.get("/alerts/999999/").content.decode()


def test_a_page_the_role_does_not_open_is_a_branded_403(cast):
    client = Client()
    client.force_login(cast["alice"])
    page = client.get("/police/")
    assert page.status_code == 403 and "Not allowed" in page.content.decode()
    assert "BankWatch" in page.content.decode()


def test_a_server_error_is_a_branded_500_in_both_languages(cast, settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    page = client.get("/boom/")
    assert page.status_code == 500
    html = page.content.decode()
    assert 'id="error-page"' in html and "Something went wrong" in html and "Đã xảy ra lỗi" in html


