from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.log import record
from cameras import health
from cameras.actions import (
    IssuedCredentials,
    StreamConfigError,
    camera_credentials,
    configure_stream,
    rotate_credentials,
)
from cameras.devices import revoke_device
from cameras.models import Camera, PairedDevice, covered_false_alarms
from cameras.signing import secret_of


class CameraForm(forms.ModelForm):
    """Stream credentials are write-only: the form shows whether a password is stored, never the password."""

    stream_username = forms.CharField(label=_("stream user name"), required=False)
    stream_password = forms.CharField(
        label=_("stream password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the stored one."),
    )
    clear_password = forms.BooleanField(label=_("remove the stored password"), required=False)

    class Meta:
        model = Camera
        fields = ["branch", "name", "role", "is_active", "source", "stream_url", "stream_auth", "fps"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            try:
                self.fields["stream_username"].initial = camera_credentials(self.instance).username
            except ValueError:
                self.fields["stream_username"].help_text = _("The stored credentials do not decrypt: enter them again.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("stream_password") or None
        if data.get("clear_password"):
            password = ""
        try:
            configure_stream(
                self.instance,
                source=data.get("source"),
                url=data.get("stream_url", ""),
                username=data.get("stream_username", ""),
                password=password,
                auth=data.get("stream_auth") or Camera.Auth.DIGEST,
                fps=data.get("fps"),
            )
        except StreamConfigError as exc:
            raise forms.ValidationError(str(exc)) from None
        data["stream_url"] = self.instance.stream_url  # without the user name and password
        return data


@admin.action(description=_("Take the current view as the reference (after a planned move)"), permissions=["change"])
def reset_reference_views(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Camera]) -> None:
    for camera in queryset:
        health.reset_reference_view(camera, actor=request.user)
    n = len(queryset)
    modeladmin.message_user(
        request,
        ngettext(
            "%(n)d camera will take its next normal frame as its reference view.",
            "%(n)d cameras will take their next normal frame as their reference view.",
            n,
        )
        % {"n": n},
        messages.SUCCESS,
    )


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    form = CameraForm
    actions = [reset_reference_views, "rotate_camera_credentials"]
    list_display = ["name", "branch", "role", "source", "health", "is_active", "last_seen_at", "covered_false_alarms"]
    list_filter = ["role", "source", "health", "is_active", "branch__bank"]
    search_fields = ["name", "branch__name"]
    readonly_fields = [
        "has_password",
        "health",
        "health_since",
        "last_error",
        "created_at",
        "last_seen_at",
        "covered_false_alarms",
    ]

    @admin.display(description=_("password stored"), boolean=True)
    def has_password(self, camera: Camera) -> bool:
        return bool(camera.stream_credentials)

    def save_model(self, request: HttpRequest, obj: Camera, form: forms.ModelForm, change: bool) -> None:
        if change:
            obj.config_version += 1  # running supervisors pick the change up within seconds
        token = ""
        if not obj.token_hash:
            token = obj.issue_credentials()  # shown once by response_add (a pulled camera needs none)
        super().save_model(request, obj, form, change)
        if token:
            request._issued_camera_credentials = IssuedCredentials(token, secret_of(obj), None)  # type: ignore[attr-defined]
        changed = [name for name in form.changed_data if name != "stream_password"]
        if "stream_password" in form.changed_data or form.cleaned_data.get("clear_password"):
            changed.append("stream_password")  # that it changed, never what to
        record("camera.changed" if change else "camera.created", obj, request=request, fields=changed)

    def response_add(self, request: HttpRequest, obj: Camera, post_url_continue: str | None = None) -> HttpResponse:
        issued = getattr(request, "_issued_camera_credentials", None)
        if issued is None or obj.source != Camera.Source.PUSH:
            return super().response_add(request, obj, post_url_continue)
        return self._show_once(request, [(obj, issued)])

    @admin.action(
        description=_("Rotate the token and signing secret (shown once; the old ones work 1 h more)"),
        permissions=["change"],
    )
    def rotate_camera_credentials(self, request: HttpRequest, queryset: QuerySet[Camera]) -> HttpResponse:
        issued = [(camera, rotate_credentials(camera, actor=request.user, request=request)) for camera in queryset]
        return self._show_once(request, issued)

    def _show_once(self, request: HttpRequest, issued: list[tuple[Camera, IssuedCredentials]]) -> HttpResponse:
        """The one page that shows a camera's token and signing secret: never stored, never cached."""
        context = {**self.admin_site.each_context(request), "opts": self.opts, "issued": issued}
        response = TemplateResponse(request, "admin/cameras/camera/credentials.html", context)
        response["Cache-Control"] = "private, no-store"
        return response

    def get_queryset(self, request: HttpRequest) -> QuerySet[Camera]:
        return super().get_queryset(request).annotate(n_false_alarms=covered_false_alarms())

    @admin.display(description=_("covered-face false alarms"), ordering="n_false_alarms")
    def covered_false_alarms(self, camera: Camera) -> int:
        return int(getattr(camera, "n_false_alarms", 0))


@admin.action(description=_("Revoke the selected devices"), permissions=["revoke"])
def revoke_devices(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[PairedDevice]) -> None:
    revoked = sum(revoke_device(device, actor=request.user, request=request) for device in queryset)
    modeladmin.message_user(
        request, ngettext("%(n)d device revoked.", "%(n)d devices revoked.", revoked) % {"n": revoked}, messages.SUCCESS
    )


@admin.register(PairedDevice)
class PairedDeviceAdmin(admin.ModelAdmin):
    """Devices are created by pairing only; here they are seen and revoked."""

    list_display = ["__str__", "camera", "kind", "paired_at", "last_seen_at", "revoked_at"]
    list_filter = ["kind", "revoked_at", "camera__branch__bank"]
    search_fields = ["camera__name", "camera__branch__name"]
    fields = readonly_fields = ("camera", "kind", "user_agent", "paired_at", "last_seen_at", "revoked_at")
    actions = [revoke_devices]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, not deleted: the audit log keeps pointing at it

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cameras.change_paireddevice")
