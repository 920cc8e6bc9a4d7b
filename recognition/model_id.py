"""The name of an embedding space, in one function for the engine, the gallery, enrollment and the health check."""

from django.conf import settings


def model_id(model_name: str | None = None, detector: str | None = None) -> str:
    """Identifies an embedding space ("SFace+yunet"): templates made by another model are not comparable.

    Without arguments, the configured model's, without loading the engine."""
    return f"{model_name or settings.RECOGNITION_MODEL}+{detector or settings.RECOGNITION_DETECTOR}"
