"""Every measurement a child process can run (benchmarks.child), by name."""

from collections.abc import Callable
from typing import Any

from benchmarks import frames, identification, latency, pipeline, search, streams, year

PARTS: dict[str, Callable[..., dict[str, Any]]] = {
    "frame_rates": frames.frame_rates,
    "stage_costs": frames.stage_costs,
    "identify_bankwatch": identification.bankwatch,
    "identify_deepface_find": identification.deepface_find,
    "identify_face_recognition": identification.face_recognition_library,
    "gallery_search": search.gallery_search,
    "production_latency": latency.production_latency,
    "pipeline": pipeline.run,
    "read_streams": streams.read_streams,
    "history_queries": year.history_queries,
}
