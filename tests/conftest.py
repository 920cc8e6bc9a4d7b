"""Shared fixtures: a small cast of users with known roles, real photos, temporary media.

alice   – bank security at Saigon Bank (whole bank)
bob     – bank security at Saigon Bank, District 1 branch only
charlie – bank security at another bank (Mekong Bank): must never see Saigon Bank's data
paula   – police liaison, Ho Chi Minh City
carol   – watchlist curator
audrey  – auditor
"""

from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from accounts.services import create_user
from cameras.models import Camera
from cameras.services import create_camera

DATASET = (Path(settings.BASE_DIR).parent / "shared" / "datasets" / "deepface-unit").resolve()
PASSWORD = "correct-horse-battery"


def photo(name: str) -> bytes:
    return (DATASET / name).read_bytes()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dataset() -> Path:
    if not DATASET.exists():
        pytest.skip(f"the shared photo set is not at {DATASET}")
    return DATASET


@pytest.fixture
def camera_with_token(db) -> tuple[Camera, str]:  # type: ignore[no-untyped-def]
    return create_camera("Saigon Bank", "District 1", "Lobby")


@pytest.fixture
def cast(db) -> dict[str, User]:  # type: ignore[no-untyped-def]
    return {
        "alice": create_user("alice", "bank_security", PASSWORD, bank_name="Saigon Bank"),
        "bob": create_user("bob", "bank_security", PASSWORD, bank_name="Saigon Bank", branch_name="District 1"),
        "charlie": create_user("charlie", "bank_security", PASSWORD, bank_name="Mekong Bank"),
        "paula": create_user("paula", "police", PASSWORD, jurisdiction="Ho Chi Minh City"),
        "carol": create_user("carol", "curator", PASSWORD),
        "audrey": create_user("audrey", "auditor", PASSWORD),
    }
