"""A student's AWS account as deploy/terraform leaves it, built with boto3 in moto (the
stand-in for AWS of the autograder's tests and of scripts/autograder-image-test), and the
grader's two ways in: an IAM user's key and a role, each with
docs/aws/grader-read-only-policy.json.

    deployment = build_reference_deployment()   # boto3 must point at moto's server
    deployment.grader_key.access_key_id         # the read-only user's key

Names, tags, rules and settings follow the Terraform files named beside each step; where
moto needs a shortcut, the comment says so (e.g. the app servers are run and registered
in the target group directly, as the Auto Scaling group of app_servers.tf would).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tooling.servers.moto import REGION

NAME = "birdai"  # deploy/terraform/variables.tf: name
# What docs/aws/grader-access.md tells students to attach (autograder/iam_policies.py
# reads the same file; the tooling cannot import the autograder).
REPOSITORY = Path(__file__).resolve().parents[1]
GRADER_POLICY_PATH = REPOSITORY / "docs" / "aws" / "grader-read-only-policy.json"
APP_PORT = 80
DATABASE_PORT = 5432
# Any AMI id: moto runs it without checking (it loads no images: tooling/servers/moto.py).
IMAGE_ID = "ami-12c6146b"
READ_ONLY_ROLE = "birdai-grader"
EXTERNAL_ID = "birdai-course-2026-student-42"  # the one the assignment would give


@dataclass
class GraderKey:
    """The read-only IAM user's access key (a slip's access_key_id, secret_access_key)."""

    access_key_id: str
    secret_access_key: str


@dataclass
class GraderRole:
    """The read-only role the grader assumes (a slip's role_arn, external_id)."""

    role_arn: str
    external_id: str


@dataclass
class Deployment:
    """The ids a test needs to break one thing."""

    vpc: str = ""
    subnets: dict[str, list[str]] = field(default_factory=dict)  # public / app / database
    groups: dict[str, str] = field(default_factory=dict)  # load_balancer / app_servers / database
    app_servers: list[str] = field(default_factory=list)
    target_group: str = ""
    load_balancer: str = ""
    database: str = "birdai"
    bucket: str = f"{NAME}-photos-20261203"
    distribution_arn: str = ""
    grader_key: GraderKey | None = None
    grader_role: GraderRole | None = None

    def client(self, service: str) -> Any:
        """A client with moto's administrator keys (the environment's), to build or break."""
        return boto3.client(service, region_name=REGION)


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def build_network(deployment: Deployment) -> None:
    """network.tf and security_groups.tf: a VPC, public/app/database subnets in two zones,
    one NAT gateway, and the three security groups linked by group, not by address."""
    ec2 = deployment.client("ec2")
    deployment.vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [f"{REGION}a", f"{REGION}b"]
    for kind, offset in (("public", 0), ("app", 10), ("database", 20)):
        deployment.subnets[kind] = [
            ec2.create_subnet(
                VpcId=deployment.vpc,
                CidrBlock=f"10.0.{offset + index}.0/24",
                AvailabilityZone=zone,
            )["Subnet"]["SubnetId"]
            for index, zone in enumerate(zones)
        ]
    nat_address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_nat_gateway(SubnetId=deployment.subnets["public"][0], AllocationId=nat_address)
    for kind in ("load_balancer", "app_servers", "database"):
        deployment.groups[kind] = ec2.create_security_group(
            GroupName=f"{NAME}-{kind.replace('_', '-')}",
            Description=kind,
            VpcId=deployment.vpc,
        )["GroupId"]
    groups = deployment.groups
    ec2.authorize_security_group_ingress(
        GroupId=groups["load_balancer"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
            for port in (80, 443)
        ],
    )
    allow_from_group(deployment, "app_servers", APP_PORT, groups["load_balancer"])
    allow_from_group(deployment, "database", DATABASE_PORT, groups["app_servers"])


def allow_from_group(deployment: Deployment, group: str, port: int, source: str) -> None:
    deployment.client("ec2").authorize_security_group_ingress(
        GroupId=deployment.groups[group],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "UserIdGroupPairs": [{"GroupId": source}],
            }
        ],
    )


def run_app_servers(
    deployment: Deployment, count: int = 2, instance_type: str = "c7i.large"
) -> list[str]:
    """app_servers.tf: c7i.large in the app subnets, no public address, the app servers'
    group, Name <name>-app (the Auto Scaling group's tag)."""
    ec2 = deployment.client("ec2")
    started = []
    for index in range(count):
        answer = ec2.run_instances(
            ImageId=IMAGE_ID,
            MinCount=1,
            MaxCount=1,
            InstanceType=instance_type,
            NetworkInterfaces=[
                {
                    "DeviceIndex": 0,
                    "SubnetId": deployment.subnets["app"][index % 2],
                    "Groups": [deployment.groups["app_servers"]],
                    "AssociatePublicIpAddress": False,
                }
            ],
            BlockDeviceMappings=[
                {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3"}}
            ],
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": tags(Name=f"{NAME}-app", Project=NAME)}
            ],
        )
        started += [instance["InstanceId"] for instance in answer["Instances"]]
    deployment.app_servers += started
    return started


def run_proxy(deployment: Deployment, instance_type: str = "c7i.large") -> str:
    """proxy.tf (load_balancer = "nginx"): one instance in a public subnet, the load
    balancer's group, Name <name>-proxy, with an Elastic IP."""
    ec2 = deployment.client("ec2")
    proxy = ec2.run_instances(
        ImageId=IMAGE_ID,
        MinCount=1,
        MaxCount=1,
        InstanceType=instance_type,
        SubnetId=deployment.subnets["public"][0],
        SecurityGroupIds=[deployment.groups["load_balancer"]],
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags(Name=f"{NAME}-proxy")}],
    )["Instances"][0]["InstanceId"]
    attach_elastic_ip(deployment, proxy)
    return proxy


def attach_elastic_ip(deployment: Deployment, instance: str) -> None:
    ec2 = deployment.client("ec2")
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=allocation, InstanceId=instance)


def build_load_balancer(deployment: Deployment) -> None:
    """load_balancer.tf: an internet-facing ALB in the public subnets, a target group
    (health check /readyz) with the app servers in it, an HTTP listener."""
    elbv2 = deployment.client("elbv2")
    deployment.load_balancer = elbv2.create_load_balancer(
        Name=NAME,
        Subnets=deployment.subnets["public"],
        SecurityGroups=[deployment.groups["load_balancer"]],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    deployment.target_group = elbv2.create_target_group(
        Name=NAME,
        Protocol="HTTP",
        Port=APP_PORT,
        VpcId=deployment.vpc,
        HealthCheckPath="/readyz",
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=deployment.load_balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": deployment.target_group}],
    )
    elbv2.register_targets(
        TargetGroupArn=deployment.target_group,
        Targets=[{"Id": instance, "Port": APP_PORT} for instance in deployment.app_servers],
    )


def build_database(deployment: Deployment) -> None:
    """database.tf: RDS PostgreSQL 15, db.r7g.large, private, the database group only."""
    rds = deployment.client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName=NAME,
        DBSubnetGroupDescription=NAME,
        SubnetIds=deployment.subnets["database"],
    )
    rds.create_db_instance(
        DBInstanceIdentifier=deployment.database,
        Engine="postgres",
        EngineVersion="15",
        DBInstanceClass="db.r7g.large",
        AllocatedStorage=20,
        StorageType="gp3",
        StorageEncrypted=True,
        DBName="birdai",
        MasterUsername="birdai_admin",
        MasterUserPassword="not-a-real-password",  # moto keeps it in memory
        DBSubnetGroupName=NAME,
        VpcSecurityGroupIds=[deployment.groups["database"]],
        PubliclyAccessible=False,
        MultiAZ=False,
        Port=DATABASE_PORT,
    )


def build_photos_and_cdn(deployment: Deployment) -> None:
    """storage_cdn.tf: the private bucket (all four public access blocks, ACLs off), an
    OAC that signs always with SigV4, the distribution reading the bucket through it, and
    the bucket policy that admits CloudFront for this distribution only."""
    s3 = deployment.client("s3")
    bucket = deployment.bucket
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    cloudfront = deployment.client("cloudfront")
    control = cloudfront.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": f"{NAME}-photos",
            "Description": "CloudFront signs its requests to the photo bucket",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "birdai-photos",
            "Comment": "bird.ai photos",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "photos",
                        "DomainName": f"{bucket}.s3.{REGION}.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": control,
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "photos",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
            },
        }
    )["Distribution"]
    deployment.distribution_arn = distribution["ARN"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(cloudfront_only_policy(deployment)))


def cloudfront_only_policy(deployment: Deployment) -> dict[str, Any]:
    """storage_cdn.tf's data.aws_iam_policy_document.photos_bucket."""
    arn = f"arn:aws:s3:::{deployment.bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudFrontReadsPhotos",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{arn}/submissions/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": deployment.distribution_arn}},
            },
            {
                "Sid": "DenyPlainHTTP",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def grader_identities(deployment: Deployment, policy: dict[str, Any] | None = None) -> None:
    """docs/aws/grader-access.md: an IAM user with the grader's policy (as a managed
    policy, attached), and a role with the same policy (inline) for the role slip. The
    user is also in a group with an inline policy, so that every way IAM can give a user
    permissions is read (the policy test needs each of those calls made once)."""
    iam = deployment.client("iam")
    document = json.dumps(policy or json.loads(GRADER_POLICY_PATH.read_text()))
    policy_arn = iam.create_policy(PolicyName="birdai-grader-read-only", PolicyDocument=document)[
        "Policy"
    ]["Arn"]
    iam.create_user(UserName="birdai-grader")
    iam.attach_user_policy(UserName="birdai-grader", PolicyArn=policy_arn)
    iam.put_user_policy(UserName="birdai-grader", PolicyName="who-am-i", PolicyDocument=who_am_i())
    iam.create_group(GroupName="graders")
    iam.add_user_to_group(GroupName="graders", UserName="birdai-grader")
    iam.put_group_policy(GroupName="graders", PolicyName="who-am-i", PolicyDocument=who_am_i())
    iam.attach_group_policy(GroupName="graders", PolicyArn=policy_arn)
    key = iam.create_access_key(UserName="birdai-grader")["AccessKey"]
    deployment.grader_key = GraderKey(key["AccessKeyId"], key["SecretAccessKey"])
    role = iam.create_role(
        RoleName=READ_ONLY_ROLE,
        AssumeRolePolicyDocument=json.dumps(trust_policy()),
    )["Role"]
    iam.put_role_policy(RoleName=READ_ONLY_ROLE, PolicyName="grader", PolicyDocument=document)
    iam.attach_role_policy(RoleName=READ_ONLY_ROLE, PolicyArn=policy_arn)
    deployment.grader_role = GraderRole(role["Arn"], EXTERNAL_ID)


def who_am_i() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
        }
    )


def trust_policy() -> dict[str, Any]:
    """docs/aws/grader-access.md's trust policy (moto does not check it)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }


def build_reference_deployment(deployment: Deployment | None = None) -> Deployment:
    """The whole account as `terraform apply` with the defaults leaves it (ALB mode), its
    ids kept in `deployment` (a new Deployment if None)."""
    deployment = deployment or Deployment()
    build_network(deployment)
    run_app_servers(deployment)
    build_load_balancer(deployment)
    build_database(deployment)
    build_photos_and_cdn(deployment)
    grader_identities(deployment)
    return deployment
