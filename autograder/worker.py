"""The worker: runs the checks, one after another, in a process of its own.

The guard (runner.py) starts it as `python -m autograder.worker` and reads what it
appends to a file, one JSON object a line, flushed as it happens:

    {"event": "plan", "checks": [{"name": ..., "points": ..., "tags": [...],
                                  "time_limit": ...}, ...]}
    {"event": "started", "index": 2}
    {"event": "finished", "index": 2, "outcome": "wrong", "output": "...", "seconds": 1.3}

Whatever happens to this process (a check that hangs, a crash, the out-of-memory
killer), what it wrote stays written, and the guard carries on from there. The slip
comes on standard input, never on the command line, where any process could read it.

A check ends in one of three ways (autograder/checks.py): it returns (passed, its note
is the output), raises DeploymentWrong (wrong: the message is the output), or raises
anything else (a grader error: the trace is the output, for the staff).
"""

import argparse
import ctypes
import faulthandler
import importlib
import json
import os
import signal
import sys
import time
import traceback

from autograder.checks import Check, DeploymentWrong, GraderCouldNotCheck, Slip
from autograder.results import Outcome, grader_error_output

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def load_checks(spec: str, *, with_aws: bool) -> list[Check]:
    """The checks `module:name` names: a list of Checks, or a function of `with_aws`
    returning one (autograder.catalog:checks is the real run's)."""
    module_name, _, attribute = spec.partition(":")
    target = getattr(importlib.import_module(module_name), attribute or "CHECKS")
    checks = list(target(with_aws=with_aws) if callable(target) else target)
    for check in checks:
        if not isinstance(check, Check):
            raise TypeError(f"{spec} holds {check!r}, which is not an autograder Check")
    names = [check.name for check in checks]
    for check in checks:
        if names.count(check.name) > 1:
            raise ValueError(f"{spec}: two checks are named {check.name!r}")
        if check.points < 0:
            raise ValueError(f"{spec}: {check.name!r} has negative points")
    return checks


def run_check(check: Check, slip: Slip) -> tuple[Outcome, str]:
    try:
        note = check.run(slip)
    except DeploymentWrong as wrong:
        return Outcome.WRONG, str(wrong) or f"{type(wrong).__name__} (the check gave no message)"
    except GraderCouldNotCheck as error:
        return Outcome.GRADER_ERROR, grader_error_output(
            f"The grader could not check this: {error}", traceback.format_exc()
        )
    # Anything else is the grader's failure, whatever it is; SystemExit too (a library
    # that calls sys.exit()).
    except (Exception, SystemExit):  # noqa: BLE001
        return Outcome.GRADER_ERROR, grader_error_output(
            "The check itself raised an exception (a bug in the grader, or an API that changed):",
            traceback.format_exc(),
        )
    if note is not None and not isinstance(note, str):
        return Outcome.GRADER_ERROR, grader_error_output(
            f"The check returned {note!r} ({type(note).__name__}); a check passes by "
            "returning a note (str) or None, and fails by raising DeploymentWrong."
        )
    return Outcome.PASSED, note or ""


def die_with_the_guard(guard_pid: int) -> None:
    """A worker outlives nobody: if the guard is killed (even by SIGKILL), the kernel
    kills this process too (Linux's parent-death signal)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the guard still kills its worker whenever it can
    if os.getppid() != guard_pid:
        os._exit(1)  # the guard died before the line above took effect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.worker")
    parser.add_argument("--checks", required=True)
    parser.add_argument("--events", required=True, help="the file to append events to")
    parser.add_argument("--start", type=int, default=0, help="the first check to run")
    parser.add_argument("--with-aws", action="store_true")
    parser.add_argument("--plan-only", action="store_true", help="list the checks, run none")
    parser.add_argument("--guard-pid", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_the_guard(args.guard_pid)
    # Asked by the guard before it kills a check that ran out of time: where it is stuck.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    slip = Slip(**json.loads(sys.stdin.read()))
    checks = load_checks(args.checks, with_aws=args.with_aws)
    with open(args.events, "a", encoding="utf-8") as events:

        def tell(event: dict) -> None:
            events.write(json.dumps(event) + "\n")
            events.flush()

        plan = [
            {
                "name": check.name,
                "points": check.points,
                "tags": list(check.tags),
                "time_limit": check.time_limit,
            }
            for check in checks
        ]
        tell({"event": "plan", "checks": plan})
        if args.plan_only:
            return 0
        for index in range(args.start, len(checks)):
            tell({"event": "started", "index": index})
            began = time.monotonic()
            outcome, output = run_check(checks[index], slip)
            seconds = round(time.monotonic() - began, 3)
            tell(
                {
                    "event": "finished",
                    "index": index,
                    "outcome": str(outcome),
                    "output": output,
                    "seconds": seconds,
                }
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
