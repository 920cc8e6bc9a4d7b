"""Gallery search libraries compared: exact (numpy) against HNSW in usearch, faiss and hnswlib,
all with the gallery's HNSW parameters (enrollment/gallery/hnsw.py).

`python -m benchmarks.libraries --sizes 1000 100000` prints one row per size, query kind and
library; faiss-cpu and hnswlib are measured where they are installed (BankWatch installs
neither). benchmarks/search.py measures the gallery's own searches for `manage.py bench`.

Recall@1 is the share of queries whose best template is the same as exact search's.
Two kinds of query: random unit vectors against random templates (the hardest case for a
graph index: no structure to exploit), and real face embeddings whose person is enrolled,
hidden among random distractor templates (the case the gallery exists for).
"""

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

DIMS = 128
Searcher = Callable[[NDArray[np.float32], int], NDArray[np.int64]]


def unit_rows(count: int, seed: int) -> NDArray[np.float32]:
    rows = np.random.default_rng(seed).standard_normal((count, DIMS)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _hnsw() -> dict[str, Any]:
    from enrollment.gallery.hnsw import HNSW

    return HNSW


def exact_searcher(matrix: NDArray[np.float32]) -> Searcher:
    def search(queries: NDArray[np.float32], k: int) -> NDArray[np.int64]:
        scores = queries @ matrix.T
        return np.argsort(-scores, axis=1)[:, :k].astype(np.int64)

    return search


def usearch_searcher(matrix: NDArray[np.float32], candidates: int) -> Searcher:
    from usearch.index import Index

    index = Index(ndim=DIMS, metric="ip", **_hnsw())
    index.add(np.arange(len(matrix), dtype=np.uint64), matrix, threads=1)
    return _reranked(lambda q: np.atleast_2d(index.search(q, candidates, threads=1).keys).astype(np.int64), matrix)


def faiss_searcher(matrix: NDArray[np.float32], candidates: int) -> Searcher:
    import faiss

    faiss.omp_set_num_threads(1)
    hnsw = _hnsw()
    index = faiss.IndexHNSWFlat(DIMS, hnsw["connectivity"], faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = hnsw["expansion_add"]
    index.hnsw.efSearch = hnsw["expansion_search"]
    index.add(matrix)
    return _reranked(lambda q: index.search(q, candidates)[1].astype(np.int64), matrix)


def hnswlib_searcher(matrix: NDArray[np.float32], candidates: int) -> Searcher:
    import hnswlib

    index = hnswlib.Index(space="ip", dim=DIMS)
    hnsw = _hnsw()
    index.init_index(max_elements=len(matrix), ef_construction=hnsw["expansion_add"], M=hnsw["connectivity"])
    index.set_num_threads(1)
    index.add_items(matrix, np.arange(len(matrix)))
    index.set_ef(max(hnsw["expansion_search"], candidates))
    return _reranked(lambda q: index.knn_query(q, k=candidates)[0].astype(np.int64), matrix)


def _reranked(find: Callable[[NDArray[np.float32]], NDArray[np.int64]], matrix: NDArray[np.float32]) -> Searcher:
    """Candidates from the index, then exact scores on them: what gallery.search does."""

    def search(queries: NDArray[np.float32], k: int) -> NDArray[np.int64]:
        keys = find(queries)
        out = np.empty((len(queries), k), dtype=np.int64)
        for i, row in enumerate(keys):
            row = row[(row >= 0) & (row < len(matrix))]
            order = np.argsort(-(matrix[row] @ queries[i]))[:k]
            out[i, : len(order)] = row[order]
        return out

    return search


def measure(
    name: str, build: Callable[[], Searcher], queries: NDArray[np.float32], truth: NDArray[np.int64]
) -> dict[str, Any]:
    started = time.perf_counter()
    searcher = build()
    build_s = time.perf_counter() - started
    searcher(queries[:5], 1)  # warm
    started = time.perf_counter()
    found = np.concatenate([searcher(queries[i : i + 1], 1) for i in range(len(queries))])
    per_query_ms = (time.perf_counter() - started) * 1000 / len(queries)
    recall = float(np.mean(found[:, 0] == truth[:, 0]))
    return {"index": name, "build_s": round(build_s, 2), "ms_per_query": round(per_query_ms, 3), "recall@1": recall}


def run(
    sizes: list[int],
    queries: int,
    candidates: int,
    real: NDArray[np.float32] | None,
    real_probes: NDArray[np.float32] | None,
) -> list[dict[str, Any]]:
    builders: dict[str, Any] = {
        "exact": exact_searcher,
        "usearch": lambda m: usearch_searcher(m, candidates),
    }
    for name, make in (("faiss", faiss_searcher), ("hnswlib", hnswlib_searcher)):
        try:
            __import__(name)
        except ImportError:
            continue
        builders[name] = lambda m, make=make: make(m, candidates)
    results = []
    for size in sizes:
        matrix = unit_rows(size, seed=1)
        cases = [("random", unit_rows(queries, seed=2), matrix)]
        if real is not None and real_probes is not None:
            mixed = np.concatenate([real, matrix[: size - len(real)]])
            cases.append(("real", real_probes, mixed))
        for kind, probes, gallery in cases:
            truth = exact_searcher(gallery)(probes, 1)
            for name, make in builders.items():
                row = measure(name, lambda make=make, gallery=gallery: make(gallery), probes, truth)  # type: ignore[misc]
                results.append({"templates": size, "queries": kind, **row})
    return results


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")
    django.setup()  # for the gallery's parameters
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=64)
    parser.add_argument("--real", help=".npz with 'gallery' and 'probes' arrays of real embeddings")
    args = parser.parse_args()
    real = real_probes = None
    if args.real:
        data = np.load(args.real)
        real, real_probes = data["gallery"].astype(np.float32), data["probes"].astype(np.float32)
    for row in run(args.sizes, args.queries, args.candidates, real, real_probes):
        print(row)


if __name__ == "__main__":
    main()
