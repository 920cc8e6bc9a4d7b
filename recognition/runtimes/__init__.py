"""The runtimes SFace's graph can run on, behind one small interface.

A runtime module has `available()` (whether it can run here) and `load(model, threads) -> Net`,
where a Net has `precision` (what it computes in) and `run(blob)`: a float32 NCHW batch of
crops in, their raw embeddings and row-averaged last feature maps out (recognition/nets.py
adds that second output to the graph). A new runtime is one new module here and one line in
RUNTIMES (and in the choices of BANKWATCH_INFERENCE_RUNTIME, bankwatch/settings.py).
"""

import importlib
from typing import Protocol

import numpy as np
import onnx
from numpy.typing import NDArray

# BANKWATCH_INFERENCE_RUNTIME value -> module of recognition.runtimes
RUNTIMES = {"onnxruntime": "onnxruntime", "openvino": "openvino"}


class Net(Protocol):
    precision: str

    def run(self, blob: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]: ...


def load(runtime: str, model: onnx.ModelProto, threads: int) -> Net:
    net: Net = importlib.import_module(f"recognition.runtimes.{RUNTIMES[runtime]}").load(model, threads)
    return net


def available(runtime: str) -> bool:
    return bool(importlib.import_module(f"recognition.runtimes.{RUNTIMES[runtime]}").available())
