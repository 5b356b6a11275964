"""The guard: runs the checks in a worker process and always leaves a results.json.

A grader that crashes, hangs or is killed must still tell the student what it found and
that the rest was its own failure. So the checks run in a worker (worker.py), a child
process that appends an event line per check to a file, and this guard, which runs no
check code at all, turns those lines into results.json:

- after every event it rewrites results.json whole (write_results is atomic), with the
  check in progress and those not run yet as grader errors: if the guard itself is
  killed, even by SIGKILL, the last file written is valid and says what was decided;
- a check that runs past its time limit is stopped (its worker is killed) and is a
  grader error; a worker that dies (a crash, SIGKILL, the out-of-memory killer) costs
  the check it was running, as a grader error; either way a new worker carries on with
  the next check;
- SIGTERM, SIGINT or SIGHUP to the guard (Gradescope's time limit, Ctrl-C) stop the
  worker, and the checks not finished become grader errors in the final results.json.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.alerts import alert_staff
from autograder.checks import Slip
from autograder.results import (
    CheckResult,
    Outcome,
    grader_error_output,
    results_json,
    write_results,
)
from autograder.slip import SlipWrong, read_slip

DEFAULT_CHECKS = "autograder.catalog:checks"
DEFAULT_CHECK_SECONDS = 120.0
POLL_SECONDS = 0.05
LOG_TAIL_CHARS = 4000
# The folder that holds autograder/ (and tooling/): the worker imports from there.
CODE_ROOT = Path(__file__).resolve().parents[1]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Before a check that ran out of time is killed, its worker prints where it is stuck
# (faulthandler, set up in worker.py), and the trace goes into the grader error.
STACK_SIGNAL = signal.SIGUSR1
STACK_DUMP_SECONDS = 0.2
SLIP_CHECK_NAME = "Your permission slip (deployment.json)"


@dataclass(frozen=True)
class PlannedCheck:
    name: str
    points: float
    tags: tuple[str, ...]
    time_limit: float | None


class Stopped(Exception):
    """The guard was sent a signal that asks it to stop."""


@dataclass(frozen=True)
class Blocked:
    """No check can run (the slip could not be read): each is listed with this outcome."""

    outcome: Outcome
    output: str
    headline: str


class EventReader:
    """The worker's events as they are appended; a line cut short by a killed worker is
    dropped when that worker ends."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_events(self) -> list[dict]:
        with self.path.open("rb") as file:
            file.seek(self.offset)
            data = file.read()
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def worker_ended(self) -> None:
        self.partial = b""


class Guard:
    def __init__(
        self,
        slip: Slip,
        *,
        results_path: Path,
        checks: str = DEFAULT_CHECKS,
        with_aws: bool = True,
        check_seconds: float = DEFAULT_CHECK_SECONDS,
        slip_result: CheckResult | None = None,
        blocked: Blocked | None = None,
    ):
        self.slip = slip
        self.results_path = results_path
        self.checks = checks
        self.with_aws = with_aws
        self.check_seconds = check_seconds
        self.slip_result = slip_result
        self.blocked = blocked
        self.began = time.monotonic()
        self.plan: list[PlannedCheck] | None = None
        self.no_plan = ("The grader stopped before it could list its checks.", "")
        self.finished: dict[int, CheckResult] = {}
        self.running: tuple[int, float] | None = None  # (index, when it started)
        self.stopped_by = ""
        self.stop_signal: signal.Signals | None = None
        self.worker: subprocess.Popen | None = None
        self.workers_started = 0
        self.lost_a_check = False
        self.worker_stopped = False

    # --- what results.json says at any moment -------------------------------------------
    def results(self) -> list[CheckResult]:
        results = [self.slip_result] if self.slip_result else []
        if self.plan is None:
            what, trace = self.no_plan
            output = grader_error_output(what, trace)
            return [*results, CheckResult("The grader", 0, Outcome.GRADER_ERROR, output)]
        return results + [
            self.finished.get(index) or self.unfinished(index, check)
            for index, check in enumerate(self.plan)
        ]

    def unfinished(self, index: int, check: PlannedCheck) -> CheckResult:
        if self.blocked:
            return self.result(check, self.blocked.outcome, self.blocked.output)
        why = (
            f"It was stopped ({self.stopped_by}) before it finished."
            if self.stopped_by
            else "(Written while the grading went on: if you read this, the grader was "
            "killed before it finished.)"
        )
        if self.running and self.running[0] == index:
            seconds = time.monotonic() - self.running[1]
            what = f"The grader stopped while this check was running ({seconds:.0f} s in)."
        else:
            what = "The grader stopped before this check ran."
        return self.result(check, Outcome.GRADER_ERROR, grader_error_output(f"{what} {why}"))

    @staticmethod
    def result(check: PlannedCheck, outcome: Outcome, output: str, seconds=0.0) -> CheckResult:
        return CheckResult(check.name, check.points, outcome, output, check.tags, seconds)

    def write(self) -> dict:
        results = results_json(
            self.results(),
            execution_seconds=time.monotonic() - self.began,
            stopped_by=self.stopped_by,
            headline=self.blocked.headline if self.blocked else "",
        )
        write_results(results, self.results_path)
        return results

    # --- the worker's events -------------------------------------------------------------
    def take(self, event: dict) -> None:
        if event["event"] == "plan" and self.plan is None:
            self.plan = [
                PlannedCheck(c["name"], c["points"], tuple(c["tags"]), c["time_limit"])
                for c in event["checks"]
            ]
        elif event["event"] == "started":
            self.running = (event["index"], time.monotonic())
        elif event["event"] == "finished":
            check = self.plan[event["index"]]
            outcome = Outcome(event["outcome"])
            self.finished[event["index"]] = self.result(
                check, outcome, event["output"], event["seconds"]
            )
            self.running = None

    def take_new(self, reader: EventReader) -> bool:
        events = reader.new_events()
        for event in events:
            self.take(event)
        return bool(events)

    # --- running ---------------------------------------------------------------------------
    def run(self) -> dict:
        """Grades, and returns what it wrote to results.json."""
        self.write()
        with stopping_on_signals(), tempfile.TemporaryDirectory(prefix="autograder-") as work:
            events = Path(work) / "events.jsonl"
            events.touch()
            reader = EventReader(events)
            try:
                start: int | None = 0
                while start is not None:
                    log = Path(work) / f"worker-{self.workers_started}.log"
                    try:
                        self.start_worker(start, events, log)
                        self.watch(reader, log)
                    finally:
                        self.stop_worker()
                        self.take_new(reader)
                        reader.worker_ended()
                    start = self.after_worker(log)
            except Stopped as stop:
                self.stopped_by = str(stop)
                self.stop_signal = signal.Signals[str(stop)]
            for each in STOP_SIGNALS:  # the final results.json is written whatever comes
                signal.signal(each, signal.SIG_IGN)
            return self.write()

    def start_worker(self, start: int, events: Path, log: Path) -> None:
        command = [
            sys.executable, "-m", "autograder.worker",
            "--checks", self.checks,
            "--events", str(events),
            "--start", str(start),
            "--guard-pid", str(os.getpid()),
        ]  # fmt: skip
        if self.with_aws:
            command.append("--with-aws")
        if self.blocked:
            command.append("--plan-only")
        path = os.pathsep.join(filter(None, [str(CODE_ROOT), os.environ.get("PYTHONPATH")]))
        self.workers_started += 1
        self.lost_a_check = False  # set when this worker costs a check (time, death)
        self.worker_stopped = False
        with log.open("wb") as output:
            self.worker = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": path},
                start_new_session=True,  # its own process group: stopped with its children
            )
        try:
            self.worker.stdin.write(json.dumps(asdict(self.slip)).encode())
            self.worker.stdin.close()
        except BrokenPipeError:
            pass  # it died at once; after_worker says how

    def watch(self, reader: EventReader, log: Path) -> None:
        """Until the worker ends, or its check runs out of time (then it is killed)."""
        while self.worker.poll() is None:
            if self.take_new(reader):
                self.write()
            if self.running and self.overdue():
                index = self.running[0]
                os.kill(self.worker.pid, STACK_SIGNAL)  # where it is stuck, into its log
                time.sleep(STACK_DUMP_SECONDS)
                self.stop_worker()
                self.take_new(reader)  # it may have finished in the meantime
                if index not in self.finished:
                    self.finished[index] = self.timed_out(index, log_tail(log))
                    self.running = None
                    self.lost_a_check = True
                return
            time.sleep(POLL_SECONDS)

    def limit(self, index: int) -> float:
        return self.plan[index].time_limit or self.check_seconds

    def overdue(self) -> bool:
        index, started = self.running
        return time.monotonic() - started > self.limit(index)

    def timed_out(self, index: int, where: str) -> CheckResult:
        seconds = self.limit(index)
        what = (
            f"The check did not finish within the grader's limit of {seconds:g} s, so the "
            "grader stopped it. A check that waits on your deployment gives up sooner by "
            "itself, with a message saying what did not answer; this one did not, which is "
            "the grader's failure."
        )
        output = grader_error_output(what, where)
        return self.result(self.plan[index], Outcome.GRADER_ERROR, output)

    def stop_worker(self) -> None:
        """Kills the worker's process group (the worker and whatever its check started),
        once."""
        if self.worker is None or self.worker_stopped:
            return
        try:
            os.killpg(self.worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.worker.wait()
        self.worker_stopped = True

    def after_worker(self, log: Path) -> int | None:
        """Records what the ended worker cost (a check it died in, or that it never got
        to) and says which check the next worker starts with, if any."""
        tail = log_tail(log)
        sys.stderr.write(log.read_text(errors="replace") if log.exists() else "")  # staff's log
        how = ended_how(self.worker.returncode)
        if self.plan is None:
            self.no_plan = (f"The grader could not list its checks: its worker {how}.", tail)
            return None
        if self.blocked:
            return None
        if self.running:
            index, _ = self.running
            what = f"The grader's worker process {how} while running this check."
            self.finished[index] = self.result(
                self.plan[index], Outcome.GRADER_ERROR, grader_error_output(what, tail)
            )
            self.running = None
            self.lost_a_check = True
        if self.remaining() and not self.lost_a_check:
            # It ended between two checks: the next one never began. It is given up as a
            # grader error too, so that a worker that keeps dying still ends the run.
            index = self.remaining()[0]
            what = f"The grader's worker process {how} before this check began."
            self.finished[index] = self.result(
                self.plan[index], Outcome.GRADER_ERROR, grader_error_output(what, tail)
            )
        remaining = self.remaining()
        return remaining[0] if remaining else None

    def remaining(self) -> list[int]:
        return [index for index in range(len(self.plan)) if index not in self.finished]


def ended_how(returncode: int) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (perhaps the out-of-memory killer)" if name == "SIGKILL" else ""
        return f"was killed by {name}{hint}"
    return f"ended with exit status {returncode}"


def log_tail(log: Path) -> str:
    """The end of what the worker printed (a trace, a fatal error), for the staff."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    if not text.strip():
        return ""
    return "The worker's last output:\n" + text[-LOG_TAIL_CHARS:]


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    def stop(signum, frame):
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_IGN)  # one stop is enough
        raise Stopped(signal.Signals(signum).name)

    previous = {each: signal.signal(each, stop) for each in STOP_SIGNALS}
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def not_started() -> dict:
    what = "The grader stopped before it could list its checks."
    results = [CheckResult("The grader", 0, Outcome.GRADER_ERROR, grader_error_output(what))]
    return results_json(results, execution_seconds=0)


def crash_results(results_path: Path, began: float) -> dict:
    """When the guard itself fails: a results.json that says so, with the trace."""
    what = "The grader itself crashed before it could grade your deployment."
    crash = CheckResult(
        "The grader", 0, Outcome.GRADER_ERROR, grader_error_output(what, traceback.format_exc())
    )
    results = results_json([crash], execution_seconds=time.monotonic() - began)
    write_results(results, results_path)
    return results


def grade(
    results_path: Path,
    *,
    submission: Path | None = None,
    url: str | None = None,
    checks: str = DEFAULT_CHECKS,
    check_seconds: float = DEFAULT_CHECK_SECONDS,
    allow_private_urls: bool = False,
) -> dict:
    """Grades a submission folder's slip, or only `url` over HTTP (no slip, no AWS),
    writes results.json, tells the staff of grader errors, and returns the results."""
    began = time.monotonic()
    deployment = url or ""
    guard = None
    write_results(not_started(), results_path)  # there is a results.json from now on
    try:
        if url is not None:
            guard = Guard(Slip(url=url), results_path=results_path, with_aws=False)
        else:
            guard = guard_for_slip(submission, results_path, allow_private_urls)
        guard.checks, guard.check_seconds = checks, check_seconds
        deployment = guard.slip.url
        results = guard.run()
    except Exception:  # noqa: BLE001 (whatever broke, the student gets a results.json)
        results = crash_results(results_path, began)
    alert_staff(results, deployment=deployment)
    if guard and guard.stop_signal:
        # Stopped by a signal: now that results.json is written, the signal does what it
        # would have done (ends the process; in a test run, interrupts pytest).
        signal.raise_signal(guard.stop_signal)
    return results


def guard_for_slip(submission: Path, results_path: Path, allow_private: bool) -> Guard:
    """A guard for the slip's deployment; if the slip cannot be read, one that lists
    the checks as not run (the student's mistake) or as grader errors (the grader's)."""
    try:
        slip, note = read_slip(submission, allow_private_urls=allow_private)
    except SlipWrong as wrong:
        slip_result = CheckResult(SLIP_CHECK_NAME, 0, Outcome.WRONG, str(wrong))
        blocked = Blocked(
            Outcome.WRONG,
            "Not checked: your deployment.json could not be read (the first test says "
            "why). Fix it and submit again.",
            f"Your deployment.json could not be read, so no check ran. {wrong}",
        )
    except Exception:  # noqa: BLE001 (a bug in the slip's reader is the grader's failure)
        what = "The grader failed while reading deployment.json:"
        slip_result = CheckResult(
            SLIP_CHECK_NAME,
            0,
            Outcome.GRADER_ERROR,
            grader_error_output(what, traceback.format_exc()),
        )
        blocked = Blocked(
            Outcome.GRADER_ERROR,
            grader_error_output("Not checked: the grader could not read deployment.json."),
            "",
        )
    else:
        slip_result = CheckResult(SLIP_CHECK_NAME, 0, Outcome.PASSED, note)
        return Guard(slip, results_path=results_path, slip_result=slip_result)
    return Guard(Slip(url=""), results_path=results_path, slip_result=slip_result, blocked=blocked)
