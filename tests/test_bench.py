"""The benchmark harness and the speed-ups it measures: real photos, real models, tiny sizes."""

import json
from io import StringIO

import cv2
import numpy as np
import pytest
from django.core.management import call_command

from benchmarks.dataset import identification_set, identities
from enrollment.gallery.sketch import SketchIndex
from recognition import runtimes
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image
from recognition.nets import SFaceNet
from recognition.weights import weights_dir
from tests.conftest import photo


def test_people_are_the_connected_components_of_the_labelled_same_person_pairs(dataset):
    person = identities(dataset)
    assert person["img1.jpg"] == person["img2.jpg"] == person["img4.jpg"]
    assert person["img16.jpg"] == person["img17.jpg"]
    assert person["img20.jpg"] != person["img1.jpg"]
    assert len(set(person.values())) == 13


def test_the_watchlist_holds_seven_people_and_the_others_probes_should_match_no_one(dataset):
    ident = identification_set(dataset)
    assert len(ident.gallery) == 7
    assert not set(ident.gallery.values()) & set(ident.probes)
    assert 0 < ident.unlisted_probes < len(ident.probes)
    person = identities(dataset)
    assert all(ident.probes[name] is None for name in ident.probes if person[name] not in ident.gallery)


@pytest.mark.parametrize("name", ["img1.jpg", "couple.jpg", "selfie-many-people.jpg"])
def test_yunet_on_onnx_runtime_finds_the_faces_opencvs_detector_finds(dataset, name):
    image = decode_image(photo(name), max_side=640, formats=PHOTO_FORMATS)
    scale = 640 / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    image = np.asarray(cv2.resize(image, size), dtype=np.uint8)  # at 640 px detect() does not resize again
    opencv = cv2.FaceDetectorYN.create(str(weights_dir() / "face_detection_yunet_2023mar.onnx"), "", (0, 0))
    opencv.setInputSize((image.shape[1], image.shape[0]))
    opencv.setScoreThreshold(get_engine().min_confidence)
    expected = opencv.detect(image)[1]
    found = get_engine().detect(image)
    assert len(found) == len(expected) > 0
    order = np.lexsort((expected[:, 1], expected[:, 0]))
    mine = found[np.lexsort((found[:, 1], found[:, 0]))]
    assert np.abs(mine[:, :14] - expected[order, :14]).max() < 1.0  # pixels
    assert np.abs(mine[:, 14] - expected[order, 14]).max() < 1e-3


@pytest.mark.skipif(not runtimes.available("openvino"), reason="openvino is not installed")
def test_sface_on_openvino_gives_the_embeddings_of_onnx_runtime(dataset):
    faces = get_engine().analyze(decode_image(photo("couple.jpg"), max_side=1280, formats=PHOTO_FORMATS))
    crops = np.stack([face.crop for face in faces])
    path = weights_dir() / "face_recognition_sface_2021dec.onnx"
    reference = SFaceNet(path, 1, "onnxruntime").embed(crops)
    fast = SFaceNet(path, 1, "openvino").embed(crops)
    cosine = (reference * fast).sum(axis=1) / np.linalg.norm(reference, axis=1) / np.linalg.norm(fast, axis=1)
    assert len(crops) == 2 and cosine.min() > 0.999


def test_a_large_jpeg_is_decoded_small_enough_yet_keeps_the_longer_side(dataset):
    pixels = decode_image(photo("img2.jpg"), max_side=640, formats=PHOTO_FORMATS)  # 1536x1152
    assert 640 <= max(pixels.shape[:2]) < 1536


def test_the_sketch_search_finds_the_exact_best_template():
    rng = np.random.default_rng(3)
    templates = rng.standard_normal((20_000, 128), dtype=np.float32)
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    probes = templates[:20] + rng.standard_normal((20, 128), dtype=np.float32) * 0.07
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    index = SketchIndex(templates)
    for probe in probes:
        row, score = index.best(probe)
        assert row == int(np.argmax(templates @ probe))
        assert score == pytest.approx(float(np.max(templates @ probe)), abs=1e-5)


def test_the_bench_command_prints_its_figures_and_writes_the_report(dataset, tmp_path):
    out, err = StringIO(), StringIO()
    call_command(
        "bench",
        "--quick",
        "--sections",
        "frames,search",
        "--docs",
        str(tmp_path),
        "--cache",
        str(tmp_path / "c"),
        stdout=out,
        stderr=err,
    )
    results = json.loads(out.getvalue().strip().splitlines()[-1])
    assert "error" not in results["frames"], results["frames"]
    assert results["frames"]["frames"]["1"]["faces_found"] == 1
    assert results["frames"]["frames"]["5"]["faces_found"] == 5
    assert results["frames"]["frames"]["0"]["faces_found"] == 0
    assert results["frames"]["enrollment"]["accepted"] == 7
    assert results["search"]["sizes"]["10000"]["sketch"]["recall"] == 1.0
    report = (tmp_path / "benchmarks.md").read_text()
    assert "Frames per second" in report and "Gallery search" in report
    assert (tmp_path / "benchmarks.png").read_bytes()[:4] == b"\x89PNG"
