"""autograder/iam_policies.py: which policies count as read-only, and the IAM names of
the grader's calls."""

import pytest

from autograder.iam_policies import data_reads, iam_action, write_grants

pytestmark = pytest.mark.database_independent


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(*actions: str) -> dict:
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}


@pytest.mark.parametrize(
    "document",
    [
        policy(allow("ec2:DescribeInstances", "s3:GetBucketPolicy", "iam:ListUserPolicies")),
        policy(allow("ec2:Describe*", "rds:Describe*", "cloudfront:List*")),
        # A Deny never grants anything, whatever it names.
        policy(allow("ec2:DescribeInstances"), {"Effect": "Deny", "Action": "*", "Resource": "*"}),
    ],
)
def test_reads_are_read_only(document):
    assert list(write_grants(document)) == []


@pytest.mark.parametrize(
    ("document", "named"),
    [
        (policy(allow("*")), "*"),
        (policy(allow("s3:*")), "s3:*"),
        (
            policy(allow("ec2:DescribeInstances", "ec2:TerminateInstances")),
            "ec2:TerminateInstances",
        ),
        (policy(allow("ec2:D*")), "ec2:D*"),  # DeleteVpc as well as Describe*
        (policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}), "s3:PutObject"),
        (policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "NotAction"),
    ],
)
def test_anything_that_may_write_is_named(document, named):
    assert any(named in grant for grant in write_grants(document))


def test_data_reads_are_told_apart_from_configuration_reads():
    document = policy(allow("s3:GetObject", "s3:GetBucketPolicy", "s3:Get*"))
    assert sorted(data_reads(document)) == ["s3:Get*", "s3:GetObject"]


def test_operations_are_named_as_iam_names_them():
    assert iam_action("ec2", "DescribeInstances") == "ec2:DescribeInstances"
    assert iam_action("s3", "ListBuckets") == "s3:ListAllMyBuckets"
    assert iam_action("s3", "GetPublicAccessBlock") == "s3:GetBucketPublicAccessBlock"
    assert iam_action("elasticloadbalancing", "DescribeTargetHealth") == (
        "elasticloadbalancing:DescribeTargetHealth"
    )
