"""Enroll reference photos of one person from the command line and wait for the verdicts."""

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from bankwatch import jobs
from enrollment import actions
from enrollment.models import ReferencePhoto, Subject, Watchlist
from recognition.images import InvalidImageError


class Command(BaseCommand):
    help = (
        "Create the watchlist and subject when missing, enroll the photos, wait for the quality gate and print "
        '{"subject_id": …, "accepted": N, "rejected": [{"photo": …, "reason": …}]} last, with "failed" '
        '(the job broke: weights missing, storage down…) and "pending" when there are any; exits non-zero then.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("photos", nargs="+", metavar="PHOTO")
        parser.add_argument("--watchlist", required=True)
        parser.add_argument("--name", required=True, help="the subject's full name")
        parser.add_argument("--legal-basis", default="")
        parser.add_argument("--case-reference", default="")
        parser.add_argument("--expires", default="", help="YYYY-MM-DD: stops matching after that day")
        parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the verdicts")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            subject = self._subject(options)
        except (ValidationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        rejected: list[dict[str, str]] = []
        uploaded: dict[int, str] = {}
        for name in options["photos"]:
            path = Path(name)
            try:
                photo = actions.add_photo(subject, path.read_bytes(), path.name)
            except OSError as exc:
                rejected.append({"photo": name, "reason": f"Cannot read the file: {exc.strerror or exc}."})
            except InvalidImageError as exc:
                rejected.append({"photo": name, "reason": f"Not a usable image: {exc}."})
            else:
                uploaded[photo.pk] = name
        pending = self._wait(list(uploaded), options["timeout"])
        photos = ReferencePhoto.objects.filter(pk__in=uploaded).order_by("pk")
        accepted = sum(1 for p in photos if p.status == ReferencePhoto.Status.ACCEPTED)
        rejected += [
            {"photo": uploaded[p.pk], "reason": p.rejection_reason}
            for p in photos
            if p.status == ReferencePhoto.Status.REJECTED
        ]
        failed = [
            {"photo": uploaded[p.pk], "reason": p.rejection_reason}
            for p in photos
            if p.status == ReferencePhoto.Status.FAILED
        ]
        held = [
            {"photo": uploaded[p.pk], "reason": p.rejection_reason, "held_with": p.held_with_id}
            for p in photos
            if p.status == ReferencePhoto.Status.HELD
        ]
        result: dict[str, Any] = {"subject_id": subject.pk, "accepted": accepted, "rejected": rejected}
        if held:  # the same face as another subject's: a curator decides (admin, or the API's decision)
            result["held"] = held
        if failed:
            result["failed"] = failed
        if pending:
            result["pending"] = [uploaded[pk] for pk in pending]
        self.stdout.write(json.dumps(result, ensure_ascii=False))
        if failed:
            raise CommandError("; ".join(f"{f['photo']}: {f['reason']}" for f in failed))
        if pending:
            raise CommandError(
                f"{len(pending)} photo(s) still pending after {options['timeout']:.0f} s; is a worker running?"
            )

    def _subject(self, options: dict[str, Any]) -> Subject:
        expires = None
        if options["expires"]:  # checked before anything is created
            day = datetime.strptime(options["expires"], "%Y-%m-%d")  # noqa: DTZ007 - made aware below
            expires = timezone.make_aware(day.replace(hour=23, minute=59, second=59))
        watchlist = Watchlist.objects.filter(name=options["watchlist"]).first()
        if watchlist is None:
            watchlist = actions.create_watchlist(options["watchlist"])
        subject = (
            Subject.objects.filter(watchlist=watchlist, full_name=options["name"]).exclude(status="removed").first()
        )
        if subject is not None:
            return subject
        return actions.create_subject(
            watchlist,
            options["name"],
            legal_basis=options["legal_basis"],
            case_reference=options["case_reference"],
            expires_at=expires,
        )

    def _wait(self, photo_ids: list[int], timeout: float) -> list[int]:
        """Wait for every photo's verdict; returns the ids still pending at the timeout."""
        deadline = time.monotonic() + timeout
        jobs.wait_idle(timeout)  # embedded mode: the jobs run on this process's threads
        while True:
            pending = list(
                ReferencePhoto.objects.filter(pk__in=photo_ids, status=ReferencePhoto.Status.PENDING).values_list(
                    "pk", flat=True
                )
            )
            if not pending or time.monotonic() >= deadline:
                return pending
            time.sleep(0.5)
