"""autograder/cost_guard.py against moto's server, on an account with something forgotten
in a second region: every enabled region is read and only those that cost money are
listed; a region that refuses, or does not answer in time, is a note; Cost Explorer's
month-to-date spend (traffic included) is reported apart from the projection, and a
Cost Explorer that refuses is a note. A bug in the grader stays a grader error.

The reference account (one region) and the policy test: test_aws_reference_account.py.
"""

import re
import threading
import time

import boto3
import pytest
from botocore.stub import Stubber

from autograder import cost_guard as guard
from autograder.aws import connect, forget_connections
from autograder.aws_regions import enabled_regions, read_within
from autograder.checks import Slip
from tests.autograder.aws_account import REGION, Deployment, grader_identities, tags
from tests.server_fixtures import point_boto3_at

pytestmark = pytest.mark.database_independent

SECOND_REGION = "eu-west-1"
REGION_HEADING = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d):$")


@pytest.fixture(scope="module")
def slip(moto_server) -> Slip:
    """The grader's IAM user; an app server in the slip's region; in another region a
    forgotten volume and Elastic IP, attached to nothing. Built once: no test changes
    the account (they stub or patch what they break), and one connection serves all."""
    with pytest.MonkeyPatch.context() as patch:
        point_boto3_at(moto_server, patch)
        moto_server.reset()
        forget_connections()
        deployment = Deployment()
        grader_identities(deployment)
        deployment.client("ec2").run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            InstanceType="c7i.large",
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags(Name="birdai-app")}],
        )
        elsewhere = boto3.client("ec2", region_name=SECOND_REGION)  # moto's administrator
        elsewhere.create_volume(AvailabilityZone=f"{SECOND_REGION}a", Size=30, VolumeType="gp3")
        elsewhere.allocate_address(Domain="vpc")
        yield deployment.user_slip
        forget_connections()


@pytest.fixture
def two_regions(monkeypatch):
    """Only the two regions that matter (reading all 24 of moto's takes seconds)."""
    monkeypatch.setattr(guard, "enabled_regions", lambda account: [REGION, SECOND_REGION])


def sections(report: str) -> dict[str, list[str]]:
    """The report's lines under each region's heading."""
    found: dict[str, list[str]] = {}
    current = None
    for line in report.splitlines():
        heading = REGION_HEADING.match(line)
        if heading:
            current = found.setdefault(heading.group(1), [])
        elif current is not None and line.startswith("  "):
            current.append(line)
        else:
            current = None
    return found


# --- Every enabled region ---------------------------------------------------------------------


def test_it_reads_every_enabled_region_and_lists_those_that_cost_money(slip):
    report = guard.cost_guard(slip)
    listed = sections(report)
    assert set(listed) == {REGION, SECOND_REGION}
    assert any("c7i.large" in line for line in listed[REGION])
    forgotten = [line for line in listed[SECOND_REGION] if "NOT ATTACHED" in line]
    assert len(forgotten) == 2  # the volume and the Elastic IP
    assert "$2.40 a month" in " ".join(forgotten)  # 30 GB of gp3 at $0.08
    assert "Not read" not in report
    regions = enabled_regions(connect(slip))
    assert f"Regions read: {len(regions)}." in report
    assert regions[0] == REGION
    assert SECOND_REGION in regions
    assert "ap-east-1" not in regions  # an opt-in region the account has not turned on
    assert len(regions) == len(set(regions))


def test_a_slip_that_may_not_list_regions_reads_its_own_and_says_so(slip, monkeypatch):
    def refused(account):  # a policy attached before ec2:DescribeRegions was in it
        with Stubber(account.client("ec2")) as stubber:
            stubber.add_client_error("describe_regions", "UnauthorizedOperation", 403)
            return enabled_regions(account)

    monkeypatch.setattr(guard, "enabled_regions", refused)
    findings = guard.read_costs(connect(slip))
    assert findings.regions_read == [REGION]
    assert "EC2 instance" in [cost.kind for cost in findings.costs[REGION]]
    assert "ec2:DescribeRegions" in findings.not_read["other regions"]
    assert "only this one was read" in findings.not_read["other regions"]


def test_a_region_that_refuses_the_slip_is_a_note(slip, two_regions):
    # An opt-in region refuses a role's session made by the global STS endpoint.
    regional = connect(slip).in_region(SECOND_REGION).client("ec2")
    with Stubber(regional) as stubber:
        stubber.add_client_error("describe_instances", "AuthFailure", http_status_code=401)
        report = guard.cost_guard(slip)
    assert set(sections(report)) == {REGION}
    assert f"Not read: {SECOND_REGION}: AWS did not accept the slip's credentials" in report


def test_a_bug_of_the_graders_in_one_region_stays_a_grader_error(slip, two_regions, monkeypatch):
    def broken(account):
        if account.region == SECOND_REGION:
            raise KeyError("VolumeType")
        return []

    monkeypatch.setattr(guard, "account_costs", broken)
    with pytest.raises(KeyError, match="VolumeType"):
        guard.cost_guard(slip)


def test_regions_are_read_at_once_and_a_slow_one_is_left_at_the_deadline():
    def read(region: str) -> str:
        if region == "slow":
            time.sleep(5)
        if region == "broken":
            raise RuntimeError("refused")
        return region.upper()

    started = time.monotonic()
    readings = read_within(read, ["a", "slow", "broken", "b"], seconds=0.5)
    assert time.monotonic() - started < 3  # not the slow one's 5 s
    assert readings.results == {"a": "A", "b": "B"}
    assert list(readings.errors) == ["broken"]
    assert readings.unfinished == ["slow"]


def test_a_region_not_read_in_time_is_named(slip, two_regions, monkeypatch):
    answer_elsewhere = threading.Event()

    def slow_elsewhere(account):
        if account.region == SECOND_REGION:
            answer_elsewhere.wait(10)
            return []
        return [guard.Cost("EC2 instance", "i-0home (birdai-app, c7i.large), running", 65.15)]

    monkeypatch.setattr(guard, "account_costs", slow_elsewhere)
    monkeypatch.setattr(guard, "REGIONS_SECONDS", 0.5)
    try:
        report = guard.cost_guard(slip)
    finally:
        answer_elsewhere.set()
    assert set(sections(report)) == {REGION}
    assert f"Not read within 0.5 s, so not in the total: {SECOND_REGION}." in report


# --- Actual spend from Cost Explorer -------------------------------------------------------------


COMPUTE = "Amazon Elastic Compute Cloud - Compute"


def cost(service: str, usage_type: str, amount: str) -> dict:
    """One group of GetCostAndUsage's answer, grouped by service and usage type."""
    return {
        "Keys": [service, usage_type],
        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
    }


def test_it_reports_the_months_spend_by_service_with_traffic_apart(slip, two_regions, moto_server):
    moto_server.queue_cost_and_usage(
        {
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": "2026-12-01", "End": "2026-12-04"},
                    "Total": {},
                    "Groups": [
                        cost(COMPUTE, "BoxUsage:c7i.large", "6.43"),
                        cost("EC2 - Other", "NatGateway-Hours", "3.24"),
                        cost("EC2 - Other", "NatGateway-Bytes", "1.80"),
                        cost("Amazon CloudFront", "US-DataTransfer-Out-Bytes", "0.42"),
                        cost("Amazon Simple Storage Service", "Requests-Tier2", "0.001"),
                    ],
                    "Estimated": True,
                }
            ],
            "DimensionValueAttributes": [],
        }
    )
    lines = guard.cost_guard(slip).splitlines()
    projected = next(i for i, line in enumerate(lines) if line.startswith("PROJECTED"))
    actual = next(i for i, line in enumerate(lines) if line.startswith("ACTUAL SPEND"))
    assert projected < actual
    assert "from AWS Cost Explorer" in lines[actual]
    assert "estimate" in lines[actual]
    spent = lines[actual + 1 :]
    assert spent[0] == f"  {COMPUTE}: $6.43"
    assert "  EC2 - Other: $5.04 (traffic $1.80)" in spent
    assert "  Amazon CloudFront: $0.42 (traffic $0.42)" in spent
    assert not any("Simple Storage" in line for line in spent)  # rounds to $0.00
    assert spent[-1].startswith("Spent so far: $11.89 USD, of which traffic")
    assert spent[-1].endswith("$2.22.")


@pytest.mark.parametrize(
    ("code", "note"),
    [
        ("AccessDeniedException", "AWS refused the slip ce:GetCostAndUsage"),
        ("DataUnavailableException", "Cost Explorer has no data yet"),
    ],
)
def test_cost_explorer_that_cannot_answer_is_a_note(slip, two_regions, code, note):
    with Stubber(connect(slip).in_region("us-east-1").client("ce")) as stubber:
        stubber.add_client_error("get_cost_and_usage", code, http_status_code=400)
        report = guard.cost_guard(slip)
    assert f"ACTUAL SPEND this month: not read. {note}" in report
    assert set(sections(report)) == {REGION, SECOND_REGION}  # the projection stands
