"""The impact assessment, generated from the live system (Law 91/2025: sensitive data needs one,
kept current). `gather()` reads every figure from the database and the settings in force;
`render_html()` lays it out (the admin page and `manage.py privacy_report` show the same page);
`render_pdf()` prints that HTML with headless chromium; `produce()` records that one was made.

1. Purposes and the legal basis of each watchlist (from its subjects' legal basis).
2. Categories of data and where each is stored (database table, storage folder, S3 or disk).
3. Counts: subjects, templates, alerts by status, covered-face snapshots, counter-examples.
4. Retention: every RETENTION_* setting by its variable name and value, and the oldest item of
   that kind kept now; the legal holds in force.
5. Who can see what: each role, its scope and how many active users have it.
6. Transfers: S3 bucket and region, webhooks and their hosts, the MQTT broker, the mail server.
7. Security measures and their tests: the promise tables of docs/security.md.
"""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from alerts.models import Alert, AlertEvent, Frame
from cases.models import LegalHold
from enrollment.models import CounterExample, FaceTemplate, ImportJob, ReferencePhoto, Subject, Watchlist
from integrations.models import Webhook

SECURITY_DOC = Path(settings.BASE_DIR) / "docs" / "security.md"

# What each retention setting governs, and how the oldest item it still keeps is found.
_WITH_IMAGES = ~Q(probe_crop="") | ~Q(evidence_frame="") | Q(probe_embedding__isnull=False)
RETENTION_KINDS: dict[str, tuple[Any, Any]] = {
    "RETENTION_DISMISSED_ALERT_DAYS": (
        _("images and embedding of dismissed alerts"),
        lambda: Alert.objects.filter(_WITH_IMAGES, status=Alert.Status.DISMISSED).aggregate(m=Min("updated_at"))["m"],
    ),
    "RETENTION_OPEN_ALERT_DAYS": (
        _("alerts left new or in review"),
        lambda: Alert.objects.filter(
            kind=Alert.Kind.MATCH, status__in=[Alert.Status.NEW, Alert.Status.IN_REVIEW]
        ).aggregate(m=Min("last_seen_at"))["m"],
    ),
    "RETENTION_COVERED_HOURS": (
        _("covered-face snapshots"),
        lambda: (
            Alert.objects.filter(_WITH_IMAGES, kind=Alert.Kind.COVERED)
            .exclude(status__in=Alert.POLICE_STATUSES)
            .aggregate(m=Min("last_seen_at"))["m"]
        ),
    ),
    "RETENTION_EXPIRED_SUBJECT_DAYS": (
        _("photos and templates of expired or removed subjects"),
        lambda: (
            Subject.objects.filter(status__in=[Subject.Status.EXPIRED, Subject.Status.REMOVED])
            .filter(Q(photos__isnull=False) | Q(templates__isnull=False))
            .aggregate(m=Min("status_changed_at"))["m"]
        ),
    ),
    "RETENTION_FRAME_MAX_HOURS": (
        _("camera frames not yet processed"),
        lambda: Frame.objects.aggregate(m=Min("received_at"))["m"],
    ),
    "RETENTION_IMPORT_DAYS": (
        _("bulk import files (CSV and zip of photos)"),
        lambda: ImportJob.objects.exclude(zip_file="", csv_file="").aggregate(m=Min("created_at"))["m"],
    ),
    "RETENTION_REJECTED_PHOTO_DAYS": (
        _("rejected reference photos"),
        lambda: ReferencePhoto.objects.filter(status=ReferencePhoto.Status.REJECTED).aggregate(m=Min("processed_at"))[
            "m"
        ],
    ),
    "RETENTION_FEED_EVENT_DAYS": (
        _("the live feed's replay log"),
        lambda: AlertEvent.objects.aggregate(m=Min("created_at"))["m"],
    ),
    "RETENTION_ORPHAN_GRACE_SECONDS": (_("files no row points at (a process died while saving)"), None),
    "RETENTION_INTERVAL_SECONDS": (_("how often the retention job runs"), None),
}

ROLE_SCOPES = {
    Role.BANK_SECURITY: _("alerts of their bank, or only of their branches"),
    Role.POLICE: _("escalated alerts and cases of banks in their jurisdiction"),
    Role.CURATOR: _("watchlists, subjects, reference photos (admin, API)"),
    Role.AUDITOR: _("every alert and case, read-only, and the audit log"),
    Role.DATA_PROTECTION_OFFICER: _("figures, requests, holds, breaches and notices; no alert or case page"),
}


@dataclass
class Report:
    produced_at: datetime
    figures: dict[str, Any]
    watchlists: list[dict[str, Any]] = field(default_factory=list)
    stores: list[dict[str, str]] = field(default_factory=list)
    retention: list[dict[str, Any]] = field(default_factory=list)
    holds: list[LegalHold] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, str]] = field(default_factory=list)
    security: list[dict[str, Any]] = field(default_factory=list)

    def subject_rows(self) -> list[tuple[str, str, int]]:
        """(code, label, count) of each subject status, for the page."""
        counts = self.figures["subjects_by_status"]
        return [(s.value, str(s.label), counts.get(s.value, 0)) for s in Subject.Status]

    def alert_rows(self) -> list[tuple[str, str, int]]:
        counts = self.figures["alerts_by_status"]
        return [(s.value, str(s.label), counts.get(s.value, 0)) for s in Alert.Status]


def retention_settings() -> list[str]:
    """Every RETENTION_* setting in force, by its name in settings (BANKWATCH_ + name is the variable)."""
    return sorted(name for name in dir(settings) if name.startswith("RETENTION_"))


def _figures() -> dict[str, Any]:
    by_status = dict(Alert.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "subjects": Subject.objects.count(),
        "subjects_by_status": dict(Subject.objects.values_list("status").annotate(n=Count("id")).order_by()),
        "reference_photos": ReferencePhoto.objects.count(),
        "templates": FaceTemplate.objects.count(),
        "alerts": Alert.objects.count(),
        "alerts_by_status": {status: by_status.get(status, 0) for status in Alert.Status.values},
        "covered_snapshots": Alert.objects.filter(_WITH_IMAGES, kind=Alert.Kind.COVERED).count(),
        "counter_examples": CounterExample.objects.count(),
        "holds": LegalHold.objects.filter(released_at__isnull=True).count(),
    }


def _watchlists() -> list[dict[str, Any]]:
    rows = []
    for watchlist in Watchlist.objects.order_by("name"):
        bases = (
            Subject.objects.filter(watchlist=watchlist)
            .values_list("legal_basis")
            .annotate(n=Count("id"))
            .order_by("-n", "legal_basis")
        )
        rows.append(
            {
                "name": watchlist.name,
                "agency": watchlist.agency,
                "active": watchlist.is_active,
                "bases": [{"basis": basis or str(_("(none recorded)")), "subjects": n} for basis, n in bases],
            }
        )
    return rows


def _media_options() -> dict[str, Any]:
    storage: Any = settings.STORAGES["default"]
    return dict(storage.get("OPTIONS", {}))


def _storage() -> str:
    if settings.S3_BUCKET:
        region = _media_options().get("region_name", "")
        return f"S3 s3://{settings.S3_BUCKET} ({region}), private, signed links"
    disk = _("local disk")
    return f"{disk} {settings.MEDIA_ROOT} (0700)"


def _database() -> str:
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return f"SQLite {database['NAME']}"
    return f"PostgreSQL {database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}/{database['NAME']}"


def _stores() -> list[dict[str, str]]:
    files, db = _storage(), _database()
    return [
        {
            "what": str(_("reference photos and their face crops")),
            "where": f"{files}: enrollment/photos/, enrollment/crops/",
        },
        {"what": str(_("face templates (embeddings) of listed subjects")), "where": f"{db}: enrollment_facetemplate"},
        {
            "what": str(_("subjects: names, aliases, notes, case reference, legal basis")),
            "where": f"{db}: enrollment_subject",
        },
        {
            "what": str(_("alert face crops and evidence frames (bystanders pixelated)")),
            "where": f"{files}: alerts/crops/, alerts/frames/",
        },
        {"what": str(_("probe embeddings of alerts")), "where": f"{db}: alerts_alert.probe_embedding"},
        {
            "what": str(_("counter-examples (faces reviewers said are not the subject)")),
            "where": f"{db}: enrollment_counterexample",
        },
        {
            "what": str(_("camera frames in flight (never stored as files)")),
            "where": str(_("the recognition job's message (Redis or memory)")),
        },
        {"what": str(_("audit log: who saw and did what, from which address")), "where": f"{db}: audit_auditentry"},
        {
            "what": str(_("user accounts, sessions, authenticator secrets")),
            "where": f"{db}: accounts_user, django_session, otp_totp_totpdevice",
        },
    ]


def _oldest(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "–"


def _retention() -> list[dict[str, Any]]:
    rows = []
    for name in retention_settings():
        what, oldest = RETENTION_KINDS.get(name, (_("(not described)"), None))
        rows.append(
            {
                "variable": f"BANKWATCH_{name}",
                "value": getattr(settings, name),
                "what": str(what),
                "oldest": _oldest(oldest()) if oldest is not None else "n/a",
            }
        )
    return rows


def _roles() -> list[dict[str, Any]]:
    counts = dict(User.objects.filter(is_active=True).values_list("role").annotate(n=Count("id")).order_by())
    rows = [
        {"role": role.label, "code": role.value, "scope": str(ROLE_SCOPES[role]), "users": counts.get(role.value, 0)}
        for role in Role
    ]
    superusers = User.objects.filter(is_active=True, is_superuser=True).count()
    rows.append(
        {"role": str(_("Administrator")), "code": "superuser", "scope": str(_("everything")), "users": superusers}
    )
    return rows


def _transfers() -> list[dict[str, str]]:
    rows = []
    if settings.S3_BUCKET:
        options = _media_options()
        endpoint = urlsplit(options.get("endpoint_url") or "").hostname or "AWS"
        rows.append(
            {
                "to": f"S3 {endpoint}",
                "where": str(options.get("region_name", "")),
                "what": str(_("every photo, crop and frame kept")),
            }
        )
    else:
        rows.append({"to": str(_("none: media stay on this server's disk")), "where": "–", "what": "–"})
    webhooks = Webhook.objects.filter(is_active=True).select_related("bank").order_by("pk")
    for hook in webhooks:
        rows.append(
            {
                "to": f"{_('webhook')} {urlsplit(hook.url).hostname or hook.url}",
                "where": hook.bank.name if hook.bank else hook.jurisdiction,
                "what": ", ".join(hook.events) or str(_("every event")),
            }
        )
    if not webhooks:
        rows.append({"to": str(_("webhooks: none")), "where": "–", "what": "–"})
    mqtt_url = getattr(settings, "MQTT_URL", "")
    if mqtt_url:  # the host only: the URL may carry a password
        rows.append(
            {
                "to": f"MQTT {urlsplit(mqtt_url).hostname}",
                "where": f"{settings.MQTT_TOPIC_PREFIX}/…",
                "what": str(_("every event, to the broker's subscribers")),
            }
        )
    if settings.EMAIL_HOST:
        rows.append(
            {
                "to": f"{_('e-mail through')} {settings.EMAIL_HOST}",
                "where": "–",
                "what": str(_("alert mails: watchlist, place, time, match strength and a link; no image")),
            }
        )
    return rows


def _security() -> list[dict[str, Any]]:
    """The promise tables of docs/security.md: section, promise and the tests that prove it."""
    sections: list[dict[str, Any]] = []
    heading = ""
    for line in SECURITY_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("| ") and not line.startswith(("| promise", "|---", "| ---")):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if len(cells) == 2:
                if not sections or sections[-1]["heading"] != heading:
                    sections.append({"heading": heading, "rows": []})
                sections[-1]["rows"].append({"promise": _plain(cells[0]), "tests": _plain(cells[1])})
    return sections


def _plain(markdown: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown).replace("`", "").replace("**", "")


def gather(now: datetime | None = None) -> Report:
    return Report(
        produced_at=now or timezone.now(),
        figures=_figures(),
        watchlists=_watchlists(),
        stores=_stores(),
        retention=_retention(),
        holds=list(LegalHold.objects.filter(released_at__isnull=True).select_related("case", "alert")),
        roles=_roles(),
        transfers=_transfers(),
        security=_security(),
    )


def render_html(report: Report, *, admin_links: bool = False, request: HttpRequest | None = None) -> str:
    """The assessment as one self-contained page; with admin_links, the admin's bar to produce it."""
    return render_to_string("privacy/report.html", {"report": report, "admin_links": admin_links}, request=request)


def html_to_pdf(html: str) -> bytes:
    """Print an HTML page to an A4 PDF with headless chromium (BANKWATCH_CHROMIUM); nothing is kept."""
    binary = shutil.which(settings.PRIVACY_CHROMIUM)
    if binary is None:
        raise RuntimeError(
            f"PDF needs chromium ({settings.PRIVACY_CHROMIUM}); install Debian's chromium or use --format html"
        )
    with tempfile.TemporaryDirectory(prefix="bw-pdf-") as folder:
        page, pdf = Path(folder) / "page.html", Path(folder) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
                f"--user-data-dir={folder}/profile",
                f"--print-to-pdf={pdf}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return pdf.read_bytes()
