"""BANKWATCH_GALLERY_INDEX=sketch: sign-bit sketches propose the candidate templates, then exact scores.

Each L2-normalised template is summarised by the signs of its 128 values (16 bytes, a
SimHash: the share of differing bits estimates the angle between two vectors). A query
counts differing bits against every sketch, keeps the `candidates` nearest (at least),
and scores those exactly with the float32 templates. With a million templates the
sketches take 16 MB and the scan costs a few milliseconds on one core; there is no index
to build or rebuild, so adding a template costs one row (docs/benchmarks.md: recall of
the exact best 1.0 on a million synthetic templates, where an HNSW index built in minutes
reached 0.25-0.88).
"""

import threading
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from enrollment.gallery import Snapshot


def sketch(matrix: NDArray[np.float32]) -> NDArray[np.uint64]:
    """Sign bits of each row, as two 64-bit words per 128 dimensions."""
    bits = np.packbits(np.atleast_2d(matrix) > 0, axis=1)
    width = -(-bits.shape[1] // 8) * 8
    padded = np.zeros((bits.shape[0], width), dtype=np.uint8)
    padded[:, : bits.shape[1]] = bits
    return np.ascontiguousarray(padded.view(np.uint64))


class SketchIndex:
    # Candidates scored exactly per probe: recall of the exact best was 1.000 at a million templates.
    CANDIDATES = 256

    def __init__(self, matrix: NDArray[np.float32]) -> None:
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        words = sketch(self.matrix)
        self._words = [np.ascontiguousarray(words[:, i]) for i in range(words.shape[1])]
        self._bits = words.shape[1] * 64
        self._scratch = threading.local()  # reused buffers: fresh ones cost more in page faults than the scan

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def candidates(self, probe: NDArray[np.float32], count: int) -> NDArray[np.intp]:
        """Rows whose sketch differs from the probe's in the fewest bits: at least `count` of them."""
        query = sketch(probe)[0]
        buffers = getattr(self._scratch, "buffers", None)
        if buffers is None:
            buffers = (np.empty(len(self), np.uint8), np.empty(len(self), np.uint8), np.empty(len(self), np.uint64))
            self._scratch.buffers = buffers
        distance, bits_set, scratch = buffers
        distance.fill(0)
        for word, bits in zip(self._words, query, strict=True):
            np.bitwise_xor(word, bits, out=scratch)
            np.bitwise_count(scratch, out=bits_set)
            distance += bits_set
        # The smallest distance within which at least `count` rows lie: guessed from a histogram of
        # an even sample (a full histogram costs more than the scan), then raised until it holds.
        stride = max(1, len(self) // 65536)
        histogram = np.cumsum(np.bincount(distance[::stride], minlength=self._bits + 1))
        cut = int(np.searchsorted(histogram, max(1, count // stride)))
        while cut < self._bits and np.count_nonzero(distance <= cut) < count:
            cut += 1
        return np.flatnonzero(distance <= cut)

    def best(self, probe: NDArray[np.float32], count: int = CANDIDATES) -> tuple[int, float]:
        """The row with the highest cosine similarity among the candidates, and that similarity."""
        rows = self.candidates(probe, count)
        scores = self.matrix[rows] @ probe
        i = int(np.argmax(scores))
        return int(rows[i]), float(scores[i])


class SketchCandidates:
    """The gallery's view of a SketchIndex: at least SketchIndex.CANDIDATES rows per probe."""

    def __init__(self, snapshot: "Snapshot") -> None:
        self._sketch = SketchIndex(snapshot.matrix) if snapshot.size else None

    def candidates(self, probes: NDArray[np.float32], count: int) -> list[NDArray[np.intp]] | None:
        if self._sketch is None:
            return None
        wanted = min(max(count, SketchIndex.CANDIDATES), len(self._sketch))
        return [self._sketch.candidates(probe, wanted) for probe in probes]

    def wait(self, timeout: float) -> bool:
        return True  # built with the snapshot


def index(snapshot: "Snapshot") -> SketchCandidates:
    return SketchCandidates(snapshot)
