"""The gallery: the active face templates that recognition searches, one copy per process.

Each process keeps the templates of matchable subjects in one float32 matrix, rebuilt
when GalleryVersion changes. Every search first reads that one row (a cheap query), so a
new, removed or expired subject, a changed watchlist or a new counter-example takes
effect on the very next frame in every worker process. Expiry is checked at search time
as well, because a subject's expires_at passes without anything being written.

Search is exact by default: one matrix product over every template (about 1 ms for 10k
templates). BANKWATCH_GALLERY_INDEX=usearch puts an HNSW index (usearch) in front for very
large galleries: it proposes candidate templates, and their subjects are then scored
exactly as in the exact search, so thresholds and scores mean the same (docs/gallery.md).
BANKWATCH_GALLERY_INDEX=sketch does the same with sign-bit sketches: no index to build, about
3 ms a probe at a million templates (docs/benchmarks.md).

Each index is one module of this package behind one small interface (index.py): exact.py,
sketch.py, hnsw.py. This module holds what they share: the snapshot and the search.
"""

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone
from numpy.typing import NDArray

from enrollment.gallery.index import Index, make
from enrollment.models import CounterExample, FaceTemplate, GalleryVersion, Subject, Watchlist
from organizations.models import Branch
from recognition.model_id import model_id as embedding_space

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    subject_id: int
    watchlist_id: int
    score: float  # cosine similarity of the probe to the subject's best template
    threshold: float  # the watchlist's effective threshold (plus the covered margin for a covered probe)
    covered_probe: bool = False  # the probe face was masked: masked templates too, stricter threshold


@dataclass
class _Scope:
    banks: frozenset[int]
    branches: frozenset[int]
    # Banks that have at least one branch listed: for those, only the listed branches count.
    banks_with_listed_branches: frozenset[int]

    def applies(self, bank_id: int, branch_id: int) -> bool:
        if not self.banks and not self.branches:
            return True
        if branch_id in self.branches:
            return True
        return bank_id in self.banks and bank_id not in self.banks_with_listed_branches


@dataclass
class Snapshot:
    """Everything search needs, built from the database at one GalleryVersion."""

    version: int
    model_id: str
    index_kind: str
    matrix: NDArray[np.float32]  # templates x dims, rows grouped by subject
    starts: NDArray[np.intp]  # first row of each subject in matrix
    template_subject: NDArray[np.intp]  # subject position of each template row
    template_ids: NDArray[np.int64]  # FaceTemplate.id of each row: the approximate index's keys
    template_masked: NDArray[np.bool_]  # rows embedded behind a synthetic mask: for covered probes only
    subject_ids: NDArray[np.int64]
    watchlist_ids: NDArray[np.int64]
    thresholds: NDArray[np.float64]
    expires: NDArray[np.float64]  # epoch seconds, inf when the subject never expires
    scopes: dict[int, _Scope]
    counter_examples: dict[int, NDArray[np.float32]]  # subject position -> rows
    # Where each of those rows applies: (bank id, branch id, expiry in epoch seconds); 0 ids: everywhere.
    counter_scopes: dict[int, NDArray[np.float64]] = field(default_factory=dict)
    index: Index | None = None  # proposes candidate rows (enrollment/gallery/index.py)
    _scope_cache: dict[int, NDArray[np.bool_]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    def allowed_for_branch(self, branch_id: int) -> NDArray[np.bool_]:
        cached = self._scope_cache.get(branch_id)
        if cached is None:
            bank_id = _bank_of(branch_id)
            by_watchlist = {wl: scope.applies(bank_id, branch_id) for wl, scope in self.scopes.items()}
            cached = np.array([by_watchlist[int(wl)] for wl in self.watchlist_ids], dtype=bool)
            self._scope_cache[branch_id] = cached
        return cached


_branch_banks: dict[int, int] = {}


def _bank_of(branch_id: int) -> int:
    # A branch never moves to another bank, so this is cached for the life of the process.
    bank_id = _branch_banks.get(branch_id)
    if bank_id is None:
        bank_id = Branch.objects.values_list("bank_id", flat=True).get(pk=branch_id)
        _branch_banks[branch_id] = bank_id
    return bank_id


def _as_matrix(blobs: list[bytes], dims: int) -> NDArray[np.float32]:
    if not blobs:
        return np.zeros((0, dims), dtype=np.float32)
    return np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])


def _epoch(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("inf")


def build(version: int, model_id: str, index_kind: str) -> Snapshot:
    """Load the templates of every subject that can match, grouped by subject (one query for them all)."""
    rows = list(
        FaceTemplate.objects.filter(
            model_id=model_id,
            subject__status=Subject.Status.ACTIVE,
            subject__watchlist__is_active=True,
            photo__status="accepted",
            masked__in=[False, True] if settings.MASKED_TEMPLATES else [False],
        )
        .order_by("subject_id", "id")
        .values_list("subject_id", "id", "subject__watchlist_id", "subject__expires_at", "embedding", "masked")
    )
    subject_ids: list[int] = []
    starts: list[int] = []
    template_subject: list[int] = []
    subjects: dict[int, dict[str, Any]] = {}
    for i, (subject_id, _, watchlist_id, expires_at, _, _) in enumerate(rows):
        if not subject_ids or subject_ids[-1] != subject_id:
            subject_ids.append(subject_id)
            starts.append(i)
            subjects[subject_id] = {"watchlist_id": watchlist_id, "expires_at": expires_at}
        template_subject.append(len(subject_ids) - 1)
    dims = len(rows[0][4]) // 4 if rows else 128
    matrix = np.frombuffer(b"".join(bytes(row[4]) for row in rows), dtype=np.float32).reshape(len(rows), dims)
    watchlists = {w.pk: w for w in Watchlist.objects.filter(pk__in={s["watchlist_id"] for s in subjects.values()})}
    scopes = {}
    for wl in watchlists.values():
        branches = list(wl.branches.values_list("id", "bank_id"))
        scopes[wl.pk] = _Scope(
            banks=frozenset(wl.banks.values_list("id", flat=True)),
            branches=frozenset(b for b, _ in branches),
            banks_with_listed_branches=frozenset(bank for _, bank in branches),
        )
    position = {sid: i for i, sid in enumerate(subject_ids)}
    counters: dict[int, list[bytes]] = {}
    counter_scopes: dict[int, list[tuple[float, float, float]]] = {}
    for subject_id, blob, bank_id, branch_id, expires_at in CounterExample.objects.filter(
        model_id=model_id,
        status=CounterExample.Status.ACTIVE,
        subject__status=Subject.Status.ACTIVE,
        subject__watchlist__is_active=True,
    ).values_list("subject_id", "embedding", "bank_id", "branch_id", "expires_at"):
        if subject_id in position:
            counters.setdefault(position[subject_id], []).append(bytes(blob))
            counter_scopes.setdefault(position[subject_id], []).append(
                (float(bank_id or 0), float(branch_id or 0), _epoch(expires_at))
            )
    snapshot = Snapshot(
        version=version,
        model_id=model_id,
        index_kind=index_kind,
        matrix=matrix,
        starts=np.array(starts, dtype=np.intp),
        template_subject=np.array(template_subject, dtype=np.intp),
        template_ids=np.array([row[1] for row in rows], dtype=np.int64),
        template_masked=np.array([row[5] for row in rows], dtype=bool),
        subject_ids=np.array(subject_ids, dtype=np.int64),
        watchlist_ids=np.array([subjects[s]["watchlist_id"] for s in subject_ids], dtype=np.int64),
        thresholds=np.array(
            [watchlists[subjects[s]["watchlist_id"]].effective_threshold for s in subject_ids], dtype=np.float64
        ),
        expires=np.array([_epoch(subjects[s]["expires_at"]) for s in subject_ids], dtype=np.float64),
        scopes=scopes,
        counter_examples={pos: _as_matrix(blobs, matrix.shape[1]) for pos, blobs in counters.items()},
        counter_scopes={pos: np.array(rows, dtype=np.float64) for pos, rows in counter_scopes.items()},
    )
    snapshot.index = make(index_kind, snapshot)
    return snapshot


def wait_for_index(timeout: float = 300.0) -> bool:
    """Wait until the gallery's index holds the current gallery (tests, benchmarks)."""
    index = snapshot().index
    return index is None or index.wait(timeout)


def uses_index(gallery: Snapshot) -> bool:
    """Whether searches of this gallery go through the approximate index right now."""
    probe = np.zeros((1, gallery.matrix.shape[1] or 128), dtype=np.float32)
    return _candidate_rows(gallery, probe) is not None


_lock = threading.Lock()
_snapshot: Snapshot | None = None


def snapshot() -> Snapshot:
    """This process's gallery, rebuilt first when anything changed since it was built."""
    global _snapshot
    version = GalleryVersion.current()
    model_id = embedding_space()
    index_kind = settings.GALLERY_INDEX
    current = _snapshot
    if current is not None and (current.version, current.model_id, current.index_kind) == (
        version,
        model_id,
        index_kind,
    ):
        return current
    with _lock:
        current = _snapshot
        if current is None or (current.version, current.model_id, current.index_kind) != (
            version,
            model_id,
            index_kind,
        ):
            current = build(version, model_id, index_kind)
            _snapshot = current
            logger.info("gallery %s rebuilt: %d templates, %s", version, current.size, index_kind)
        return current


def _candidate_rows(gallery: Snapshot, probes: NDArray[np.float32]) -> list[NDArray[np.intp]] | None:
    """Template rows worth scoring for each probe; None means all of them (exact search)."""
    if gallery.size == 0:
        return None
    if gallery.index is None:
        return None
    proposed = gallery.index.candidates(probes, min(settings.GALLERY_CANDIDATES, gallery.size))
    if proposed is None:
        return None
    # Every template of a proposed subject is scored, so a subject's score is exactly its best template's.
    ends = np.append(gallery.starts[1:], gallery.size)
    result = []
    for rows in proposed:
        subjects = np.unique(gallery.template_subject[rows])
        result.append(np.concatenate([np.arange(gallery.starts[i], ends[i]) for i in subjects] or [rows]))
    return result


def _counter_examples_here(gallery: Snapshot, pos: int, branch_id: int, now: float) -> NDArray[np.float32] | None:
    """The subject's counter-examples that apply at this branch now: made there, at its bank, or
    approved for everywhere, and not yet expired."""
    counter = gallery.counter_examples.get(pos)
    if counter is None:
        return None
    scopes = gallery.counter_scopes.get(pos)
    if scopes is None:
        return counter
    bank_id = _bank_of(branch_id)
    banks, branches, expires = scopes[:, 0], scopes[:, 1], scopes[:, 2]
    here = ((banks == 0) & (branches == 0)) | (branches == branch_id) | ((branches == 0) & (banks == bank_id))
    return counter[here & (expires > now)]


def search(
    embeddings: NDArray[np.float32], *, branch_id: int, covered: Sequence[bool] | None = None
) -> list[list[Match]]:
    """For each probe embedding (rows, L2-normalised, from get_engine()), the subjects whose best
    template score >= their watchlist's effective threshold, best first.

    A probe marked in `covered` (the covering step found it masked) is also compared with the
    masked templates, and needs BANKWATCH_COVERED_THRESHOLD_MARGIN more than the threshold;
    other probes never see the masked templates (docs/recognition.md).

    Only matchable subjects (status active, not past expires_at), active watchlists that apply
    to this branch (watchlist.banks / .branches empty = all), templates of the current engine's
    model_id. A probe is suppressed for subject S when its similarity to one of S's
    CounterExamples is >= the threshold and > its score for S.
    """
    probes = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
    if probes.shape[0] == 0:
        return []
    gallery = snapshot()
    if gallery.size == 0:
        return [[] for _ in range(probes.shape[0])]
    now = timezone.now().timestamp()
    allowed = gallery.allowed_for_branch(branch_id) & (gallery.expires > now)
    masked_probe = np.zeros(len(probes), dtype=bool) if covered is None else np.asarray(covered, dtype=bool)
    margin = settings.COVERED_THRESHOLD_MARGIN
    candidates = _candidate_rows(gallery, probes)
    results: list[list[Match]] = []
    if candidates is None:
        # One product for all probes; the best template of each subject by reduceat over its rows.
        products = probes @ gallery.matrix.T
        products[np.ix_(~masked_probe, gallery.template_masked)] = -np.inf
        scores_all = np.maximum.reduceat(products, gallery.starts, axis=1)
    for i, probe in enumerate(probes):
        if candidates is None:
            scores = scores_all[i]
        else:
            rows = candidates[i] if masked_probe[i] else candidates[i][~gallery.template_masked[candidates[i]]]
            scores = np.full(len(gallery.subject_ids), -np.inf, dtype=np.float32)
            np.maximum.at(scores, gallery.template_subject[rows], gallery.matrix[rows] @ probe)
        thresholds = gallery.thresholds + (margin if masked_probe[i] else 0.0)
        hits = np.flatnonzero(allowed & (scores >= thresholds))
        matches = []
        for pos in hits:
            score, threshold = float(scores[pos]), float(thresholds[pos])
            counter = _counter_examples_here(gallery, int(pos), branch_id, now)
            if counter is not None and len(counter):
                nearest = float(np.max(counter @ probe))
                if nearest >= threshold and nearest > score:
                    continue  # a reviewer said a face like this one is not this subject
            matches.append(
                Match(
                    subject_id=int(gallery.subject_ids[pos]),
                    watchlist_id=int(gallery.watchlist_ids[pos]),
                    score=score,
                    threshold=threshold,
                    covered_probe=bool(masked_probe[i]),
                )
            )
        matches.sort(key=lambda m: m.score, reverse=True)
        results.append(matches)
    return results
