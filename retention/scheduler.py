"""The embedded mode's Celery beat: runs every entry of settings.CELERY_BEAT_SCHEDULE (retention,
the frame sweep, ...) on a daemon thread of the server process, through bankwatch.jobs like any
job. With JOB_BACKEND "celery", `celery -A bankwatch beat` reads the same schedule instead.

The server starts it on its first request (bankwatch/asgi.py), so management commands and
tests never run periodic jobs behind one's back.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings

logger = logging.getLogger(__name__)

_started = False
_lock = threading.Lock()
FIRST_RUN_DELAY_SECONDS = 30.0


def _interval(schedule: object) -> float | None:
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    return None  # crontab entries need the real beat


def _loop(entries: dict[str, tuple[str, float]]) -> None:
    from bankwatch.jobs import enqueue

    due = {name: time.monotonic() + FIRST_RUN_DELAY_SECONDS for name in entries}
    while True:
        now = time.monotonic()
        for name, (task_name, every) in entries.items():
            if now >= due[name]:
                due[name] = now + every
                try:
                    enqueue(task_name)
                except Exception:
                    logger.exception("periodic job %s could not be queued", name)
        time.sleep(max(1.0, min(due.values()) - time.monotonic()))


def start_embedded_beat() -> bool:
    """Start the scheduler thread once per process in the embedded mode; True when this call started it."""
    global _started
    if _started or settings.JOB_BACKEND != "thread" or not settings.EMBEDDED_BEAT:
        return False
    with _lock:
        if _started:
            return False
        _started = True
    entries = {}
    for name, entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).items():
        every = _interval(entry.get("schedule"))
        if every is None or every <= 0:
            logger.warning("periodic job %s: only fixed intervals run in the embedded mode", name)
            continue
        entries[name] = (entry["task"], every)
    if entries:
        threading.Thread(target=_loop, args=(entries,), name="bankwatch-beat", daemon=True).start()
    return True
