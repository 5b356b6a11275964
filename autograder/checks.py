"""What a check of the autograder is, and the two ways it can end without passing.

A check looks at one thing a student's deployment must do ("the bucket is private") and
either passes (returns, optionally with a note for the student), or raises:

- DeploymentWrong: the deployment is not what the assignment asks. Its message is for
  the student: what was expected, what came back, and where to look. Only this costs
  points.
- anything else (GraderCouldNotCheck, or any exception: a bug in the check, an AWS API
  that changed, the grader's own timeout): the grader could not decide. The check is
  reported as a grader error with its trace, for the course staff, and costs the
  student nothing.

Transient failures (a dropped connection, AWS throttling) are retried with back-off by
the code that talks to the deployment before a check concludes anything.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


class DeploymentWrong(AssertionError):
    """The student's deployment is wrong; the message tells them what and where."""


class GraderCouldNotCheck(Exception):
    """The grader could not decide (not the student's fault)."""


@dataclass(frozen=True)
class Slip:
    """The "permission slip" a student submits (deployment.json): where the deployment
    is, and read-only AWS credentials to inspect what is behind it."""

    url: str
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""
    role_arn: str = ""  # better than keys: a role the grader assumes...
    external_id: str = ""  # ...with this external id


@dataclass(frozen=True)
class Check:
    """One line of the student's results: `run(slip)` passes, or raises."""

    name: str
    points: float
    run: Callable[[Slip], str | None]
    tags: tuple[str, ...] = field(default=())
    # Seconds the runner lets it take before stopping it as a grader error; None: the
    # run's --timeout. A check that waits on the deployment should give up sooner by
    # itself, with a DeploymentWrong that says what did not answer.
    time_limit: float | None = None
