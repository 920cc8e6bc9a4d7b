"""The one small interface every gallery index implements, and the registry of them.

An index proposes, for each probe, the template rows worth scoring; the gallery then scores
every template of each proposed subject exactly, so thresholds and scores mean the same
whichever index runs. A new index is one new module here with an `index(snapshot)` function,
and one line in KINDS (and in the choices of BANKWATCH_GALLERY_INDEX, bankwatch/settings.py).
"""

import importlib
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from enrollment.gallery import Snapshot


class Index(Protocol):
    def candidates(self, probes: NDArray[np.float32], count: int) -> list[NDArray[np.intp]] | None:
        """Rows of the snapshot's matrix worth scoring for each probe, at least `count` of them where
        there are; None: score every row (exact search, or an index that is not ready yet)."""

    def wait(self, timeout: float) -> bool:
        """Wait until the index holds its snapshot's templates (tests, benchmarks); True when it does."""


# BANKWATCH_GALLERY_INDEX value -> module of enrollment.gallery
KINDS = {"exact": "exact", "sketch": "sketch", "usearch": "hnsw"}


def make(kind: str, snapshot: "Snapshot") -> Index:
    module = importlib.import_module(f"enrollment.gallery.{KINDS[kind]}")
    built: Index = module.index(snapshot)
    return built
