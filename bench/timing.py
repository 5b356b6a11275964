"""Timing helpers: run something a few times, keep the typical figure."""

import time
from collections.abc import Callable

import numpy as np


def repeat_ms(call: Callable[[], object], *, runs: int, warm_up: int) -> list[float]:
    """Milliseconds per call, for `runs` calls after `warm_up` untimed ones.

    The warm-up calls pay for what happens only once (lazy initialisation, caches,
    thread pools starting), which is not what a long-running server pays per request.
    """
    for _ in range(warm_up):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def median(samples: list[float]) -> float:
    # The median, not the mean: one run slowed down by the OS should not move it.
    return percentile(samples, 50)


def percentile(samples: list[float], percent: float) -> float:
    return float(np.percentile(samples, percent))
