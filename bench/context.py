"""What the measurements share, each piece made on first use and then reused:
the configured thread count, a scratch directory, the 12 MP test photo, the exported
ONNX model and the compute floor."""

from functools import cached_property
from pathlib import Path

from bench.compute import GemmPeak, measure_gemm_peak
from bench.photo import Photo, twelve_megapixel_jpeg
from tooling.servers import run_python


class BenchContext:
    def __init__(self, *, workdir: Path, threads: int) -> None:
        self.workdir = workdir  # deleted when the run ends
        self.threads = threads  # CLASSIFIER_THREADS: what one server process uses
        # CPU time of processes started for the benchmark that os.times() does not
        # count as ours (bench/machine.py, OtherWork): a stack's, started in its own session.
        self.cpu_seconds_elsewhere = 0.0

    @property
    def threads_label(self) -> str:
        return f"{self.threads} thread" + ("s" if self.threads > 1 else "")

    @cached_property
    def gemm_peak(self) -> GemmPeak:
        return measure_gemm_peak(self.threads)

    @property
    def floor_ms(self) -> float:
        return self.gemm_peak.floor_ms

    @cached_property
    def photo(self) -> Photo:
        return twelve_megapixel_jpeg()

    @property
    def var_dir(self) -> Path:
        """BIRDAI_VAR_DIR for servers started by the benchmark: nothing lands in var/."""
        return self.workdir / "var"

    @cached_property
    def onnx_model(self) -> Path:
        """The model exported the way a deployment does it, into the scratch directory."""
        path = self.var_dir / "models" / "efficientnet-lite0.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        run_python(
            ["manage.py", "export_onnx", "--output", str(path)],
            {"BIRDAI_VAR_DIR": str(self.var_dir)},
        )
        return path
