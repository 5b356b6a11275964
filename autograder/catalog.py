"""The checks a real run makes, in the order the student sees them.

Each module owns its checks and exposes them as `CHECKS: list[Check]`:
http_checks.py (the site over HTTP, and the bounded load test) and aws_checks.py (the
AWS resources behind it, read with the slip's read-only credentials, and the cost
guard). The runner (runner.py) knows nothing of either: it runs what this returns.
"""

from autograder import aws_checks, http_checks
from autograder.checks import Check


def checks(*, with_aws: bool) -> list[Check]:
    """Every check; without AWS (`--url`: no slip, so no credentials) the HTTP ones."""
    return [*http_checks.CHECKS, *(aws_checks.CHECKS if with_aws else [])]


def without_load_test(*, with_aws: bool) -> list[Check]:
    """The same checks but the bounded load test, for the course staff's own runs
    (`--checks autograder.catalog:without_load_test`) against an app known to be broken:
    scripts/starter-check grades each starter's running app, where the load test would
    spend its 30 s proving again what the other checks said. Students are always graded
    with `checks`."""
    return [
        *http_checks.checks(with_load_test=False),
        *(aws_checks.CHECKS if with_aws else []),
    ]
