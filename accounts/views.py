import qrcode
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from qrcode.image.svg import SvgPathImage

from accounts import twofactor
from accounts.forms import ThrottledAuthenticationForm, TokenForm


def qr_svg(text: str) -> str:
    """The QR code of `text` as inline SVG markup, drawn on the server (qrcode's SVG path factory: no
    image library, nothing fetched); the authenticator app scans it from the screen."""
    image = qrcode.make(text, image_factory=SvgPathImage, box_size=8, border=2)
    return str(image.to_string(encoding="unicode"))


class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:  # type: ignore[override]
        locked = [e for e in form.non_field_errors().as_data() if e.code == "locked_out"]
        context = self.get_context_data(form=form, locked_out=" ".join(m for e in locked for m in e.messages))
        response = self.render_to_response(context, status=429 if locked else 200)
        if locked:
            response["Retry-After"] = str(form.retry_after)
        return response


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify the session with a TOTP code; enrol an authenticator app first when there is none."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    device = twofactor.confirmed_device(request.user)
    enrolling = device is None
    if device is None:
        device = twofactor.pending_device(request.user)
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if twofactor.verify(request, device, form.cleaned_data["token"]):
            return redirect(next_url)
        form.add_error("token", _("That code is wrong or expired."))
    context = {"form": form, "next": next_url, "enrolling": enrolling}
    if enrolling:
        context |= {
            "otpauth_uri": device.config_url,
            "secret": twofactor.secret_of(device),
            "qr_svg": qr_svg(device.config_url),
        }
    return render(request, "registration/otp_setup.html" if enrolling else "registration/otp_verify.html", context)
