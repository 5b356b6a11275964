"""Runs the workload (workload.py) with Locust used as a library, headless, and writes
the report: Locust's own HTML and CSV, every request (requests.csv), PNG plots, and
summary.json with per-endpoint and per-app-server figures.

    from tooling.loadtest.runner import LoadTest   # first: Locust patches for gevent
    with LoadTest(host, report_dir, credentials) as test:
        test.hold(users=10, seconds=30)
    summary = test.summary   # also report_dir/summary.json

Every run is bounded: at most MAX_USERS users and MAX_SECONDS in all, whatever the
caller asks; the target must be loopback, or the deployment the autograder was given
to grade (guard.py).
"""

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import gevent
from locust import constant_throughput
from locust.env import Environment
from locust.html import get_html_report
from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter, stats_history

from tooling.loadtest import plots
from tooling.loadtest.accounts import Credentials
from tooling.loadtest.guard import (
    GRADED_MAX_SECONDS,
    GRADED_MAX_USERS,
    MAX_PACE,
    MAX_SECONDS,
    MAX_USERS,
    require_loopback_or_graded,
)
from tooling.loadtest.timeline import (
    PROXY_CACHE,
    UNKNOWN_SERVER,
    Sample,
    endpoint_summary,
    server_summary,
    write_samples_csv,
)
from tooling.loadtest.workload import AnonymousVisitor, SignedInUser

SPAWN_RATE = 10.0  # users started per second, unless told otherwise

logger = logging.getLogger("birdai.loadtest")


class LoadTestError(RuntimeError):
    """A load test that cannot run as asked (too long, too many users, no users...)."""


@dataclass
class LoadTest:
    host: str
    report_dir: Path
    credentials: list[Credentials] = field(default_factory=list)
    pace: float = 1.0  # requests a second per user (at most: constant_throughput)
    spawn_rate: float = SPAWN_RATE
    samples: list[Sample] = field(default_factory=list)
    users_over_time: list[tuple[float, int]] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    # Only the autograder sets it: the URL a student submitted for grading, which may
    # then be load-tested though it is not loopback, within smaller bounds (guard.py).
    graded_url: str = ""

    def __post_init__(self) -> None:
        self.host = require_loopback_or_graded(self.host, self.graded_url)
        self.max_users = GRADED_MAX_USERS if self.graded_url else MAX_USERS
        self.max_seconds = GRADED_MAX_SECONDS if self.graded_url else MAX_SECONDS
        if not 0 < self.pace <= MAX_PACE:
            raise LoadTestError(f"pace must be above 0 and at most {MAX_PACE} requests/s")
        self.report_dir.mkdir(parents=True, exist_ok=True)
        user_classes = [AnonymousVisitor]
        if self.credentials:
            SignedInUser.credentials = self.credentials
            user_classes.append(SignedInUser)
        else:
            logger.warning("no credentials (--tokens): anonymous visitors only")
        for user_class in user_classes:
            user_class.wait_time = constant_throughput(self.pace)
        self.environment = Environment(user_classes=user_classes, host=self.host)
        self.environment.events.request.add_listener(self._record)
        self.runner = self.environment.create_local_runner()
        self.peak_generator_cpu = 0.0
        self.started = time.time()
        self.elapsed = 0.0

    # --- Running ------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.started = time.time()
        self._background = [
            gevent.spawn(stats_history, self.runner),  # the HTML report's charts
            gevent.spawn(self._watch),
        ]
        self.csv_writer = StatsCSVFileWriter(
            self.environment,
            PERCENTILES_TO_REPORT,
            str(self.report_dir / "locust"),
            full_history=True,
        )
        self._background.append(gevent.spawn(self.csv_writer.stats_writer))
        return self

    def hold(self, users: int, seconds: float) -> tuple[float, float]:
        """Runs `users` users (starting or stopping some at spawn_rate) for `seconds`;
        returns the (start, end) of that phase in seconds since the run began."""
        if not 1 <= users <= self.max_users:
            raise LoadTestError(f"users must be between 1 and {self.max_users}, not {users}")
        if self.now() + seconds > self.max_seconds:
            raise LoadTestError(f"a run may last at most {self.max_seconds} s in all")
        begin = self.now()
        self.runner.start(users, spawn_rate=self.spawn_rate)
        gevent.sleep(seconds)
        return begin, self.now()

    def every(self, seconds: float, action) -> None:
        """Calls action() now and every `seconds` until the run ends (memory readings)."""

        def repeat() -> None:
            while True:
                action()
                gevent.sleep(seconds)

        self._background.append(gevent.spawn(repeat))

    def __exit__(self, *exc_info: object) -> None:
        self.runner.quit()  # stops every user at once (stop_timeout 0)
        self.elapsed = self.now()
        gevent.sleep(1.2)  # one more pass of the CSV writer, with the final counts
        for greenlet in self._background:
            greenlet.kill(block=True)
        self.csv_writer.close_files()
        self.write_report()

    def now(self) -> float:
        return time.time() - self.started

    def _record(self, request_type, name, response_time, response, exception, **_) -> None:
        headers = getattr(response, "headers", None) or {}
        self.samples.append(
            Sample(
                at=self.now(),
                endpoint=f"{request_type} {name}",
                ms=float(response_time or 0.0),
                failed=exception is not None,
                server=served_by(headers),
                cache=headers.get("X-Cache-Status") or "",
            )
        )

    def _watch(self) -> None:
        """Users running, once a second (for the plots), and the load generator's own
        CPU: above 90 % of a core, it, not the servers, limits the rate."""
        while True:
            self.users_over_time.append((self.now(), self.runner.user_count))
            self.peak_generator_cpu = max(self.peak_generator_cpu, self.runner.current_cpu_usage)
            gevent.sleep(1.0)

    # --- The report --------------------------------------------------------------------

    def write_report(self) -> None:
        directory = self.report_dir
        (directory / "report.html").write_text(
            get_html_report(self.environment, show_download_link=False), encoding="utf-8"
        )
        write_samples_csv(directory / "requests.csv", self.samples)
        plots.write_plots(directory, self.samples, self.elapsed, self.users_over_time)
        seconds = max(self.elapsed, 1e-9)
        self.summary = {
            "host": self.host,
            # Unix time the run began: requests.csv's seconds count from it, so events
            # outside the run (a server killed, a database stopped) can be placed on it.
            "started_unix": round(self.started, 3),
            "seconds": round(self.elapsed, 1),
            "pace_per_user": self.pace,
            "peak_users": max((n for _, n in self.users_over_time), default=0),
            "load_generator_peak_cpu_percent": round(self.peak_generator_cpu, 1),
            "endpoints": endpoint_summary(self.samples, seconds),
            "servers": server_summary(self.samples, seconds),
            "errors": [
                {"endpoint": f"{e.method} {e.name}", "error": str(e.error), "count": e.occurrences}
                for e in self.environment.stats.errors.values()
            ][:50],
        }
        self.write_json("summary.json", self.summary)

    def write_json(self, name: str, data: dict) -> Path:
        path = self.report_dir / name
        path.write_text(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")
        return path


def served_by(headers) -> str:
    """The app server that answered: its X-Served-By (the app's own name for itself),
    else nginx's X-Upstream (its address; only with PROXY_DEBUG_UPSTREAM=true); or the
    proxy itself, for an answer from its cache."""
    if headers.get("X-Cache-Status") == "HIT":
        return PROXY_CACHE
    return headers.get("X-Served-By") or headers.get("X-Upstream") or UNKNOWN_SERVER


def users_for_rate(rate: float, pace: float = 1.0) -> tuple[int, float]:
    """How many users, each at most how many requests/s, offer `rate` requests/s."""
    users = max(1, math.ceil(rate / pace))
    return users, rate / users
