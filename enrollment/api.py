"""REST API for watchlists, subjects and reference photos: curators only.

Writes go through enrollment/actions.py like the admin's, so they are audited and reach
the gallery at once. Subjects are never deleted: DELETE removes them from the watchlist
(status "removed"), which keeps the record of who was listed and why.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollment import actions
from enrollment.models import ReferencePhoto, Subject, Watchlist
from enrollment.photos import serve_photo
from enrollment.reasons import invalid_image
from recognition.images import InvalidImageError


class IsCurator(permissions.BasePermission):
    message = "Only watchlist curators may use this endpoint."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and getattr(user, "is_curator", False))


class WatchlistSerializer(serializers.ModelSerializer):
    effective_threshold = serializers.FloatField(read_only=True)

    class Meta:
        model = Watchlist
        fields = [
            "id",
            "name",
            "description",
            "agency",
            "threshold",
            "effective_threshold",
            "colour",
            "sound",
            "requires_acknowledgement",
            "acknowledge_within_seconds",
            "priority",
            "banks",
            "branches",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    # colour and threshold are checked by the model's validators (enrollment/models.py), which
    # DRF runs as the admin's form does: both refuse a bad value with the same words.


class PhotoSerializer(serializers.ModelSerializer):
    rejection_reason = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    crop_url = serializers.SerializerMethodField()
    templates = serializers.SerializerMethodField()

    class Meta:
        model = ReferencePhoto
        fields = [
            "id",
            "subject",
            "status",
            "held_with",
            "decision",
            "decision_note",
            "rejection_code",
            "rejection_params",
            "rejection_reason",
            "quality",
            "original_name",
            "uploaded_at",
            "processed_at",
            "templates",
            "image_url",
            "crop_url",
        ]
        read_only_fields = fields

    def get_rejection_reason(self, obj: ReferencePhoto) -> str:
        """In the caller's language; rejection_code and rejection_params say the same for programs."""
        return obj.reason()

    def get_templates(self, obj: ReferencePhoto) -> list[str]:
        """The models this photo has a template for (its masked template is of the same model)."""
        return sorted({template.model_id for template in obj.templates.all()})

    def _url(self, obj: ReferencePhoto, kind: str) -> str | None:
        from django.urls import reverse

        field = obj.face_crop if kind == "crop" else obj.image
        return reverse("api-enrollment-photo-file", args=[obj.pk, kind]) if field else None

    def get_image_url(self, obj: ReferencePhoto) -> str | None:
        return self._url(obj, "image")

    def get_crop_url(self, obj: ReferencePhoto) -> str | None:
        return self._url(obj, "crop")


class SubjectSerializer(serializers.ModelSerializer):
    added_by = serializers.CharField(source="added_by.username", read_only=True, default=None)
    photos = PhotoSerializer(many=True, read_only=True)
    is_matchable = serializers.BooleanField(read_only=True)

    class Meta:
        model = Subject
        fields = [
            "id",
            "watchlist",
            "full_name",
            "aliases",
            "notes",
            "case_reference",
            "legal_basis",
            "armed",
            "violent",
            "expires_at",
            "status",
            "is_matchable",
            "added_by",
            "added_at",
            "status_changed_at",
            "photos",
        ]
        read_only_fields = ["added_at", "status_changed_at"]


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReferencePhoto.Decision.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class UploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP")


class WatchlistViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Watchlists: each with its own threshold, colour, sound, acknowledgement rule and scope."""

    queryset = Watchlist.objects.order_by("name").prefetch_related("banks", "branches")
    serializer_class = WatchlistSerializer
    permission_classes = [IsCurator]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = actions.create_watchlist(
            data.pop("name"),
            banks=data.pop("banks", None),
            branches=data.pop("branches", None),
            actor=self.request.user,
            request=self.request,
            **data,
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        actions.change_watchlist(
            serializer.instance,
            banks=data.pop("banks", None),
            branches=data.pop("branches", None),
            actor=self.request.user,
            request=self.request,
            **data,
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("watchlist", int, description="only this watchlist"),
            OpenApiParameter("status", str, enum=Subject.Status.values),
            OpenApiParameter("q", str, description="name, alias or case reference contains"),
        ]
    ),
    destroy=extend_schema(description="Remove the subject from its watchlist (status removed); nothing is deleted."),
)
class SubjectViewSet(viewsets.ModelViewSet):
    """Subjects of the watchlists, with their reference photos."""

    serializer_class = SubjectSerializer
    permission_classes = [IsCurator]

    def get_queryset(self) -> QuerySet[Subject]:
        subjects = Subject.objects.select_related("added_by").prefetch_related("photos__templates").order_by("id")
        params = self.request.query_params
        if params.get("watchlist", "").isdigit():
            subjects = subjects.filter(watchlist_id=int(params["watchlist"]))
        if params.get("status") in Subject.Status.values:
            subjects = subjects.filter(status=params["status"])
        if params.get("q"):
            from django.db.models import Q

            q = params["q"]
            subjects = subjects.filter(
                Q(full_name__icontains=q) | Q(aliases__icontains=q) | Q(case_reference__icontains=q)
            )
        return subjects

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("status", None)
        subject = actions.create_subject(
            data.pop("watchlist"), data.pop("full_name"), added_by=self.request.user, request=self.request, **data
        )
        serializer.instance = subject

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        actions.change_subject(
            serializer.instance, actor=self.request.user, request=self.request, **serializer.validated_data
        )

    def perform_destroy(self, instance: Subject) -> None:
        actions.remove_subject(instance, request=self.request, reason=self.request.query_params.get("reason", ""))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subject = self.get_object()
        self.perform_destroy(subject)
        return Response(self.get_serializer(Subject.objects.get(pk=subject.pk)).data)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={202: PhotoSerializer})
    @action(detail=True, methods=["post"], parser_classes=[parsers.MultiPartParser], url_path="photos")
    def photos(self, request: Request, pk: str | None = None) -> Response:
        """Upload a reference photo: it is stored as pending and checked in the background."""
        subject = self.get_object()
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["image"]
        try:
            photo = actions.add_photo(subject, file.read(), file.name, uploaded_by=request.user, request=request)
        except InvalidImageError as exc:
            return Response({"error": invalid_image(exc), "code": exc.code}, status=exc.status)
        return Response(PhotoSerializer(photo).data, status=status.HTTP_202_ACCEPTED)


class PhotoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Reference photos with their status, rejection reason and quality measures."""

    serializer_class = PhotoSerializer
    permission_classes = [IsCurator]

    def get_queryset(self) -> QuerySet[ReferencePhoto]:
        photos = ReferencePhoto.objects.prefetch_related("templates").order_by("id")
        params = self.request.query_params
        if params.get("subject", "").isdigit():
            photos = photos.filter(subject_id=int(params["subject"]))
        if params.get("status") in ReferencePhoto.Status.values:
            photos = photos.filter(status=params["status"])
        return photos

    def perform_destroy(self, instance: ReferencePhoto) -> None:
        actions.delete_photo(instance, actor=self.request.user, request=self.request)

    @extend_schema(request=DecisionSerializer, responses={202: PhotoSerializer})
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, pk: str | None = None) -> Response:
        """A curator's decision on a photo held as the same face as another subject's: same or different."""
        decision = DecisionSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        photo = actions.decide_duplicate(
            self.get_object(),
            decision.validated_data["decision"],
            actor=request.user,
            request=request,
            note=decision.validated_data.get("note", ""),
        )
        return Response(PhotoSerializer(photo).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[
            OpenApiParameter("subject", int),
            OpenApiParameter("status", str, enum=ReferencePhoto.Status.values),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


class PhotoFile(APIView):
    permission_classes = [IsCurator]

    @extend_schema(operation_id="v1_photos_file", responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int, kind: str) -> FileResponse:
        return serve_photo(request, pk, kind)
