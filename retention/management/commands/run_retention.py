import json
from typing import Any

from django.core.management.base import BaseCommand

from retention.jobs import run_all


class Command(BaseCommand):
    help = "Run the retention purges now (they also run on their own every RETENTION_INTERVAL_SECONDS)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(run_all()))
