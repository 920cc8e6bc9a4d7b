from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.scope import feed_groups
from alerts.access import alerts_visible_to
from audit.log import record


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/dashboard.html", {"has_feed": bool(feed_groups(request.user))})  # type: ignore[arg-type]


@login_required
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(alerts_visible_to(request.user), pk=alert_id)  # type: ignore[arg-type]
    record("alert.viewed", alert, request=request)
    return render(request, "alerts/review.html", {"alert": alert, "sightings": alert.sightings.all()})


@login_required
def alert_image(request: HttpRequest, alert_id: int, kind: str) -> FileResponse:
    alert = get_object_or_404(alerts_visible_to(request.user), pk=alert_id)  # type: ignore[arg-type]
    field = {"probe": alert.probe_crop, "frame": alert.evidence_frame}.get(kind)
    if not field:
        raise Http404("no such image")
    record("alert.image_viewed", alert, request=request, image=kind)
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
