from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cameras.devices import (
    PairingRefusedError,
    device_from_request,
    device_page,
    redeem_pairing_code,
    set_device_cookie,
)
from cameras.models import DeviceKind


@require_http_methods(["GET", "POST"])
def pair(request: HttpRequest) -> HttpResponse:
    """A device trades a one-time code from `pair_display` for its token (an HttpOnly cookie)."""
    if request.method == "GET":
        return render(request, "cameras/pair.html", {})
    code = request.POST.get("code", "")
    try:
        device, token = redeem_pairing_code(request, code)
    except PairingRefusedError as exc:
        return render(request, "cameras/pair.html", {"error": str(exc)}, status=400)
    target = device_page(device)
    response = redirect(target) if target else render(request, "cameras/paired.html", {"device": device})
    set_device_cookie(response, device, token)
    return response


def capture(request: HttpRequest, camera_id: int) -> HttpResponse:
    """A paired browser as the camera: its webcam's frames go to the frame API at the camera's rate."""
    device = device_from_request(request, camera_id, DeviceKind.CAPTURE)
    if device is None:
        return render(request, "cameras/not_paired.html", {"camera_id": camera_id}, status=403)
    camera = device.camera
    config = {
        "cameraId": camera.pk,
        "fps": camera.fps,
        "frameUrl": reverse("api-frames"),
        "csrfToken": get_token(request),
        "labels": {
            "starting": _("Starting the camera…"),
            "sending": _("Sending: %(sent)s frames, %(failed)s failed"),
            "denied": _("This browser may not use its camera. Allow it in the site settings, then reload."),
            "unpaired": _("This browser is no longer paired with the camera. Pair it again."),
        },
    }
    return render(request, "cameras/capture.html", {"camera": camera, "config": config})
