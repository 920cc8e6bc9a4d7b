import os
import socket
import time

from celery import shared_task
from django.utils import timezone

from recognition.engine import get_engine
from recognition.models import WorkerHeartbeat


@shared_task(name="recognition.warm_up")
def warm_up() -> int:
    """Load the recognition models in this worker and record that it is ready."""
    started = time.perf_counter()
    engine = get_engine()
    load_ms = (time.perf_counter() - started) * 1000
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=f"{socket.gethostname()}:{os.getpid()}",
        defaults={"model_id": engine.model_id, "load_ms": load_ms, "seen_at": timezone.now()},
    )
    return heartbeat.pk
