"""BANKWATCH_GALLERY_INDEX=usearch: an HNSW graph (usearch) proposes the candidate templates.

Its parameters are defined here once; the benchmarks (benchmarks/search.py, libraries.py)
measure the same ones.
"""

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from enrollment.gallery import Snapshot

logger = logging.getLogger(__name__)

HNSW: dict[str, Any] = {"dtype": "f32", "connectivity": 16, "expansion_add": 128, "expansion_search": 64}


class _ApproximateIndex:
    """One usearch HNSW index per process, keyed by FaceTemplate.id and kept in step with the gallery.

    Building it costs about a minute per 100k templates on one core (docs/gallery.md), far too
    long to redo on every change, so it is updated by difference (templates added, templates
    gone) on a background thread. Until it holds exactly the current snapshot's templates,
    search falls back to exact search, so a new subject is found on the very next frame
    either way; for a single change the index catches up within milliseconds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the fields below and every use of the index
        self._index: Any = None
        self._model_id = ""
        self._keys: dict[int, float] = {}  # template id -> fingerprint of the vector indexed under it
        self._synced_version: int | None = None
        self._target: Snapshot | None = None
        self._worker: threading.Thread | None = None

    def request(self, snapshot: "Snapshot") -> None:
        with self._lock:
            self._target = snapshot
            if self._worker is None:
                self._worker = threading.Thread(target=self._sync_loop, name="gallery-index", daemon=True)
                self._worker.start()

    def _sync_loop(self) -> None:
        while True:
            with self._lock:
                target, self._target = self._target, None
                if target is None:
                    self._worker = None
                    return
            try:
                self._sync(target)
            except Exception:
                logger.exception("gallery index update failed; searching exactly meanwhile")

    def _sync(self, target: "Snapshot") -> None:
        from usearch.index import Index

        # A fingerprint per vector, so an id that now holds another vector (ids are reused after a
        # rolled-back transaction) is replaced rather than trusted.
        prints = target.matrix.sum(axis=1, dtype=np.float64) if target.size else np.zeros(0)
        wanted = dict(zip(target.template_ids.tolist(), prints.tolist(), strict=True))
        with self._lock:
            if self._index is None or self._model_id != target.model_id:
                self._index = Index(
                    ndim=target.matrix.shape[1] or 128,
                    metric="ip",  # inner product of L2-normalised rows: cosine similarity
                    **HNSW,
                )
                self._model_id, self._keys = target.model_id, {}
            index, have = self._index, dict(self._keys)
        stale = [k for k, fp in have.items() if wanted.get(k) != fp]
        new_rows = np.array(
            [i for i, k in enumerate(target.template_ids.tolist()) if have.get(k) != wanted[k]], dtype=np.intp
        )
        started = time.perf_counter()
        with self._lock:
            if stale:
                index.remove(np.array(stale, dtype=np.uint64))
                for k in stale:
                    del self._keys[k]
        # Added in slices so that searches (which take the lock) are never held up for long.
        for chunk in np.array_split(new_rows, max(1, len(new_rows) // 2000)) if len(new_rows) else []:
            with self._lock:
                index.add(target.template_ids[chunk].astype(np.uint64), target.matrix[chunk], threads=1)
                self._keys.update((int(target.template_ids[i]), wanted[int(target.template_ids[i])]) for i in chunk)
        with self._lock:
            self._synced_version = target.version
        if len(new_rows) > 1000:
            logger.info("gallery index: %d added in %.1f s", len(new_rows), time.perf_counter() - started)

    def keys(self, snapshot: "Snapshot", probes: NDArray[np.float32], count: int) -> NDArray[np.int64] | None:
        """Template ids proposed for each probe, or None while the index lags behind `snapshot`."""
        with self._lock:
            if self._synced_version != snapshot.version or self._index is None or self._model_id != snapshot.model_id:
                return None
            found = self._index.search(probes, count, threads=1)
        return np.atleast_2d(np.asarray(found.keys, dtype=np.int64))

    def wait(self, timeout: float = 300.0) -> bool:
        """For tests and benchmarks: wait until the index has caught up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._worker is None and self._target is None:
                    return True
            time.sleep(0.01)
        return False


_ann = _ApproximateIndex()


class HnswIndex:
    """The process's HNSW index seen from one snapshot: proposes nothing (exact search) until it holds
    exactly that snapshot's templates."""

    def __init__(self, snapshot: "Snapshot") -> None:
        self.snapshot = snapshot
        self._order = np.argsort(snapshot.template_ids)
        _ann.request(snapshot)

    def candidates(self, probes: NDArray[np.float32], count: int) -> list[NDArray[np.intp]] | None:
        keys = _ann.keys(self.snapshot, probes, count)
        if keys is None:
            return None
        ids, order = self.snapshot.template_ids, self._order
        rows = []
        for row in keys:  # template ids back to rows of the snapshot's matrix
            at = np.clip(np.searchsorted(ids, row, sorter=order), 0, len(order) - 1)
            rows.append(order[at][ids[order[at]] == row])
        return rows

    def wait(self, timeout: float) -> bool:
        return _ann.wait(timeout)


def index(snapshot: "Snapshot") -> HnswIndex:
    return HnswIndex(snapshot)
