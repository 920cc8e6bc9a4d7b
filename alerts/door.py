"""What a door camera's frame adds to recognition: covered faces and hidden faces.

1. A face that recognition.covering finds covered (it classifies the faces of
   `covering_faces`: down to its own detector floor and size, BANKWATCH_COVERING_MIN_*) becomes a covered-face observation: its labels and confidences, its crop, the frame
   with every other face pixelated, and its embedding (to tell this person from the next).
2. On an entrance camera, at most once per COVERED_HIDDEN_DETECT_SECONDS of capture time (the
   person detector costs more than the whole face pipeline), a person the person detector sees, tall enough that their face would
   be large enough to judge, with no face the face detector found inside their box, becomes a
   `face_hidden` observation (turned away, or a face covered beyond detection): the frame with
   every face pixelated, no crop, no embedding.

alerts.covered decides what each becomes (pending, an event, a sighting). Faces that are neither
covered nor matched leave nothing: these observations exist only in memory until then.
"""

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from alerts.covered import HIDDEN
from alerts.models import Observation
from recognition.blur import blur_faces
from recognition.covering import Covering
from recognition.engine import Face
from recognition.images import encode_jpeg

if TYPE_CHECKING:
    from alerts.pipeline import FrameJob

HIDDEN_INDEX_BASE = 1000  # face_index of hidden people, apart from the covered faces of the frame
_people_checked: dict[int, datetime] = {}  # camera id -> capture time of its last person detection (this process)
_people_lock = threading.Lock()


def people_due(camera_id: int, captured_at: datetime) -> bool:
    """Whether this frame of the camera gets the person detector (and claims that turn)."""
    with _people_lock:
        last = _people_checked.get(camera_id)
        if last is not None and abs((captured_at - last).total_seconds()) < settings.COVERED_HIDDEN_DETECT_SECONDS:
            return False
        _people_checked[camera_id] = captured_at
        return True


def covering_record(covering: Covering) -> dict[str, object]:
    """What an event keeps of a covering: the labels found, each with its confidence."""
    return {
        "labels": list(covering.labels),
        "scores": {label: round(covering.scores[label], 4) for label in covering.labels},
    }


def covered_indexes(faces: Sequence[Face], coverings: Sequence[Covering]) -> list[int]:
    """The faces of a frame that are covered."""
    return [i for i, (_, covering) in enumerate(zip(faces, coverings, strict=True)) if covering.covered]


def covered_observations(
    frame: "FrameJob", image: NDArray[np.uint8], faces: Sequence[Face], coverings: Sequence[Covering]
) -> list[tuple[int, Observation]]:
    """(face index, observation) for each covered face."""
    result = []
    for index in covered_indexes(faces, coverings):
        face, covering = faces[index], coverings[index]
        others = [f.box for j, f in enumerate(faces) if j != index]
        result.append(
            (
                index,
                Observation(
                    camera=frame.camera,
                    frame_id=frame.pk,
                    seen_at=frame.captured_at,
                    score=max(covering.scores[label] for label in covering.labels),
                    threshold=0.0,
                    box=list(face.box),
                    face_crop=encode_jpeg(face.crop),
                    frame_image=encode_jpeg(blur_faces(image, others), quality=85),
                    embedding=face.embedding,
                    covering=covering_record(covering),
                ),
            )
        )
    return result


def _contains(person: tuple[int, int, int, int], face: Face) -> bool:
    x, y, w, h = person
    centre_x, centre_y = face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2
    return x <= centre_x <= x + w and y <= centre_y <= y + h


def hidden_observations(
    frame: "FrameJob", image: NDArray[np.uint8], faces: Sequence[Face], people: Sequence[tuple[int, int, int, int]]
) -> list[tuple[int, Observation]]:
    """(index, observation) for each person in view with no visible face."""
    result = []
    everyone = [f.box for f in faces]
    for index, person in enumerate(people):
        if person[3] < settings.COVERED_HIDDEN_MIN_PERSON_PX or any(_contains(person, face) for face in faces):
            continue
        result.append(
            (
                HIDDEN_INDEX_BASE + index,
                Observation(
                    camera=frame.camera,
                    frame_id=frame.pk,
                    seen_at=frame.captured_at,
                    score=1.0,
                    threshold=0.0,
                    box=[int(v) for v in person],
                    frame_image=encode_jpeg(blur_faces(image, everyone), quality=85),
                    embedding=None,
                    covering={"labels": [HIDDEN], "scores": {}},
                ),
            )
        )
    return result
