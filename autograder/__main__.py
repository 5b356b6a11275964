"""`python -m autograder`: grade one submission and write Gradescope's results.json.

    python -m autograder --submission /autograder/submission \\
                         --results /autograder/results/results.json
    python -m autograder --url http://127.0.0.1:8000 --results var/results.json

Exit status: 0 when every check was decided (passed or not), 1 when the grader failed
on any (results.json says which), 2 for a wrong command line. Stopped by SIGTERM, SIGINT
or SIGHUP, it writes results.json and then ends by that signal. results.json is written
in every case but a wrong command line.
"""

import argparse
import os
import sys
from pathlib import Path

from autograder.runner import DEFAULT_CHECK_SECONDS, DEFAULT_CHECKS, grade
from autograder.slip import SLIP_NAME, SlipWrong, check_url

# Set by local tests and instructors grading a stack on their own machine: a slip may
# then name a loopback or private address, which Gradescope's servers cannot reach.
ALLOW_PRIVATE_VARIABLE = "AUTOGRADER_ALLOW_PRIVATE_URLS"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grade a bird.ai deployment: its permission slip (deployment.json), "
        "its site over HTTP and its AWS resources, into Gradescope's results.json. "
        "See docs/autograder.md.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--submission", type=Path, help=f"the folder holding the student's {SLIP_NAME}"
    )
    source.add_argument("--url", help="grade this site over HTTP only: no slip, no AWS checks")
    parser.add_argument("--results", type=Path, required=True, help="where results.json goes")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_CHECK_SECONDS,
        metavar="S",
        help="seconds a check may take before the grader stops it, as a grader error, "
        f"unless the check sets its own time_limit (default {DEFAULT_CHECK_SECONDS:g})",
    )
    parser.add_argument(
        "--checks",
        default=DEFAULT_CHECKS,
        metavar="MODULE:NAME",
        help=f"the checks to run (default {DEFAULT_CHECKS}); tests give their own",
    )
    args = parser.parse_args(argv)
    if args.url is not None:
        try:
            args.url = check_url(args.url.strip(), allow_private=True)
        except SlipWrong as wrong:
            parser.error(f"--url: {wrong}")
    if args.timeout <= 0:
        parser.error("--timeout must be a positive number of seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    results = grade(
        args.results,
        submission=args.submission,
        url=args.url,
        checks=args.checks,
        check_seconds=args.timeout,
        allow_private_urls=os.environ.get(ALLOW_PRIVATE_VARIABLE) == "1",
    )
    print(results["output"])
    return 1 if results["extra_data"]["grader_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
