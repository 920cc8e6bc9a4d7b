"""A year of data for a city (`bench --sections history`): do the pages people wait on stay fast?

A private PostgreSQL (benchmarks/services.py) is migrated and filled, by SQL in batches, with
what 6,000 cameras leave behind in a year at the rates below: alerts, their sightings, feed
events and audit entries (`--quick`: a month). Then, through the real views and queries, as
the users who wait on them:

- the dashboard's queue (`/dashboard/`) of a bank's security staff (bank-wide and one branch),
- the alert API's first page and a page deep in the past (`/api/v1/alerts/`),
- the audit page (`/audit/`) of an auditor, unfiltered and filtered by action,
- a feed resume: the first replay page of a socket 500 events behind (AlertEvent log),

each 20 times, p50 and p95 in ms; and retention's purge of feed events past their retention
(`retention.jobs.purge_feed_events`): total seconds and the longest single statement, which is
how long a lock is held.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.services import available, private_services

ROOT = Path(__file__).resolve().parent.parent

CITY = {"banks": 20, "branches": 2000, "cameras": 6000, "subjects": 10_000}
# Per camera per day, and per alert: a door camera of a busy branch raising a watchlist alert a
# day is far above what a real watchlist gives; the feed and audit rows follow each alert's moves.
RATES = {"alerts_per_camera_day": 1.0, "sightings_per_alert": 3, "events_per_alert": 3, "audit_per_alert": 4}
ROUNDS = 20


def history(quick: bool, log: Any = print) -> dict[str, Any]:
    missing = available()
    if missing:
        return {"skipped": missing}
    days = 30 if quick else 365
    with private_services() as services, tempfile.TemporaryDirectory(prefix="bankwatch-history-") as data:
        env = {
            **os.environ,
            "DATABASE_URL": services.postgres_url,
            "REDIS_URL": "",
            "BANKWATCH_JOB_BACKEND": "thread",
            "BANKWATCH_DATA_DIR": data,
            "BANKWATCH_EMBEDDED_BEAT": "false",
            "BANKWATCH_EMBEDDED_CAMERAS": "false",
            "DJANGO_SETTINGS_MODULE": "bankwatch.settings",
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        log(f"history: filling {days} days for {CITY['cameras']} cameras ...")
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.child", "history_queries", json.dumps({"days": days})],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"history child failed: {done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


# --- in the child process, against the filled database -------------------------------------------


def _clone(cursor: Any, table: str, template_id: int, source: str, overrides: dict[str, str], where: str = "") -> int:
    """INSERT into `table` one row per row of `source` (SQL after FROM) that passes `where`, copying the
    template row's columns except the `overrides` (column -> SQL expression over the source and `tpl`)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id'"
        " ORDER BY ordinal_position",
        [table],
    )
    columns = [row[0] for row in cursor.fetchall()]
    values = ", ".join(overrides.get(column, f'tpl."{column}"') for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    cursor.execute(
        f'INSERT INTO "{table}" ({names}) SELECT {values} FROM {source}'  # noqa: S608 - our own names
        f' CROSS JOIN (SELECT * FROM "{table}" WHERE id = {int(template_id)}) tpl'
        + (f" WHERE {where}" if where else "")
    )
    return int(cursor.rowcount)


def _fill(days: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from alerts.actions import raise_alert
    from alerts.models import Alert, AlertEvent, Observation, Sighting
    from audit.models import AuditEntry
    from cameras.actions import create_camera
    from cameras.models import Camera
    from enrollment.actions import create_subject, create_watchlist
    from enrollment.models import Subject
    from organizations.models import Bank, Branch

    started = time.perf_counter()
    banks = Bank.objects.bulk_create(
        [Bank(name=f"Bank {i:02d}", jurisdiction="Ho Chi Minh City") for i in range(CITY["banks"])]
    )
    per_bank = CITY["branches"] // CITY["banks"]
    branches = Branch.objects.bulk_create(
        [Branch(bank=bank, name=f"Branch {i:04d}") for bank in banks for i in range(per_bank)]
    )
    template_camera = create_camera(banks[0].name, branches[0].name, "Door")[0]
    cameras = [template_camera] + Camera.objects.bulk_create(
        [
            Camera(branch=branch, name=name, token_hash=f"bench-{branch.pk}-{name}")
            for branch in branches
            for name in ("Door", "Lobby", "Counter")
            if not (branch.pk == branches[0].pk and name == "Door")
        ]
    )
    watchlist = create_watchlist("Bank robbers")
    template_subject = create_subject(watchlist, "Template Person", legal_basis="Warrant")
    Subject.objects.bulk_create(
        [Subject(watchlist=watchlist, full_name=f"Person {i:05d}") for i in range(CITY["subjects"] - 1)]
    )
    observation = Observation(
        camera=template_camera, frame_id=1, seen_at=timezone.now(), score=0.7, threshold=0.363, box=[10, 10, 80, 80],
    )  # fmt: skip
    template = raise_alert(template_subject, watchlist, [observation])
    # raise_alert wrote one of each: the rows every generated one is copied from.
    sighting = Sighting.objects.get(alert=template)
    event = AlertEvent.objects.get(alert=template)
    entry = AuditEntry.objects.filter(object_id=str(template.pk)).order_by("pk")[0]

    camera_ids = [c.pk for c in cameras]
    branch_of = {c.pk: c.branch_id for c in cameras}
    bank_of = {b.pk: b.bank_id for b in branches}
    subject_ids = list(Subject.objects.values_list("pk", flat=True))
    alerts_total = int(days * len(cameras) * RATES["alerts_per_camera_day"])
    seconds = days * 86400
    counts = {"alerts": 0, "sightings": 0, "feed_events": 0, "audit_entries": 0}
    with connection.cursor() as cursor:
        cams = "ARRAY[" + ",".join(map(str, camera_ids)) + "]"
        brs = "ARRAY[" + ",".join(str(branch_of[c]) for c in camera_ids) + "]"
        bks = "ARRAY[" + ",".join(str(bank_of[branch_of[c]]) for c in camera_ids) + "]"
        subs = "ARRAY[" + ",".join(map(str, subject_ids)) + "]"
        n, ns = len(camera_ids), len(subject_ids)
        step = 200_000
        for first in range(1, alerts_total + 1, step):
            last = min(alerts_total, first + step - 1)
            at = f"now() - make_interval(secs => (g::float8 * {seconds} / {alerts_total}))"
            # Most alerts are decided within the day; a few wait, and some went to the police.
            status = (
                "CASE WHEN g % 1000 = 0 THEN 'new' WHEN g % 997 = 1 THEN 'in_review' WHEN g % 500 = 2"
                " THEN 'confirmed' WHEN g % 50 = 0 THEN 'escalated' WHEN g % 13 = 0 THEN 'closed' ELSE 'dismissed' END"
            )
            counts["alerts"] += _clone(
                cursor, Alert._meta.db_table, template.pk, f"generate_series({first}, {last}) g",
                {
                    "camera_id": f"({cams})[1 + g % {n}]", "branch_id": f"({brs})[1 + g % {n}]",
                    "bank_id": f"({bks})[1 + g % {n}]", "subject_id": f"({subs})[1 + g % {ns}]",
                    "status": status, "created_at": at, "updated_at": at, "last_seen_at": at,
                    "dismiss_reason": "CASE WHEN g % 1000 > 2 AND g % 50 <> 0 AND g % 13 <> 0 THEN 'not_this_person' ELSE '' END",
                },
            )  # fmt: skip
        newest = f"a.id > {template.pk}"  # every generated alert, not the template
        counts["sightings"] = _clone(
            cursor, Sighting._meta.db_table, sighting.pk,
            f'"{Alert._meta.db_table}" a CROSS JOIN generate_series(1, {RATES["sightings_per_alert"]}) k',
            {"alert_id": "a.id", "camera_id": "a.camera_id", "frame_id": "a.id * 10 + k",
             "seen_at": "a.created_at + make_interval(secs => k)"}, newest,
        )  # fmt: skip
        counts["feed_events"] = _clone(
            cursor, AlertEvent._meta.db_table, event.pk,
            f'"{Alert._meta.db_table}" a CROSS JOIN generate_series(1, {RATES["events_per_alert"]}) k',
            {"alert_id": "a.id", "bank_id": "a.bank_id", "branch_id": "a.branch_id",
             "kind": "CASE WHEN k = 1 THEN 'alert.created' ELSE 'alert.updated' END",
             "for_police": "a.status = 'escalated' AND k = 3",
             "created_at": "a.created_at + make_interval(secs => k * 60)"}, newest,
        )  # fmt: skip
        counts["audit_entries"] = _clone(
            cursor, AuditEntry._meta.db_table, entry.pk,
            f'"{Alert._meta.db_table}" a CROSS JOIN generate_series(1, {RATES["audit_per_alert"]}) k',
            {"object_id": "a.id::text", "at": "a.created_at + make_interval(secs => k * 60)",
             "action": "(ARRAY['alert.raised','alert.start_review','alert.dismiss','alert.image_viewed'])[k]"}, newest,
        )  # fmt: skip
        cursor.execute("ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = int(cursor.fetchone()[0])
    return {
        "days": days, **CITY, **RATES, **counts,
        "database_mb": round(size / 1e6), "fill_seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip


def _timed(call: Any, rounds: int = ROUNDS) -> dict[str, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 1), "p95_ms": round(times[int(len(times) * 0.95) - 1], 1)}


def _client(user: Any) -> Any:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _get(client: Any, url: str) -> Any:
    def call() -> None:
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")

    return call


def history_queries(days: int) -> dict[str, Any]:
    """The child's part: fill the database, then time what people wait on."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.actions import create_user
    from alerts.access import events_visible_to
    from alerts.consumers import REPLAY_PAGE
    from alerts.models import AlertEvent
    from organizations.models import Branch
    from retention import jobs

    settings.ALLOWED_HOSTS = ["*"]
    volume = _fill(days)
    bank_wide = create_user("bench_bank", "bank_security", "x-bench-Pa55", bank_name="Bank 00")
    branch = Branch.objects.filter(bank__name="Bank 00").order_by("pk")[5]
    one_branch = create_user("bench_branch", "bank_security", "x-bench-Pa55", bank_name="Bank 00",
                             branch_name=branch.name)  # fmt: skip
    auditor = create_user("bench_audit", "auditor", "x-bench-Pa55")
    bank_client, branch_client, audit_client = _client(bank_wide), _client(one_branch), _client(auditor)
    last_event = AlertEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def resume() -> None:
        list(events_visible_to(bank_wide).filter(id__gt=last_event - 500).order_by("id").values("id", "kind",
             "payload")[:REPLAY_PAGE])  # fmt: skip

    timings = {
        "dashboard_bank": _timed(_get(bank_client, "/dashboard/")),
        "dashboard_branch": _timed(_get(branch_client, "/dashboard/")),
        "alerts_api_first_page": _timed(_get(bank_client, "/api/v1/alerts/")),
        "alerts_api_page_100": _timed(_get(bank_client, "/api/v1/alerts/?page=100")),
        "audit_page": _timed(_get(audit_client, "/audit/")),
        "audit_page_by_action": _timed(_get(audit_client, "/audit/?action=alert.dismiss")),
        "feed_resume_500_behind": _timed(resume),
    }
    # Retention: a quarter of the feed log past its retention, purged as the periodic job does.
    settings.RETENTION_FEED_EVENT_DAYS = max(1, int(days * 0.75))
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        purged = jobs.purge_feed_events(timezone.now() + timedelta(seconds=1))
        total = time.perf_counter() - started
    longest = max((float(q["time"]) for q in queries.captured_queries), default=0.0)
    return {
        "volume": volume,
        "timings": timings,
        "worst_p95_ms": max(t["p95_ms"] for t in timings.values()),
        "retention_feed_purge": {"purged": purged, "seconds": round(total, 2),
                                 "longest_statement_s": round(longest, 3), "statements": len(queries)},
    }  # fmt: skip
