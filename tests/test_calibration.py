"""Calibration advice per watchlist size, and the false-alert rate observed in review, as curators see them."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from alerts.actions import review_alert
from alerts.field_rates import count_searches, field_rates
from enrollment.models import Watchlist
from recognition import advice
from tests.factories import make_alert, make_subject


def _calibration(tmp_path, settings, target=0.001):
    data = {
        "model_id": "SFace+yunet",
        "pairs_file": "pairs.csv",
        "target_fpir": target,
        "sizes": [
            {"gallery_size": 100, "advised_threshold": 0.5, "fnir_at_fpir_0.001": 0.1},
            {"gallery_size": 1000, "advised_threshold": 0.6, "fnir_at_fpir_0.001": 0.2},
        ],
    }
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(data))
    settings.RECOGNITION_CALIBRATION_FILE = str(path)
    return data


def test_calibrate_writes_a_det_plot_and_thresholds_that_rise_with_the_gallery(dataset, tmp_path, capsys):
    call_command(
        "calibrate", pairs=dataset / "master.csv", images=dataset, gallery_sizes="10,1000", out=tmp_path / "cal"
    )
    written = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == written
    assert (tmp_path / "cal" / "det.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    small, large = written["sizes"]
    assert (small["gallery_size"], large["gallery_size"]) == (10, 1000)
    assert large["threshold_at_fpir_0.001"] > small["threshold_at_fpir_0.001"]
    assert large["threshold_at_fpir_0.001"] >= large["threshold_at_fpir_0.003"]
    assert written["mated_searches"] > 0 and written["non_mated_searches"] > 0
    assert 0 <= large["fnir_at_fpir_0.001"] <= 1


def test_calibrate_refuses_bad_gallery_sizes(dataset, tmp_path):
    with pytest.raises(CommandError, match="gallery-sizes"):
        call_command("calibrate", pairs=dataset / "master.csv", gallery_sizes="ten", out=tmp_path)
    assert not (tmp_path / "calibration.json").exists()


def test_advice_is_the_row_for_the_watchlists_own_size(tmp_path, settings):
    _calibration(tmp_path, settings)
    advised = {size: (advice.advice_for(size) or {}).get("advised_threshold") for size in (3, 101, 50_000)}
    assert advised == {3: 0.5, 101: 0.6, 50_000: 0.6}  # beyond the largest calibrated size: the largest
    settings.RECOGNITION_MODEL = "Dlib"
    assert advice.advice_for(3) is None  # calibrated for another model


def test_the_watchlist_admin_shows_the_advice_for_its_size(cast, client, tmp_path, settings):
    _calibration(tmp_path, settings)
    subject = make_subject()
    client.force_login(cast["carol"])
    page = client.get(reverse("admin:enrollment_watchlist_change", args=[subject.watchlist_id])).content.decode()
    assert "For 1 active subjects (calibrated up to 100): threshold 0.500" in page
    listing = client.get(reverse("admin:enrollment_watchlist_changelist")).content.decode()
    assert "0.500" in listing


def test_not_this_person_reviews_give_a_false_alert_rate_per_camera_with_a_warning(
    cast, client, camera_with_token, tmp_path, settings
):
    _calibration(tmp_path, settings)
    camera, _ = camera_with_token
    subject = make_subject()
    for _ in range(2):
        alert = make_alert(camera, subject)
        review_alert(alert, cast["alice"], "dismiss", "not_this_person", version=alert.version)
    confirmed = make_alert(camera, make_subject("Tran Van B"))
    review_alert(confirmed, cast["alice"], "confirm", version=confirmed.version)
    count_searches(camera.pk, 600)
    count_searches(camera.pk, 400)
    total, at_camera = field_rates(Watchlist.objects.get(pk=subject.watchlist_id))
    assert at_camera.camera == camera
    assert (at_camera.searches, at_camera.reviewed, at_camera.false_alerts) == (1000, 3, 2)
    assert total.rate == at_camera.rate == 0.002
    client.force_login(cast["carol"])
    page = client.get(reverse("admin:enrollment_watchlist_change", args=[subject.watchlist_id])).content.decode()
    assert "above the advised 0.001" in page and str(camera) in page


def test_a_rate_within_the_advice_shows_no_warning(cast, client, camera_with_token, tmp_path, settings):
    _calibration(tmp_path, settings, target=0.01)
    camera, _ = camera_with_token
    subject = make_subject()
    alert = make_alert(camera, subject)
    review_alert(alert, cast["alice"], "dismiss", "not_this_person", version=alert.version)
    count_searches(camera.pk, 1000)
    client.force_login(cast["carol"])
    page = client.get(reverse("admin:enrollment_watchlist_change", args=[subject.watchlist_id])).content.decode()
    assert "0.001" in page and "above the advised" not in page
