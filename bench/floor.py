"""The compute floor's rows: the GEMM peak this CPU reaches and the model's time at it
(bench/compute.py measures them)."""

from typing import TYPE_CHECKING

from bench.compute import GEMM_SIZES, GEMM_TRIES, MODEL_GFLOPS
from bench.table import Row, time_row

if TYPE_CHECKING:
    from bench.context import BenchContext


def floor_rows(context: "BenchContext") -> list[Row]:
    peak = context.gemm_peak
    return [
        Row(
            "GEMM peak, float32",
            peak.gflops,
            "GFLOP/s",
            how=f"{peak.library} {peak.size}x{peak.size}; best of torch.mm and "
            f"onnxruntime MatMul, {len(GEMM_SIZES)} sizes x {GEMM_TRIES}, "
            f"{context.threads_label}",
        ),
        time_row(
            "compute floor, 1 image",
            peak.floor_ms,
            floor_ms=peak.floor_ms,
            how=f"{MODEL_GFLOPS} GFLOPs (EfficientNet-Lite0, 224x224) / GEMM peak",
        ),
    ]
