"""SFace (and YuNet) on ONNX Runtime, in float32: DeepFace's own outputs to ~1e-6."""

from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray


def dynamic_axes(model: onnx.ModelProto, input_axes: dict[int, str], output_axes: dict[int, str]) -> None:
    """Let a graph exported with fixed sizes take other sizes on the given axes."""
    for value, axes in [(model.graph.input[0], input_axes), *((out, output_axes) for out in model.graph.output)]:
        dims = value.type.tensor_type.shape.dim
        for axis, name in axes.items():
            dims[axis].ClearField("dim_value")
            dims[axis].dim_param = name


def session(model: onnx.ModelProto, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # SFace's graph floods stderr with harmless optimiser warnings
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def available() -> bool:
    return True  # installed by requirements.txt


class OnnxRuntimeNet:
    precision = "f32"

    def __init__(self, model: onnx.ModelProto, threads: int) -> None:
        dynamic_axes(model, {0: "faces"}, {0: "faces"})
        self._session = session(model, threads)
        self._input = self._session.get_inputs()[0].name

    def run(self, blob: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        embeddings, trunk = self._session.run(None, {self._input: blob})
        return np.asarray(embeddings, dtype=np.float32), np.asarray(trunk, dtype=np.float32).mean(axis=3)


def load(model: onnx.ModelProto, threads: int) -> OnnxRuntimeNet:
    return OnnxRuntimeNet(model, threads)
