from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts import throttle


class _BackOff:
    """Refuse a user name that is backing off (accounts/throttle.py) before checking the password;
    the pair lockout itself is django-axes' (its backend and middleware)."""

    request: Any
    cleaned_data: dict[str, Any]
    retry_after = 0

    def check_backoff(self) -> None:
        username = self.cleaned_data.get("username") or ""
        self.retry_after = throttle.wait_seconds(username) if username else 0
        if self.retry_after:
            raise forms.ValidationError(
                _("Too many failed sign-ins for this user name. Try again in %(seconds)s seconds."),
                code="locked_out",
                params={"seconds": self.retry_after},
            )


class ThrottledAuthenticationForm(_BackOff, AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        self.check_backoff()
        return super().clean()


class ThrottledAdminAuthenticationForm(_BackOff, AdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        self.check_backoff()
        return super().clean()


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
