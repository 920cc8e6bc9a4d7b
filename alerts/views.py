"""Pages of the alert flow: the live dashboard, the review page, its action and the evidence images."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.scope import feed_groups
from alerts.access import (
    alerts_visible_to,
    can_review,
    can_run_cases,
    events_visible_to,
    filter_alerts,
    open_statuses_for,
    watchlists_visible_to,
)
from alerts.actions import MATCH_DISMISS_REASONS, ReviewError, review_alert, undo_deadline, undo_dismissal
from alerts.feed import covered_false_alarms, for_listing, serialize_alert
from alerts.history import alert_history
from alerts.models import COVERING_LABELS, Alert
from alerts.shift import shift_counters, shift_start
from alerts.strength import WORDS as STRENGTH_WORDS
from alerts.strength import strength, strength_words
from audit.log import record
from bankwatch.biometrics import serve_biometric
from cameras.access import cameras_visible_to
from cameras.health import serialize_cameras
from cameras.models import Camera
from enrollment.models import ReferencePhoto
from organizations.models import Branch

QUEUE_SIZE = 200


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    open_statuses = list(open_statuses_for(user))
    statuses = [s for s in request.GET.getlist("status") if s in Alert.Status.values] or open_statuses
    # Read the feed position before the queue: an alert raised in between is then replayed, not lost.
    last_event_id = last_event_id_for(user)
    alerts = filter_alerts(alerts_visible_to(user), statuses, request.GET.dict())
    queue = list(for_listing(alerts)[:QUEUE_SIZE])
    record("alerts.listed", None, request=request, ids=[a.pk for a in queue])
    visible = alerts_visible_to(user)
    context = {
        "has_feed": bool(feed_groups(user)),
        "queue": [serialize_alert(a) for a in queue],
        "feed_config": {
            "lastEventId": last_event_id,
            "hasFeed": bool(feed_groups(user)),
            "openStatuses": statuses,
            "branch": request.GET.get("branch", ""),
            "watchlist": request.GET.get("watchlist", ""),
            "soundBase": static("sounds/"),
            "timeZone": timezone.get_current_timezone_name(),  # times read as at the branch, whatever the PC says
            "labels": {
                "up": _("Live: connected"),
                "down": _("Feed down: reconnecting…"),
                "catchingUp": _("Reconnected: catching up…"),
                "newAlert": _("New alert"),
                "noPermission": _("Notifications are blocked in this browser."),
                "on": _("Sound and notifications on"),
                "statuses": dict(Alert.Status.choices),
                "covered": _("Covered face"),
                "coveredAtDoor": _("Covered face at the door"),
                "noIdentity": _("no one identified"),
                "coveringNames": {code: str(name) for code, name in COVERING_LABELS.items()},
                "strength": {code: str(words) for code, words in STRENGTH_WORDS.items()},
                "caution": {"armed": _("may be armed"), "violent": _("may be violent")},
                "scoreTitle": _("score %(score)s, threshold %(threshold)s (%(margin)s above)"),
                "seenByCamera": _("Seen by the camera"),
                "referencePhoto": _("Reference photo"),
                "noImage": _("no image"),
                "sightings": _("sightings"),
                "mute": _("Mute 5 min"),
                "unmute": _("Sound back on"),
                "mutedUntil": _("Muted until %(time)s"),
            },
            "coveredSound": "covered",
        },
        "branches": Branch.objects.filter(pk__in=visible.values("branch_id")).select_related("bank").order_by("name"),
        "watchlists": watchlists_visible_to(user).order_by("name"),
        "statuses": Alert.Status.choices,
        "chosen": {
            "status": statuses,
            "branch": request.GET.get("branch", ""),
            "watchlist": request.GET.get("watchlist", ""),
        },
    }
    cameras = serialize_cameras(cameras_visible_to(user).order_by("branch__name", "name"))
    since = shift_start()
    context["shift"] = {"since": since, "counters": shift_counters(user, since, [c["id"] for c in cameras])}
    context["camera_health"] = {
        "tampered": [camera for camera in cameras if camera["tampered"]],
        "cameras": cameras,
        "sound": "siren",
        "labels": {
            "statuses": dict(Camera.Health.choices),
            "tamper": _("Camera alert"),
            "since": _("since"),
            "backOnline": _("back online"),
            "online": _("online"),
        },
    }
    return render(request, "alerts/dashboard.html", context)


def last_event_id_for(user: User) -> int:
    return events_visible_to(user).aggregate(m=Max("id"))["m"] or 0


def _review_context(request: HttpRequest, alert: Alert, last_event_id: int, **extra: object) -> dict[str, object]:
    user = _user(request)
    covered = alert.is_covered_event
    scores = (alert.covering or {}).get("scores", {})
    best = alert.best_sighting()
    undo_until = undo_deadline(alert, user)
    return {
        "alert": alert,
        "subject": alert.subject,
        "sightings": alert.sightings.select_related("camera__branch__bank").order_by("seen_at", "id"),
        "best": best,
        # The probe beside the score is the face that produced the score, not the first one seen.
        "probe_url": reverse("sighting-image", args=[alert.pk, best.pk, "face"])
        if best is not None
        else reverse("alert-image", args=[alert.pk, "probe"]),
        "has_probe": best is not None or bool(alert.probe_crop),
        "references": []
        if alert.subject is None
        else alert.subject.photos.filter(status=ReferencePhoto.Status.ACCEPTED).order_by("pk")[:6],
        "margin": None if covered else (alert.score or 0.0) - (alert.threshold or 0.0),
        "strength": strength(alert.score, alert.threshold),
        "strength_words": strength_words(alert.score, alert.threshold),
        # Score and threshold on one 0..1 bar: where the threshold sits and how far past it the score is.
        "score_pct": max(0.0, min(100.0, (alert.score or 0.0) * 100)),
        "threshold_pct": max(0.0, min(100.0, (alert.threshold or 0.0) * 100)),
        "covering": [
            {"code": label, "name": COVERING_LABELS.get(label, label), "confidence": scores.get(label)}
            for label in alert.covering_labels
        ],
        "false_alarms": covered_false_alarms(alert.camera_id) if covered else None,
        "can_decide": can_review(user) and alert.status in Alert.OPEN_FOR_BANK,
        "can_run_cases": can_run_cases(user),
        "reasons": [(r.value, r.label) for r in MATCH_DISMISS_REASONS],
        "case": getattr(alert, "case", None) if alert.status in Alert.WITH_CASE else None,
        "history": alert_history(alert),
        "undo_seconds": None if undo_until is None else max(1, int((undo_until - timezone.now()).total_seconds())),
        # The page listens to the feed too, so a decision someone else takes meanwhile shows at once.
        "review_config": {
            "alertId": alert.pk,
            "version": alert.version,
            "hasFeed": bool(feed_groups(user)),
            "lastEventId": last_event_id,
            "changed": _(
                "Someone else changed this alert meanwhile: it is now “%(status)s”. Reload it before deciding."
            ),
            "statuses": dict(Alert.Status.choices),
            "confirmFirst": _("Confirm the alert first (C): only a confirmed alert can be escalated to the police."),
            "otherNeedsNote": _("Write a note that says why, then press 4 again."),
            "undoLeft": _("Undo (Z) · %(seconds)s s left"),
        },
        **extra,
    }


@login_required
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    last_event_id = last_event_id_for(_user(request))  # before the alert is read, as on the dashboard
    alert = get_object_or_404(alerts_visible_to(_user(request)), pk=alert_id)
    record("alert.viewed", alert, request=request)
    return render(request, "alerts/review.html", _review_context(request, alert, last_event_id))


@require_POST
@login_required
def alert_review(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(alerts_visible_to(_user(request)), pk=alert_id)
    version_text = request.POST.get("version", "")
    version = int(version_text) if version_text.isdigit() else -1
    action, reason = request.POST.get("action", ""), request.POST.get("reason", "")
    if action == "dismiss" and reason == Alert.DismissReason.NOT_THIS_PERSON and request.POST.get("confirmed") != "1":
        # One key must not clear a wanted person for good: "not this person" is asked again first.
        context = _review_context(
            request,
            alert,
            last_event_id_for(_user(request)),
            confirm_not_this_person=True,
            note=request.POST.get("note", ""),
        )
        return render(request, "alerts/review.html", context)
    try:
        if action == "undo_dismissal":
            undo_dismissal(alert, _user(request), version=version, request=request)
        else:
            review_alert(
                alert,
                _user(request),
                action,
                reason=reason,
                note=request.POST.get("note", "").strip(),
                version=version,
                request=request,
            )
    except ReviewError as exc:
        last_event_id = last_event_id_for(_user(request))
        alert.refresh_from_db()
        context = _review_context(request, alert, last_event_id, error=str(exc), note=request.POST.get("note", ""))
        return render(request, "alerts/review.html", context, status=exc.status)
    messages.success(request, f"#{alert.pk}: {alert.get_status_display()}")
    return redirect("alert-detail", alert.pk)


def _image(field_of: dict[str, FieldFile], kind: str) -> FieldFile:
    field = field_of.get(kind)
    if field is None:
        raise Http404("no such image")
    return field


@login_required
def alert_image(request: HttpRequest, alert_id: int, kind: str) -> FileResponse:
    return serve_biometric(
        request,
        alerts_visible_to(_user(request)),
        alert_id,
        lambda alert: _image({"probe": alert.probe_crop, "frame": alert.evidence_frame}, kind),
        "alert.image_viewed",
        image=kind,
    )


@login_required
def sighting_image(request: HttpRequest, alert_id: int, sighting_id: int, kind: str) -> FileResponse:
    def pick(alert: Alert) -> FieldFile:
        sighting = get_object_or_404(alert.sightings, pk=sighting_id)
        return _image({"face": sighting.face_crop, "frame": sighting.frame_image}, kind)

    return serve_biometric(
        request,
        alerts_visible_to(_user(request)),
        alert_id,
        pick,
        "alert.image_viewed",
        image=kind,
        sighting_id=sighting_id,
    )


@login_required
def reference_photo(request: HttpRequest, alert_id: int, photo_id: int) -> FileResponse:
    """A reference photo of the alert's subject, only to someone who may see the alert."""

    def pick(alert: Alert) -> FieldFile:
        if alert.subject is None:
            raise Http404("a covered-face event has no reference photos")
        photo = get_object_or_404(alert.subject.photos, pk=photo_id, status=ReferencePhoto.Status.ACCEPTED)
        return photo.face_crop or photo.image

    return serve_biometric(
        request,
        alerts_visible_to(_user(request)),
        alert_id,
        pick,
        "subject.photo_viewed",
        audit_target=lambda alert: alert.subject,
        photo_id=photo_id,
        alert_id=alert_id,
    )


MUTE_MINUTES = (0, 5, 15, 30)


@require_POST
@login_required
def sound_mute(request: HttpRequest) -> JsonResponse:
    """Mute the dashboard's sounds for a few minutes (0 turns them back on); audited, as silence can miss an alert."""
    if not feed_groups(_user(request)):
        raise PermissionDenied
    minutes = request.POST.get("minutes", "")
    if not minutes.isdigit() or int(minutes) not in MUTE_MINUTES:
        return JsonResponse({"error": _("Mute for 5, 15 or 30 minutes, or 0 to unmute.")}, status=400)
    until = timezone.now() + timedelta(minutes=int(minutes))
    if int(minutes):
        record("alerts.sound_muted", None, request=request, minutes=int(minutes), until=until.isoformat())
    else:
        record("alerts.sound_unmuted", None, request=request)
    return JsonResponse({"muted_until": until.isoformat() if int(minutes) else None})


@require_POST
@login_required
def choose_language(request: HttpRequest) -> HttpResponseRedirect:
    """Each user keeps the interface language they chose (accounts.middleware applies it)."""
    user = _user(request)
    language = request.POST.get("language", "")
    if language in dict(User._meta.get_field("language").choices or []):
        user.language = language
        user.save(update_fields=["language"])
        translation.activate(language)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)
