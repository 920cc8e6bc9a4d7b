import json
from typing import Any

from django.core.management.base import BaseCommand

from cameras.health import serialize_cameras, status_line
from cameras.models import Camera

FIELDS = (
    "camera_id",
    "name",
    "bank",
    "branch",
    "role",
    "source",
    "status",
    "since",
    "fps_received",
    "fps_processed",
    "last_error",
)


class Command(BaseCommand):
    help = (
        "One JSON line per camera (camera_id, name, bank, branch, role, source, status, since, fps_received, "
        'fps_processed, last_error; never a credential), then {"cameras", "online", "offline", "tampered"}.'
    )

    def handle(self, *args: Any, **options: Any) -> None:
        cameras = Camera.objects.select_related("branch__bank").order_by("branch__bank__name", "branch__name", "name")
        rows = serialize_cameras(cameras)
        for row in rows:
            self.stdout.write(json.dumps({name: row[name] for name in FIELDS}, ensure_ascii=False))
        self.stdout.write(json.dumps(status_line(rows)))
