"""Two ways to run the same network, behind one small interface:

    backend.name                 "onnx" or "torch"
    backend.num_classes          how many logits the model returns per image
    backend.logits(batch)        float32 (N, 3, 224, 224) -> float32 (N, num_classes)
    backend.warm_up()            one throw-away inference, so the first request is fast

OnnxBackend (the default) runs an exported .onnx file in ONNX Runtime: faster, and a
much smaller process, because nothing on its path imports torch. TorchBackend runs
classifier/model.py in PyTorch; it needs no export step. export_onnx() turns the
PyTorch weights into the .onnx file (`python manage.py export_onnx`).

Fork safety (gunicorn loads the app in a master process, then forks workers): thread
pools do not survive fork(), because only the forking thread is copied into the child.
So an ONNX Runtime session never crosses a fork (each process opens its own), and
PyTorch runs on one thread until a process serves its first request. See "Fork safety"
in docs/classifier.md for what goes wrong otherwise.
"""

import io
import os
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

# Before onnxruntime is imported: ONNX Runtime 1.32 otherwise starts a telemetry thread
# on import, and every process forked after that (a gunicorn worker) hangs when it
# exits, waiting for a thread that exists only in its parent.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime
from onnxruntime.capi.onnxruntime_pybind11_state import (
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    NoSuchFile,
)

from classifier.images import MODEL_INPUT_SIZE
from shared.errors import ModelUnavailable

if TYPE_CHECKING:  # for type hints only: importing torch at run time is what we avoid
    from classifier.model import EfficientNetLite0

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
# Stored in the .onnx file, so the app can tell a stale export from the configured model.
MODEL_NAME_KEY = "bird_ai.model_name"
NUM_CLASSES_KEY = "bird_ai.num_classes"
# What ONNX Runtime raises for a file that is not (or no longer) a model it can run.
ONNX_LOAD_ERRORS = (Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, NoSuchFile)
# How far the two backends may disagree on a logit (float32 arithmetic in another order).
LOGIT_TOLERANCE = 1e-4


def blank_batch() -> np.ndarray:
    return np.zeros((1, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE), dtype=np.float32)


class OnnxBackend:
    name = "onnx"

    def __init__(self, model_path: str | Path, *, threads: int) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        self.metadata: dict[str, str] | None = None  # read from the first session
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        session = self.session()  # a broken file fails now, not on the first request
        self.num_classes = session.get_outputs()[0].shape[1]
        _sessions_to_close_before_fork.add(self)

    def session(self) -> onnxruntime.InferenceSession:
        with self._lock:
            if self._session is None:
                self._session = self._open_session()
            return self._session

    def _open_session(self) -> onnxruntime.InferenceSession:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1  # operators run one after another: no pool needed
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            # From the path rather than from bytes kept in memory: 20 MB less per worker.
            session = onnxruntime.InferenceSession(
                self.model_path, options, providers=["CPUExecutionProvider"]
            )
        except ONNX_LOAD_ERRORS as error:
            raise ModelUnavailable(
                f"{self.model_path} is not a usable ONNX model: {error}"
            ) from None
        metadata = session.get_modelmeta().custom_metadata_map
        # Each worker opens the file again, later: it must still hold the model checked
        # at start-up (a new export with other classes would not match the labels).
        if self.metadata is None:
            self.metadata = metadata
        elif metadata != self.metadata:
            raise ModelUnavailable(f"{self.model_path} changed after start-up: restart the server.")
        return session

    def close_session(self) -> None:
        with self._lock:
            self._session = None  # the next inference opens a new one

    def logits(self, batch: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 1 a1-run-session
        return self.session().run([OUTPUT_NAME], {INPUT_NAME: batch})[0]
        # END SOLUTION a1-run-session
        # BEGIN STUB a1-run-session
        # raise NotImplementedError(
        #     "TODO (assignment 1): run the ONNX Runtime session (self.session()) on the "
        #     "batch, input INPUT_NAME, output OUTPUT_NAME, and return its logits, shape "
        #     "(N, num_classes). Read docs/classifier.md, 'The two backends'."
        # )
        # END STUB a1-run-session

    def warm_up(self) -> None:
        self.logits(blank_batch())


# A session must not cross a fork(). In the child its worker threads are gone: it still
# answers, on one thread; and destroying it there (replacing it, or at interpreter exit)
# can wait forever for those threads. So each session is closed in the parent just before
# the fork, and each process opens its own on first use.
_sessions_to_close_before_fork: "weakref.WeakSet[OnnxBackend]" = weakref.WeakSet()


def close_sessions_before_fork() -> None:
    for backend in list(_sessions_to_close_before_fork):
        backend.close_session()


os.register_at_fork(before=close_sessions_before_fork)


class TorchBackend:
    name = "torch"

    def __init__(self, weights_path: str | Path | None, *, threads: int) -> None:
        # OpenMP reads this once, when torch is first imported: idle OpenMP threads sleep
        # instead of spinning. With two workers of two threads sharing two cores,
        # spinning threads made each inference about 100 times slower.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        # Imported here, not at the top: importing torch alone costs hundreds of MB, and a
        # server on the onnx backend must never pay for it.
        import torch

        from classifier.model import load_model

        self.torch = torch
        self.threads = threads
        self._threads_pid: int | None = None
        # One thread until this process serves a request: see warm_up().
        torch.set_num_threads(1)
        self.model = load_model(weights_path)
        self.num_classes = self.model._fc.out_features

    def logits(self, batch: np.ndarray) -> np.ndarray:
        if self._threads_pid != os.getpid():
            self.torch.set_num_threads(self.threads)
            self._threads_pid = os.getpid()
        return self._run(batch)

    def warm_up(self) -> None:
        # On one thread, unless this process already serves on more. PyTorch's wheels use
        # GNU OpenMP: once its thread pool has started, a fork()ed child that runs on
        # more than one thread hangs forever. warm_up may run in a gunicorn master that
        # is about to fork its workers; they switch to `threads` on their first request.
        if self._threads_pid != os.getpid():
            self.torch.set_num_threads(1)
        self._run(blank_batch())

    def _run(self, batch: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            return self.model(self.torch.from_numpy(batch)).numpy()


def export_onnx(
    destination: str | Path, *, weights_path: str | Path | None, model_name: str
) -> int:
    """Writes the PyTorch model as an ONNX file at destination; returns its class count.

    The file appears all at once (written next to it, then renamed), so a server
    starting meanwhile never reads half a model.
    """
    import torch

    from classifier.model import load_model

    model = load_model(weights_path)
    num_classes = model._fc.out_features
    example = torch.from_numpy(blank_batch())
    # The dynamo exporter (torch.export) gives a clean graph: padding and BatchNorm are
    # folded into the 49 convolutions. The batch size stays free, so both backends take
    # (N, 3, 224, 224); the 224x224 size is fixed, as the weights were trained for it.
    program = torch.onnx.export(
        model,
        (example,),
        dynamo=True,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes={INPUT_NAME: {0: torch.export.Dim("batch", min=1)}},
        optimize=True,
    )
    program.model.metadata_props[MODEL_NAME_KEY] = model_name
    program.model.metadata_props[NUM_CLASSES_KEY] = str(num_classes)
    buffer = io.BytesIO()
    program.save(buffer, external_data=False)
    model_bytes = buffer.getvalue()

    check_export(model, model_bytes)
    write_atomically(Path(destination), model_bytes)
    return num_classes


def check_export(model: "EfficientNetLite0", model_bytes: bytes) -> None:
    """Refuses an export whose answers differ from PyTorch's on a few random images."""
    import torch

    batch = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(batch)).numpy()
    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    actual = session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]
    difference = float(np.abs(actual - expected).max())
    if difference > LOGIT_TOLERANCE:
        raise RuntimeError(f"The ONNX export differs from PyTorch by {difference:g}.")


def write_atomically(destination: Path, content: bytes) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, destination)  # atomic on POSIX within one filesystem
    finally:
        partial.unlink(missing_ok=True)
