"""REST API for police cases: list, detail, open from an escalation, notes, close and evidence export."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.access import alerts_visible_to
from alerts.actions import ReviewError
from alerts.api import AlertSerializer
from audit.log import record
from bankwatch.api import ErrorSerializer
from cases.access import cases_visible_to
from cases.actions import add_case_note, close_case, open_case
from cases.export import export_response
from cases.models import Case


class NoteSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    by = serializers.CharField(source="author.username", allow_null=True, default=None)
    text = serializers.CharField()


class CaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    opened_at = serializers.DateTimeField()
    opened_by = serializers.CharField(source="opened_by.username", allow_null=True, default=None)
    closed_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True)
    alert = AlertSerializer()
    notes = NoteSerializer(many=True, source="notes.all")


class OpenCaseSerializer(serializers.Serializer):
    alert = serializers.IntegerField()
    version = serializers.IntegerField(min_value=1, help_text="the alert's version")
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class NoteInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class CloseSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=5000)
    version = serializers.IntegerField(min_value=1, help_text="the alert's version")


def _act(call: Any) -> Response:
    try:
        case = call()
    except ReviewError as exc:
        return Response({"error": str(exc)}, status=exc.status)
    return Response(CaseSerializer(case).data)


class CaseList(GenericAPIView):
    serializer_class = CaseSerializer

    def get_queryset(self) -> QuerySet[Case]:
        return cases_visible_to(self.request.user).prefetch_related("notes__author")

    @extend_schema(operation_id="v1_cases_list", responses=CaseSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(CaseSerializer(page, many=True).data)

    @extend_schema(
        request=OpenCaseSerializer, responses={201: CaseSerializer, 403: ErrorSerializer, 409: ErrorSerializer}
    )
    def post(self, request: Request) -> Response:
        body = OpenCaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alert = get_object_or_404(alerts_visible_to(request.user), pk=body.validated_data["alert"])
        response = _act(
            lambda: open_case(
                alert,
                request.user,
                version=body.validated_data["version"],
                note=body.validated_data.get("note", ""),
                request=request,
            )
        )
        if response.status_code == 200:
            response.status_code = 201
        return response


class CaseDetail(GenericAPIView):
    serializer_class = CaseSerializer

    def get(self, request: Request, case_id: int) -> Response:
        case = get_object_or_404(cases_visible_to(request.user), pk=case_id)
        record("case.viewed", case, request=request, via="api")
        return Response(CaseSerializer(case).data)


class CaseNotes(GenericAPIView):
    serializer_class = NoteInSerializer

    @extend_schema(
        request=NoteInSerializer, responses={200: CaseSerializer, 400: ErrorSerializer, 403: ErrorSerializer}
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = get_object_or_404(cases_visible_to(request.user), pk=case_id)
        body = NoteInSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def note() -> Case:
            add_case_note(case, request.user, body.validated_data["text"], request=request)
            return case

        return _act(note)


class CaseClose(GenericAPIView):
    serializer_class = CloseSerializer

    @extend_schema(request=CloseSerializer, responses={200: CaseSerializer, 403: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        case = get_object_or_404(cases_visible_to(request.user), pk=case_id)
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return _act(lambda: close_case(case, request.user, data["outcome"], version=data["version"], request=request))


class CaseExport(GenericAPIView):
    serializer_class = CaseSerializer

    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 403: ErrorSerializer},
        description="Evidence zip: images, metadata.json and SHA256SUMS (sha256sum -c format). "
        "Header X-Manifest-SHA256 is the SHA-256 of SHA256SUMS, also kept in the audit log.",
    )
    def get(self, request: Request, case_id: int) -> HttpResponse:
        case = get_object_or_404(cases_visible_to(request.user), pk=case_id)
        return export_response(case, request.user, request)
