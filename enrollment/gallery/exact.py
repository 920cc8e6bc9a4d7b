"""BANKWATCH_GALLERY_INDEX=exact (the default): no index; every template is scored, one matrix product."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from enrollment.gallery import Snapshot


class ExactIndex:
    def candidates(self, probes: NDArray[np.float32], count: int) -> list[NDArray[np.intp]] | None:
        return None

    def wait(self, timeout: float) -> bool:
        return True


def index(snapshot: "Snapshot") -> ExactIndex:
    return ExactIndex()
