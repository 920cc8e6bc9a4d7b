from typing import Any

from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "cameras"

    def ready(self) -> None:
        # Frames processed per second, for camera health: counted when the recognition job finishes one.
        from alerts.pipeline import frame_processed

        frame_processed.connect(_count_processed, dispatch_uid="cameras.count_processed")


def _count_processed(sender: Any, outcome: Any, **kwargs: Any) -> None:
    from cameras.health import count_processed

    count_processed(outcome.camera_id)
