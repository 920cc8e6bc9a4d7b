"""Thresholds that learn from the field: the false-alert rate reviews reveal, per watchlist and camera.

Each face a camera's frame puts to the gallery is one search (alerts.SearchTally counts them
per camera and day; nothing about the face is kept). An alert a reviewer dismisses as "not
this person" is a false alert. Their ratio over the last FIELD_RATE_DAYS days is the observed
false-alert rate per search: the quantity the calibrated advice bounds (FPIR,
recognition/advice.py), so curators see both side by side in the watchlist admin and a
warning when the observed rate is above the advised one.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from alerts.models import Alert, SearchTally
from cameras.models import Camera
from enrollment.models import Watchlist


def count_searches(camera_id: int, faces: int, day: date | None = None) -> None:
    """Add `faces` searches to the camera's tally for the day (one UPDATE; an INSERT once a day)."""
    if faces <= 0:
        return
    day = day or timezone.localdate()
    if SearchTally.objects.filter(camera_id=camera_id, day=day).update(faces=F("faces") + faces):
        return
    try:
        with transaction.atomic():
            SearchTally.objects.create(camera_id=camera_id, day=day, faces=faces)
    except IntegrityError:  # another worker created the day's row first
        SearchTally.objects.filter(camera_id=camera_id, day=day).update(faces=F("faces") + faces)


@dataclass(frozen=True)
class FieldRate:
    camera: Camera | None  # None: the whole watchlist
    searches: int
    reviewed: int
    false_alerts: int

    @property
    def rate(self) -> float | None:
        return self.false_alerts / self.searches if self.searches else None


def _cameras_in_scope(watchlist: Watchlist) -> "Q":
    banks = list(watchlist.banks.values_list("id", flat=True))
    branches = list(watchlist.branches.values_list("id", "bank_id"))
    if not banks and not branches:
        return Q()
    listed_banks = {bank for _, bank in branches}
    return Q(branch_id__in=[b for b, _ in branches]) | Q(
        branch__bank_id__in=[b for b in banks if b not in listed_banks]
    )


def field_rates(watchlist: Watchlist, days: int | None = None) -> list[FieldRate]:
    """The watchlist's total first, then one row per camera in its scope that searched faces."""
    days = days or settings.FIELD_RATE_DAYS
    since = timezone.localdate() - timedelta(days=days - 1)
    cameras = {c.pk: c for c in Camera.objects.filter(_cameras_in_scope(watchlist)).select_related("branch")}
    searches = dict(
        SearchTally.objects.filter(camera_id__in=cameras, day__gte=since)
        .values("camera_id")
        .annotate(total=Sum("faces"))
        .values_list("camera_id", "total")
    )
    reviewed_statuses = [Alert.Status.CONFIRMED, Alert.Status.ESCALATED, Alert.Status.CASE_OPENED, Alert.Status.CLOSED]
    false_alert = Q(status=Alert.Status.DISMISSED, dismiss_reason=Alert.DismissReason.NOT_THIS_PERSON)
    outcomes = {
        row["camera_id"]: row
        for row in Alert.objects.filter(watchlist=watchlist, created_at__date__gte=since)
        .values("camera_id")
        .annotate(
            false_alerts=Count("id", filter=false_alert),
            reviewed=Count("id", filter=false_alert | Q(status__in=reviewed_statuses)),
        )
    }
    rows = []
    for camera_id in sorted(set(searches) | set(outcomes)):
        if camera_id not in cameras:
            continue
        outcome: Mapping[str, Any] = outcomes.get(camera_id, {})
        rows.append(
            FieldRate(
                cameras[camera_id],
                int(searches.get(camera_id) or 0),
                int(outcome.get("reviewed", 0)),
                int(outcome.get("false_alerts", 0)),
            )
        )
    total = FieldRate(
        None,
        sum(r.searches for r in rows),
        sum(r.reviewed for r in rows),
        sum(r.false_alerts for r in rows),
    )
    return [total, *rows]
