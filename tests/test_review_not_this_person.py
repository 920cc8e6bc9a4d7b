"""'Not this person' on real photos: the same innocent face stops raising the alert; the real subject still does."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.utils import timezone

from alerts import pipeline
from alerts.actions import review_alert
from alerts.frame_queue import new_frame_id
from alerts.models import Alert
from alerts.samples import compose, load
from enrollment.models import CounterExample
from recognition.images import encode_jpeg
from tests.factories import enroll, make_alert, make_subject


def _frame(camera, dataset: Path, name: str, seconds: float) -> tuple[Any, ...]:
    """The recognition job's arguments for a camera frame of this photo."""
    at = (timezone.now() + timedelta(seconds=seconds)).isoformat()
    return (new_frame_id(), camera.pk, at, encode_jpeg(compose([load(dataset / name)]), quality=90))


def test_dismissing_as_not_this_person_keeps_the_probe_as_a_counter_example(cast, camera_with_token):
    alert = make_alert(camera_with_token[0], make_subject())
    review_alert(alert, cast["alice"], "dismiss", reason="not_this_person", version=1)
    counter = CounterExample.objects.get()
    assert (counter.subject_id, counter.source_alert_id, counter.created_by) == (
        alert.subject_id,
        alert.pk,
        cast["alice"],
    )
    assert alert.probe_embedding is not None
    kept = np.frombuffer(bytes(counter.embedding), np.float32)
    assert np.allclose(kept, np.frombuffer(bytes(alert.probe_embedding), np.float32), atol=1e-6)


def test_other_dismissal_reasons_teach_the_gallery_nothing(cast, camera_with_token):
    alert = make_alert(camera_with_token[0], make_subject())
    review_alert(alert, cast["alice"], "dismiss", reason="poor_image", version=1)
    assert not CounterExample.objects.exists()


def test_the_same_innocent_customer_walking_in_again_raises_no_alert_while_the_subject_still_does(
    cast, camera_with_token, dataset, settings
):
    # A watchlist set far too lax (0.05) so that a customer who is not the subject is matched:
    # img20 scores about 0.11 against the subject's img1. That is the false alert to correct.
    settings.AGREEMENT_STRONG_MARGIN = 0.0  # one frame is enough to raise, so each photo is judged alone
    settings.MIN_WATCHLIST_THRESHOLD = -1.0  # the floor refuses such a list; this test needs one
    camera, _ = camera_with_token
    robber = enroll(make_subject("Tran Van Robber", "Lax list", threshold=0.05), "img1.jpg")

    pipeline.process_frame(*_frame(camera, dataset, "img20.jpg", 0))
    false_alert = Alert.objects.get()
    assert false_alert.subject == robber and false_alert.probe_embedding
    review_alert(false_alert, cast["alice"], "dismiss", reason="not_this_person", version=false_alert.version)

    # The same customer again, in another photo: no alert, no sighting.
    outcome = pipeline.process_frame(*_frame(camera, dataset, "img21.jpg", 20))
    assert outcome is not None and outcome.faces == 1 and outcome.matches == 0
    assert Alert.objects.count() == 1 and false_alert.sightings.count() == 1

    # The real subject, in a photo the gallery has never seen: still an alert.
    outcome = pipeline.process_frame(*_frame(camera, dataset, "img2.jpg", 40))
    assert outcome is not None and [what for what, _ in outcome.results] == ["raised"]
    real = Alert.objects.exclude(pk=false_alert.pk).get()
    assert real.subject == robber and real.score is not None and real.score > 0.5
