"""Finding the deployment's pieces in a student's account, the way deploy/terraform names
them: each tier's instances by their Name tag (autograder/assignment.json), the photo
bucket by its name or as CloudFront's origin, the database as the account's RDS
PostgreSQL. The checks (aws_checks.py) and the cost guard (cost_guard.py) share these.
"""

import functools
import json
import re
from pathlib import Path
from typing import Any

from autograder.aws import AwsAccount

ASSIGNMENT_PATH = Path(__file__).with_name("assignment.json")

# An EC2 or RDS type: [db.]<family letters><generation digit><attributes>.<size>.
INSTANCE_TYPE = re.compile(
    r"^(?:db\.)?(?P<family>[a-z]+)(?P<generation>\d+)[a-z0-9-]*\.(?P<size>\w+)$"
)

# CloudFront names an S3 origin by the bucket's host name, global or regional.
S3_ORIGIN = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")

# deploy/terraform/storage_cdn.tf: bucket_prefix = "${var.name}-photos-".
PHOTO_BUCKET_NAME = re.compile(r"-photos(-|$)")

POSTGRES_ENGINES = ("postgres", "aurora-postgresql")
SERVING_STATES = ("pending", "running")


@functools.cache
def assignment() -> dict[str, Any]:
    return json.loads(ASSIGNMENT_PATH.read_text())


def tier(name: str) -> dict[str, Any]:
    return assignment()["tiers"][name]


def family_and_size(instance_type: str) -> tuple[str, str]:
    """("c", "large") for c7i.large and ("r", "large") for db.r7g.large; ("", "") when
    the name has another shape."""
    match = INSTANCE_TYPE.match(instance_type)
    return (match["family"], match["size"]) if match else ("", "")


def tag(resource: dict[str, Any], key: str) -> str:
    return next((t["Value"] for t in resource.get("Tags") or [] if t["Key"] == key), "")


def instances(account: AwsAccount, states: tuple[str, ...] = SERVING_STATES) -> list[dict]:
    """The region's EC2 instances in `states` (pending and running: those that serve)."""
    answer = account.listing(
        "ec2",
        "describe_instances",
        Filters=[{"Name": "instance-state-name", "Values": list(states)}],
    )
    return [
        instance
        for reservation in answer.get("Reservations", [])
        for instance in reservation["Instances"]
    ]


def tier_instances(account: AwsAccount, tier_name: str) -> list[dict]:
    """Serving instances whose Name tag says they belong to the tier."""
    pattern = re.compile(tier(tier_name)["name_tag"])
    return [i for i in instances(account) if pattern.match(tag(i, "Name"))]


def describe(instance: dict[str, Any]) -> str:
    """i-0abc (birdai-app, c7i.large): how a message names an instance."""
    name = tag(instance, "Name") or "no Name tag"
    return f"{instance['InstanceId']} ({name}, {instance['InstanceType']})"


def postgres_databases(account: AwsAccount) -> list[dict]:
    return [
        database
        for database in account.listing("rds", "describe_db_instances")["DBInstances"]
        if database["Engine"] in POSTGRES_ENGINES
    ]


def all_databases(account: AwsAccount) -> list[dict]:
    return account.listing("rds", "describe_db_instances")["DBInstances"]


def distributions(account: AwsAccount) -> list[dict]:
    answer = account.listing("cloudfront", "list_distributions")
    return answer.get("DistributionList", {}).get("Items", [])


def origin_bucket(origin: dict[str, Any]) -> str | None:
    match = S3_ORIGIN.match(origin["DomainName"])
    return match["bucket"] if match else None


def photo_buckets(account: AwsAccount) -> list[str]:
    """The account's buckets that hold photos: named like the reference's, or read by a
    CloudFront distribution."""
    names = [bucket["Name"] for bucket in account.client("s3").list_buckets()["Buckets"]]
    origins = {
        origin_bucket(origin)
        for distribution in distributions(account)
        for origin in distribution["Origins"]["Items"]
    }
    return [name for name in names if PHOTO_BUCKET_NAME.search(name) or name in origins]
