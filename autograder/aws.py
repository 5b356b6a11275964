"""The grader's connection to a student's AWS account, made from the permission slip.

    account = connect(slip)              # keys, or a role the grader assumes
    account.client("ec2").describe_instances()

Every client of the connection:
- goes to AWS_ENDPOINT_URL when it is set (boto3 reads it itself): the tests point it
  at a moto server on loopback, so they never reach AWS;
- retries throttling and transient errors with back-off (botocore's "standard" mode)
  before anything is concluded; what still fails after that is the grader's problem;
- tells the student, not the staff, when AWS refuses a call that the grader's policy
  (docs/aws/grader-read-only-policy.json) allows: their slip lacks that permission;
- is recorded by `recording_aws_calls()`, which the policy test uses to prove that
  the grader makes exactly the calls its policy allows.
"""

import copy
import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from autograder.checks import DeploymentWrong, GraderCouldNotCheck, Slip
from autograder.iam_policies import GRADER_POLICY_PATH, grader_policy_actions, iam_action

# The reference deployment's region (deploy/terraform/variables.tf), for a slip without one.
DEFAULT_REGION = "us-east-1"
ROLE_SESSION_NAME = "birdai-autograder"
# One hour: longer than a grading run, and what a role allows unless told otherwise.
ROLE_SESSION_SECONDS = 3600

RETRIES = {"mode": "standard", "max_attempts": 6}

# Error codes by which AWS services say "you may not do this".
ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",  # EC2
    "AuthorizationError",
    "Forbidden",
}
# ... and "these credentials are not valid".
BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",  # EC2
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
}

WHERE_TO_FIX_PERMISSIONS = (
    f"Attach the grader's policy, {GRADER_POLICY_PATH.name}, as it is now "
    "(docs/aws/grader-access.md); IAM console: Users or Roles -> your grader identity -> "
    "Permissions."
)


@dataclass
class CallRecorder:
    """The IAM actions of the AWS calls made while it records, in order."""

    actions: list[str] = field(default_factory=list)

    def action_set(self) -> set[str]:
        return set(self.actions)


_recorders: list[CallRecorder] = []


@contextmanager
def recording_aws_calls() -> Iterator[CallRecorder]:
    """Records every call that any connection makes inside the `with` block."""
    recorder = CallRecorder()
    _recorders.append(recorder)
    try:
        yield recorder
    finally:
        _recorders.remove(recorder)


def _record(model: Any, **_: Any) -> None:
    action = iam_action(model.service_model.signing_name, model.name)
    for recorder in _recorders:
        recorder.actions.append(action)


def _judge_refusal(http_response: Any, parsed: dict, model: Any, **_: Any) -> None:
    """Raised here, after botocore's retries and before its own ClientError: a refusal
    of a call the grader's policy allows is the student's to fix."""
    if http_response.status_code < 300:
        return
    code = parsed.get("Error", {}).get("Code", "")
    action = iam_action(model.service_model.signing_name, model.name)
    if code in BAD_CREDENTIALS:
        raise DeploymentWrong(
            f"AWS did not accept the slip's credentials ({code}) when the grader called "
            f"{action}. Expected: an active access key of the grader's IAM user, copied "
            "whole into deployment.json, or a role the grader may assume. "
            "Where to look: IAM console -> Users -> your grader user -> Security credentials."
        )
    if code not in ACCESS_DENIED:
        return  # NoSuchBucketPolicy and the like: the check decides what they mean
    if action not in grader_policy_actions():
        raise GraderCouldNotCheck(
            f"the grader called {action}, which its own policy ({GRADER_POLICY_PATH.name}) "
            "does not grant: a bug in the grader, not your deployment"
        )
    message = parsed.get("Error", {}).get("Message", "")
    raise DeploymentWrong(
        f"AWS refused the slip the permission {action} ({code}: {message}). "
        f"Expected: the slip may call it. {WHERE_TO_FIX_PERMISSIONS}"
    )


def client_config() -> Config:
    options: dict[str, Any] = {"retries": RETRIES, "connect_timeout": 10, "read_timeout": 30}
    if os.environ.get("AWS_ENDPOINT_URL"):
        # A local stand-in (moto) on 127.0.0.1 has no bucket.host names.
        options["s3"] = {"addressing_style": "path"}
    return Config(**options)


def _watched(session: boto3.Session) -> boto3.Session:
    # Registered before any client exists: each client copies the session's handlers.
    session.events.register("before-call", _record)
    session.events.register("after-call", _judge_refusal)
    return session


def slip_session(slip: Slip) -> boto3.Session:
    """A boto3 session with the slip's permissions, in the slip's region."""
    region = slip.region or DEFAULT_REGION
    if slip.role_arn:
        return _watched(_assumed_role_session(slip, region))
    if slip.access_key_id and slip.secret_access_key:
        return _watched(
            boto3.Session(
                aws_access_key_id=slip.access_key_id,
                aws_secret_access_key=slip.secret_access_key,
                region_name=region,
            )
        )
    raise DeploymentWrong(
        "The permission slip gives the grader no way into your AWS account. Expected: "
        "role_arn and external_id (better) or access_key_id and secret_access_key in "
        "deployment.json (docs/aws/grader-access.md)."
    )


def _assumed_role_session(slip: Slip, region: str) -> boto3.Session:
    """The grader's own identity (the environment's credentials) assumes the student's
    role; only the grader's account can, and only with the external id."""
    sts = boto3.Session(region_name=region).client("sts", config=client_config())
    arguments = {
        "RoleArn": slip.role_arn,
        "RoleSessionName": ROLE_SESSION_NAME,
        "DurationSeconds": ROLE_SESSION_SECONDS,
    }
    if slip.external_id:
        arguments["ExternalId"] = slip.external_id
    try:
        credentials = sts.assume_role(**arguments)["Credentials"]
    except botocore.exceptions.NoCredentialsError as error:
        raise GraderCouldNotCheck(
            "the grader has no AWS identity of its own to assume the student's role with"
        ) from error
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in ACCESS_DENIED | {"ValidationError", "NoSuchEntity"}:
            raise
        raise DeploymentWrong(
            f"The grader could not assume the role {slip.role_arn} ({code}). Expected: "
            "the role exists and its trust policy lets the course's grader account assume "
            "it with the external id in deployment.json. Where to look: IAM console -> "
            "Roles -> your role -> Trust relationships (docs/aws/grader-access.md)."
        ) from error
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


# boto3 makes clients from a session one at a time: a session is not thread-safe, its
# clients are (the cost guard reads several regions at once).
_making_a_client = threading.Lock()


class AwsAccount:
    """The student's account as the slip shows it, in one region: one client per service."""

    def __init__(self, slip: Slip) -> None:
        self.region = slip.region or DEFAULT_REGION
        self.session = slip_session(slip)
        self._clients: dict[str, Any] = {}
        self._regions: dict[str, AwsAccount] = {self.region: self}

    @functools.cached_property
    def account_id(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]

    def client(self, service: str) -> Any:
        with _making_a_client:
            if service not in self._clients:
                self._clients[service] = self.session.client(
                    service, region_name=self.region, config=client_config()
                )
            return self._clients[service]

    def in_region(self, region: str) -> "AwsAccount":
        """The same account and credentials in another region, made once (so a test can
        stub that region's clients)."""
        with _making_a_client:
            if region not in self._regions:
                other = copy.copy(self)
                other.region, other._clients = region, {}
                self._regions[region] = other
            return self._regions[region]

    def listing(self, service: str, operation: str, **parameters: Any) -> dict[str, Any]:
        """A listing's whole answer, its pages joined (describe_instances's Reservations,
        list_distributions's DistributionList.Items, ...)."""
        paginator = self.client(service).get_paginator(operation)
        return paginator.paginate(**parameters).build_full_result()


@functools.lru_cache(maxsize=8)
def connect(slip: Slip) -> AwsAccount:
    """One connection per slip for the whole run: a role is assumed once, not per check."""
    return AwsAccount(slip)


def forget_connections() -> None:
    """Drop the cached connections (tests that change AWS_ENDPOINT_URL or the account)."""
    connect.cache_clear()
