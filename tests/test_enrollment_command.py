"""`manage.py enroll` on real photos, with the embedded job threads doing the work as in production."""

import json

import pytest
from django.core.management import CommandError, call_command

from enrollment.models import ReferencePhoto, Subject, Watchlist
from tests.conftest import DATASET


@pytest.mark.django_db(transaction=True)  # the jobs run on other threads: they must see committed rows
def test_enroll_creates_the_subject_waits_and_prints_the_verdicts_last(dataset, tmp_path, capsys):
    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("not a photo")
    photos = [str(DATASET / "img1.jpg"), str(DATASET / "couple.jpg"), str(not_a_photo)]

    call_command("enroll", "--watchlist", "Robbers", "--name", "Nguyen Van A", *photos)

    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    subject = Subject.objects.get(full_name="Nguyen Van A", watchlist=Watchlist.objects.get(name="Robbers"))
    assert result["subject_id"] == subject.pk and result["accepted"] == 1
    reasons = {r["photo"]: r["reason"] for r in result["rejected"]}
    assert reasons[photos[1]].startswith("Several faces of similar size")
    assert reasons[photos[2]].startswith("Not a usable image")
    assert set(subject.photos.values_list("status", flat=True)) == {"accepted", "rejected"}

    # Run again for the same person: the subject is reused, not duplicated.
    call_command("enroll", "--watchlist", "Robbers", "--name", "Nguyen Van A", str(DATASET / "img2.jpg"))
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again == {"subject_id": subject.pk, "accepted": 1, "rejected": []}
    assert ReferencePhoto.objects.filter(subject=subject, status="accepted").count() == 2


def test_a_bad_expiry_date_is_refused(db):
    with pytest.raises(CommandError):
        call_command("enroll", "--watchlist", "W", "--name", "N", "--expires", "31/12/2030", "x.jpg")
    assert not Watchlist.objects.exists()
