"""Vietnamese and English, chosen per user; times in Asia/Ho_Chi_Minh."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from accounts.actions import create_user
from accounts.models import User
from tests.conftest import PASSWORD
from tests.factories import make_alert, make_subject

PO = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_interface_string_has_a_vietnamese_translation():
    entries = PO.read_text(encoding="utf-8").split("\nmsgid ")[1:]
    untranslated = [e.split("\n")[0] for e in entries if '\nmsgstr ""' in e and e.split("\n")[0] != '""']
    assert len(entries) > 150
    assert untranslated == []
    assert (PO.parent / "django.mo").stat().st_size > 10_000, "compile the catalogue: manage.py compilemessages"


@pytest.fixture
def product_default(settings):
    """The product's own default language (tests otherwise run in English, see tests/conftest.py)."""
    settings.LANGUAGE_CODE = "vi"


def test_the_interface_speaks_vietnamese_by_default(cast, product_default):
    minh = create_user("minh", "bank_security", PASSWORD, bank_name="Saigon Bank")
    assert minh.language == "vi"
    page = _client(minh).get("/dashboard/").content.decode()
    assert "Cảnh báo trực tiếp" in page and "Đăng xuất" in page
    assert '<html lang="vi">' in page


def test_each_user_keeps_the_language_they_chose(cast, product_default):
    alice = _client(cast["alice"])
    assert "Live alerts" in alice.get("/dashboard/").content.decode()
    response = alice.post("/account/language", {"language": "vi", "next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert User.objects.get(username="alice").language == "vi"
    page = alice.get("/dashboard/").content.decode()
    assert "Cảnh báo trực tiếp" in page and "Live alerts" not in page
    assert "Live alerts" in _client(cast["bob"]).get("/dashboard/").content.decode()


def test_a_language_choice_cannot_redirect_elsewhere_or_set_nonsense(cast):
    alice = _client(cast["alice"])
    response = alice.post("/account/language", {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert User.objects.get(username="alice").language == "en"
    assert Client().post("/account/language", {"language": "en"}).status_code == 302  # to the sign-in page
    assert Client().get("/account/language").status_code in (302, 405)


@pytest.mark.django_db
def test_the_sign_in_page_follows_the_visitors_choice(product_default):
    client = Client()
    assert "Đăng nhập" in client.get("/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Sign in" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_times_are_shown_in_ho_chi_minh_time(cast, camera_with_token):
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
    alert = make_alert(camera_with_token[0], make_subject())
    local = alert.created_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    page = _client(cast["alice"]).get(f"/alerts/{alert.pk}/").content.decode()
    assert local.strftime("%d/%m/%Y %H:%M:%S") in page  # day before month, 24-hour
    assert "Asia/Ho_Chi_Minh" in page


def test_the_review_page_reads_in_vietnamese(cast, camera_with_token):
    User.objects.filter(username="alice").update(language="vi")
    alert = make_alert(camera_with_token[0], make_subject())
    page = _client(cast["alice"]).get(f"/alerts/{alert.pk}/").content.decode()
    for phrase in ("Xác nhận: đúng là người này", "Không phải người này", "Ảnh quá kém", "Lần xuất hiện"):
        assert phrase in page
    assert "0,600" in page  # and Vietnamese numbers: a decimal comma


def test_numbers_inside_styles_keep_a_decimal_point_in_vietnamese(cast, camera_with_token):
    User.objects.filter(username="alice").update(language="vi")
    alert = make_alert(camera_with_token[0], make_subject())
    page = _client(cast["alice"]).get(f"/alerts/{alert.pk}/").content.decode()
    assert 'style="width: 60.0%"' in page and 'style="left: 36.3%"' in page
