"""SFace on OpenVINO: its CPU plugin runs the dequantised graph in bfloat16 on the AMX / AVX-512
BF16 units of recent Xeons (float32 elsewhere): about 8x less CPU per face than ONNX Runtime
here (31 -> 3.7 ms), embeddings within cosine 0.9997 of float32 (docs/benchmarks.md). Each
thread gets its own infer request (they are not thread-safe).
"""

import threading

import numpy as np
import onnx
from numpy.typing import NDArray


def available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


class OpenVinoNet:
    def __init__(self, model: onnx.ModelProto, threads: int) -> None:
        import openvino

        core = openvino.Core()
        # OpenVINO pins its inference threads to cores by default: two worker processes then
        # share one core (measured: 110 frames/s together instead of twice one). The OS places them.
        options = {
            "INFERENCE_NUM_THREADS": threads,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "ENABLE_CPU_PINNING": False,
        }
        self._compiled = core.compile_model(core.read_model(model=model.SerializeToString()), "CPU", options)
        self._requests = threading.local()
        self.precision = str(self._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name())

    def run(self, blob: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        request = getattr(self._requests, "request", None)
        if request is None:
            request = self._requests.request = self._compiled.create_infer_request()
        # The graph takes one face at a time; the request reuses its output buffers, hence the copies.
        embeddings, trunks = [], []
        for i in range(len(blob)):
            result = request.infer({0: blob[i : i + 1]})
            embeddings.append(np.array(result[0][0], dtype=np.float32))
            trunks.append(np.asarray(result[1][0], dtype=np.float32).mean(axis=2))
        return np.stack(embeddings), np.stack(trunks)


def load(model: onnx.ModelProto, threads: int) -> OpenVinoNet:
    return OpenVinoNet(model, threads)
