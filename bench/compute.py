"""The compute floor: the fastest the model could possibly run on this CPU.

EfficientNet-Lite0 needs 0.39 billion multiply-adds per 224x224 image, that is 0.77
GFLOPs (a multiply-add is two floating-point operations). Dividing by the best rate
this CPU reaches on a large float32 matrix multiply (GEMM, the operation CPUs and
math libraries are most tuned for) gives a time no implementation can beat. The
network's depthwise convolutions run well below GEMM speed, so a good runtime lands
at one to two times the floor.
"""

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.table import Row, time_row

if TYPE_CHECKING:
    from bench.context import BenchContext

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
    """Best float32 GFLOP/s of torch.mm on `threads` threads.

    torch, not numpy: torch sets its thread count at run time (numpy's BLAS only
    reads it from the environment at import), and its BLAS is the one PyTorch runs on.
    """
    # The OpenMP setting classifier/backends.py gives the app; OpenMP reads it once, when
    # torch is first imported, and this may be the first import in the process.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(threads)
    best = GemmPeak(gflops=0.0, size=0, library=blas_library(torch))
    for size in GEMM_SIZES:
        a, b = torch.randn(size, size), torch.randn(size, size)
        product = torch.empty(size, size)
        flops = 2 * size**3
        torch.mm(a, b, out=product)  # warm-up: allocations, thread pool start
        started = time.perf_counter()
        torch.mm(a, b, out=product)
        # Enough multiplies per try that the timer's resolution does not matter.
        repeats = max(1, int(GEMM_SECONDS_PER_TRY / (time.perf_counter() - started)))
        for _ in range(GEMM_TRIES):
            started = time.perf_counter()
            for _ in range(repeats):
                torch.mm(a, b, out=product)
            gflops = flops * repeats / (time.perf_counter() - started) / 1e9
            if gflops > best.gflops:
                best = GemmPeak(gflops=gflops, size=size, library=best.library)
    return best


def blas_library(torch) -> str:
    config = torch.__config__.show()
    for name, marker in (("MKL", "BLAS_INFO=mkl"), ("OpenBLAS", "BLAS_INFO=open")):
        if marker in config:
            return name
    return "BLAS"


def floor_rows(context: "BenchContext") -> list[Row]:
    peak = context.gemm_peak
    return [
        Row(
            "GEMM peak, float32",
            peak.gflops,
            "GFLOP/s",
            how=f"torch.mm ({peak.library}) {peak.size}x{peak.size}, best of "
            f"{len(GEMM_SIZES)} sizes x {GEMM_TRIES}, {context.threads_label}",
        ),
        time_row(
            "compute floor, 1 image",
            peak.floor_ms,
            floor_ms=peak.floor_ms,
            how=f"{MODEL_GFLOPS} GFLOPs (EfficientNet-Lite0, 224x224) / GEMM peak",
        ),
    ]
