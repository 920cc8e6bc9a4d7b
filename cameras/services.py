from django.db import transaction

from cameras.models import Camera
from organizations.services import get_or_create_branch


@transaction.atomic
def create_camera(bank_name: str, branch_name: str, name: str, role: str = Camera.Role.OTHER) -> tuple[Camera, str]:
    """Register a camera (creating its bank and branch when missing); returns it and its token."""
    camera = Camera(branch=get_or_create_branch(bank_name, branch_name), name=name, role=role)
    token = camera.issue_token()
    camera.save()
    return camera, token


@transaction.atomic
def rotate_token(camera: Camera, grace_seconds: int = 3600) -> str:
    """New token for a camera; the old one keeps working for grace_seconds so nothing drops."""
    camera = Camera.objects.select_for_update().get(pk=camera.pk)
    token = camera.issue_token(keep_previous_for_seconds=grace_seconds)
    camera.save(update_fields=["token_hash", "previous_token_hash", "previous_token_valid_until"])
    return token
