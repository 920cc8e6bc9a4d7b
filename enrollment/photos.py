"""A reference photo ("image") or its aligned face ("crop") for a curator, in the admin and the API
alike (each checks the curator role first), through the one biometric file helper."""

from typing import Any

from django.http import FileResponse

from bankwatch.biometrics import serve_biometric
from enrollment.models import ReferencePhoto


def serve_photo(request: Any, pk: int, kind: str) -> FileResponse:
    return serve_biometric(
        request,
        ReferencePhoto.objects.all(),
        pk,
        lambda photo: {"image": photo.image, "crop": photo.face_crop}.get(kind),
        "photo.viewed",
        content_type="image/jpeg" if kind == "crop" else None,  # the upload keeps its own type
        image=kind,
    )
