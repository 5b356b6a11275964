"""The policies of the slip's own identity, read with the slip: who am I (sts), then
the IAM user's or role's inline and attached policies, and those of the user's groups.

Not read, and so not judged: permission boundaries, the organization's service control
policies, resource policies elsewhere. They can only take permissions away, never add
any, so a slip whose own policies are read-only is read-only.
"""

import json
from typing import Any
from urllib.parse import unquote

from autograder.aws import AwsAccount
from autograder.checks import DeploymentWrong, GraderCouldNotCheck


def document(value: str | dict[str, Any]) -> dict[str, Any]:
    """IAM returns policy documents URL-encoded; boto3 decodes some of them already."""
    return value if isinstance(value, dict) else json.loads(unquote(value))


def managed_policy(account: AwsAccount, arn: str) -> dict[str, Any]:
    iam = account.client("iam")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    answer = iam.get_policy_version(PolicyArn=arn, VersionId=version)
    return document(answer["PolicyVersion"]["Document"])


def attached(account: AwsAccount, operation: str, label: str, **who: str) -> dict[str, dict]:
    listed = account.listing("iam", operation, **who)["AttachedPolicies"]
    return {
        f"{label} managed policy {p['PolicyName']}": managed_policy(account, p["PolicyArn"])
        for p in listed
    }


def inline(account: AwsAccount, kind: str, label: str, **who: str) -> dict[str, dict]:
    """kind: "user", "group" or "role" (list_user_policies, get_user_policy, ...)."""
    iam = account.client("iam")
    names = account.listing("iam", f"list_{kind}_policies", **who)["PolicyNames"]
    return {
        f"{label} inline policy {name}": document(
            getattr(iam, f"get_{kind}_policy")(PolicyName=name, **who)["PolicyDocument"]
        )
        for name in names
    }


def slip_policies(account: AwsAccount) -> dict[str, dict[str, Any]]:
    """{"user birdai-grader inline policy grader": {...policy document...}, ...}"""
    arn = account.client("sts").get_caller_identity()["Arn"]
    # arn:aws:iam::123456789012:user/path/NAME,
    # arn:aws:sts::123456789012:assumed-role/ROLE/SESSION, or ...:root
    kind_and_name = arn.split(":", 5)[5]
    kind, _, rest = kind_and_name.partition("/")
    if kind == "user":
        user = rest.rsplit("/", 1)[-1]
        label = f"user {user}:"
        policies = {
            **inline(account, "user", label, UserName=user),
            **attached(account, "list_attached_user_policies", label, UserName=user),
        }
        groups = account.listing("iam", "list_groups_for_user", UserName=user)["Groups"]
        for group in groups:
            name = group["GroupName"]
            group_label = f"group {name}:"
            policies |= inline(account, "group", group_label, GroupName=name)
            policies |= attached(
                account, "list_attached_group_policies", group_label, GroupName=name
            )
        return policies
    if kind == "assumed-role":
        role = rest.split("/", 1)[0]
        label = f"role {role}:"
        return {
            **inline(account, "role", label, RoleName=role),
            **attached(account, "list_attached_role_policies", label, RoleName=role),
        }
    if kind == "root":
        raise DeploymentWrong(
            "The permission slip holds the keys of your account's root user, which may do "
            "anything. Expected: an IAM user or role with only "
            "docs/aws/grader-read-only-policy.json. Found: the root user. Where to look: "
            "IAM console -> Users -> Create user (docs/aws/grader-access.md); delete the "
            "root access key (account menu -> Security credentials)."
        )
    raise GraderCouldNotCheck(f"the slip's identity {arn} is neither an IAM user nor a role")
