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


# The error answers every operation may give, documented in the schema by `document_errors`
# (401, 403, 503 everywhere; 400 with fields or query parameters; 404 with a path's or a body's
# object, or a page; 413 and 415 with a body; 429 where an API key may call)
# (a drf-spectacular post-processing hook), so that clients, and the schema fuzzing in
# tests/test_api_fuzz.py, know every status an operation can answer.
ERROR = {"$ref": "#/components/schemas/Error"}
ERRORS_BY_FIELD = {
    "type": "object",
    "description": '{"error": "..."} or, for an invalid field, its messages by field name',
    "additionalProperties": True,
}
ALWAYS = {
    "401": "not signed in, or a missing or wrong camera token",
    "403": "signed in without the role, scope or second factor this needs, or a failed CSRF check",
    "503": "the database or the job queue is unreachable: retry after Retry-After seconds",
}


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Add to each operation the error answers it can give and does not document itself."""
    for operation in (op for ops in result.get("paths", {}).values() for op in ops.values() if isinstance(op, dict)):
        responses = operation.setdefault("responses", {})
        params = operation.get("parameters", [])
        body = operation.get("requestBody", {}).get("content", {})
        wanted = dict.fromkeys(ALWAYS)
        if body or any(p.get("in") == "query" for p in params):
            wanted["400"] = None
        if body or any(p.get("in") == "path" for p in params):
            wanted["404"] = "not found, or outside the user's scope: the path's object, or one the body names"
        if any(p.get("name") == "page" for p in params):
            wanted["404"] = 'a page past the last ("Invalid page.")'
        if any("apiKey" in scheme for scheme in operation.get("security", [])):
            wanted["429"] = "this API key is past BANKWATCH_API_KEY_RATE: retry after Retry-After seconds"
        if body:
            wanted["413"] = "the body is larger than the upload limit"
            wanted["415"] = "a content type the operation does not take, or a file that is not an image it takes"
        for status, description in wanted.items():
            if status in responses:
                continue
            if status == "400":
                responses[status] = _response("invalid query parameter or field", ERRORS_BY_FIELD)
            else:
                responses[status] = _response(description or ALWAYS[status], ERROR)
    return result
