"""Every region a student's account has enabled, read at once and within a time bound.

A student who tried something in another region once (the console's default region is
not always theirs) can leave an instance running there for weeks; the cost guard must
look there too. An account has about 17 regions enabled: read one after the other,
each a few seconds over the network, they would take minutes, so several are read at a
time, and whatever has not answered by the deadline is reported as not read.
"""

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from autograder.aws import AwsAccount

# DescribeRegions without AllRegions lists only the enabled regions; moto lists every
# region, those of an opt-in region that is off marked so.
NOT_ENABLED = "not-opted-in"

# Threads reading regions at once: the calls wait on the network, not on the CPU.
WORKERS = 8


def enabled_regions(account: AwsAccount) -> list[str]:
    """The account's enabled regions (ec2:DescribeRegions), the slip's own first."""
    answer = account.client("ec2").describe_regions()["Regions"]
    names = sorted(r["RegionName"] for r in answer if r.get("OptInStatus") != NOT_ENABLED)
    return [account.region] + [name for name in names if name != account.region]


@dataclass
class Readings:
    """What reading each region gave: its result, or the exception it raised, or nothing
    when the deadline came first (`unfinished`)."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)


def read_within(read: Callable[[str], Any], regions: Iterable[str], *, seconds: float) -> Readings:
    """read(region) for each region, WORKERS at a time, for at most `seconds` in all.

    The threads are daemons: one still waiting on AWS at the deadline is left behind,
    and neither delays the report nor keeps the grader's process alive (botocore's own
    timeouts end its call later)."""
    regions = list(regions)
    waiting: queue.Queue[str] = queue.Queue()
    for region in regions:
        waiting.put(region)
    finished: queue.Queue[tuple[str, bool, Any]] = queue.Queue()

    def work() -> None:
        while True:
            try:
                region = waiting.get_nowait()
            except queue.Empty:
                return
            try:
                finished.put((region, True, read(region)))
            except Exception as error:  # noqa: BLE001 (handed to the caller to judge)
                finished.put((region, False, error))

    for _ in range(min(WORKERS, len(regions))):
        threading.Thread(target=work, name="read-region", daemon=True).start()
    readings = Readings()
    deadline = time.monotonic() + seconds
    for _ in regions:
        try:
            region, ok, value = finished.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        (readings.results if ok else readings.errors)[region] = value
    while not waiting.empty():  # the deadline came: start no other region
        try:
            waiting.get_nowait()
        except queue.Empty:
            break
    done = readings.results.keys() | readings.errors.keys()
    readings.unfinished = [region for region in regions if region not in done]
    return readings
