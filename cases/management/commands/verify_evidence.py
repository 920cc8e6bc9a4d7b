"""Check an evidence zip that left the system: every file against SHA256SUMS, and SHA256SUMS against the audit log.

python manage.py verify_evidence BW-2026-000001-evidence.zip
{"ok": true, "files": 6, "manifest_sha256": "…", "exported_by": "paula", "exported_at": "…", "case_id": 1}
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.export import verify_evidence_zip


class Command(BaseCommand):
    help = "Verify an evidence zip: file hashes against its SHA256SUMS, and SHA256SUMS against the audit log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("zip", help="path of the exported evidence zip")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open(options["zip"], "rb") as handle:
                result = verify_evidence_zip(handle.read())
        except OSError as exc:
            raise CommandError(f"cannot read {options['zip']}: {exc}") from None
        self.stdout.write(json.dumps(result))
        if not result["ok"]:
            raise CommandError("the evidence does not verify: " + "; ".join(result["problems"]))
