"""IAM policies as the grader reads them: its own (docs/aws/grader-read-only-policy.json),
the names of the IAM actions its AWS calls need, and whether a policy allows any write.

IAM names most actions after the API operation (ec2:DescribeInstances is the call
DescribeInstances), with a few exceptions, S3's above all; ACTION_NAMES lists those the
grader meets. Without AWS's own table of access levels (the Pricing and IAM policy
simulation APIs are not available offline, and moto has neither), an action counts as
read-only when its name starts with a read verb: Describe, Get, List. That is IAM's own
naming rule for read and list actions, and errs on the safe side: an action it does not
know is a write.
"""

import fnmatch
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

GRADER_POLICY_PATH = Path(__file__).resolve().parents[1] / "docs/aws/grader-read-only-policy.json"

# (IAM service prefix, API operation) -> the IAM action, where the two names differ.
ACTION_NAMES = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "HeadBucket"): "s3:ListBucket",
}

READ_VERBS = ("Describe", "Get", "List")

# Read verbs that still reach more than configuration: they are not written, but a
# slip that grants them gives the grader data it must not need (photos, secrets).
DATA_READS = (
    "s3:GetObject*",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter*",
    "ec2:GetPasswordData",
)


def iam_action(service_prefix: str, operation: str) -> str:
    """The IAM action an API call needs: ("ec2", "DescribeInstances") -> ec2:DescribeInstances."""
    return ACTION_NAMES.get((service_prefix, operation), f"{service_prefix}:{operation}")


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def allowed_actions(document: dict[str, Any]) -> set[str]:
    """The actions that the policy's Allow statements name (as written, wildcards kept)."""
    return {
        action
        for statement in statements(document)
        if statement.get("Effect") == "Allow"
        for action in as_list(statement.get("Action"))
    }


def grader_policy() -> dict[str, Any]:
    return json.loads(GRADER_POLICY_PATH.read_text())


def grader_policy_actions() -> set[str]:
    """What docs/aws/grader-read-only-policy.json lets the grader do."""
    return allowed_actions(grader_policy())


def is_read_only_action(action: str) -> bool:
    """ec2:DescribeInstances yes; ec2:Describe* yes; ec2:* or * or s3:Put* no."""
    if action == "*":
        return False
    _, _, name = action.partition(":")
    # A wildcard counts as the widest thing it can match: "ec2:*" matches writes,
    # "ec2:Describe*" only reads, "ec2:D*" DeleteVpc too.
    return any(name.startswith(verb) for verb in READ_VERBS)


def write_grants(document: dict[str, Any]) -> Iterator[str]:
    """Why a policy is not read-only, one reason per Allow that grants a write."""
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            # Allow everything except a list: that is nearly everything, writes included.
            yield f"NotAction {as_list(statement['NotAction'])} (allows every other action)"
            continue
        for action in as_list(statement.get("Action")):
            if not is_read_only_action(action):
                yield action


def data_reads(document: dict[str, Any]) -> Iterator[str]:
    """Allowed actions that read data (photos, secrets) rather than configuration."""
    for action in allowed_actions(document):
        if action == "*" or any(
            fnmatch.fnmatchcase(action, pattern) or fnmatch.fnmatchcase(pattern, action)
            for pattern in DATA_READS
        ):
            yield action


def unique(items: Iterable[str]) -> list[str]:
    return sorted(set(items))
