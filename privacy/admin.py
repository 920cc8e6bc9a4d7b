"""The data protection officer's admin: the impact assessment, requests from the people concerned,
legal holds, the breach register and each bank's notice. Only the officer (and superusers) see any
of it: every ModelAdmin here checks the role, not Django's model permissions, as the curators' admin
does (enrollment/admin.py). Every change goes through privacy/actions.py or cases/actions.py."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.models import User
from alerts.actions import ReviewError
from alerts.models import Alert
from audit.log import record
from bankwatch.biometrics import private
from cases.actions import place_hold, release_hold
from cases.models import LegalHold, held_alert_ids
from privacy import actions
from privacy import report as reports
from privacy.models import Breach, DataRequest, Notice, PrivacyReport
from privacy.notice import render_sign
from privacy.search import NoFaceError
from recognition.images import InvalidImageError


class InMemoryOnly(MemoryFileUploadHandler):
    """Django's memory handler steps aside past FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) for one that writes
    a temporary file; this one keeps any upload up to the body limit in memory, and there is no other."""

    def handle_raw_input(self, input_data: Any, META: Any, content_length: int, *args: Any, **kwargs: Any) -> None:
        self.activated = content_length <= settings.MAX_UPLOAD_BYTES + 1024 * 1024


def is_dpo(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and getattr(user, "is_data_protection_officer", False))


class OfficerOnly:
    """Model permissions replaced by the data protection officer's role."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_dpo(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_dpo(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_dpo(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_dpo(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the register is a record: entries are answered, released or corrected, not deleted


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # the admin signed them in


def _officer(request: HttpRequest) -> None:
    if not is_dpo(request):
        raise PermissionDenied


def _download(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    private(response)
    return response


@admin.register(PrivacyReport)
class PrivacyReportAdmin(OfficerOnly, admin.ModelAdmin):
    list_display = ["produced_at", "produced_by", "format", "subjects", "templates", "alerts"]
    fields = readonly_fields = ("produced_at", "produced_by", "format", "figures")
    change_list_template = "admin/privacy/privacyreport/change_list.html"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # produced from the assessment page below, never typed in

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("subjects"))
    def subjects(self, obj: PrivacyReport) -> int:
        return int(obj.figures.get("subjects", 0))

    @admin.display(description=_("templates"))
    def templates(self, obj: PrivacyReport) -> int:
        return int(obj.figures.get("templates", 0))

    @admin.display(description=_("alerts"))
    def alerts(self, obj: PrivacyReport) -> int:
        return int(obj.figures.get("alerts", 0))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("assessment/", view(self.assessment_view), name="privacy_assessment"),
            *super().get_urls(),
        ]

    def assessment_view(self, request: HttpRequest) -> HttpResponse:
        """GET: the assessment as it stands now (the page `manage.py privacy_report` writes). POST:
        produce it (recorded, so the six-month reminder restarts) and download it."""
        _officer(request)
        if request.method == "POST":
            fmt = request.POST.get("format", "pdf")
            try:
                row, content = actions.produce_report(
                    fmt if fmt in actions.FORMATS else "pdf",
                    actor=_user(request),
                    request=request,
                )
            except RuntimeError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:privacy_assessment"))
            name = f"bankwatch-impact-assessment-{row.produced_at:%Y-%m-%d}.{row.format}"
            return _download(content, name, "application/pdf" if row.format == "pdf" else "text/html")
        record("privacy.report_viewed", None, request=request)
        return HttpResponse(reports.render_html(reports.gather(), admin_links=True, request=request))


class DataRequestForm(forms.ModelForm):
    class Meta:
        model = DataRequest
        fields = ["kind", "requester", "contact", "received_at", "details"]


@admin.register(DataRequest)
class DataRequestAdmin(OfficerOnly, admin.ModelAdmin):
    form = DataRequestForm
    list_display = ["__str__", "kind", "status", "received_at", "deadline_shown", "answered_at"]
    list_filter = ["kind", "status"]
    search_fields = ["requester", "contact"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [
            "kind",
            "requester",
            "contact",
            "received_at",
            "details",
            "deadline_shown",
            "status",
            "found",
            "searched_at",
            "answer",
            "answered_at",
            "answer_link",
        ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_readonly_fields(request, obj) or ["kind", "requester", "contact", "received_at", "details"]

    @admin.display(description=_("legal deadline"), ordering="deadline")
    def deadline_shown(self, obj: DataRequest) -> str:
        when = timezone.localtime(obj.deadline).strftime("%Y-%m-%d %H:%M")
        if obj.status == DataRequest.Status.OPEN and obj.deadline < timezone.now():
            return format_html('<strong style="color:#b3261e">{} ⚠ {}</strong>', when, gettext("overdue"))
        return when

    @admin.display(description=_("answer"))
    def answer_link(self, obj: DataRequest) -> str:
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:privacy_datarequest_answer", args=[obj.pk]),
            gettext("Search by photo, export or delete"),
        )

    def save_model(self, request: HttpRequest, obj: DataRequest, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # a recorded request is answered through its page, not edited
        data = form.cleaned_data
        created = actions.record_request(
            data["kind"],
            data["requester"],
            data["received_at"],
            contact=data["contact"],
            details=data["details"],
            actor=_user(request),
            request=request,
        )
        obj.pk = created.pk

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/answer/", view(self.answer_view), name="privacy_datarequest_answer"),
            *super().get_urls(),
        ]

    @csrf_exempt  # the upload handlers change first; csrf_protect below checks the token all the same
    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        # The requester's photo is held in memory only: never a temporary file, whatever its size.
        request.upload_handlers = [InMemoryOnly(request)]
        return csrf_protect(self._answer)(request, pk)

    def _answer(self, request: HttpRequest, pk: int) -> HttpResponse:
        _officer(request)
        data_request = get_object_or_404(DataRequest, pk=pk)
        here = reverse("admin:privacy_datarequest_answer", args=[pk])
        if request.method == "POST":
            step = request.POST.get("step", "")
            try:
                if step == "search":
                    upload = request.FILES.get("photo")
                    if upload is None or (upload.size or 0) > settings.MAX_UPLOAD_BYTES:
                        raise InvalidImageError(gettext("Choose a photo of at most 8 MiB."))
                    found = actions.subject_access_search(
                        upload.read(),
                        data_request=data_request,
                        actor=_user(request),
                        request=request,
                    )
                    self.message_user(
                        request,
                        gettext(
                            "Found %(m)d subject(s), %(a)d alert(s), %(c)d counter-example(s); the photo was not kept."
                        )
                        % {"m": len(found.matches), "a": len(found.alert_ids), "c": len(found.counter_example_ids)},
                    )
                elif step == "export":
                    content = actions.export_for_request(data_request, actor=_user(request), request=request)
                    return _download(content, f"bankwatch-access-{data_request.pk}.zip", "application/zip")
                elif step in ("answered", "refused"):
                    actions.answer_request(
                        data_request, step, request.POST.get("answer", ""), actor=_user(request), request=request
                    )
                    self.message_user(request, gettext("Answer recorded."), messages.SUCCESS)
                elif step == "delete":
                    actions.delete_for_request(data_request, actor=_user(request), request=request)
                    self.message_user(
                        request, gettext("Deleted. %(answer)s") % {"answer": data_request.answer}, messages.SUCCESS
                    )
            except (InvalidImageError, NoFaceError, ValueError) as exc:
                self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(here)
        context = {
            **self.admin_site.each_context(request),
            "title": str(data_request),
            "data_request": data_request,
            "subjects": data_request.found.get("subjects", []),
            "alerts": data_request.found.get("alerts", []),
            "counter_examples": data_request.found.get("counter_examples", []),
            "held": set(held_alert_ids().filter(alert_id__in=data_request.found.get("alerts", []))),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/privacy/datarequest/answer.html", context)


class HoldForm(forms.ModelForm):
    alert = forms.ModelChoiceField(queryset=Alert.objects.all(), widget=forms.NumberInput, label=_("alert number"))

    class Meta:
        model = LegalHold
        fields = ["alert", "reason"]


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("reason for release"), widget=forms.Textarea)


@admin.register(LegalHold)
class LegalHoldAdmin(OfficerOnly, admin.ModelAdmin):
    form = HoldForm
    list_display = ["__str__", "reason", "placed_at", "placed_by", "released_at", "released_by"]
    list_filter = ["released_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_dpo(request) and obj is None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return (
            []
            if obj is None
            else [
                "case",
                "alert",
                "reason",
                "placed_at",
                "placed_by",
                "released_at",
                "released_by",
                "release_reason",
                "release_link",
            ]
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["alert", "reason"] if obj is None else self.get_readonly_fields(request, obj)

    @admin.display(description=_("release"))
    def release_link(self, obj: LegalHold) -> str:
        if not obj.is_active:
            return "–"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:cases_legalhold_release", args=[obj.pk]),
            gettext("Release this hold"),
        )

    def save_model(self, request: HttpRequest, obj: LegalHold, form: forms.ModelForm, change: bool) -> None:
        hold = place_hold(form.cleaned_data["alert"], _user(request), form.cleaned_data["reason"], request=request)
        obj.pk = hold.pk

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [path("<int:pk>/release/", view(self.release_view), name="cases_legalhold_release"), *super().get_urls()]

    def release_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _officer(request)
        hold = get_object_or_404(LegalHold, pk=pk)
        form = ReleaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                release_hold(hold, _user(request), form.cleaned_data["reason"], request=request)
            except ReviewError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, gettext("Hold released."), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:cases_legalhold_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": str(hold),
            "form": form,
            "hold": hold,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/privacy/legalhold/release.html", context)


class BreachForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = [
            "what",
            "occurred_at",
            "found_at",
            "data_affected",
            "people_affected",
            "actions_taken",
            "notifications",
            "authority_notified_at",
        ]


@admin.register(Breach)
class BreachAdmin(OfficerOnly, admin.ModelAdmin):
    form = BreachForm
    list_display = ["__str__", "found_at", "people_affected", "authority_notified_at"]
    readonly_fields = ["recorded_by", "recorded_at", "excerpt"]

    @admin.display(description=_("audit log excerpt"))
    def excerpt(self, obj: Breach) -> str:
        if not obj.audit_excerpt:
            return "–"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e["at"], e["actor"], e["action"], e["object"], e["ip"] or "") for e in obj.audit_excerpt),
        )
        return format_html(
            "<table><tr><th>at</th><th>actor</th><th>action</th><th>object</th><th>ip</th></tr>{}</table>", rows
        )

    def save_model(self, request: HttpRequest, obj: Breach, form: forms.ModelForm, change: bool) -> None:
        actions.record_breach(obj, actor=_user(request), request=request)


class NoticeForm(forms.ModelForm):
    class Meta:
        model = Notice
        fields = ["recognition_notice_vi", "recognition_notice_en"]
        widgets = {"recognition_notice_vi": forms.Textarea, "recognition_notice_en": forms.Textarea}


@admin.register(Notice)
class NoticeAdmin(OfficerOnly, admin.ModelAdmin):
    form = NoticeForm
    list_display = ["name", "sign_link"]
    readonly_fields = ["name", "sign_link"]
    fields = ["name", "recognition_notice_vi", "recognition_notice_en", "sign_link"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # banks are made elsewhere; here their notice is written

    @admin.display(description=_("printable A4 sign"))
    def sign_link(self, obj: Notice) -> str:
        url = reverse("admin:privacy_notice_sign", args=[obj.pk])
        return format_html('<a href="{}">HTML</a> · <a href="{}?format=pdf">PDF</a>', url, url)

    def save_model(self, request: HttpRequest, obj: Notice, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        actions.set_notice(
            obj,
            data["recognition_notice_vi"],
            data["recognition_notice_en"],
            actor=_user(request),
            request=request,
        )

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [path("<int:pk>/sign/", view(self.sign_view), name="privacy_notice_sign"), *super().get_urls()]

    def sign_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _officer(request)
        bank = get_object_or_404(Notice, pk=pk)
        html = render_sign(bank)
        if request.GET.get("format") == "pdf":
            try:
                return _download(reports.html_to_pdf(html), f"notice-{bank.pk}.pdf", "application/pdf")
            except RuntimeError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        return HttpResponse(html)
