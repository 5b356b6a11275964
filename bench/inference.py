"""The model alone: one preprocessed image through each backend, in this process."""

from typing import TYPE_CHECKING

from django.conf import settings

from bench.table import Row, Target, time_row
from bench.timing import median, repeat_ms
from classifier.backends import OnnxBackend, TorchBackend
from classifier.images import decode_image, to_model_input

if TYPE_CHECKING:
    from bench.context import BenchContext

RUNS = 30
WARM_UP_RUNS = 5
# Depthwise convolutions cannot run at GEMM speed; within twice the floor means the
# runtime wastes little on top of the arithmetic itself.
ONNX_TARGET_FLOORS = 2.0


def backend_rows(context: "BenchContext") -> list[Row]:
    photo = context.photo
    image = decode_image(photo.data, filename=photo.filename, max_pixels=settings.MAX_IMAGE_PIXELS)
    batch = to_model_input(image)

    def median_ms(backend: OnnxBackend | TorchBackend) -> float:
        return median(repeat_ms(lambda: backend.logits(batch), runs=RUNS, warm_up=WARM_UP_RUNS))

    how = f"median of {RUNS} after {WARM_UP_RUNS} warm-up, batch 1, {context.threads_label}"

    torch_backend = TorchBackend(settings.CLASSIFIER_WEIGHTS or None, threads=context.threads)
    torch_ms = median_ms(torch_backend)

    onnx_backend = OnnxBackend(context.onnx_model, threads=context.threads)
    onnx_ms = median_ms(onnx_backend)

    floor = context.floor_ms
    onnx_target = Target(ONNX_TARGET_FLOORS * floor, f"≤ {ONNX_TARGET_FLOORS:g}x floor")
    return [
        time_row("torch eager, 1 image", torch_ms, floor_ms=floor, how=how),
        time_row("onnxruntime, 1 image", onnx_ms, floor_ms=floor, how=how, target=onnx_target),
    ]
