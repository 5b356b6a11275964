"""autograder/aws_checks.py against moto's server: each planted defect in the account that
deploy/terraform builds fails exactly its own AWS check, with a message that says what
was expected, what was found and where to look. (The reference account passing every
check, the policy test and the cost guard: test_aws_reference_account.py.)
"""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from autograder import aws_checks, cost_guard
from autograder.aws import forget_connections
from autograder.checks import DeploymentWrong
from autograder.cost_guard import PRICES_PATH
from autograder.iam_policies import grader_policy, grader_policy_actions
from tests.autograder.aws_account import (
    DATABASE_PORT,
    Deployment,
    attach_elastic_ip,
    build_reference_deployment,
    failures,
    outcomes,
    run_proxy,
)

pytestmark = pytest.mark.database_independent

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "deploy" / "terraform"


@pytest.fixture
def deployment(aws_environment, monkeypatch) -> Deployment:
    forget_connections()  # a role assumed in another test's account is gone
    # The cost guard runs with every check; here it reads the slip's region only, as
    # reading moto's 24 regions for each planted defect would add seconds each
    # (every region: test_cost_guard.py).
    monkeypatch.setattr(cost_guard, "enabled_regions", lambda account: [account.region])
    built = build_reference_deployment()
    yield built
    forget_connections()


# --- Planted defects: each fails exactly its own check --------------------------------------


def public_bucket(deployment: Deployment) -> None:
    s3 = deployment.client("s3")
    s3.delete_public_access_block(Bucket=deployment.bucket)
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{deployment.bucket}/*",
            },
            *json.loads(s3.get_bucket_policy(Bucket=deployment.bucket)["Policy"])["Statement"],
        ],
    }
    s3.put_bucket_policy(Bucket=deployment.bucket, Policy=json.dumps(public_read))


def database_publicly_accessible(deployment: Deployment) -> None:
    deployment.client("rds").modify_db_instance(
        DBInstanceIdentifier=deployment.database, PubliclyAccessible=True, ApplyImmediately=True
    )


def database_open_to_the_world(deployment: Deployment) -> None:
    deployment.client("ec2").authorize_security_group_ingress(
        GroupId=deployment.groups["database"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": DATABASE_PORT,
                "ToPort": DATABASE_PORT,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )


def burstable_app_server(deployment: Deployment) -> None:
    ec2 = deployment.client("ec2")
    instance = deployment.app_servers[0]
    ec2.stop_instances(InstanceIds=[instance])
    ec2.modify_instance_attribute(InstanceId=instance, InstanceType={"Value": "t3.micro"})
    ec2.start_instances(InstanceIds=[instance])


def app_servers_outside_the_load_balancer(deployment: Deployment) -> None:
    deployment.client("elbv2").deregister_targets(
        TargetGroupArn=deployment.target_group,
        Targets=[{"Id": instance} for instance in deployment.app_servers],
    )


def app_server_with_a_public_address(deployment: Deployment) -> None:
    attach_elastic_ip(deployment, deployment.app_servers[0])


def slip_that_may_write(deployment: Deployment) -> None:
    iam = deployment.client("iam")
    everything_in_s3 = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName="birdai-grader", PolicyName="oops", PolicyDocument=json.dumps(everything_in_s3)
    )


DEFECTS: list[tuple[Callable[[Deployment], None], str, str]] = [
    (public_bucket, "AWS: the photo bucket is private", "BlockPublicAcls"),
    (
        database_publicly_accessible,
        "AWS: the database is RDS PostgreSQL, not publicly accessible",
        "publicly accessible: birdai",
    ),
    (
        database_open_to_the_world,
        "AWS: only the app servers' security group reaches the database",
        "0.0.0.0/0",
    ),
    (burstable_app_server, "AWS: instance types per tier match the assignment", "t3.micro"),
    (
        app_servers_outside_the_load_balancer,
        "AWS: the app servers sit behind a load balancer or the proxy",
        "not a target of any load balancer",
    ),
    (
        app_server_with_a_public_address,
        "AWS: the app servers sit behind a load balancer or the proxy",
        "around the load balancer",
    ),
    (slip_that_may_write, "AWS: the permission slip is read-only", "s3:*"),
]


@pytest.mark.parametrize(
    ("defect", "check_name", "named"), DEFECTS, ids=[d[0].__name__ for d in DEFECTS]
)
def test_each_planted_defect_fails_exactly_its_own_check(deployment, defect, check_name, named):
    defect(deployment)
    failed = failures(outcomes(deployment.user_slip))
    assert list(failed) == [check_name], failed
    message = failed[check_name]
    assert message.startswith("wrong: "), message  # the student's, not a grader error
    assert named in message
    for part in ("Expected:", "Found:", "Where to look:"):
        assert part in message


def test_every_price_has_a_date_and_a_source():
    prices = json.loads(PRICES_PATH.read_text())
    entries = []
    for value in prices.values():
        if isinstance(value, dict):
            entries += [value] if "usd" in value else list(value.values())
    assert len(entries) > 10
    for entry in entries:
        assert entry["usd"] > 0
        assert entry["date"][:4].isdigit()
        assert entry["source"]


def test_the_nginx_proxy_tier_stands_in_for_the_load_balancer(deployment):
    """load_balancer = "nginx": no target group, a proxy instance in front; its type
    counts as a tier of its own."""
    app_servers_outside_the_load_balancer(deployment)
    proxy = run_proxy(deployment)
    slip = deployment.user_slip
    assert "behind the nginx proxy" in aws_checks.app_servers_behind_a_load_balancer(slip)
    assert "proxy: c7i.large" in aws_checks.instance_types_match_the_assignment(slip)
    ec2 = deployment.client("ec2")
    ec2.stop_instances(InstanceIds=[proxy])
    ec2.modify_instance_attribute(InstanceId=proxy, InstanceType={"Value": "t3.micro"})
    ec2.start_instances(InstanceIds=[proxy])
    with pytest.raises(DeploymentWrong, match="the nginx proxy"):
        aws_checks.instance_types_match_the_assignment(slip)


# --- The data the checks read -------------------------------------------------------------


def test_the_policy_names_actions_only_and_reads_no_data():
    actions = grader_policy_actions()
    assert not [action for action in actions if "*" in action]
    assert not [action for action in actions if action.startswith("s3:GetObject")]
    statements = grader_policy()["Statement"]
    assert {statement["Effect"] for statement in statements} == {"Allow"}
    assert all(action.split(":")[1].startswith(("Describe", "Get", "List")) for action in actions)


# --- The assignment is the reference's ---------------------------------------------------------


def terraform_default(variable: str) -> str:
    """A string variable's default in deploy/terraform/variables.tf (read with a pattern:
    parsing all of deploy/terraform with hcl2 takes seconds)."""
    text = (TERRAFORM_DIR / "variables.tf").read_text()
    block = re.search(rf'variable "{variable}" {{(.*?)\n}}', text, re.DOTALL)
    return re.search(r'default\s*=\s*"([^"]+)"', block[1])[1]


def test_the_terraform_defaults_meet_the_assignment():
    for tier_name, variable in (
        ("app", "app_instance_type"),
        ("proxy", "proxy_instance_type"),
        ("database", "db_instance_class"),
    ):
        default = terraform_default(variable)
        assert aws_checks.type_problem(tier_name, default) is None, (tier_name, default)
    assert aws_checks.type_problem("app", "t3.micro") == "t3.micro"
    assert aws_checks.type_problem("database", "db.t4g.small") == "db.t4g.small"
