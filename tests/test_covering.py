"""Covering detection on real photos of ../shared/datasets/covered-faces-dev, with the shipped
weights and the real engine: no stubs. The photos judged here are from the quarter that
train_covering holds out of training and of the thresholds (covering_training._bucket)."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from recognition import covering, covering_training
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image


def _heldout(folder: Path, label: str, count: int, note: str = "", source: str = "") -> list[Path]:
    """The first held-out photos of a label with this note (none: one plain covering, one face)."""
    with (folder / "labels.csv").open(newline="") as fh:
        names = [
            row["file"]
            for row in csv.DictReader(fh)
            if row["label"] == label and row["note"] == note and Path(row["file"]).name.startswith(source)
        ]
    return [folder / name for name in names if covering_training._bucket(name) == 0][:count]


def _coverings(path: Path) -> list[covering.Covering]:
    image = decode_image(path.read_bytes(), max_side=1280, formats=PHOTO_FORMATS)
    return covering.classify_faces(image, covering.covering_faces(get_engine(), image))


def _labels(path: Path) -> set[str]:
    return {label for result in _coverings(path) for label in result.labels}


def test_masked_faces_it_never_trained_on_are_classified_mask(covered_faces_dev):
    photos = _heldout(covered_faces_dev, "mask", 8)
    found = [path.name for path in photos if "mask" in _labels(path)]
    assert len(photos) == 8 and len(found) >= 7, found


def test_helmets_it_never_trained_on_are_classified_helmet(covered_faces_dev):
    photos = _heldout(covered_faces_dev, "helmet", 8, note="motorbike helmet")
    found = [path.name for path in photos if "helmet" in _labels(path)]
    assert len(photos) == 8 and len(found) >= 6, found


def test_uncovered_faces_are_not_covered(covered_faces_dev):
    # Portraits, as a door camera sees a customer (street scenes are in evaluate_covering's figures).
    photos = _heldout(covered_faces_dev, "none", 10, source="prajna")
    flagged = [path.name for path in photos if _labels(path)]
    assert len(photos) == 10 and len(flagged) <= 1, flagged


def test_every_label_gets_a_confidence_and_labels_are_those_over_their_threshold(covered_faces_dev):
    result = _coverings(_heldout(covered_faces_dev, "mask", 1)[0])[0]
    assert set(result.scores) == set(covering.LABELS)
    assert all(0.0 <= score <= 1.0 for score in result.scores.values())
    model = covering.get_model()
    above = {label for label, t in zip(model.labels, model.thresholds, strict=True) if result.scores[label] >= t}
    assert set(result.labels) == above and result.covered == bool(above)
    assert list(result.labels) == sorted(result.labels, key=lambda label: -result.scores[label])


def test_a_helmet_face_below_the_search_confidence_is_kept_for_covering_only(covered_faces_dev):
    engine = get_engine()
    for path in sorted((covered_faces_dev / "helmet").iterdir()):
        image = decode_image(path.read_bytes(), max_side=1280, formats=PHOTO_FORMATS)
        searched = engine.analyze(image)
        low = [f for f in covering.covering_faces(engine, image) if not engine.searchable(f)]
        if not searched and low:
            assert all(f.confidence < engine.min_confidence for f in low)
            assert covering.classify_faces(image, low)  # classified, though never searched
            return
    pytest.fail("no helmet photo whose face only the covering floor finds")


def test_the_shipped_weights_file_is_small_and_loads():
    assert covering.WEIGHTS_FILE.stat().st_size < 1_000_000
    model = covering.CoveringModel.load(covering.WEIGHTS_FILE)
    assert model.labels == covering.LABELS and model.weights.shape[1] == len(covering.LABELS)


def test_evaluate_covering_prints_the_issue_s_json_on_a_small_folder(covered_faces_dev, tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    rows = [(p, "mask") for p in _heldout(covered_faces_dev, "mask", 2)]
    rows += [(p, "none") for p in _heldout(covered_faces_dev, "none", 2)]
    rows += [(p, "helmet") for p in _heldout(covered_faces_dev, "helmet", 1, note="motorbike helmet")]
    with labels.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label"])
        writer.writerows((p.relative_to(covered_faces_dev).as_posix(), label) for p, label in rows)
    call_command("evaluate_covering", images=covered_faces_dev, labels=labels)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {
        "images",
        "faces_found",
        "covered_precision",
        "covered_recall",
        "uncovered_false_rate",
        "per_label",
        "ms_per_face",
    }
    assert result["images"] == 5 and result["faces_found"] >= 5
    assert set(result["per_label"]) == set(covering.LABELS)
    assert result["per_label"]["mask"]["n"] == 2 and result["per_label"]["helmet"]["n"] == 1
    assert set(result["per_label"]["mask"]) == {"n", "precision", "recall"}
    assert 0 < result["ms_per_face"] < 50


def test_evaluate_covering_refuses_an_unknown_label(covered_faces_dev, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\nmask/rwmfd_001.jpg,balaclava\n")
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="balaclava"):
        call_command("evaluate_covering", images=covered_faces_dev, labels=labels)


def test_train_covering_on_a_tiny_subset_writes_a_loadable_weights_file(covered_faces_dev, tmp_path, capsys):
    out = tmp_path / "covering.npz"
    call_command(
        "train_covering",
        data=covered_faces_dev,
        limit=3,
        augment=1,
        out=out,
        uncovered=[covered_faces_dev.parent / "deepface-unit"],
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    model = covering.CoveringModel.load(out)
    assert summary["out"] == str(out) and summary["bytes"] == out.stat().st_size < 1_000_000
    assert model.labels == covering.LABELS and model.kind == "trunk"
    assert np.all((model.thresholds >= 0.5) & (model.thresholds < 1.0))
    assert summary["samples"]["augmented"] > 0 and summary["samples"]["synthetic-mask"] > 0


def test_a_face_without_sface_s_feature_map_gets_no_label_and_recognition_goes_on(covered_faces_dev):
    import dataclasses

    path = _heldout(covered_faces_dev, "mask", 1)[0]
    image = decode_image(path.read_bytes(), max_side=1280, formats=PHOTO_FORMATS)
    face = covering.covering_faces(get_engine(), image)[0]
    as_from_dlib = dataclasses.replace(face, trunk=None)  # what BANKWATCH_MODEL=Dlib's faces look like
    unknown, masked = covering.classify_faces(image, [as_from_dlib, face])
    assert unknown == covering.UNKNOWN and not unknown.covered
    assert "mask" in masked.labels
