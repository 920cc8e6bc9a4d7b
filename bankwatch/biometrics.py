"""The one way a biometric file leaves BankWatch: an alert's or a sighting's face crop and blurred
frame, a reference photo and its crop, whoever asks for it (the pages, the admin, the API).

`serve_biometric` looks the owning row up among the rows the user may see, audits the view,
and sends the file so that no cache keeps it and no browser second-guesses its type
(`Cache-Control: private, no-store`, `X-Content-Type-Options: nosniff`). A new kind of face
image is served through it too; docs/security.md says what it promises.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponseBase
from django.shortcuts import get_object_or_404

from audit.log import record

Row = TypeVar("Row", bound=models.Model)

PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def private(response: HttpResponseBase) -> HttpResponseBase:
    """Mark a response that carries biometric data (a file, an evidence zip): kept by no cache, never sniffed."""
    for header, value in PRIVATE_HEADERS.items():
        response[header] = value
    return response


def serve_biometric(
    request: Any,
    scope: "models.QuerySet[Row]",
    pk: int,
    pick: Callable[[Row], FieldFile | None],
    action: str,
    *,
    audit_target: Callable[[Row], models.Model | None] | None = None,
    content_type: str | None = "image/jpeg",
    **detail: Any,
) -> FileResponse:
    """Serve one biometric file.

    1. The row `pk` among `scope`, the rows this user may see (alerts_visible_to(user), ...):
       404 outside it, as for a row that does not exist.
    2. Its file, `pick(row)` (which may raise Http404 itself): 404 when there is none.
    3. The audit entry `action` on `audit_target(row)` (the row itself by default), with `detail`.
    4. The file, private (`private`); `content_type` None guesses it from the file name.
    """
    row = get_object_or_404(scope, pk=pk)
    field = pick(row)
    if not field:
        raise Http404("no such file")
    record(action, audit_target(row) if audit_target else row, request=request, **detail)
    response = FileResponse(field.open("rb"), content_type=content_type)
    private(response)
    return response
