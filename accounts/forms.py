from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import throttle
from audit.log import client_ip


class _RefuseLockedOut:
    """Say plainly that the pair is locked out, and until when, before checking the password."""

    request: Any
    cleaned_data: dict[str, Any]

    def check_lockout(self) -> None:
        username = self.cleaned_data.get("username") or ""
        until = throttle.locked_until(username, client_ip(self.request)) if username else None
        if until is not None:
            minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
            raise forms.ValidationError(
                _("Too many failed sign-ins. This account is locked from your address for %(minutes)s more minutes."),
                code="locked_out",
                params={"minutes": minutes},
            )


class ThrottledAuthenticationForm(_RefuseLockedOut, AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        self.check_lockout()
        return super().clean()


class ThrottledAdminAuthenticationForm(_RefuseLockedOut, AdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        self.check_lockout()
        return super().clean()


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
