"""The embedding stages kept in docs/recognition.md, each on real photos: no stubs here."""

from django.conf import settings

from recognition import decision
from recognition.engine import _engine, similarity
from recognition.images import PHOTO_FORMATS, decode_image


def _engine_with(flip: bool):  # type: ignore[no-untyped-def]
    return _engine(
        "SFace",
        "yunet",
        settings.RECOGNITION_MIN_DETECTOR_CONFIDENCE,
        settings.RECOGNITION_DETECT_MAX_SIDE,
        1,
        settings.RECOGNITION_RUNTIME,
        "constant",
        flip,
    )


def _face(folder, name, engine):  # type: ignore[no-untyped-def]
    image = decode_image((folder / name).read_bytes(), max_side=decision.PHOTO_MAX_SIDE, formats=PHOTO_FORMATS)
    return decision.reference_face(engine, image)


def test_a_same_person_pair_that_missed_matches_with_the_mirror_image_averaged_in(faces_dev):
    # Two photos of one singer, the second turned to the side: SFace alone scores them under
    # the shipped threshold, the mirror-averaged embedding above it (docs/recognition.md).
    threshold = settings.RECOGNITION_THRESHOLD
    scores = {}
    for flip in (False, True):
        engine = _engine_with(flip)
        left, right = (_face(faces_dev, f"jung_eunbi_eunha/{n}.jpg", engine) for n in ("04", "10"))
        scores[flip] = similarity(left.embedding, right.embedding)
    assert scores[False] < threshold < scores[True]
