"""Subject-access search: is the face in a photo the requester brings on a watchlist, in an alert or
in a counter-example? The photo is decoded and embedded in memory and forgotten when the call
returns: no row, no file, no log line holds it, its embedding or a hash of it. What is kept is
what was found (ids), on the request (privacy.actions.search_for_request).

1. Decode the photo as a reference photo is decoded (recognition/images.py limits) and take its
   largest face (recognition.decision.reference_face), embedded like a camera's probe.
2. Compare it with every template of the current model, whatever the subject's status or expiry
   (a subject that no longer matches is still data held): a subject matches when its best template
   reaches its watchlist's threshold.
3. Alerts: those naming a matched subject, and those whose kept probe embedding reaches the system
   threshold (the requester's face was seen, whoever it was taken for).
4. Counter-examples: those whose embedding reaches the system threshold (the requester was taken
   for a subject, and a reviewer said it was not them).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q
from numpy.typing import NDArray

from alerts.models import Alert
from enrollment.models import CounterExample, FaceTemplate, Subject
from recognition.decision import PHOTO_MAX_SIDE, reference_face
from recognition.images import PHOTO_FORMATS, decode_image
from recognition.model_id import model_id


class NoFaceError(ValueError):
    """The photo shows no face to search with."""


@dataclass
class Found:
    matches: list[dict[str, object]] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)
    counter_example_ids: list[int] = field(default_factory=list)

    @property
    def subject_ids(self) -> list[int]:
        return [int(str(m["subject_id"])) for m in self.matches]

    def summary(self) -> dict[str, object]:
        """What `manage.py subject_access` prints."""
        return {
            "matches": self.matches,
            "alerts": len(self.alert_ids),
            "counter_examples": len(self.counter_example_ids),
        }

    def ids(self) -> dict[str, list[int]]:
        """What a request keeps of the search."""
        return {"subjects": self.subject_ids, "alerts": self.alert_ids, "counter_examples": self.counter_example_ids}


def _similarities(probe: NDArray[np.float32], blobs: Sequence[Any]) -> NDArray[np.float32]:
    """Cosine similarity of the probe to each stored embedding; -1 for one of another model's size."""
    scores = np.full(len(blobs), -1.0, dtype=np.float32)
    size = probe.nbytes
    same = [i for i, blob in enumerate(blobs) if len(bytes(blob)) == size]
    if same:
        matrix = np.stack([np.frombuffer(bytes(blobs[i]), dtype=np.float32) for i in same])
        scores[same] = matrix @ probe
    return scores


def _embed(data: bytes) -> NDArray[np.float32]:
    from recognition.engine import get_engine

    engine = get_engine()
    image = decode_image(data, max_side=PHOTO_MAX_SIDE, formats=PHOTO_FORMATS)
    face = reference_face(engine, image)
    if face is None:
        raise NoFaceError("no face was found in the photo")
    return np.asarray(face.embedding, dtype=np.float32)


def search_photo(data: bytes) -> Found:
    """Everything held about the face in `data` (see the module's steps). Raises InvalidImageError
    for bytes that are not an acceptable image and NoFaceError for a photo without a face."""
    probe = _embed(data)
    found = Found()
    templates = list(
        FaceTemplate.objects.filter(model_id=model_id(), masked=False).values_list("subject_id", "embedding")
    )
    best: dict[int, float] = {}
    for (subject_id, _), score in zip(templates, _similarities(probe, [t[1] for t in templates]), strict=True):
        best[subject_id] = max(best.get(subject_id, -1.0), float(score))
    subjects = Subject.objects.filter(pk__in=best).select_related("watchlist")
    for subject in sorted(subjects, key=lambda s: -best[s.pk]):
        if best[subject.pk] >= subject.watchlist.effective_threshold:
            found.matches.append(
                {
                    "subject_id": subject.pk,
                    "subject": subject.full_name,
                    "watchlist": subject.watchlist.name,
                    "score": round(best[subject.pk], 4),
                }
            )
    threshold = settings.RECOGNITION_THRESHOLD
    probes = list(Alert.objects.filter(probe_embedding__isnull=False).values_list("pk", "probe_embedding"))
    seen = {
        pk for (pk, _), s in zip(probes, _similarities(probe, [p[1] for p in probes]), strict=True) if s >= threshold
    }
    named = Alert.objects.filter(Q(subject_id__in=found.subject_ids) | Q(pk__in=seen))
    found.alert_ids = sorted(named.values_list("pk", flat=True))
    examples = list(CounterExample.objects.filter(model_id=model_id()).values_list("pk", "embedding"))
    found.counter_example_ids = sorted(
        pk
        for (pk, _), s in zip(examples, _similarities(probe, [e[1] for e in examples]), strict=True)
        if s >= threshold
    )
    return found
