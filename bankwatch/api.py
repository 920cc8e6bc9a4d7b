"""REST API plumbing shared by every app's endpoints.

Each app keeps its endpoints in `<app>/api.py` (serializers and views) and their routes in
`<app>/api_urls.py`, mounted under /api/v1/ by bankwatch/urls.py; its pages stay in views.py
and urls.py.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a database outage answers 503 with Retry-After, never a 500; a model's
    own validation (full_clean in an app's actions.py) answers 400 with its messages by field."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return Response({field: list(messages) for field, messages in exc.message_dict.items()}, status=400)
        return Response({"error": " ".join(exc.messages)}, status=400)
    # InterfaceError is no DatabaseError, yet it is what a connection the server dropped raises.
    if isinstance(exc, DatabaseError | InterfaceError):
        return Response({"error": "service unavailable, retry shortly"}, status=503, headers={"Retry-After": "5"})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {
            "error": str(response.data["detail"]),
            **{k: v for k, v in response.data.items() if k != "detail"},
        }
    return response


class Pages(PageNumberPagination):
    """The one paginator of every list endpoint (REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS)."""

    page_size_query_param = "page_size"
    max_page_size = 200


class ErrorSerializer(serializers.Serializer):
    """How every error answer looks in the schema: {"error": "..."} (see exception_handler)."""

    error = serializers.CharField()
