"""A throw-away BankWatch with the benchmark's watchlist enrolled through the real actions.

Runs in benchmarks.harness.scratch_environment (a temporary database and media folder,
embedded-mode jobs), so nothing of the real data is touched. Enrolling the watchlist is
itself measured: seconds from upload (`add_photo`) to a stored template, per photo.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import cpu
from benchmarks.dataset import identification_set, identities, photo_number
from benchmarks.harness import scratch_environment


@dataclass
class World:
    camera: Any
    token: str
    branch_id: int
    enrollment: dict[str, Any]


@contextmanager
def watchlist_world(dataset: Path, all_photos: bool = False) -> Iterator[World]:
    """The benchmark's watchlist: one subject per listed person, their first photo (or all of
    their labelled photos with all_photos) enrolled."""
    from bankwatch import jobs
    from cameras.actions import create_camera
    from enrollment.actions import add_photo, create_subject, create_watchlist

    ident = identification_set(dataset)
    person_of = identities(dataset)
    with scratch_environment():
        camera, token = create_camera("Bench Bank", "Bench Branch", "Bench camera")
        watchlist = create_watchlist("Bench watchlist")
        times, accepted = [], 0
        for person, first in sorted(ident.gallery.items()):
            subject = create_subject(watchlist, f"Person {person}")
            names = (
                sorted((n for n, p in person_of.items() if p == person), key=photo_number) if all_photos else [first]
            )
            for name in names:
                started = time.perf_counter()
                photo = add_photo(subject, (dataset / name).read_bytes(), name)
                jobs.wait_idle(120)
                times.append(time.perf_counter() - started)
                photo.refresh_from_db()
                accepted += photo.status == "accepted"
        enrollment = {"photos": len(times), "accepted": accepted, **cpu.summary_ms(times)}
        yield World(camera, token, camera.branch_id, enrollment)
