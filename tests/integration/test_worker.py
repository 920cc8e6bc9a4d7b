import os

import pytest
from django.conf import settings
from django.db import connection

from bankwatch import jobs
from benchmarks.harness import wait_for
from recognition.models import WorkerHeartbeat

pytestmark = pytest.mark.integration


def test_the_suite_runs_on_postgresql_and_redis():
    assert connection.vendor == "postgresql"
    assert settings.JOB_BACKEND == "celery"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"


def test_a_job_queued_through_redis_is_done_by_a_celery_worker_into_postgresql(celery_worker):
    jobs.enqueue("recognition.warm_up")  # outside a transaction: on_commit runs at once
    heartbeat = wait_for(lambda: WorkerHeartbeat.objects.first(), timeout=90)
    assert heartbeat is not None, celery_worker.output()[-3000:]
    assert heartbeat.model_id == "SFace+yunet"
    worker_pid = int(heartbeat.hostname.rsplit(":", 1)[1])
    assert worker_pid == celery_worker.process.pid != os.getpid()
