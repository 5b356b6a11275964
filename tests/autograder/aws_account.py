"""The reference AWS account (tooling/reference_aws_account.py, built in moto) with the
grader's permission slips into it, and each AWS check's outcome on a slip.

    deployment = build_reference_deployment()
    slip = deployment.user_slip      # an IAM user with docs/aws/grader-read-only-policy.json
"""

from dataclasses import asdict

from autograder.aws_checks import CHECKS
from autograder.checks import DeploymentWrong, Slip
from tooling import reference_aws_account
from tooling.reference_aws_account import (
    DATABASE_PORT,
    REGION,
    attach_elastic_ip,
    grader_identities,
    run_proxy,
    tags,
)

__all__ = [
    "DATABASE_PORT",
    "REGION",
    "Deployment",
    "attach_elastic_ip",
    "build_reference_deployment",
    "failures",
    "grader_identities",
    "outcomes",
    "run_proxy",
    "tags",
]

SLIP_URL = "http://birdai.example"  # the AWS checks do not visit it


class Deployment(reference_aws_account.Deployment):
    """The account's ids, and the slips a student would submit for it."""

    @property
    def user_slip(self) -> Slip:
        return Slip(url=SLIP_URL, region=REGION, **asdict(self.grader_key))

    @property
    def role_slip(self) -> Slip:
        return Slip(url=SLIP_URL, region=REGION, **asdict(self.grader_role))


def build_reference_deployment() -> Deployment:
    return reference_aws_account.build_reference_deployment(Deployment())


def outcomes(slip: Slip) -> dict[str, str]:
    """Each AWS check's name -> "passed", "wrong: <message>" or "ERROR <exception>"."""
    results = {}
    for check in CHECKS:
        try:
            check.run(slip)
        except DeploymentWrong as wrong:
            results[check.name] = f"wrong: {wrong}"
        except Exception as error:  # noqa: BLE001 (a grader error is reported, not raised)
            results[check.name] = f"ERROR {type(error).__name__}: {error}"
        else:
            results[check.name] = "passed"
    return results


def failures(results: dict[str, str]) -> dict[str, str]:
    return {name: outcome for name, outcome in results.items() if outcome != "passed"}
