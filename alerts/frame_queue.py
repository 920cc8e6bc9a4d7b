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
- `put(job)` / `take()`: fair order across cameras. A frame waits in its camera's own queue, and
  the cameras with frames waiting are served round-robin: every job takes the oldest frame of
  the camera served least recently, whichever frame queued that job. So one camera's 400 frames
  cannot hold up another bank's next frame behind them: it is taken within one frame per
  other waiting camera. (A job message carries no frame; one is queued per frame, so the counts
  agree.) With Redis, a frame taken is kept, with its deadline, until `finish`: if the worker
  died, the next job to look takes it again once the claim would have expired.
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
from collections import deque
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Job:
    """A frame waiting for recognition: what alerts.pipeline.process_frame is given."""

    frame_id: int
    camera_id: int
    captured_at: str
    data: bytes

    def args(self) -> tuple[int, int, str, bytes]:
        return (self.frame_id, self.camera_id, self.captured_at, self.data)

    def __repr__(self) -> str:  # never the bytes
        return f"Job(frame_id={self.frame_id}, camera_id={self.camera_id})"


class _Memory:
    """The embedded mode: one process, so a lock and two dicts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.claims: dict[int, tuple[str, float]] = {}
        self.backlogs: dict[int, dict[int, float]] = {}
        self.waiting: dict[int, deque[Job]] = {}  # per camera, oldest first
        self.ring: deque[int] = deque()  # cameras with frames waiting, the least recently served first

    def put(self, job: Job) -> None:
        with self.lock:
            frames = self.waiting.get(job.camera_id)
            if frames is None:
                frames = self.waiting[job.camera_id] = deque()
                self.ring.append(job.camera_id)
            frames.append(job)

    def take(self) -> Job | None:
        with self.lock:
            if not self.ring:
                return None
            camera_id = self.ring.popleft()
            frames = self.waiting[camera_id]
            job = frames.popleft()
            if frames:
                self.ring.append(camera_id)  # served: to the back of the line
            else:
                del self.waiting[camera_id]
            return job

    def remove(self, camera_id: int, frame_id: int) -> None:
        with self.lock:
            frames = self.waiting.get(camera_id)
            if frames is None:
                return
            kept = deque(job for job in frames if job.frame_id != frame_id)
            if kept:
                self.waiting[camera_id] = kept
            else:
                del self.waiting[camera_id]
                self.ring.remove(camera_id)

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

    # KEYS: ring, ring set, taken; ARGV: prefix, now, deadline. The frame of a dead worker first
    # (taken, its deadline past), then the oldest frame of the camera at the head of the ring.
    _TAKE = """
    local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2], 'LIMIT', 0, 1)
    if #expired > 0 then
      redis.call('ZADD', KEYS[3], ARGV[3], expired[1])
      return expired[1]
    end
    while true do
      local camera = redis.call('LPOP', KEYS[1])
      if not camera then return false end
      local queue = ARGV[1] .. ':waiting:' .. camera
      local frame = redis.call('LPOP', queue)
      if frame and redis.call('LLEN', queue) > 0 then
        redis.call('RPUSH', KEYS[1], camera)
      else
        redis.call('SREM', KEYS[2], camera)
      end
      if frame then
        redis.call('ZADD', KEYS[3], ARGV[3], frame)
        return frame
      end
    end
    """
    # KEYS: the camera's queue, ring, ring set; ARGV: frame id, camera id.
    _PUT = """
    redis.call('RPUSH', KEYS[1], ARGV[1])
    if redis.call('SADD', KEYS[3], ARGV[2]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[2]) end
    """

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url)
        self._take = self.client.register_script(self._TAKE)
        self._put = self.client.register_script(self._PUT)

    def put(self, job: Job) -> None:
        data = f"{_PREFIX}:job:{job.frame_id}"
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(data, mapping={"camera": job.camera_id, "captured_at": job.captured_at, "data": job.data})
        pipe.expire(data, DONE_SECONDS)
        pipe.execute()
        queue = f"{_PREFIX}:waiting:{job.camera_id}"
        self._put(keys=[queue, f"{_PREFIX}:ring", f"{_PREFIX}:ringset"], args=[job.frame_id, job.camera_id])

    def take(self) -> Job | None:
        keys = [f"{_PREFIX}:ring", f"{_PREFIX}:ringset", f"{_PREFIX}:taken"]
        while True:
            now = time.time()
            frame = self._take(keys=keys, args=[_PREFIX, now, now + _claim_seconds()])
            if frame is None:
                return None
            fields = self.client.hgetall(f"{_PREFIX}:job:{int(frame)}")
            if fields:
                return Job(int(frame), int(fields[b"camera"]), fields[b"captured_at"].decode(), fields[b"data"])
            self.client.zrem(f"{_PREFIX}:taken", frame)  # its bytes expired: nothing left to do

    def remove(self, camera_id: int, frame_id: int) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.lrem(f"{_PREFIX}:waiting:{camera_id}", 0, str(frame_id))
        pipe.zrem(f"{_PREFIX}:taken", str(frame_id))
        pipe.delete(f"{_PREFIX}:job:{frame_id}")
        pipe.execute()

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


def put(job: Job) -> None:
    """Queue a frame: in its camera's queue, counted in its backlog. A job queued by name then takes
    the fair next frame (`take`)."""
    store().queued(job.camera_id, job.frame_id)
    store().put(job)


def take() -> Job | None:
    """The oldest frame of the camera served least recently (None: nothing waits)."""
    return store().take()


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
    store().remove(camera_id, frame_id)
    store().dequeued(camera_id, frame_id)


def drop(camera_id: int, frame_id: int) -> None:
    """The frame failed its last attempt: its bytes and its place in the backlog go."""
    store().remove(camera_id, frame_id)
    store().dequeued(camera_id, frame_id)


def release(frame_id: int) -> None:
    """A failed attempt: the claim goes, so that the retry can take it."""
    store().set(frame_id, None)


def forget(camera_id: int, frame_id: int) -> None:
    """The frame was never queued after all (the broker refused its job)."""
    drop(camera_id, frame_id)
