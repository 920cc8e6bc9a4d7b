"""Gallery search time at 1 000 to 1 000 000 templates: exact, and two approximate searches.

Templates are synthetic: random unit vectors in SFace's 128 dimensions (real faces are far
more clustered, which makes the approximate index's job easier, so recall here is a lower
bound). Each query is a template plus noise (cosine ~0.78 to it), like a new photo of an
enrolled person. Recall is the share of queries whose approximate best template is the
exact best. Both searches run on one thread, one query at a time, as a worker searches
the faces of a frame.

Approximate searches:
- hnsw: what enrollment.gallery runs with BANKWATCH_GALLERY_INDEX=usearch: the HNSW index
  proposes GALLERY_CANDIDATES templates and those are scored exactly. Built with every
  core and cached under the cache folder; only up to `hnsw_max` templates, because at a
  million random vectors it takes minutes to build (and recalls poorly, docs/benchmarks.md).
- sketch: enrollment.gallery.sketch (sign-bit sketches, then exact scores of the nearest ones).
"""

import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from benchmarks import cpu
from enrollment.gallery.sketch import SketchIndex

DIMS = 128


def templates(count: int, seed: int = 7) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((count, DIMS), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def queries(matrix: NDArray[np.float32], count: int, seed: int = 11) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    rows = matrix[rng.integers(0, len(matrix), count)] + rng.standard_normal((count, DIMS), dtype=np.float32) * 0.07
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def usearch_index(matrix: NDArray[np.float32], cache: Path, options: dict[str, Any]) -> tuple[Any, float]:
    """The HNSW index of `matrix`, loaded from the cache when built before; and its build seconds."""
    from usearch.index import Index

    name = "-".join(f"{k}{v}" for k, v in sorted(options.items()))
    path = cache / f"gallery-{len(matrix)}-{name}.usearch"
    index = Index(ndim=DIMS, metric="ip", **options)
    if path.exists():
        index.load(str(path))
        if len(index) == len(matrix):
            return index, float("nan")
        index = Index(ndim=DIMS, metric="ip", **options)
    started = time.perf_counter()
    index.add(np.arange(len(matrix), dtype=np.uint64), matrix, threads=len(cpu.cores()))
    built = time.perf_counter() - started
    cache.mkdir(parents=True, exist_ok=True)
    index.save(str(path))
    return index, built


def _time(probes: NDArray[np.float32], best_of: Any) -> tuple[list[int], list[float]]:
    found, times = [], []
    for probe in probes:
        started = time.perf_counter()
        found.append(int(best_of(probe)))
        times.append(time.perf_counter() - started)
    return found, times


def gallery_search(
    sizes: list[int],
    query_count: int,
    cache: str,
    index_options: dict[str, Any],
    expansion_search: int,
    hnsw_max: int,
    sketch_candidates: int,
) -> dict[str, Any]:
    candidates = settings.GALLERY_CANDIDATES
    results: dict[str, Any] = {}
    for size in sizes:
        matrix = templates(size)
        probes = queries(matrix, query_count)
        exact, exact_times = _time(probes, lambda p, m=matrix: np.argmax(m @ p))
        row: dict[str, Any] = {"exact": cpu.summary_ms(exact_times), "matrix_mb": round(matrix.nbytes / 2**20, 1)}
        started = time.perf_counter()
        sketches = SketchIndex(matrix)
        row["sketch_build_s"] = round(time.perf_counter() - started, 2)
        found, times = _time(probes, lambda p, s=sketches: s.best(p, sketch_candidates)[0])
        row["sketch"] = {**cpu.summary_ms(times), "recall": _recall(found, exact)}
        if size <= hnsw_max:
            index, built = usearch_index(matrix, Path(cache), index_options)
            index.expansion_search = max(expansion_search, candidates)

            def hnsw_best(probe: NDArray[np.float32], index: Any = index, m: NDArray[np.float32] = matrix) -> int:
                rows = index.search(probe, min(candidates, len(m)), threads=1).keys.astype(np.intp)
                return int(rows[np.argmax(m[rows] @ probe)])

            found, times = _time(probes, hnsw_best)
            row["hnsw"] = {
                **cpu.summary_ms(times),
                "recall": _recall(found, exact),
                "build_s": None if np.isnan(built) else round(built, 1),
                "index_mb": round(index.memory_usage / 2**20, 1),
            }
            del index
        results[str(size)] = row
        del matrix, sketches
    return {
        "queries": query_count,
        "hnsw": {**index_options, "expansion_search": max(expansion_search, candidates), "candidates": candidates},
        "sketch_candidates": sketch_candidates,
        "sizes": results,
    }


def _recall(found: list[int], exact: list[int]) -> float:
    return round(float(np.mean(np.array(found) == np.array(exact))), 4)
