from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cameras.devices import PairingRefusedError, device_page, redeem_pairing_code, set_device_cookie


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
