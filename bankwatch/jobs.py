"""Background jobs: one call, two ways to run.

`enqueue(name, *args)` hands the Celery task registered under `name` to the broker when
JOB_BACKEND is "celery", or to a pool of worker threads inside this process in the embedded
mode. Either way the job starts only after the current transaction commits, and never inside
the request.

A task may name its own lane (`@shared_task(..., lane="outbound")`): in the embedded mode each lane
has its own threads, so that jobs waiting on the outside world (webhook deliveries, MQTT) never
hold up a recognition job, and the other way round.

Tasks are named, never imported, by the code that queues them: a task module imports the
domain code it calls (`alerts/tasks.py` -> `alerts/pipeline.py`), never the reverse, and this
module is the one registry that resolves a name to its task.
"""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, transaction

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None  # the default lane's (a benchmark resets it)
_lanes: dict[str, ThreadPoolExecutor] = {}
_executor_lock = threading.Lock()
DEFAULT_LANE = "default"
_pending: set[Future[Any]] = set()
_registry_lock = threading.Lock()


def executor(lane: str = DEFAULT_LANE) -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if lane == DEFAULT_LANE:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=settings.JOB_THREADS, thread_name_prefix="bankwatch-job")
            return _executor
        if lane not in _lanes:
            threads = settings.OUTBOUND_JOB_THREADS
            _lanes[lane] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"bankwatch-{lane}")
        return _lanes[lane]


def task(name: str) -> Task:
    """The task registered under `name` ("alerts.process_frame"); KeyError when there is none."""
    from bankwatch.celery import app

    if name not in app.tasks:
        with _registry_lock:  # request threads race here on a server's first frames
            app.loader.import_default_modules()  # every app's tasks module, as a worker does at start
    return app.tasks[name]


def run(name: str, *args: Any) -> Any:
    """Run a task's body here and now, in this thread (commands, and tests that run jobs inline)."""
    return task(name).run(*args)


def _run_in_thread(job: Task, args: tuple[Any, ...]) -> Any:
    close_old_connections()
    try:
        return job.run(*args)
    except Exception:
        logger.exception("job %s failed", job.name)
        raise
    finally:
        close_old_connections()


def _submit(job: Task, args: tuple[Any, ...]) -> None:
    lane = getattr(job, "lane", DEFAULT_LANE)
    if settings.JOB_BACKEND == "celery":
        # BANKWATCH_OUTBOUND_QUEUE sends the outbound lane to workers of its own (`celery worker -Q NAME`).
        queue = settings.OUTBOUND_QUEUE if lane != DEFAULT_LANE and settings.OUTBOUND_QUEUE else None
        try:
            job.apply_async(args=args, queue=queue)
        except Exception as exc:  # whatever the broker client raises (it is re-raised or logged)
            if lane == DEFAULT_LANE:
                raise
            # An outbound job (webhook, MQTT, mail) follows a change already committed: a broker
            # outage must not turn the request or job that made the change into an error.
            logger.warning("outbound job %s not queued, job queue unreachable: %s", job.name, exc.__class__.__name__)
        return
    future = executor(lane).submit(_run_in_thread, job, args)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def enqueue(name: str, *args: Any) -> None:
    """Queue the task `name` with `args` once the current transaction commits (at once outside one)."""
    job = task(name)  # an unknown name fails here, in the caller, not later in a callback
    transaction.on_commit(lambda: _submit(job, args))


_models_requested = False


def load_models_in_background() -> None:
    """Embedded mode: load the recognition models on a job thread as soon as the server serves,
    so that the first frame does not pay for it. Celery workers do the same at start
    (bankwatch/celery.py)."""
    global _models_requested
    if _models_requested or settings.JOB_BACKEND != "thread":
        return
    _models_requested = True
    from recognition.engine import get_engine

    executor().submit(get_engine)


def wait_idle(timeout: float = 60.0) -> bool:
    """Embedded mode: wait until every queued job has finished (commands and tests use it)."""
    import concurrent.futures

    while _pending:
        _, not_done = concurrent.futures.wait(list(_pending), timeout=timeout)
        if not_done:
            return False
    return True


def queue_health() -> tuple[bool, str]:
    if settings.JOB_BACKEND == "celery":
        from bankwatch.celery import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure, it does not raise
            return False, f"broker unreachable: {exc.__class__.__name__}"
        return True, "celery"
    return True, f"in-process, {settings.JOB_THREADS} threads, {len(_pending)} pending"
