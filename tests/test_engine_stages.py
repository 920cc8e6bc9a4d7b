"""The recognition stages kept in docs/recognition.md, each on real photos: no stubs here."""

from recognition import decision
from recognition.engine import get_engine, similarity
from recognition.images import PHOTO_FORMATS, decode_image


def _photo(folder, name):
    return decode_image((folder / name).read_bytes(), max_side=decision.PHOTO_MAX_SIDE, formats=PHOTO_FORMATS)


def test_a_same_person_pair_that_missed_matches_against_a_mirror_averaged_template(faces_dev, settings):
    # Two photos of one singer, the second turned the other way: her plain template scores the
    # probe under the shipped threshold, the template averaged with its mirror image above it.
    engine = get_engine()
    reference = decision.reference_face(engine, _photo(faces_dev, "jung_eunbi_eunha/04.jpg"))
    faces, usable = decision.probe_faces(
        engine, decision.decode_frame((faces_dev / "jung_eunbi_eunha/10.jpg").read_bytes(), PHOTO_FORMATS)
    )
    assert reference is not None and usable
    probe = faces[usable[0]].embedding
    scores = {}
    for mirrored in (False, True):
        settings.RECOGNITION_MIRROR_TEMPLATES = mirrored
        scores[mirrored] = similarity(decision.template_embedding(engine, reference), probe)
    assert scores[False] < settings.RECOGNITION_THRESHOLD < scores[True]


def test_a_mirror_averaged_template_is_one_more_embedding_of_the_same_face(faces_dev):
    engine = get_engine()
    face = decision.reference_face(engine, _photo(faces_dev, "sam_neill/01.jpg"))
    assert face is not None
    template = decision.template_embedding(engine, face)
    assert abs(float((template**2).sum()) - 1) < 1e-5
    assert 0.8 < similarity(template, face.embedding) < 0.9999  # the same face, not the same vector
