"""The curators' admin: watchlists, subjects, reference photos, bulk import.

Only curators (and superusers) see or change any of it: every ModelAdmin here checks
`user.is_curator` instead of Django's model permissions, so staff of another role get
nothing even if someone grants them permissions by mistake. Every change goes through
enrollment/actions.py, so it is audited and reaches the gallery at once.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alerts.field_rates import field_rates
from audit.log import record
from enrollment import actions, archive, importer
from enrollment.models import CounterExample, ImportJob, ReferencePhoto, Subject, Watchlist
from enrollment.photos import serve_photo
from enrollment.reasons import invalid_image, render
from recognition.images import PHOTO_FORMATS, InvalidImageError, decode_image
from recognition.model_id import model_id


def _rate_html(rate: float, advice: dict[str, Any] | None) -> str:
    """The observed rate, flagged when it is above the rate the calibrated advice aims at."""
    if advice is not None and rate > advice["target_fpir"]:
        return format_html(
            '<strong style="color:#b3261e">{} ⚠ {}</strong>',
            f"{rate:.2g}",
            _("above the advised {target}").format(target=f"{advice['target_fpir']:g}"),
        )
    return f"{rate:.2g}"


def _check_image(upload: Any) -> None:
    try:
        decode_image(upload.read(), max_side=256, formats=PHOTO_FORMATS)
    except InvalidImageError as exc:
        raise forms.ValidationError(f"{upload.name}: {invalid_image(exc)}") from None
    finally:
        upload.seek(0)


def is_curator(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and getattr(user, "is_curator", False))


class CuratorOnly:
    """Model permissions replaced by the curator role."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_curator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_curator(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_curator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_curator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # subjects are removed (status), not deleted: the record of who was listed stays


def _thumbnail(photo: ReferencePhoto, kind: str, size: int = 64) -> str:
    field = photo.face_crop if kind == "crop" else photo.image
    if not field:
        return "–"
    url = reverse("admin:enrollment_referencephoto_file", args=[photo.pk, kind])
    return format_html('<img src="{}" width="{}" alt="" style="object-fit:cover;border-radius:4px">', url, size)


def _status_badge(photo: ReferencePhoto) -> str:
    colours = {
        "pending": "#8a6d00",
        "accepted": "#1b6e20",
        "rejected": "#b3261e",
        "failed": "#b3261e",
        "held": "#8a6d00",
    }
    return format_html(
        '<span class="photo-status" data-photo="{}" data-status="{}" data-poll="{}" style="color:{};font-weight:bold">'
        "{}</span><br><small>{}</small>",
        photo.pk,
        photo.status,
        reverse("admin:enrollment_referencephoto_statuses"),
        colours.get(photo.status, "inherit"),
        photo.get_status_display(),
        photo.reason(),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class SubjectForm(forms.ModelForm):
    new_photos = MultipleFileField(
        label=_("Add reference photos"),
        required=False,
        help_text=_("JPEG, PNG or WebP. Each is checked in the background; its status shows below within seconds."),
    )

    class Meta:
        model = Subject
        fields = [
            "watchlist",
            "full_name",
            "aliases",
            "case_reference",
            "legal_basis",
            "notes",
            "armed",
            "violent",
            "expires_at",
            "status",
        ]

    def clean_new_photos(self) -> list[Any]:
        uploads = self.cleaned_data.get("new_photos") or []
        for upload in uploads:
            _check_image(upload)
        return uploads


class PhotoInline(admin.TabularInline):
    model = ReferencePhoto
    fk_name = "subject"
    fields = ["photo", "crop", "status_and_reason", "original_name", "uploaded_by", "uploaded_at"]
    readonly_fields = ["photo", "crop", "status_and_reason", "original_name", "uploaded_by", "uploaded_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_curator(request)

    @admin.display(description=_("photo"))
    def photo(self, obj: ReferencePhoto) -> str:
        return _thumbnail(obj, "image", 96)

    @admin.display(description=_("face crop"))
    def crop(self, obj: ReferencePhoto) -> str:
        return _thumbnail(obj, "crop", 96)

    @admin.display(description=_("status"))
    def status_and_reason(self, obj: ReferencePhoto) -> str:
        return _status_badge(obj)


class WatchlistForm(forms.ModelForm):
    class Meta:
        model = Watchlist
        fields = [
            "name",
            "description",
            "agency",
            "threshold",
            "colour",
            "sound",
            "requires_acknowledgement",
            "acknowledge_within_seconds",
            "priority",
            "banks",
            "branches",
            "is_active",
        ]
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        threshold = self.fields["threshold"]
        threshold.widget.attrs.update(
            {"placeholder": f"{settings.RECOGNITION_THRESHOLD:g}", "min": settings.MIN_WATCHLIST_THRESHOLD, "max": 1}
        )
        threshold.help_text = gettext(
            "Cosine similarity needed for a match. Empty: the system default, %(default)s. "
            "At least %(floor)s; larger lists need a stricter value."
        ) % {"default": f"{settings.RECOGNITION_THRESHOLD:g}", "floor": f"{settings.MIN_WATCHLIST_THRESHOLD:g}"}


@admin.register(Watchlist)
class WatchlistAdmin(CuratorOnly, admin.ModelAdmin):
    form = WatchlistForm
    list_display = [
        "name",
        "agency",
        "colour_swatch",
        "threshold",
        "advised_threshold",
        "observed_false_alert_rate",
        "sound",
        "requires_acknowledgement",
        "subjects",
        "is_active",
    ]
    list_filter = ["is_active", "agency", "sound", "requires_acknowledgement"]
    search_fields = ["name", "agency", "description"]
    filter_horizontal = ["banks", "branches"]
    readonly_fields = ["threshold_advice", "field_false_alerts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Watchlist]:
        return (
            super()
            .get_queryset(request)
            .annotate(active_subjects=Count("subjects", filter=Q(subjects__status="active")))
        )

    @admin.display(description=_("colour"))
    def colour_swatch(self, obj: Watchlist) -> str:
        return format_html(
            '<span style="display:inline-block;width:1.5em;height:1em;background:{}"></span>', obj.colour
        )

    @admin.display(description=_("active subjects"), ordering="active_subjects")
    def subjects(self, obj: Watchlist) -> int:
        return getattr(obj, "active_subjects", 0)

    @admin.display(description=_("advised threshold"))
    def advised_threshold(self, obj: Watchlist) -> str:
        advice = obj.threshold_advice()
        return "–" if advice is None else f"{advice['advised_threshold']:.3f}"

    @admin.display(description=_("calibrated advice"))
    def threshold_advice(self, obj: Watchlist) -> str:
        advice = obj.threshold_advice() if obj.pk else None
        if advice is None:
            return str(_("No calibration for the current model (manage.py calibrate)."))
        return format_html(
            gettext(
                "For {size} active subjects (calibrated up to {gallery}): threshold {advised} keeps false alerts "
                "at or below {target} per face searched; it then misses {fnir} of listed people "
                "(calibrated on {source}). Current threshold: {current}."
            ),
            size=obj.active_subject_count(),
            gallery=advice["gallery_size"],
            advised=f"{advice['advised_threshold']:.3f}",
            target=f"{advice['target_fpir']:g}",
            fnir="?" if advice["fnir"] is None else f"{advice['fnir']:.1%}",
            source=advice["pairs_file"],
            current=f"{obj.effective_threshold:.3f}",
        )

    @admin.display(description=_("false alerts per search"))
    def observed_false_alert_rate(self, obj: Watchlist) -> str:
        total = field_rates(obj)[0]
        return "–" if total.rate is None else _rate_html(total.rate, obj.threshold_advice())

    @admin.display(description=_("false alerts observed in review"))
    def field_false_alerts(self, obj: Watchlist) -> str:
        if not obj.pk:
            return "–"
        advice = obj.threshold_advice()
        rows = []
        for row in field_rates(obj):
            where = str(row.camera) if row.camera is not None else str(_("all cameras"))
            rate = "–" if row.rate is None else _rate_html(row.rate, advice)
            rows.append(
                format_html(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    where,
                    row.searches,
                    row.reviewed,
                    row.false_alerts,
                    rate,
                )
            )
        return format_html(
            "<p>{}</p><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("Last {days} days; a false alert is one dismissed as “not this person”.").format(
                days=settings.FIELD_RATE_DAYS
            ),
            _("camera"),
            _("faces searched"),
            _("alerts reviewed"),
            _("not this person"),
            _("false alerts per search"),
            format_html("".join(rows)),
        )

    def save_model(self, request: HttpRequest, obj: Watchlist, form: forms.ModelForm, change: bool) -> None:
        actions.save_watchlist(
            obj,
            banks=form.cleaned_data.get("banks"),
            branches=form.cleaned_data.get("branches"),
            actor=request.user,  # type: ignore[arg-type]
            request=request,
            changed=form.changed_data,
        )

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        pass  # banks and branches were set by save_watchlist, with the rest of the change


@admin.register(Subject)
class SubjectAdmin(CuratorOnly, admin.ModelAdmin):
    form = SubjectForm
    inlines = [PhotoInline]
    list_display = [
        "thumbnail",
        "full_name",
        "watchlist",
        "status",
        "photo_counts",
        "counter_examples",
        "expires_at",
        "added_by",
        "added_at",
    ]
    list_display_links = ["thumbnail", "full_name"]
    list_filter = ["status", "watchlist", ("expires_at", admin.EmptyFieldListFilter), "added_at"]
    search_fields = ["full_name", "aliases", "case_reference", "notes"]
    readonly_fields = ["added_by", "added_at", "status_changed_at"]
    actions = ["remove_subjects", "expire_subjects", "reactivate_subjects"]
    list_select_related = ["watchlist", "added_by"]

    class Media:
        js = ["js/enrollment_photos.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subject]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                accepted=Count("photos", filter=Q(photos__status="accepted"), distinct=True),
                pending=Count("photos", filter=Q(photos__status="pending"), distinct=True),
                rejected=Count("photos", filter=Q(photos__status="rejected"), distinct=True),
                counters=Count("counter_examples", distinct=True),
            )
        )

    @admin.display(description="")
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        subject = self.get_object(request, object_id)
        if subject is not None and request.method == "GET":
            record("subject.viewed", subject, request=request)
        return super().change_view(request, object_id, form_url, extra_context)

    def thumbnail(self, obj: Subject) -> str:
        # Only an accepted photo is the subject's face: a rejected one may show someone else.
        photo = obj.photos.filter(status=ReferencePhoto.Status.ACCEPTED).order_by("id").first()
        return _thumbnail(photo, "crop", 48) if photo else "–"

    @admin.display(description=_("not this person"))
    def counter_examples(self, obj: Subject) -> str:
        """How many "not this person" counter-examples the subject has, linked to their list (author, scope, undo)."""
        count = getattr(obj, "counters", 0)
        if not count:
            return "–"
        url = reverse("admin:enrollment_counterexample_changelist") + f"?subject__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description=_("photos: accepted / pending / rejected"))
    def photo_counts(self, obj: Subject) -> str:
        return format_html(
            '<span style="color:#1b6e20">{}</span> / <span style="color:#8a6d00">{}</span> / '
            '<span style="color:#b3261e">{}</span>',
            getattr(obj, "accepted", 0),
            getattr(obj, "pending", 0),
            getattr(obj, "rejected", 0),
        )

    def save_model(self, request: HttpRequest, obj: Subject, form: forms.ModelForm, change: bool) -> None:
        new_status = obj.status
        status_changed = change and "status" in form.changed_data
        if status_changed:
            obj.status = form.initial["status"]  # the status changes through set_subject_status below
        fields = [f for f in form.changed_data if f not in ("status", "new_photos")]
        actions.save_subject(obj, actor=request.user, request=request, changed=fields)  # type: ignore[arg-type]
        if status_changed:
            actions.set_subject_status(obj, new_status, request=request, reason="changed in the admin")
        for upload in form.cleaned_data.get("new_photos") or []:
            try:
                actions.add_photo(obj, upload.read(), upload.name, uploaded_by=request.user, request=request)  # type: ignore[arg-type]
            except InvalidImageError as exc:
                messages.error(request, f"{upload.name}: {invalid_image(exc)}")

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Subject], status: str) -> None:
        for subject in queryset:
            actions.set_subject_status(subject, status, request=request, reason="admin action")
        self.message_user(request, f"{queryset.count()} subject(s) now {status}.", messages.SUCCESS)

    @admin.action(description=_("Remove from the watchlist (stops matching at once)"))
    def remove_subjects(self, request: HttpRequest, queryset: QuerySet[Subject]) -> None:
        self._set_status(request, queryset, Subject.Status.REMOVED)

    @admin.action(description=_("Mark expired"))
    def expire_subjects(self, request: HttpRequest, queryset: QuerySet[Subject]) -> None:
        self._set_status(request, queryset, Subject.Status.EXPIRED)

    @admin.action(description=_("Reactivate"))
    def reactivate_subjects(self, request: HttpRequest, queryset: QuerySet[Subject]) -> None:
        self._set_status(request, queryset, Subject.Status.ACTIVE)


class DecisionActionForm(ActionForm):
    note = forms.CharField(label=_("note"), required=False, max_length=500)


class PhotoForm(forms.ModelForm):
    class Meta:
        model = ReferencePhoto
        fields = ["subject", "image"]

    def clean_image(self) -> Any:
        upload = self.cleaned_data["image"]
        _check_image(upload)
        return upload


@admin.register(ReferencePhoto)
class ReferencePhotoAdmin(CuratorOnly, admin.ModelAdmin):
    form = PhotoForm
    list_display = ["thumb", "crop", "subject", "status_and_reason", "original_name", "uploaded_by", "uploaded_at"]
    list_filter = ["status", "subject__watchlist", "uploaded_at"]
    search_fields = ["subject__full_name", "rejection_reason", "original_name"]
    list_select_related = ["subject", "uploaded_by"]
    readonly_fields = [
        "thumb_large",
        "crop_large",
        "status",
        "rejection_reason",
        "quality",
        "processed_at",
        "templates_made",
    ]
    actions = ["rerun_enrollment", "decide_same_person", "decide_different_people"]
    action_form = DecisionActionForm
    change_list_template = "admin/enrollment/referencephoto/change_list.html"

    class Media:
        js = ["js/enrollment_photos.js"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["subject", "image"] if obj is None else ["subject", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["subject", *self.readonly_fields]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_curator(request)  # a wrong photo must be able to go; the audit log keeps the record

    def delete_model(self, request: HttpRequest, obj: ReferencePhoto) -> None:
        actions.delete_photo(obj, actor=request.user, request=request)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ReferencePhoto]) -> None:
        for photo in queryset:
            actions.delete_photo(photo, actor=request.user, request=request)  # type: ignore[arg-type]

    @admin.display(description=_("photo"))
    def thumb(self, obj: ReferencePhoto) -> str:
        return _thumbnail(obj, "image")

    @admin.display(description=_("face crop"))
    def crop(self, obj: ReferencePhoto) -> str:
        return _thumbnail(obj, "crop")

    @admin.display(description=_("photo"))
    def thumb_large(self, obj: ReferencePhoto) -> str:
        return _thumbnail(obj, "image", 320)

    @admin.display(description=_("face crop"))
    def crop_large(self, obj: ReferencePhoto) -> str:
        return _thumbnail(obj, "crop", 112)

    @admin.display(description=_("status"), ordering="status")
    def status_and_reason(self, obj: ReferencePhoto) -> str:
        return _status_badge(obj)

    @admin.display(description=_("templates"))
    def templates_made(self, obj: ReferencePhoto) -> str:
        return ", ".join(obj.templates.values_list("model_id", flat=True)) or "–"

    def save_model(self, request: HttpRequest, obj: ReferencePhoto, form: forms.ModelForm, change: bool) -> None:
        upload = form.cleaned_data["image"]
        created = actions.add_photo(obj.subject, upload.read(), upload.name, uploaded_by=request.user, request=request)  # type: ignore[arg-type]
        obj.pk, obj.image = created.pk, created.image

    def _decide(self, request: HttpRequest, queryset: QuerySet[ReferencePhoto], decision: str) -> None:
        note = request.POST.get("note", "")
        decided = 0
        for photo in queryset:
            try:
                actions.decide_duplicate(photo, decision, actor=request.user, request=request, note=note)  # type: ignore[arg-type]
                decided += 1
            except ValidationError as exc:
                messages.error(request, f"{photo}: {' '.join(exc.messages)}")
        if decided:
            self.message_user(request, gettext("%(count)s photo(s) decided.") % {"count": decided}, messages.SUCCESS)

    @admin.action(description=_("Held photo: the same person as the matching subject (move it there)"))
    def decide_same_person(self, request: HttpRequest, queryset: QuerySet[ReferencePhoto]) -> None:
        self._decide(request, queryset, ReferencePhoto.Decision.SAME)

    @admin.action(description=_("Held photo: different people (accept it here; say why in the note)"))
    def decide_different_people(self, request: HttpRequest, queryset: QuerySet[ReferencePhoto]) -> None:
        self._decide(request, queryset, ReferencePhoto.Decision.DIFFERENT)

    @admin.action(description=_("Check again and rebuild the template"))
    def rerun_enrollment(self, request: HttpRequest, queryset: QuerySet[ReferencePhoto]) -> None:
        for photo in queryset:
            actions.queue_enrollment(photo)
        record("photos.requeued", None, request=request, photos=[p.pk for p in queryset])
        self.message_user(request, f"{queryset.count()} photo(s) queued.", messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            # cacheable=True: the biometric helper sets the headers itself (private, no-store).
            path(
                "<int:pk>/file/<str:kind>/",
                view(self.file_view, cacheable=True),
                name="enrollment_referencephoto_file",
            ),
            path("statuses/", view(self.statuses_view), name="enrollment_referencephoto_statuses"),
            path("reenroll-all/", view(self.reenroll_all_view), name="enrollment_referencephoto_reenroll_all"),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, pk: int, kind: str) -> FileResponse:
        if not is_curator(request):
            raise PermissionDenied
        return serve_photo(request, pk, kind)

    def statuses_view(self, request: HttpRequest) -> JsonResponse:
        """For the pages' polling script: the status of the photos it shows."""
        if not is_curator(request):
            raise PermissionDenied
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][:500]
        photos = ReferencePhoto.objects.filter(pk__in=ids).only("id", "status", "rejection_code", "rejection_params", "rejection_reason")
        rows = [{"id": p.pk, "status": p.status, "rejection_reason": p.reason()} for p in photos]
        return JsonResponse({"photos": {str(r["id"]): r for r in rows}})

    def reenroll_all_view(self, request: HttpRequest) -> HttpResponse:
        if not is_curator(request) or request.method != "POST":
            raise PermissionDenied
        count = actions.reenroll_all(actor=request.user, request=request)  # type: ignore[arg-type]
        self.message_user(request, f"{count} photo(s) queued for re-enrollment with the current model.")
        return HttpResponseRedirect(reverse("admin:enrollment_referencephoto_changelist"))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "needs_reenrollment": actions.photos_needing_reenrollment().count(),
            "current_model_id": model_id(),
        }
        return super().changelist_view(request, extra_context)


class ImportForm(forms.ModelForm):
    class Meta:
        model = ImportJob
        fields = ["watchlist", "csv_file", "zip_file", "create_missing_watchlists"]
        help_texts = {
            "csv_file": _(
                "Header row, then one subject a row: full_name, aliases, watchlist, case_reference, "
                "legal_basis, notes, expires_at (YYYY-MM-DD or DD/MM/YYYY), photos (file names in the zip, "
                "separated by ;)."
            )
        }

    def clean(self) -> dict[str, Any]:
        """Refuse a CSV or zip unfit to import now, with its reasons, rather than fail in the background."""
        cleaned = super().clean() or {}
        csv_upload, zip_upload = cleaned.get("csv_file"), cleaned.get("zip_file")
        if csv_upload is not None and zip_upload is not None:
            csv_data, zip_data = csv_upload.read(), zip_upload.read()
            csv_upload.seek(0)
            zip_upload.seek(0)
            for field, problems in archive.check_files(csv_data, zip_data).items():
                for entry in problems:
                    self.add_error(field, render(entry["code"], entry["params"]))
        return cleaned


@admin.register(ImportJob)
class ImportJobAdmin(CuratorOnly, admin.ModelAdmin):
    form = ImportForm
    list_display = ["__str__", "status", "rows", "subjects_created", "created_by", "created_at"]
    list_filter = ["status"]
    change_form_template = "admin/enrollment/importjob/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["watchlist", "csv_file", "zip_file", "create_missing_watchlists"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["watchlist", "csv_file", "zip_file", "create_missing_watchlists"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_curator(request) and obj is None

    def save_model(self, request: HttpRequest, obj: ImportJob, form: forms.ModelForm, change: bool) -> None:
        job = actions.start_import(
            form.cleaned_data["watchlist"],
            form.cleaned_data["csv_file"].read(),
            form.cleaned_data["zip_file"].read(),
            create_missing_watchlists=form.cleaned_data.get("create_missing_watchlists", False),
            actor=request.user,  # type: ignore[arg-type]
            request=request,
        )
        obj.pk = job.pk

    def response_add(self, request: HttpRequest, obj: ImportJob, post_url_continue: str | None = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:enrollment_importjob_change", args=[obj.pk]))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", view(self.progress_view), name="enrollment_importjob_progress"),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        if not is_curator(request):
            raise PermissionDenied
        return JsonResponse(importer.progress(get_object_or_404(ImportJob, pk=pk)))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "progress_url": reverse("admin:enrollment_importjob_progress", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(CounterExample)
class CounterExampleAdmin(CuratorOnly, admin.ModelAdmin):
    """Every "not this person", per subject, with who made it, where it applies, and an undo."""

    list_display = ["subject", "status", "where", "created_by", "created_at", "similarity_to_subject", "expires_at"]
    list_filter = ["status", ("bank", admin.EmptyFieldListFilter), "subject__watchlist"]
    search_fields = ["subject__full_name"]
    list_select_related = ["subject", "created_by", "bank", "branch"]
    readonly_fields = [
        "subject",
        "status",
        "where",
        "created_by",
        "created_at",
        "source_alert_id",
        "approved_by",
        "expires_at",
    ]
    actions = ["apply_here", "apply_everywhere", "undo"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # made by a reviewer's "not this person", never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("applies at"))
    def where(self, obj: CounterExample) -> str:
        return obj.scope

    def _approve(self, request: HttpRequest, queryset: QuerySet[CounterExample], everywhere: bool) -> None:
        for counter in queryset:
            actions.approve_counter_example(counter, everywhere=everywhere, actor=request.user, request=request)  # type: ignore[arg-type]
        self.message_user(request, gettext("%(count)s counter-example(s) applied.") % {"count": queryset.count()})

    @admin.action(description=_("Apply where it was made (a held one: it is not the subject after all)"))
    def apply_here(self, request: HttpRequest, queryset: QuerySet[CounterExample]) -> None:
        self._approve(request, queryset, everywhere=False)

    @admin.action(description=_("Apply at every bank (curator's approval)"))
    def apply_everywhere(self, request: HttpRequest, queryset: QuerySet[CounterExample]) -> None:
        self._approve(request, queryset, everywhere=True)

    @admin.action(description=_("Undo: withdraw it (the subject matches that face again)"))
    def undo(self, request: HttpRequest, queryset: QuerySet[CounterExample]) -> None:
        count = 0
        for counter in queryset:
            actions.withdraw_counter_example(counter, actor=request.user, request=request)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, gettext("%(count)s counter-example(s) withdrawn.") % {"count": count})
