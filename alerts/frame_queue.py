"""Frames in flight: their ids, each camera's backlog, and the claim that makes a job run once.

A frame is no database row and no file: its bytes travel inside its recognition job (the
Celery message in Redis, or the embedded mode's job thread), and a row is written only once
there is something to keep (a pending match, an alert, a sighting), keyed by the frame id.

- `new_frame_id()`: unique without asking the database (microseconds and random digits; the
  rows that keep a frame id are unique per camera, and one camera never sends two frames in
  the same microsecond).
- `queued(camera, frame)` / `backlog(camera)`: each camera's frames waiting or in work, so
  that ingestion can refuse a camera that is too far ahead of recognition (bounded memory in
  Redis) and a stream reader can skip samples. A frame whose job was lost drops out of the
  count after the hard time limit.
- `claim(frame)`: SET NX with the hard time limit as its lifetime. The job that holds it
  processes the frame; `finish(frame)` turns it into "done" for a day, so a second delivery
  of the same message (late acknowledgement: a worker died before acking) does nothing. A job
  that finds another's claim still running is retried after it (`ClaimHeldError`): if that
  worker died, its claim expires and this delivery does the work.

With Redis these live in Redis (shared by every process); in the embedded mode, in memory.
"""

import random
import threading
import time
from typing import Any

from django.conf import settings

DONE_SECONDS = 24 * 3600
_PREFIX = "bankwatch:frames"


class ClaimHeldError(Exception):
    """Another job holds this frame's claim; retry once it would have expired."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"claim held for {seconds:.0f} s more")
        self.seconds = seconds


def new_frame_id() -> int:
    return time.time_ns() // 1000 * 1000 + random.randrange(1000)


def _claim_seconds() -> int:
    return int(settings.CELERY_TASK_TIME_LIMIT) + 5


class _Memory:
    """The embedded mode: one process, so a lock and two dicts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.claims: dict[int, tuple[str, float]] = {}
        self.backlogs: dict[int, dict[int, float]] = {}

    def queued(self, camera_id: int, frame_id: int) -> None:
        with self.lock:
            self.backlogs.setdefault(camera_id, {})[frame_id] = time.monotonic()

    def dequeued(self, camera_id: int, frame_id: int) -> None:
        with self.lock:
            self.backlogs.get(camera_id, {}).pop(frame_id, None)

    def backlog(self, camera_id: int) -> int:
        horizon = time.monotonic() - _claim_seconds()
        with self.lock:
            frames = self.backlogs.get(camera_id, {})
            for frame_id in [f for f, at in frames.items() if at < horizon]:
                del frames[frame_id]
            return len(frames)

    def claim(self, frame_id: int) -> float | None:
        now = time.monotonic()
        with self.lock:
            held = self.claims.get(frame_id)
            if held and held[1] > now:
                return held[1] - now if held[0] == "processing" else -1.0
            self.claims[frame_id] = ("processing", now + _claim_seconds())
            if len(self.claims) > 100_000:
                for key in [k for k, (_, until) in self.claims.items() if until < now]:
                    del self.claims[key]
            return None

    def set(self, frame_id: int, state: str | None) -> None:
        with self.lock:
            if state is None:
                self.claims.pop(frame_id, None)
            else:
                self.claims[frame_id] = (state, time.monotonic() + DONE_SECONDS)


class _Redis:
    """Production: keys in the Redis of REDIS_URL, shared by every web and worker process."""

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url)

    def queued(self, camera_id: int, frame_id: int) -> None:
        key = f"{_PREFIX}:backlog:{camera_id}"
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(key, {str(frame_id): time.time()})
        pipe.expire(key, _claim_seconds() * 2)
        pipe.execute()

    def dequeued(self, camera_id: int, frame_id: int) -> None:
        self.client.zrem(f"{_PREFIX}:backlog:{camera_id}", str(frame_id))

    def backlog(self, camera_id: int) -> int:
        key = f"{_PREFIX}:backlog:{camera_id}"
        pipe = self.client.pipeline(transaction=False)
        pipe.zremrangebyscore(key, "-inf", time.time() - _claim_seconds())
        pipe.zcard(key)
        return int(pipe.execute()[1])

    def claim(self, frame_id: int) -> float | None:
        key = f"{_PREFIX}:claim:{frame_id}"
        if self.client.set(key, "processing", nx=True, ex=_claim_seconds()):
            return None
        pipe = self.client.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        state, ttl = pipe.execute()
        if state == b"processing":
            return float(max(ttl, 1))
        return -1.0 if state is not None else 0.0  # -1: done; 0: expired meanwhile, ask again

    def set(self, frame_id: int, state: str | None) -> None:
        key = f"{_PREFIX}:claim:{frame_id}"
        if state is None:
            self.client.delete(key)
        else:
            self.client.set(key, state, ex=DONE_SECONDS)


_store: _Memory | _Redis | None = None
_store_lock = threading.Lock()


def store() -> _Memory | _Redis:
    global _store
    with _store_lock:
        if _store is None:
            _store = _Redis(settings.REDIS_URL) if settings.REDIS_URL else _Memory()
        return _store


def queued(camera_id: int, frame_id: int) -> None:
    store().queued(camera_id, frame_id)


def backlog(camera_id: int) -> int:
    return store().backlog(camera_id)


def claim(frame_id: int) -> bool:
    """True: this job processes the frame. False: it was processed already. ClaimHeldError: in work elsewhere."""
    while True:
        held = store().claim(frame_id)
        if held is None:
            return True
        if held < 0:
            return False
        if held > 0:
            raise ClaimHeldError(held)


def finish(camera_id: int, frame_id: int) -> None:
    """The frame is processed (or could not be read): any later delivery of it does nothing."""
    store().set(frame_id, "done")
    store().dequeued(camera_id, frame_id)


def release(frame_id: int) -> None:
    """A failed attempt: the claim goes, so that the retry can take it."""
    store().set(frame_id, None)


def forget(camera_id: int, frame_id: int) -> None:
    """The frame was never queued after all (the broker refused it)."""
    store().dequeued(camera_id, frame_id)
