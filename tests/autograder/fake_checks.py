"""Checks that end in every way a real one can, for the runner's tests
(`--checks tests.autograder.fake_checks:NAME`). They look at no deployment."""

import os
import signal
import time
from pathlib import Path

from autograder.checks import Check, DeploymentWrong, GraderCouldNotCheck, Slip

# A check that waits for the test writes this file first, so the test knows it runs.
MARKER_VARIABLE = "FAKE_CHECK_MARKER"


def passes(slip: Slip) -> str:
    return f"{slip.url} answered as it should."


def passes_quietly(slip: Slip) -> None:
    return None


def deployment_wrong(slip: Slip) -> None:
    raise DeploymentWrong(
        "Expected GET /healthz to answer 200; it answered 502. Look at the load balancer's "
        "target group: are the app servers healthy?"
    )


def bug_in_the_check(slip: Slip) -> None:
    labels = {"robin": 0.9}
    raise ValueError(f"no label 'magpie' in {labels}")  # as a real bug would


def could_not_check(slip: Slip) -> None:
    raise GraderCouldNotCheck("AWS answered ThrottlingException five times")


def returns_false(slip: Slip) -> bool:
    return False  # a check author who thought this fails the check


def hangs(slip: Slip) -> None:
    time.sleep(3600)


def kills_its_worker(slip: Slip) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def waits_for_the_test(slip: Slip) -> None:
    Path(os.environ[MARKER_VARIABLE]).write_text("running")
    time.sleep(60)


def sees_credentials(slip: Slip) -> str:
    if not (slip.role_arn or slip.access_key_id):
        raise GraderCouldNotCheck("an AWS check ran without credentials")
    return f"region {slip.region}"


MIXED = [
    Check("Health", 2, passes, tags=("http",)),
    Check("Readiness", 3, deployment_wrong, tags=("http",)),
    Check("Classify a bird", 5, bug_in_the_check),
    Check("Bucket is private", 1, could_not_check, tags=("aws",)),
    Check("Returns False", 1, returns_false),
    Check("History", 4, passes_quietly),
]
HANGS = [
    Check("Before", 1, passes),
    Check("Hangs", 2, hangs),
    Check("After", 3, passes),
]
HANGS_WITH_ITS_OWN_LIMIT = [Check("Hangs briefly", 2, hangs, time_limit=0.5)]
KILLS_ITS_WORKER = [
    Check("Before", 1, passes),
    Check("Kills its worker", 2, kills_its_worker),
    Check("After", 3, passes),
]
WAITS = [
    Check("Before", 1, passes),
    Check("Waits", 2, waits_for_the_test),
    Check("Never reached", 3, passes),
]
ALL_PASS = [Check("Health", 2, passes), Check("History", 3, passes_quietly)]
NOT_CHECKS = ["Health"]
SAME_NAME_TWICE = [Check("Health", 1, passes), Check("Health", 1, passes)]


def http_and_aws(*, with_aws: bool) -> list[Check]:
    """As autograder.catalog:checks is: the AWS checks only with a slip's credentials."""
    http = [Check("Health", 2, passes)]
    return http + ([Check("AWS account", 3, sees_credentials)] if with_aws else [])


def fails_to_import(*, with_aws: bool) -> list[Check]:
    import autograder.no_such_module  # noqa: F401 (a check module that is broken)

    return []
