import os
import threading

import pytest

from bankwatch import jobs
from recognition.models import WorkerHeartbeat
from recognition.tasks import warm_up  # the test swaps its body; code queues it by name


@pytest.mark.django_db(transaction=True)
def test_a_queued_job_runs_on_a_worker_thread_after_commit():
    from django.db import transaction

    with transaction.atomic():
        jobs.enqueue("recognition.warm_up")
        assert not WorkerHeartbeat.objects.exists()  # nothing runs before the commit
    assert jobs.wait_idle(60)
    heartbeat = WorkerHeartbeat.objects.get()
    assert heartbeat.model_id == "SFace+yunet"
    assert heartbeat.hostname.endswith(f":{os.getpid()}")  # the embedded worker runs inside this process


@pytest.mark.django_db(transaction=True)
def test_the_job_does_not_run_in_the_calling_thread(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(warm_up, "run", lambda: seen.append(threading.current_thread().name))
    jobs.enqueue("recognition.warm_up")
    assert jobs.wait_idle(30)
    assert seen and seen[0].startswith("bankwatch-job")


@pytest.mark.django_db
def test_a_celery_pool_process_loads_the_models_when_it_starts():
    from celery.signals import worker_process_init

    worker_process_init.send(sender=None)
    heartbeat = WorkerHeartbeat.objects.get()
    assert heartbeat.hostname.endswith(f":{os.getpid()}")
    assert heartbeat.model_id == "SFace+yunet"


def test_outbound_jobs_run_apart_from_recognition_jobs(settings, monkeypatch):
    """Embedded: their own threads; Celery: their own queue once BANKWATCH_OUTBOUND_QUEUE names one."""
    assert jobs.executor("outbound") is not jobs.executor()
    settings.JOB_BACKEND = "celery"
    sent: list[tuple[str, object]] = []
    for name in ("integrations.retry_webhooks", "alerts.sweep_frames"):
        task = jobs.task(name)
        monkeypatch.setattr(task, "apply_async", lambda args, queue, name=name: sent.append((name, queue)))
    for queue in ("", "outbound"):
        settings.OUTBOUND_QUEUE = queue
        jobs._submit(jobs.task("integrations.retry_webhooks"), ())
        jobs._submit(jobs.task("alerts.sweep_frames"), ())
    assert sent == [
        ("integrations.retry_webhooks", None),
        ("alerts.sweep_frames", None),
        ("integrations.retry_webhooks", "outbound"),
        ("alerts.sweep_frames", None),
    ]
