"""scripts/loadtest: the load test from the command line (`python -m tooling.loadtest`).

    scripts/loadtest users --count 20 --out var/loadtest/users.json [--stack]
    scripts/loadtest run --host http://127.0.0.1:8080 --tokens var/loadtest/users.json \\
        --users 20 --spawn-rate 5 --duration 60 --max-failure-ratio 0.01 --max-p95-ms 800
    scripts/loadtest capacity --host ... --tokens ... --step-users 5 --step-seconds 20 \\
        --max-users 100
    scripts/loadtest soak --from-stack --tokens ... --capacity REPORT/capacity.json \\
        --duration 300

Exit code: 0 when every threshold or check held, 1 when one did not, 2 for a command
that cannot run (a host that is not loopback, a duration over the maximum...).
"""

import argparse
import json
import sys
import time
from pathlib import Path

from tooling.loadtest.guard import MAX_PACE, MAX_SECONDS, MAX_USERS, NotLoopback, require_loopback

# Nothing else at the top: Locust must patch the standard library for gevent before
# anything imports ssl (boto3 does, through tooling.servers), or ssl recurses forever.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

PASSED, FAILED, UNUSABLE = 0, 1, 2


def bounded(kind, low, high, what):
    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be between {low} and {high}")
        return value

    return parse


def loopback_url(text: str) -> str:
    try:
        return require_loopback(text)
    except NotLoopback as refused:
        raise argparse.ArgumentTypeError(str(refused)) from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="scripts/loadtest", description=__doc__.split("\n")[0])
    modes = top.add_subparsers(dest="mode", required=True)

    users = modes.add_parser("users", help="make users with passwords and tokens")
    users.add_argument("--count", type=bounded(int, 1, MAX_USERS, "--count"), default=20)
    users.add_argument("--out", type=Path, required=True, help="the credentials file (JSON)")
    where = users.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="this database (else DATABASE_URL, as manage.py)")
    where.add_argument("--stack", action="store_true", help="through scripts/stack manage")

    for name, help_text in [
        ("run", "a fixed number of users for a fixed time"),
        ("capacity", "step load: the highest rate with p95 within the limit"),
        ("soak", "a steady rate for minutes, with the soak's checks"),
    ]:
        mode = modes.add_parser(name, help=help_text)
        mode.add_argument("--host", type=loopback_url, help="base URL, loopback only")
        mode.add_argument(
            "--from-stack",
            action="store_true",
            help="host and app-server PIDs from scripts/stack status --json",
        )
        mode.add_argument("--tokens", type=Path, help="credentials: JSON from `users`, or tokens")
        mode.add_argument("--report", type=Path, help="report folder (default var/loadtest/...)")
        mode.add_argument(
            "--pace",
            type=bounded(float, 0.01, MAX_PACE, "--pace"),
            default=1.0,
            help="requests a second per user, at most (default 1)",
        )
        mode.add_argument(
            "--spawn-rate",
            type=bounded(float, 0.1, 100, "--spawn-rate"),
            default=10.0,
            help="users started per second",
        )
        mode.add_argument("--max-failure-ratio", type=float, default=None)
        mode.add_argument("--max-p95-ms", action="append", default=[], metavar="[ENDPOINT=]MS")
        if name != "capacity":
            default = 300 if name == "soak" else 60
            mode.add_argument(
                "--duration",
                type=bounded(float, 1, MAX_SECONDS, "--duration"),
                default=default,
                help=f"seconds (default {default})",
            )
        if name == "run":
            mode.add_argument("--users", type=bounded(int, 1, MAX_USERS, "--users"), default=10)
        if name == "capacity":
            mode.add_argument(
                "--step-users", type=bounded(int, 1, MAX_USERS, "--step-users"), default=5
            )
            mode.add_argument(
                "--step-seconds", type=bounded(float, 2, 600, "--step-seconds"), default=20.0
            )
            mode.add_argument(
                "--max-users", type=bounded(int, 1, MAX_USERS, "--max-users"), default=100
            )
            mode.add_argument("--p95-limit-ms", type=float, default=500.0)
        if name == "soak":
            rate = mode.add_mutually_exclusive_group(required=True)
            rate.add_argument("--rate", type=float, help="requests a second")
            rate.add_argument("--capacity", type=Path, help="capacity.json of a step-load run")
            mode.add_argument(
                "--fraction", type=float, default=0.70, help="of the capacity (default 0.70)"
            )
            mode.add_argument(
                "--warm-up",
                type=bounded(float, 0, 120, "--warm-up"),
                default=None,
                help="seconds at the soak's rate before minute one begins, left out of the "
                "timing and memory checks (default 20, or a quarter of a short soak's)",
            )
            mode.add_argument(
                "--history-photos",
                type=bounded(int, 0, 200, "--history-photos"),
                default=24,
                help="photos each signed-in user uploads before the soak, so that minute "
                "one reads full history pages as the later minutes do (default 24, a page)",
            )
            mode.add_argument(
                "--app-server-pid",
                type=int,
                action="append",
                default=[],
                help="an app server's main PID, for its RSS (repeatable)",
            )
    return top


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.mode == "users":
        return make_users_file(options)

    # Locust patches the standard library for gevent when imported: first, from here on.
    from tooling.loadtest.runner import LoadTest, LoadTestError

    servers: dict[str, list[int]] = {}
    if options.from_stack:
        from tooling.loadtest.soak import app_servers_from_stack, read_stack_status

        stack_host, servers = app_servers_from_stack(read_stack_status())
        options.host = options.host or (stack_host and loopback_url(stack_host))
    if not options.host:
        print("scripts/loadtest: give --host URL (or --from-stack)", file=sys.stderr)
        return UNUSABLE
    if getattr(options, "app_server_pid", None):
        servers = {f"pid {pid}": [pid] for pid in options.app_server_pid}

    from tooling.loadtest.accounts import read_credentials
    from tooling.loadtest.thresholds import Thresholds

    thresholds = Thresholds(max_failure_ratio=options.max_failure_ratio)
    try:
        for value in options.max_p95_ms:
            thresholds.add_p95(value)
    except ValueError as bad:
        print(f"scripts/loadtest: {bad}", file=sys.stderr)
        return UNUSABLE
    credentials = read_credentials(options.tokens) if options.tokens else []
    report_dir = options.report or PROJECT_ROOT / "var" / "loadtest" / (
        f"{options.mode}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    try:
        test = LoadTest(
            options.host,
            report_dir,
            credentials,
            pace=options.pace,
            spawn_rate=options.spawn_rate,
        )
        outcome = MODES[options.mode](test, options, servers)
    except LoadTestError as error:
        print(f"scripts/loadtest: {error}", file=sys.stderr)
        return UNUSABLE

    violations = thresholds.violations(test.summary["endpoints"]) + outcome
    test.summary["thresholds_failed"] = violations
    test.write_json("summary.json", test.summary)
    print_summary(test.summary)
    print(f"report: {report_dir}")
    for violation in violations:
        print(f"FAILED: {violation}")
    return FAILED if violations else PASSED


def run_fixed(test, options, servers) -> list[str]:
    with test:
        test.hold(options.users, options.duration)
    return []


def run_capacity(test, options, servers) -> list[str]:
    from tooling.loadtest.capacity import find_capacity, write_capacity

    with test:
        result = find_capacity(
            test,
            step_users=options.step_users,
            step_seconds=options.step_seconds,
            max_users=options.max_users,
            p95_limit_ms=options.p95_limit_ms,
        )
    write_capacity(test, result)
    rate = result["capacity_requests_per_second"]
    print(
        f"capacity: {rate} requests/s with p95 <= {options.p95_limit_ms:g} ms "
        f"({result['capacity_users']} users); limit reached: {result['limit_reached']}"
    )
    return [] if rate else ["no step kept p95 within the limit"]


def run_soak(test, options, servers) -> list[str]:
    from tooling.loadtest.runner import users_for_rate
    from tooling.loadtest.soak import (
        WARM_UP_SECONDS,
        MemoryWatch,
        baseline_seconds,
        rate_from_capacity,
        soak_checks,
    )

    rate = options.rate or rate_from_capacity(options.capacity, options.fraction)
    users, pace = users_for_rate(rate, options.pace)
    test.pace = pace
    for user_class in test.environment.user_classes:
        from locust import constant_throughput

        user_class.wait_time = constant_throughput(pace)
    test.spawn_rate = max(test.spawn_rate, float(users))  # all at once: minute one is steady
    warm_up = options.warm_up
    if warm_up is None:
        warm_up = min(WARM_UP_SECONDS, options.duration / 4)
    history = fill_histories_before_soak(test, options, users)
    memory = MemoryWatch(servers)
    with test:
        test.every(5.0, lambda: memory.read(test.now()))
        test.hold(users, warm_up + options.duration)
    checks = soak_checks(test.samples, memory.readings, test.elapsed, warm_up)
    test.write_json(
        "soak.json",
        {
            "rate": rate,
            "users": users,
            "history_before": history,
            "warm_up_seconds": warm_up,
            "minute_one_seconds": baseline_seconds(test.elapsed - warm_up),
            "checks": checks,
            "rss_readings": memory.readings,
        },
    )
    for check in checks:
        print(("ok      " if check["passed"] else "FAILED  ") + json.dumps(check))
    return [check["check"] for check in checks if not check["passed"]]


def fill_histories_before_soak(test, options, users: int) -> dict | None:
    """Each signed-in user the soak will use uploads --history-photos photos first
    (history.py says why)."""
    from tooling.loadtest.history import HistoryNotMade, fill_histories, signed_in_users
    from tooling.loadtest.runner import LoadTestError
    from tooling.loadtest.workload import AnonymousVisitor, SignedInUser

    if not options.history_photos or not test.credentials:
        return None
    # Signed-in users take the credentials in turn from the first (workload.py).
    count = signed_in_users(users, AnonymousVisitor.weight, SignedInUser.weight)
    try:
        made = fill_histories(test.host, test.credentials[:count], options.history_photos)
    except HistoryNotMade as error:
        raise LoadTestError(f"before the soak: {error}") from None
    print(
        f"history before the soak: {made['photos_each']} photos for each of "
        f"{made['users']} users ({made['uploads']} uploads, {made['seconds']} s)"
    )
    return made


MODES = {"run": run_fixed, "capacity": run_capacity, "soak": run_soak}


def print_summary(summary: dict) -> None:
    from tooling.loadtest.timeline import UNKNOWN_SERVER

    print(f"{'endpoint':40} {'requests':>9} {'failed':>7} {'req/s':>7} {'p50':>7} {'p95':>7}")
    for name, row in summary["endpoints"].items():
        print(
            f"{name:40} {row['requests']:>9} {row['failures']:>7} "
            f"{row['requests_per_second']:>7.1f} {row['p50_ms'] or 0:>7.0f} "
            f"{row['p95_ms'] or 0:>7.0f}"
        )
    servers = summary["servers"]
    if set(servers) != {UNKNOWN_SERVER}:  # some answers said who served them
        for name, row in servers.items():
            print(f"  served by {name}: {row['requests']} requests, p95 {row['p95_ms']} ms")


def make_users_file(options) -> int:
    from tooling.loadtest.accounts import STACK_MANAGE, make_users, write_credentials

    env = {"DATABASE_URL": options.database_url} if options.database_url else {}
    if options.stack:
        made = make_users(options.count, manage=STACK_MANAGE, migrate=False)
    else:
        made = make_users(options.count, env)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    write_credentials(options.out, made)
    print(f"{len(made)} users written to {options.out}")
    return PASSED


if __name__ == "__main__":
    sys.exit(main())
