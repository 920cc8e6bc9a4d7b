"""The state changes recognition makes: raise an alert, add a sighting to it, and the same two
for covered-face events (a face at the door hidden by a mask, helmet, sunglasses or hood, or not
visible at all), which name no one: no subject, no watchlist, no score.

Each writes the row, the audit entry and the live feed event together, inside one
transaction; the pipeline, the factories of the tests and anything else call these.
Audit entries name the subject, camera, frame and score, never face data.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from numpy.typing import NDArray

from alerts.feed import emit
from alerts.models import Alert, Sighting
from audit.log import record
from cameras.models import Camera
from enrollment.models import Subject, Watchlist


@dataclass
class Observation:
    """One matching face in one frame: what an alert or a sighting keeps as evidence."""

    camera: Camera
    frame_id: int
    seen_at: datetime
    score: float
    threshold: float
    box: list[int]
    face_crop: bytes = b""  # JPEG of the aligned face
    frame_image: bytes = b""  # JPEG of the frame, every other face blurred
    embedding: NDArray[np.float32] | None = field(default=None, repr=False)
    # {"labels": [...], "scores": {label: confidence}} when the face was covered (or hidden).
    # For a covered-face event `score` is the top covering confidence and `threshold` is unused.
    covering: dict[str, Any] = field(default_factory=dict)


def _files(obs: Observation, kind: str) -> dict[str, Any]:
    name = f"c{obs.camera.pk}-f{obs.frame_id}-{kind}.jpg"
    return {
        "crop": ContentFile(obs.face_crop, name=name) if obs.face_crop else None,
        "frame": ContentFile(obs.frame_image, name=name) if obs.frame_image else None,
    }


def _sighting(alert: Alert, obs: Observation) -> Sighting:
    files = _files(obs, "sighting")
    sighting = Sighting(
        alert=alert,
        camera=obs.camera,
        frame_id=obs.frame_id,
        seen_at=obs.seen_at,
        score=obs.score,
        box=obs.box,
        covering=obs.covering,
    )
    if files["crop"]:
        sighting.face_crop.save(files["crop"].name, files["crop"], save=False)
    if files["frame"]:
        sighting.frame_image.save(files["frame"].name, files["frame"], save=False)
    sighting.save()
    return sighting


def _save_with_sightings(alert: Alert, best: Observation, observations: list[Observation]) -> None:
    files = _files(best, "probe")
    if files["crop"]:
        alert.probe_crop.save(files["crop"].name, files["crop"], save=False)
    if files["frame"]:
        alert.evidence_frame.save(files["frame"].name, files["frame"], save=False)
    alert.save()
    for obs in sorted(observations, key=lambda o: o.seen_at):
        _sighting(alert, obs)


@transaction.atomic
def raise_alert(subject: Subject, watchlist: Watchlist, observations: list[Observation]) -> Alert:
    """A new alert from one or more agreeing observations; the best one becomes its probe.

    Every observation becomes a sighting, so the reviewer sees all the evidence that agreed.
    """
    if not observations:
        raise ValueError("an alert needs at least one observation")
    best = max(observations, key=lambda o: o.score)
    camera = best.camera
    alert = Alert(
        subject=subject,
        watchlist=watchlist,
        camera=camera,
        branch_id=camera.branch_id,
        bank_id=camera.branch.bank_id,
        score=best.score,
        threshold=best.threshold,
        box=best.box,
        last_seen_at=max(o.seen_at for o in observations),
        probe_embedding=np.asarray(best.embedding, np.float32).tobytes() if best.embedding is not None else None,
        covering=best.covering,
    )
    _save_with_sightings(alert, best, observations)
    record(
        "alert.raised",
        alert,
        subject_id=subject.pk,
        watchlist_id=watchlist.pk,
        camera_id=camera.pk,
        frame_ids=[o.frame_id for o in observations],
        score=round(best.score, 4),
        threshold=round(best.threshold, 4),
    )
    emit(alert, "alert.created")
    return alert


@transaction.atomic
def raise_covered_event(observations: list[Observation]) -> Alert:
    """A covered-face event from agreeing observations of one person at one camera: the most
    confident becomes its probe, every one a sighting. Its covering gathers every label seen,
    each with the highest confidence any observation gave it. It names no one."""
    if not observations:
        raise ValueError("a covered-face event needs at least one observation")
    best = max(observations, key=lambda o: o.score)
    camera = best.camera
    alert = Alert(
        kind=Alert.Kind.COVERED,
        camera=camera,
        branch_id=camera.branch_id,
        bank_id=camera.branch.bank_id,
        box=best.box,
        last_seen_at=max(o.seen_at for o in observations),
        # Kept to tell this person from the next one during the cool-down; retention removes it.
        probe_embedding=np.asarray(best.embedding, np.float32).tobytes() if best.embedding is not None else None,
        covering=merge_coverings([o.covering for o in observations]),
    )
    _save_with_sightings(alert, best, observations)
    record(
        "covered.raised",
        alert,
        camera_id=camera.pk,
        frame_ids=[o.frame_id for o in observations],
        labels=alert.covering_labels,
    )
    emit(alert, "alert.created")
    return alert


def merge_coverings(coverings: list[dict[str, Any]]) -> dict[str, Any]:
    """Every label any observation saw, most confident first, each with its highest confidence."""
    scores: dict[str, float] = {}
    labels: set[str] = set()
    for covering in coverings:
        labels.update(covering.get("labels", []))
        for label, value in covering.get("scores", {}).items():
            scores[label] = max(scores.get(label, 0.0), float(value))
    ordered = sorted(labels, key=lambda label: (-scores.get(label, 0.0), label))
    return {"labels": ordered, "scores": {label: round(value, 4) for label, value in scores.items()}}


@transaction.atomic
def add_sighting(alert: Alert, obs: Observation) -> Sighting | None:
    """Record that an alert's subject (or a covered-face event's person) was seen again. None when
    this frame is already on the alert (a re-run job adds nothing). Does not change the review
    version: a sighting is not a review."""
    if Sighting.objects.filter(alert=alert, frame_id=obs.frame_id).exists():
        return None
    sighting = _sighting(alert, obs)
    # Column updates, not save(): a reviewer may be changing the same row's status at this moment.
    changes: dict[str, Any] = {"last_seen_at": Greatest(F("last_seen_at"), obs.seen_at)}
    if alert.is_covered_event:
        changes["covering"] = merge_coverings([alert.covering, obs.covering])
    else:
        changes["score"] = Greatest(F("score"), obs.score)
    Alert.objects.filter(pk=alert.pk).update(**changes)
    alert.refresh_from_db(fields=["last_seen_at", "score", "covering", "status", "version", "updated_at"])
    record(
        "covered.sighting_added" if alert.is_covered_event else "alert.sighting_added",
        alert,
        sighting_id=sighting.pk,
        camera_id=obs.camera.pk,
        frame_id=obs.frame_id,
        **({"labels": obs.covering.get("labels", [])} if alert.is_covered_event else {"score": round(obs.score, 4)}),
    )
    emit(alert, "alert.updated")
    return sighting
