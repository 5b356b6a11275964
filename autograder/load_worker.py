"""The load test itself, in a process of its own: `python -m autograder.load_worker ...`.

Locust patches the standard library for gevent when it is imported (sockets, threads,
time), so it runs here, never in the grader's own process. It runs the repository's
workload (tooling/loadtest) against the deployment being graded, which the guard then
allows although it is not loopback (tooling/loadtest/guard.py, `graded_url`), and
writes the run's summary.json to --report.
"""

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graded-url", required=True, help="the deployment being graded")
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--report", type=Path, required=True)
    arguments = parser.parse_args(argv)

    # Locust patches the standard library for gevent when imported: first, before
    # anything imports ssl or urllib3 (tooling.loadtest.accounts does, through boto3).
    from tooling.loadtest.runner import LoadTest  # isort: skip
    from tooling.loadtest.accounts import read_credentials

    test = LoadTest(
        arguments.graded_url,
        arguments.report,
        read_credentials(arguments.credentials),
        graded_url=arguments.graded_url,
    )
    with test:
        test.hold(arguments.users, arguments.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
