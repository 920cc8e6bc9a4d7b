"""The two ONNX networks of the default pipeline: YuNet run directly on ONNX Runtime, SFace on one
of the runtimes of recognition/runtimes/.

The weight files we can install offline are *block-quantised*: every convolution weight is
stored as int8 and turned back into float32 by a DequantizeLinear node on each call, and
that node also stops ONNX Runtime from fusing each convolution with its BatchNorm. Both
nets then compute in float32 anyway. So at load time each DequantizeLinear of a constant
is evaluated once (the same arithmetic, in numpy) and replaced by its float32 result,
which lets ONNX Runtime (or OpenVINO) fold and fuse the graph. Measured on one core
(docs/benchmarks.md): YuNet about 2.4x faster than through OpenCV's `FaceDetectorYN`, with
the same outputs to ~1e-6; SFace 3x faster on ONNX Runtime and 8x more on OpenVINO in
bfloat16.

YuNet's decoding (scores, boxes, landmarks per stride, NMS) follows OpenCV's
`FaceDetectorYN` (objdetect/src/face_detect.cpp) so rows have the same layout.
"""

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import numpy_helper

from recognition import runtimes
from recognition.runtimes.onnxruntime import dynamic_axes, session


def _dequantized(node: onnx.NodeProto, constants: dict[str, NDArray[Any]]) -> NDArray[np.float32]:
    """DequantizeLinear of constant inputs: y = (x - zero_point) * scale, per tensor, axis or block."""
    x = constants[node.input[0]].astype(np.float32)
    scale = constants[node.input[1]].astype(np.float32)
    has_zero = len(node.input) > 2 and node.input[2]
    zero = constants[node.input[2]].astype(np.float32) if has_zero else np.zeros_like(scale)
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if scale.size == 1:
        return ((x - zero.reshape(())) * scale.reshape(())).astype(np.float32)
    axis = int(attributes.get("axis", 1)) % x.ndim
    block = int(attributes.get("block_size", 0))
    if block:  # one scale per `block` consecutive elements along `axis`
        scale = np.repeat(scale, block, axis=axis).take(np.arange(x.shape[axis]), axis=axis)
        zero = np.repeat(zero, block, axis=axis).take(np.arange(x.shape[axis]), axis=axis)
        return ((x - zero) * scale).astype(np.float32)
    shape = [1] * x.ndim
    shape[axis] = -1
    return ((x - zero.reshape(shape)) * scale.reshape(shape)).astype(np.float32)


def dequantize_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace each DequantizeLinear of constant initialisers by its float32 result, in place."""
    graph = model.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    kept, folded = [], []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(name in constants for name in node.input if name):
            folded.append(numpy_helper.from_array(_dequantized(node, constants), node.output[0]))
        else:
            kept.append(node)
    used = {name for node in kept for name in node.input}
    initializers = [init for init in graph.initializer if init.name in used] + folded
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return model


def _expose_trunk(model: onnx.ModelProto) -> None:
    """Add the last convolutional feature map (the one SFace flattens into its embedding layer,
    1024x7x7) as a second graph output: the covering classifier reads it (recognition/covering.py)."""
    producers = {out: node for node in model.graph.node for out in node.output}
    flatten = next(node for node in model.graph.node if node.op_type == "Flatten")
    name = flatten.input[0]
    while producers[name].op_type in {"Dropout", "Identity"}:
        name = producers[name].input[0]
    model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, [1, None, None, None]))


class SFaceNet:
    """SFace: aligned 112x112 BGR uint8 crops in, raw 128-d embeddings out; and, from the same
    pass, its last feature map averaged over each of its 7 rows (faces x 1024 x 7), which
    `embed_with_trunk` returns for the covering step at no extra inference.

    The dequantised graph runs on one of the runtimes of recognition/runtimes/ ("onnxruntime":
    float32; "openvino": bfloat16 on CPUs with AMX, docs/benchmarks.md); a new runtime is one
    new module there.
    """

    def __init__(self, path: Path, threads: int, runtime: str = "onnxruntime") -> None:
        model = dequantize_weights(onnx.load(str(path)))
        _expose_trunk(model)
        self.runtime = runtime
        self._net = runtimes.load(runtime, model, threads)
        self.precision = self._net.precision

    def embed(self, crops: NDArray[np.uint8]) -> NDArray[np.float32]:
        return self.embed_with_trunk(crops)[0]

    def embed_with_trunk(self, crops: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        # The net takes RGB, channels first, 0-255, as OpenCV's FaceRecognizerSF feeds it.
        blob = np.ascontiguousarray(crops[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
        return self._net.run(blob)


class YuNet:
    """YuNet face detector: BGR image in, rows (x, y, w, h, 5 landmark pairs, score) out."""

    STRIDES = (8, 16, 32)
    DIVISOR = 32

    def __init__(self, path: Path, threads: int, nms_threshold: float = 0.3, top_k: int = 5000) -> None:
        model = dequantize_weights(onnx.load(str(path)))
        dynamic_axes(model, {2: "height", 3: "width"}, {1: "anchors"})
        self._session = session(model, threads)
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.nms_threshold = nms_threshold
        self.top_k = top_k
        self._grids: dict[tuple[int, int], list[tuple[int, NDArray[np.float32]]]] = {}

    def _grid(self, height: int, width: int) -> list[tuple[int, NDArray[np.float32]]]:
        """(stride, column/row of each anchor) for a padded input size, cached."""
        grid = self._grids.get((height, width))
        if grid is None:
            grid = []
            for stride in self.STRIDES:
                rows, cols = np.divmod(np.arange((height // stride) * (width // stride)), width // stride)
                grid.append((stride, np.stack([cols, rows], axis=1).astype(np.float32)))
            self._grids[(height, width)] = grid
        return grid

    def detect(self, image: NDArray[np.uint8], score_threshold: float) -> NDArray[np.float32]:
        height, width = image.shape[:2]
        padded_h = -(-height // self.DIVISOR) * self.DIVISOR
        padded_w = -(-width // self.DIVISOR) * self.DIVISOR
        blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        blob[0, :, :height, :width] = image.transpose(2, 0, 1)
        outputs = dict(zip(self._outputs, self._session.run(None, {self._input: blob}), strict=True))
        found = []
        for stride, cells in self._grid(padded_h, padded_w):
            cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
            obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            keep = np.flatnonzero(score >= score_threshold)
            if not len(keep):
                continue
            bbox = outputs[f"bbox_{stride}"][0, keep]
            kps = outputs[f"kps_{stride}"][0, keep].reshape(-1, 5, 2)
            cell = cells[keep]
            centre = (cell + bbox[:, :2]) * stride
            size = np.exp(bbox[:, 2:4]) * stride
            landmarks = (kps + cell[:, None, :]) * stride
            found.append(
                np.concatenate(
                    [centre - size / 2, size, landmarks.reshape(-1, 10), score[keep, None]], axis=1, dtype=np.float32
                )
            )
        if not found:
            return np.zeros((0, 15), dtype=np.float32)
        rows = np.concatenate(found)
        kept = cv2.dnn.NMSBoxes(
            rows[:, :4].tolist(), rows[:, 14].tolist(), score_threshold, self.nms_threshold, top_k=self.top_k
        )
        return rows[np.asarray(kept, dtype=np.int64).reshape(-1)]


class DeepFaceYuNet:
    """DeepFace's own YuNet detector (`deepface.models.face_detection.YuNet`, OpenCV's
    FaceDetectorYN), giving the same rows as `YuNet.detect`. FaceDetectorYN keeps per-call
    state (its input size), so each thread has its own."""

    def __init__(self) -> None:
        self._local = threading.local()

    def detect(self, image: NDArray[np.uint8], score_threshold: float) -> NDArray[np.float32]:
        detector = getattr(self._local, "detector", None)
        if detector is None:
            from deepface.models.face_detection.YuNet import YuNetClient

            detector = self._local.detector = YuNetClient().model
        detector.setInputSize((image.shape[1], image.shape[0]))
        detector.setScoreThreshold(score_threshold)
        _, rows = detector.detect(image)
        if rows is None:
            return np.zeros((0, 15), dtype=np.float32)
        return np.asarray(rows, dtype=np.float32)
