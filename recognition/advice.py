"""The calibrated threshold advice curators see (written by `manage.py calibrate`).

The shipped file, recognition/calibration.json, is `calibrate` run on faces-dev
(docs/recognition.md); BANKWATCH_CALIBRATION_FILE points at another one, e.g. a
calibration on the deployment's own photos. Kept apart from recognition.calibration so
that the admin reads it without loading the recognition models.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from recognition.model_id import model_id


@cache
def _read(path: str, mtime: float) -> dict[str, Any] | None:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


def load() -> dict[str, Any] | None:
    path = Path(settings.RECOGNITION_CALIBRATION_FILE)
    if not path.is_file():
        return None
    return _read(str(path), path.stat().st_mtime)


def advice_for(size: int, calibration: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The advice for a watchlist of `size` subjects: the row of the smallest calibrated gallery
    at least that large (the largest one beyond it), or None without a calibration for the
    current model."""

    data = calibration if calibration is not None else load()
    if not data or not data.get("sizes") or data.get("model_id") != model_id():
        return None
    rows = sorted(data["sizes"], key=lambda r: r["gallery_size"])
    row = next((r for r in rows if r["gallery_size"] >= size), rows[-1])
    target = data["target_fpir"]
    return {
        **row,
        "target_fpir": target,
        "fnir": row.get(f"fnir_at_fpir_{target:g}"),
        "pairs_file": data.get("pairs_file", ""),
    }
