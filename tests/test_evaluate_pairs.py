"""evaluate_pairs judges real photo pairs with the live pipeline's own functions."""

import csv
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from recognition import decision
from recognition.degrade import degraded, rng_for
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _photo(folder, name):
    return decode_image((folder / name).read_bytes(), max_side=decision.PHOTO_MAX_SIDE, formats=PHOTO_FORMATS)


def test_evaluate_pairs_reports_accuracy_at_the_shipped_threshold(dataset, tmp_path, capsys, settings):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("file_x,file_y,Decision\nimg1.jpg,img2.jpg,Yes\nimg20.jpg,img1.jpg,No\nimg16.jpg,img17.jpg,Yes\n")
    call_command("evaluate_pairs", pairs=pairs, images=dataset)
    out = _last_json(capsys)
    assert out["pairs"] == 3 and out["evaluated"] == 3
    assert out["threshold"] == settings.RECOGNITION_THRESHOLD
    assert out["accuracy"] == 1.0 and out["tar"] == 1.0 and out["far"] == 0.0
    assert out["cpu_ms_per_probe"] > 0
    assert {"tar_at_far_0.001", "tar_at_far_0.002", "tar_at_far_0.01"} <= set(out)


def test_evaluate_pairs_reads_paths_in_subfolders_and_writes_each_pairs_score(faces_dev, tmp_path, capsys):
    pairs = tmp_path / "pairs.csv"
    rows = [
        ("will_smith/01.png", "will_smith/02.png", "Yes"),
        ("will_smith/01.png", "kate_winslet/01.png", "No"),
        ("sam_neill/01.jpg", "sam_neill/02.jpg", "Yes"),
    ]
    pairs.write_text("file_x,file_y,decision\n" + "".join(",".join(r) + "\n" for r in rows))
    scores = tmp_path / "scores.csv"
    call_command("evaluate_pairs", pairs=pairs, images=faces_dev, scores_out=scores)
    out = _last_json(capsys)
    assert out["evaluated"] == 3
    written = list(csv.DictReader(scores.open()))
    assert [(r["file_x"], r["file_y"], r["decision"]) for r in written] == rows
    same, other = float(written[0]["score"]), float(written[1]["score"])
    assert same > out["threshold"] > other  # the score the decision was made on
    # labels.csv gives each pair its photo kind (here: the source repository)
    assert sum(k["same"] + k["different"] for k in out["per_kind"].values()) == 3


def test_evaluate_pairs_refuses_a_csv_naming_missing_photos(faces_dev, tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("file_x,file_y,decision\nwill_smith/01.png,nobody/09.png,No\n")
    with pytest.raises(CommandError, match="1 images missing"):
        call_command("evaluate_pairs", pairs=pairs, images=faces_dev)


def test_shrink_gives_a_lobby_sized_face_the_same_way_each_run(faces_dev):
    engine = get_engine()
    image = _photo(faces_dev, "sam_neill/01.jpg")
    first = degraded(engine, image, "shrink", rng_for("sam_neill/01.jpg", 0))
    assert first == degraded(engine, image, "shrink", rng_for("sam_neill/01.jpg", 0))
    assert first != degraded(engine, image, "shrink", rng_for("sam_neill/01.jpg", 1))
    assert first is not None
    faces = engine.analyze(decision.decode_frame(first))
    assert len(faces) == 1
    assert 30 <= min(faces[0].box[2:]) <= 64  # drawn at 40-56 px; the detector's box differs a little


def test_mask_covers_the_mouth_and_leaves_the_eyes(faces_dev):
    engine = get_engine()
    image = _photo(faces_dev, "sam_neill/01.jpg")
    face = engine.analyze(image)[0]
    masked = decode_image(degraded(engine, image, "mask", rng_for("x", 0)) or b"", formats=PHOTO_FORMATS)

    def patch(pixels, point):
        x, y = (int(v) for v in point)
        return pixels[y - 3 : y + 4, x - 3 : x + 4].astype(np.float32)

    mouth = ((face.landmarks[3][0] + face.landmarks[4][0]) / 2, (face.landmarks[3][1] + face.landmarks[4][1]) / 2)
    assert np.abs(patch(masked, mouth) - patch(image, mouth)).mean() > 20
    assert np.abs(patch(masked, face.landmarks[0]) - patch(image, face.landmarks[0])).mean() < 6


def test_a_probe_the_covering_step_finds_masked_is_held_to_the_stricter_covered_threshold(faces_dev, settings):
    from recognition.evaluation import Evaluator, Pair

    pair = Pair("sam_neill/02.jpg", "sam_neill/03.jpg", True)
    scores = {}
    for margin in (0.0, 0.2):
        settings.COVERED_THRESHOLD_MARGIN = margin
        evaluator = Evaluator(get_engine(), faces_dev, degrade="mask")
        scores[margin] = evaluator.score(pair)
        assert evaluator._masked_probes[pair.right].all()  # the drawn mask is seen as a mask
    assert abs((scores[0.0] - scores[0.2]) - 0.2) < 1e-6
    plain = Evaluator(get_engine(), faces_dev).score(pair)
    assert plain != scores[0.0]  # the masked copy is judged as the pipeline judges a masked face
