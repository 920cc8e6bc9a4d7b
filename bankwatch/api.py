"""REST API plumbing shared by every app's endpoints."""

from typing import Any

from django.db import DatabaseError, InterfaceError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a database outage answers 503 with Retry-After, never a 500."""
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
