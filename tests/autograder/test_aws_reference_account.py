"""The account deploy/terraform builds, graded once (built in moto, every AWS check run
with both kinds of slip while the grader's AWS calls are recorded), and what the tests
read from that one run: every check passes, the calls made are exactly those the policy
allows, the cost guard prices what runs. Then what moto cannot show, on the same
account, with doctored answers: the distribution's OriginAccessControlId (moto drops
it) and AWS refusing a call (moto checks no IAM permission).

Built once for the module (a build and two gradings take seconds on a busy machine);
no test here changes the account. The planted defects: test_aws_checks.py.
"""

from dataclasses import dataclass

import boto3
import botocore.exceptions
import pytest
from botocore.stub import Stubber

from autograder import aws_checks
from autograder.aws import CallRecorder, connect, forget_connections, recording_aws_calls
from autograder.checks import DeploymentWrong, GraderCouldNotCheck, Slip
from autograder.cost_guard import account_costs, cost_guard
from autograder.iam_policies import grader_policy_actions
from tests.autograder.aws_account import (
    REGION,
    Deployment,
    build_reference_deployment,
    failures,
    outcomes,
)
from tests.server_fixtures import point_boto3_at

pytestmark = pytest.mark.database_independent

SLIP_KINDS = ("user_slip", "role_slip")


@dataclass
class Graded:
    deployment: Deployment
    results: dict[str, dict[str, str]]  # slip kind -> check name -> outcome
    calls: CallRecorder


@pytest.fixture(scope="module")
def graded(moto_server):
    with pytest.MonkeyPatch.context() as patch:
        point_boto3_at(moto_server, patch)
        moto_server.reset()
        forget_connections()
        deployment = build_reference_deployment()
        # Forgotten: costs money, attached to nothing. It must cost no points either.
        deployment.client("ec2").allocate_address(Domain="vpc")
        with recording_aws_calls() as calls:
            results = {kind: outcomes(getattr(deployment, kind)) for kind in SLIP_KINDS}
        yield Graded(deployment, results, calls)
        forget_connections()


@pytest.mark.parametrize("slip_kind", SLIP_KINDS)
def test_the_reference_deployment_passes_every_aws_check(graded, slip_kind):
    results = graded.results[slip_kind]
    assert set(results) == {check.name for check in aws_checks.CHECKS}
    assert failures(results) == {}


def test_the_grader_makes_exactly_the_calls_its_policy_allows(graded):
    assert graded.calls.action_set() == grader_policy_actions()


# --- The cost guard ----------------------------------------------------------------------------


def test_the_cost_guard_prices_a_forgotten_elastic_ip_and_the_nat_gateway(graded):
    report = cost_guard(graded.deployment.user_slip).splitlines()
    forgotten = [line for line in report if "NOT ATTACHED" in line]
    assert len(forgotten) == 1
    assert "Elastic IP" in forgotten[0]
    assert "$3.65 a month" in forgotten[0]  # $0.005 an hour, 730 hours
    assert "release it" in forgotten[0]
    nat = [line for line in report if "NAT gateway" in line]
    assert len(nat) == 1
    assert "$32.85 a month" in nat[0]  # $0.045 an hour
    assert any(line.startswith("About $") for line in report)
    # moto tracks no spending: Cost Explorer answers, with nothing billed.
    assert "  nothing billed yet" in report


def test_the_cost_guard_prices_everything_the_reference_deployment_runs(graded):
    costs = account_costs(connect(graded.deployment.user_slip))
    kinds = {cost.kind for cost in costs}
    assert {"EC2 instance", "EBS volume", "NAT gateway", "Load balancer", "RDS database"} <= kinds
    assert [cost.what for cost in costs if cost.per_month is None] == []


def test_the_cost_guard_is_worth_no_points():
    guards = [check for check in aws_checks.CHECKS if check.run is aws_checks.cost_guard]
    assert [check.points for check in guards] == [0]


# --- AWS refusing a call (moto checks no permission): stubbed answers ---------------------------


def stub_error(slip: Slip, service: str, operation: str, code: str, status: int) -> Stubber:
    stubber = Stubber(connect(slip).client(service))
    stubber.add_client_error(operation, service_error_code=code, http_status_code=status)
    return stubber


def test_access_denied_for_an_allowed_call_is_the_students_to_fix(graded):
    slip = graded.deployment.user_slip
    with stub_error(slip, "ec2", "describe_instances", "UnauthorizedOperation", 403):
        with pytest.raises(DeploymentWrong, match="ec2:DescribeInstances"):
            aws_checks.instance_types_match_the_assignment(slip)


def test_access_denied_for_a_call_outside_the_policy_is_the_graders(graded):
    slip = graded.deployment.user_slip
    with stub_error(slip, "ec2", "describe_vpcs", "UnauthorizedOperation", 403):
        with pytest.raises(GraderCouldNotCheck, match="ec2:DescribeVpcs"):
            connect(slip).client("ec2").describe_vpcs()


def test_throttling_after_the_retries_is_a_grader_error(graded):
    slip = graded.deployment.user_slip
    # botocore's standard mode retries throttling with back-off before this point.
    assert connect(slip).client("ec2").meta.config.retries["mode"] == "standard"
    with stub_error(slip, "ec2", "describe_instances", "Throttling", 400):
        with pytest.raises(botocore.exceptions.ClientError, match="Throttling"):
            aws_checks.instance_types_match_the_assignment(slip)


# --- The distribution's OriginAccessControlId (moto drops it): doctored answers -----------------


def distributions_as_aws_returns_them(graded: Graded, control: str) -> list[dict]:
    cloudfront = graded.deployment.client("cloudfront")
    listed = cloudfront.list_distributions()["DistributionList"]["Items"]
    listed[0]["Origins"]["Items"][0]["OriginAccessControlId"] = control
    return listed


@pytest.mark.parametrize("control", ["E-NOT-AN-OAC", ""])
def test_an_origin_without_its_oac_fails_where_aws_returns_the_id(graded, monkeypatch, control):
    listed = distributions_as_aws_returns_them(graded, control)
    monkeypatch.setattr(aws_checks.resources, "distributions", lambda account: listed)
    with pytest.raises(DeploymentWrong, match="without Origin Access Control"):
        aws_checks.cdn_reads_bucket_through_oac(graded.deployment.user_slip)


def test_an_origin_with_its_oac_passes_where_aws_returns_the_id(graded, monkeypatch):
    cloudfront = graded.deployment.client("cloudfront")
    control = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"][0]
    listed = distributions_as_aws_returns_them(graded, control["Id"])
    monkeypatch.setattr(aws_checks.resources, "distributions", lambda account: listed)
    note = aws_checks.cdn_reads_bucket_through_oac(graded.deployment.user_slip)
    assert "did not return" not in note


def test_no_aws_call_leaves_loopback(graded, moto_server):
    assert boto3.client("sts", region_name=REGION).meta.endpoint_url == moto_server.endpoint_url
