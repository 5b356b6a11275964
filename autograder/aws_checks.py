"""The checks over the AWS API (issue #16, item 6): what a student's account must look like
behind the deployment, read with the permission slip's read-only access.

Each check reads only configuration (describe/list/get calls, all named in
docs/aws/grader-read-only-policy.json); none reads a photo or a secret. A failure says
what was expected, what was found, and where to look: the Terraform file of
deploy/terraform/ that sets it, and the console page that shows it.

What the AWS API cannot show is left to the HTTP checks (autograder/http_checks.py):
PostGIS lives inside the database (the upload-with-GPS and map checks prove it works),
and nginx's upstream list lives on the proxy instance (the X-Served-By check proves
several app servers answer).
"""

import json
from collections.abc import Iterator
from typing import Any

import botocore.exceptions

from autograder import aws_resources as resources
from autograder.aws import AwsAccount, connect
from autograder.checks import Check, DeploymentWrong, Slip
from autograder.cost_guard import cost_guard
from autograder.iam_policies import data_reads, unique, write_grants
from autograder.slip_policies import slip_policies


def wrong(problem: str, *, expected: str, found: str, where: str) -> DeploymentWrong:
    return DeploymentWrong(
        f"{problem}\nExpected: {expected}\nFound: {found}\nWhere to look: {where}"
    )


def error_code(error: botocore.exceptions.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


# --- The photo bucket -----------------------------------------------------------------

BUCKET_WHERE = (
    "deploy/terraform/storage_cdn.tf (aws_s3_bucket_public_access_block, aws_s3_bucket_policy); "
    "S3 console -> Buckets -> your photo bucket -> Permissions"
)
PUBLIC_ACL_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def find_photo_buckets(account: AwsAccount) -> list[str]:
    buckets = resources.photo_buckets(account)
    if not buckets:
        raise wrong(
            "No photo bucket found.",
            expected="an S3 bucket named like <name>-photos-..., or the origin of a "
            "CloudFront distribution",
            found="no such bucket in the account",
            where=BUCKET_WHERE,
        )
    return buckets


def public_access_problems(account: AwsAccount, bucket: str) -> Iterator[str]:
    s3 = account.client("s3")
    try:
        settings = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        settings = {}
    off = [name for name in BLOCK_SETTINGS if not settings.get(name)]
    if off:
        yield f"Block Public Access settings off: {', '.join(off)}"
    try:
        if s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"]:
            yield "its bucket policy is public (AWS's own judgement: PolicyStatus.IsPublic)"
    except botocore.exceptions.ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    for grant in grants:
        if grant["Grantee"].get("URI") in PUBLIC_ACL_GROUPS:
            group = grant["Grantee"]["URI"].rsplit("/", 1)[1]
            yield f"its ACL grants {grant['Permission']} to {group}"


def photo_bucket_is_private(slip: Slip) -> str:
    account = connect(slip)
    buckets = find_photo_buckets(account)
    problems = {bucket: list(public_access_problems(account, bucket)) for bucket in buckets}
    found = [f"{bucket}: {'; '.join(found)}" for bucket, found in problems.items() if found]
    if found:
        raise wrong(
            "The photo bucket is not private.",
            expected="all four Block Public Access settings on, no public bucket policy, "
            "no ACL grant to everyone",
            found=" | ".join(found),
            where=BUCKET_WHERE,
        )
    return f"Private: {', '.join(buckets)}."


# --- CloudFront through Origin Access Control ---------------------------------------------

CDN_WHERE = (
    "deploy/terraform/storage_cdn.tf (aws_cloudfront_origin_access_control, the "
    "distribution's origin, data.aws_iam_policy_document.photos_bucket); CloudFront console "
    "-> Distributions -> Origins, and -> Origin access; docs/s3-cloudfront.md"
)


def good_origin_access_controls(account: AwsAccount) -> tuple[set[str], list[str]]:
    """The ids of OACs that sign S3 requests always with SigV4, and a description of all."""
    answer = account.listing("cloudfront", "list_origin_access_controls")
    controls = answer.get("OriginAccessControlList", {}).get("Items", [])
    good = {
        control["Id"]
        for control in controls
        if control["OriginAccessControlOriginType"] == "s3"
        and control["SigningProtocol"] == "sigv4"
        and control["SigningBehavior"] == "always"
    }
    described = [
        f"{control['Name']} ({control['OriginAccessControlOriginType']}, "
        f"{control['SigningProtocol']}, {control['SigningBehavior']})"
        for control in controls
    ]
    return good, described


def grants_cloudfront(statement: dict[str, Any], distribution_arn: str) -> bool:
    """Does this bucket policy statement let CloudFront read on behalf of this one
    distribution (the statement Origin Access Control needs)?"""
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal") or {}
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    if "cloudfront.amazonaws.com" not in ([services] if isinstance(services, str) else services):
        return False
    actions = statement.get("Action", [])
    if not {"s3:GetObject", "s3:Get*", "s3:*"} & set(
        [actions] if isinstance(actions, str) else actions
    ):
        return False
    for test in (statement.get("Condition") or {}).values():
        for key, value in test.items():
            values = [value] if isinstance(value, str) else value
            if key.lower() == "aws:sourcearn" and distribution_arn in values:
                return True
    return False


def bucket_policy_statements(account: AwsAccount, bucket: str) -> list[dict[str, Any]]:
    try:
        policy = account.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
        return []
    found = json.loads(policy).get("Statement", [])
    return [found] if isinstance(found, dict) else found


def cdn_reads_bucket_through_oac(slip: Slip) -> str:
    """What it reads, and why: the distribution's origin must name the bucket; an OAC
    that signs always with SigV4 must exist; the bucket policy must admit CloudFront for
    this distribution only (AWS:SourceArn). The origin's OriginAccessControlId is checked
    where AWS returns it; moto's stand-in drops it, so there the policy and the OAC are
    the evidence (docs/autograder.md)."""
    account = connect(slip)
    buckets = find_photo_buckets(account)
    serving = [
        (distribution, origin, resources.origin_bucket(origin))
        for distribution in resources.distributions(account)
        for origin in distribution["Origins"]["Items"]
        if resources.origin_bucket(origin) in buckets
    ]
    if not serving:
        raise wrong(
            "No CloudFront distribution serves the photo bucket.",
            expected=f"a distribution whose origin is {' or '.join(buckets)} (its "
            "<bucket>.s3.<region>.amazonaws.com name)",
            found="no distribution with that origin",
            where=CDN_WHERE,
        )
    good_controls, controls = good_origin_access_controls(account)
    if not good_controls:
        raise wrong(
            "No Origin Access Control signs CloudFront's requests to S3.",
            expected="an origin access control of type s3, signing protocol sigv4, "
            "signing behaviour always",
            found=", ".join(controls) or "no origin access control",
            where=CDN_WHERE,
        )
    notes = []
    for distribution, origin, bucket in serving:
        if "OriginAccessControlId" in origin:
            control = origin["OriginAccessControlId"]
            if control not in good_controls:
                legacy = origin.get("S3OriginConfig", {}).get("OriginAccessIdentity")
                raise wrong(
                    f"Distribution {distribution['Id']} reads {bucket} without Origin "
                    "Access Control.",
                    expected="the origin's origin access control is one that signs "
                    "always with SigV4",
                    found=f"OriginAccessControlId {control!r}"
                    + (f", a legacy origin access identity {legacy}" if legacy else ""),
                    where=CDN_WHERE,
                )
        else:
            notes.append(f"AWS did not return {distribution['Id']}'s OriginAccessControlId")
        statements = bucket_policy_statements(account, bucket)
        if not any(grants_cloudfront(s, distribution["ARN"]) for s in statements):
            raise wrong(
                f"The bucket policy of {bucket} does not admit its CloudFront distribution.",
                expected="an Allow of s3:GetObject to the service cloudfront.amazonaws.com "
                f"with the condition AWS:SourceArn = {distribution['ARN']}",
                found=f"{len(statements)} statement(s), none of them that one",
                where=CDN_WHERE,
            )
    served = ", ".join(f"{d['Id']} -> {b}" for d, _, b in serving)
    judged = f" ({'; '.join(notes)}: judged by the bucket policy and the OAC)" if notes else ""
    return f"Through Origin Access Control: {served}{judged}."


APP_SERVERS_EXPECTED = (
    "running EC2 instances whose Name tag matches "
    f"{resources.tier('app')['name_tag']} (deploy/terraform names them <name>-app)"
)


APP_SERVERS_WHERE = "deploy/terraform/app_servers.tf; EC2 console -> Instances -> Name"


def running_app_servers(account: AwsAccount) -> list[dict[str, Any]]:
    """The app tier's running instances; none at all is the student's to fix."""
    found = resources.tier_instances(account, "app")
    if not found:
        raise wrong(
            "No running app servers found.",
            expected=APP_SERVERS_EXPECTED,
            found="no such instance",
            where=APP_SERVERS_WHERE,
        )
    return found


# --- The database -----------------------------------------------------------------------

DATABASE_WHERE = (
    "deploy/terraform/database.tf (publicly_accessible, vpc_security_group_ids) and "
    "security_groups.tf; RDS console -> Databases -> your database -> Connectivity & security"
)


def find_databases(account: AwsAccount) -> list[dict[str, Any]]:
    databases = resources.postgres_databases(account)
    if not databases:
        others = [
            f"{d['DBInstanceIdentifier']} ({d['Engine']})" for d in resources.all_databases(account)
        ]
        raise wrong(
            f"No RDS PostgreSQL database in {account.region}.",
            expected="an RDS database with the engine postgres",
            found=", ".join(others) or "no RDS database at all",
            where=DATABASE_WHERE,
        )
    return databases


def database_is_private_postgres(slip: Slip) -> str:
    account = connect(slip)
    databases = find_databases(account)
    public = [d["DBInstanceIdentifier"] for d in databases if d.get("PubliclyAccessible")]
    if public:
        raise wrong(
            "The database can be reached from the internet.",
            expected="Publicly accessible: No (publicly_accessible = false): the database "
            "has no public address, only the app servers reach it",
            found=f"publicly accessible: {', '.join(public)}",
            where=DATABASE_WHERE,
        )
    named = ", ".join(
        f"{d['DBInstanceIdentifier']} ({d['Engine']} {d['EngineVersion']})" for d in databases
    )
    return (
        f"Private PostgreSQL: {named}. PostGIS is inside the database, where the AWS API "
        "cannot look: the HTTP checks that upload a photo with GPS and read the map prove it."
    )


def covers_port(permission: dict[str, Any], port: int) -> bool:
    if permission["IpProtocol"] == "-1":  # every protocol and port
        return True
    if permission["IpProtocol"] not in ("tcp", "6"):
        return False
    return permission.get("FromPort", 0) <= port <= permission.get("ToPort", 65535)


def sources(permission: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """("cidr", "0.0.0.0/0"), ("group", "sg-..."), ... for each source of a rule."""
    for entry in permission.get("IpRanges", []):
        yield "cidr", entry["CidrIp"]
    for entry in permission.get("Ipv6Ranges", []):
        yield "cidr", entry["CidrIpv6"]
    for entry in permission.get("PrefixListIds", []):
        yield "prefix list", entry["PrefixListId"]
    for entry in permission.get("UserIdGroupPairs", []):
        yield "group", entry["GroupId"]


def app_security_groups(account: AwsAccount) -> set[str]:
    """The groups of the app servers' network interfaces (AWS shows the primary one's as
    the instance's SecurityGroups too; moto only on the interface when launched with one)."""
    app_servers = running_app_servers(account)
    on_instances = {g["GroupId"] for i in app_servers for g in i.get("SecurityGroups", [])}
    on_interfaces = {
        g["GroupId"]
        for i in app_servers
        for interface in i.get("NetworkInterfaces", [])
        for g in interface.get("Groups", [])
    }
    return on_instances | on_interfaces


def database_reachable_only_from_app_servers(slip: Slip) -> str:
    account = connect(slip)
    databases = find_databases(account)
    app_groups = app_security_groups(account)
    for database in databases:
        port = (
            (database.get("Endpoint") or {}).get("Port") or database.get("DbInstancePort") or 5432
        )
        group_ids = [g["VpcSecurityGroupId"] for g in database["VpcSecurityGroups"]]
        # No ids at all would list every group of the account: ask only when there are.
        ec2 = account.client("ec2")
        groups = (
            ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"] if group_ids else []
        )
        admitted = [
            (group["GroupId"], kind, source)
            for group in groups
            for permission in group["IpPermissions"]
            if covers_port(permission, port)
            for kind, source in sources(permission)
        ]
        strangers = [
            f"{source} ({kind}, in {group})"
            for group, kind, source in admitted
            if source not in app_groups
        ]
        if strangers or not admitted:
            raise wrong(
                f"Database {database['DBInstanceIdentifier']}'s port {port} is open to more "
                "than the app servers."
                if strangers
                else f"Nothing may reach database {database['DBInstanceIdentifier']}'s port "
                f"{port}: the app servers cannot.",
                expected=f"port {port} admits only the app servers' security group "
                f"({', '.join(sorted(app_groups))}), no address range",
                found=", ".join(strangers) or "no rule for that port",
                where=DATABASE_WHERE,
            )
    groups = ", ".join(sorted(app_groups))
    return f"Reachable from the app servers' security group only ({groups})."


# --- Instance types per tier ----------------------------------------------------------------


def type_problem(tier_name: str, instance_type: str) -> str | None:
    family, size = resources.family_and_size(instance_type)
    wanted = resources.tier(tier_name)
    if family not in wanted["families"] or size not in wanted["sizes"]:
        return instance_type
    return None


def expected_types(tier_name: str) -> str:
    wanted = resources.tier(tier_name)
    families = "/".join(wanted["families"])
    return (
        f"{wanted['what']}: family {families}, size {'/'.join(wanted['sizes'])} ({wanted['why']})"
    )


def instance_types_match_the_assignment(slip: Slip) -> str:
    account = connect(slip)
    app_servers = running_app_servers(account)
    found = {
        "app": [(resources.describe(i), i["InstanceType"]) for i in app_servers],
        "proxy": [
            (resources.describe(i), i["InstanceType"])
            for i in resources.tier_instances(account, "proxy")
        ],
        "database": [
            (d["DBInstanceIdentifier"], d["DBInstanceClass"]) for d in find_databases(account)
        ],
    }
    for tier_name, members in found.items():
        bad = [name for name, instance_type in members if type_problem(tier_name, instance_type)]
        if bad:
            raise wrong(
                f"Wrong instance type for {resources.tier(tier_name)['what']}.",
                expected=expected_types(tier_name),
                found=", ".join(bad),
                where=resources.tier(tier_name)["where"],
            )
    return (
        "; ".join(
            f"{tier_name}: {', '.join(sorted({t for _, t in m}))}"
            for tier_name, m in found.items()
            if m
        )
        + "."
    )


# --- Behind a load balancer -----------------------------------------------------------------

BALANCER_WHERE = (
    "deploy/terraform/load_balancer.tf and app_servers.tf (target_group_arns), or proxy.tf; "
    "EC2 console -> Target groups -> Targets"
)


def target_states(account: AwsAccount) -> dict[str, str]:
    """instance id -> its health in a target group that a load balancer uses."""
    elbv2 = account.client("elbv2")
    groups = account.listing("elbv2", "describe_target_groups")["TargetGroups"]
    states = {}
    for group in groups:
        if not group.get("LoadBalancerArns"):
            continue  # a target group no load balancer sends to
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        for target in health["TargetHealthDescriptions"]:
            states[target["Target"]["Id"]] = target["TargetHealth"]["State"]
    return states


def app_servers_behind_a_load_balancer(slip: Slip) -> str:
    account = connect(slip)
    app_servers = running_app_servers(account)
    exposed = [resources.describe(i) for i in app_servers if i.get("PublicIpAddress")]
    if exposed:
        raise wrong(
            "App servers can be reached from the internet around the load balancer.",
            expected="app servers without a public address, in private subnets",
            found=f"public addresses on {', '.join(exposed)}",
            where="deploy/terraform/app_servers.tf (associate_public_ip_address = false); "
            "EC2 console -> Instances -> Public IPv4 address",
        )
    states = target_states(account)
    outside = [resources.describe(i) for i in app_servers if i["InstanceId"] not in states]
    proxies = resources.tier_instances(account, "proxy")
    if not outside:
        healthy = sum(states[i["InstanceId"]] == "healthy" for i in app_servers)
        in_group = f"{len(app_servers)} app servers in a load balancer's target group"
        return f"{in_group}, {healthy} of them healthy."
    if proxies:
        return (
            f"{len(app_servers)} app servers without public addresses behind the nginx proxy "
            f"{', '.join(resources.describe(p) for p in proxies)}; the HTTP check of "
            "X-Served-By proves it spreads requests over them."
        )
    raise wrong(
        "App servers are not behind a load balancer or the proxy.",
        expected="every app server a target of the load balancer's target group, or an "
        "nginx proxy instance (Name tag <name>-proxy) in front of them",
        found=f"not a target of any load balancer: {', '.join(outside)}; no proxy instance",
        where=BALANCER_WHERE,
    )


# --- The permission slip itself ------------------------------------------------------------


def slip_is_read_only(slip: Slip) -> str:
    account = connect(slip)
    policies = slip_policies(account)
    writes = {name: unique(write_grants(document)) for name, document in policies.items()}
    writers = [f"{name}: {', '.join(actions)}" for name, actions in writes.items() if actions]
    if writers:
        raise wrong(
            "The permission slip may change your account, not only read it.",
            expected="only describe/list/get actions: attach docs/aws/grader-read-only-policy.json "
            "and nothing else",
            found=" | ".join(writers),
            where="IAM console -> Users or Roles -> your grader identity -> Permissions "
            "(docs/aws/grader-access.md)",
        )
    extra = unique(action for document in policies.values() for action in data_reads(document))
    reading = f" It may also read data it does not need: {', '.join(extra)}." if extra else ""
    return f"Read-only: {', '.join(policies) or 'no policy'}.{reading}"


CHECKS: list[Check] = [
    Check("AWS: the photo bucket is private", 5, photo_bucket_is_private, ("aws", "s3")),
    Check(
        "AWS: CloudFront reads the bucket through Origin Access Control",
        5,
        cdn_reads_bucket_through_oac,
        ("aws", "cloudfront"),
    ),
    Check(
        "AWS: the database is RDS PostgreSQL, not publicly accessible",
        5,
        database_is_private_postgres,
        ("aws", "rds"),
    ),
    Check(
        "AWS: only the app servers' security group reaches the database",
        5,
        database_reachable_only_from_app_servers,
        ("aws", "rds", "security groups"),
    ),
    Check(
        "AWS: instance types per tier match the assignment",
        5,
        instance_types_match_the_assignment,
        ("aws", "ec2"),
    ),
    Check(
        "AWS: the app servers sit behind a load balancer or the proxy",
        5,
        app_servers_behind_a_load_balancer,
        ("aws", "elb"),
    ),
    Check("AWS: the permission slip is read-only", 5, slip_is_read_only, ("aws", "iam")),
    Check(
        "AWS cost guard: what your account is paying for (informs, 0 points)",
        0,
        cost_guard,
        ("aws", "cost"),
    ),
]
