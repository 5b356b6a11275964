"""The compute floor: the fastest the model could possibly run on this CPU.

EfficientNet-Lite0 needs 0.39 billion multiply-adds per 224x224 image, that is 0.77
GFLOPs (a multiply-add is two floating-point operations). Dividing by the best rate
this CPU reaches on a large float32 matrix multiply (GEMM, the operation CPUs and
math libraries are most tuned for), in the best of the libraries at hand, gives a time
no implementation can beat. The
network's depthwise convolutions run well below GEMM speed, so a good runtime lands
at one to two times the floor.
"""

import os
import time
from dataclasses import dataclass

MODEL_GFLOPS = 0.77  # EfficientNet-Lite0, one 224x224 image
# Square matrices: big enough to keep the CPU's vector units busy, small enough to
# stay mostly in cache. The best of them is the peak.
GEMM_SIZES = (256, 512, 1024)
GEMM_SECONDS_PER_TRY = 0.2
GEMM_TRIES = 5


@dataclass(frozen=True)
class GemmPeak:
    gflops: float
    size: int  # the matrix size that reached it
    library: str

    @property
    def floor_ms(self) -> float:
        return MODEL_GFLOPS / self.gflops * 1000


def measure_gemm_peak(threads: int) -> GemmPeak:
    """Best float32 GFLOP/s on `threads` threads, of every math library the app can run
    on: PyTorch's BLAS (torch.mm) and ONNX Runtime's MLAS (a MatMul-only model).

    Both, because one library can be far from the CPU's peak: on AMD CPUs PyTorch's MKL
    does not use AVX-512, and measured half of MLAS's rate here. A floor taken from the
    slower one would be no floor, and the ONNX backend would seem to beat it.
    """
    multipliers = {
        f"torch.mm, {torch_blas_name()}": torch_multiplier(threads),
        "onnxruntime MatMul, MLAS": onnxruntime_multiplier(threads),
    }
    candidates = [
        gemm_rate(multiplier, size, library)
        for library, multiplier in multipliers.items()
        for size in GEMM_SIZES
    ]
    return max(candidates, key=lambda peak: peak.gflops)


def gemm_rate(multiplier, size: int, library: str) -> GemmPeak:
    """The best GFLOP/s of GEMM_TRIES timed runs of size x size products."""
    multiply = multiplier(size)
    multiply()  # warm-up: allocations, thread pool start
    started = time.perf_counter()
    multiply()
    # Enough multiplies per try that the timer's resolution does not matter.
    repeats = max(1, int(GEMM_SECONDS_PER_TRY / (time.perf_counter() - started)))
    best = 0.0
    for _ in range(GEMM_TRIES):
        started = time.perf_counter()
        for _ in range(repeats):
            multiply()
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9)
    return GemmPeak(gflops=best, size=size, library=library)


def torch_multiplier(threads: int):
    # The OpenMP setting classifier/backends.py gives the app; OpenMP reads it once, when
    # torch is first imported, and this may be the first import in the process.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(threads)

    def for_size(size: int):
        a, b = torch.randn(size, size), torch.randn(size, size)
        product = torch.empty(size, size)
        return lambda: torch.mm(a, b, out=product)

    return for_size


def onnxruntime_multiplier(threads: int):
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper

    def for_size(size: int):
        def matrix(name: str):
            return helper.make_tensor_value_info(name, TensorProto.FLOAT, [size, size])

        graph = helper.make_graph(
            [helper.make_node("MatMul", ["a", "b"], ["product"])],
            "gemm",
            [matrix("a"), matrix("b")],
            [matrix("product")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8  # one every onnxruntime release reads
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        rng = np.random.default_rng(0)
        inputs = {name: rng.random((size, size), dtype=np.float32) for name in ("a", "b")}
        return lambda: session.run(None, inputs)

    return for_size


def torch_blas_name() -> str:
    import torch

    config = torch.__config__.show()
    for name, marker in (("MKL", "BLAS_INFO=mkl"), ("OpenBLAS", "BLAS_INFO=open")):
        if marker in config:
            return name
    return "BLAS"
