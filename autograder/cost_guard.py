"""The cost guard: what the student's account has that costs money, and about how much a
month, so that they learn it before the credits run out. It informs and never costs
points (a 0-point check that passes with the list as its output).

Two figures, told apart in the report:
- PROJECTED: what runs now in every enabled region (autograder/aws_regions.py), priced
  per month from autograder/prices.json, a dated table committed with the grader, not
  from AWS's Pricing API (the slip has no access to it). Traffic is not in it.
- ACTUAL SPEND this month, by service, from Cost Explorer (autograder/cost_explorer.py):
  what AWS has billed, traffic included.
A region or Cost Explorer that cannot be read is a note, never a grader error.
"""

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.exceptions

from autograder import aws_resources as resources
from autograder.aws import AwsAccount, connect
from autograder.aws_regions import enabled_regions, read_within
from autograder.checks import DeploymentWrong, Slip
from autograder.cost_explorer import Spend, month_to_date_spend, spend_report, why_not_read

PRICES_PATH = Path(__file__).with_name("prices.json")

# All regions together are read within this (a region not read by then is named).
REGIONS_SECONDS = 45.0

# What AWS answers when a region or a service cannot be read with the slip: a refusal
# (autograder/aws.py makes it a DeploymentWrong), an AWS error, an endpoint that does not
# answer. Any other exception is a bug of the grader's, and a grader error.
UNREADABLE = (DeploymentWrong, botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)


@functools.cache
def prices() -> dict[str, Any]:
    return json.loads(PRICES_PATH.read_text())


def hourly(table: str, key: str) -> float | None:
    entry = prices()[table].get(key)
    return entry["usd"] if entry else None


def monthly(per_hour: float | None, count: float = 1) -> float | None:
    return None if per_hour is None else per_hour * prices()["hours_per_month"] * count


def per_gb_month(table: str, key: str | None, gigabytes: float) -> float | None:
    entry = prices()[table] if key is None else prices()[table].get(key)
    return None if entry is None else entry["usd"] * gigabytes


@dataclass(frozen=True)
class Cost:
    """One thing that costs money: what it is, its monthly cost (None: not in the
    price table), and what to do about it when it looks forgotten."""

    kind: str
    what: str
    per_month: float | None
    advice: str = ""


def instance_costs(account: AwsAccount) -> list[Cost]:
    costs = []
    for instance in resources.instances(account, ("pending", "running", "stopping", "stopped")):
        state = instance["State"]["Name"]
        if state in ("stopping", "stopped"):
            costs.append(
                Cost(
                    "EC2 instance",
                    f"{resources.describe(instance)}, {state}",
                    0.0,
                    "stopped: pays for its disks only",
                )
            )
            continue
        price = monthly(hourly("ec2_instance_per_hour", instance["InstanceType"]))
        costs.append(Cost("EC2 instance", f"{resources.describe(instance)}, {state}", price))
    return costs


def volume_costs(account: AwsAccount) -> list[Cost]:
    costs = []
    for volume in account.listing("ec2", "describe_volumes")["Volumes"]:
        attached = [a["InstanceId"] for a in volume.get("Attachments", [])]
        price = per_gb_month("ebs_volume_per_gb_month", volume["VolumeType"], volume["Size"])
        what = f"{volume['VolumeId']} ({volume['VolumeType']}, {volume['Size']} GB"
        what += f", on {', '.join(attached)})" if attached else ", NOT ATTACHED)"
        advice = "" if attached else "attached to nothing: delete it if you no longer need it"
        costs.append(Cost("EBS volume", what, price, advice))
    return costs


def serving_nat_gateways(account: AwsAccount) -> list[dict[str, Any]]:
    return account.listing(
        "ec2",
        "describe_nat_gateways",
        Filter=[{"Name": "state", "Values": ["pending", "available"]}],
    )["NatGateways"]


def address_costs(account: AwsAccount) -> list[Cost]:
    """Elastic IPs, and the public addresses instances got without one: AWS bills every
    public IPv4 address by the hour, attached or not."""
    per_address = monthly(hourly_flat("public_ipv4_per_hour"))
    nat_addresses = {
        address["AllocationId"]: gateway["NatGatewayId"]
        for gateway in serving_nat_gateways(account)
        for address in gateway.get("NatGatewayAddresses", [])
        if address.get("AllocationId")
    }
    costs = []
    elastic = account.client("ec2").describe_addresses()["Addresses"]
    for address in elastic:
        user = (
            address.get("InstanceId")
            or nat_addresses.get(address.get("AllocationId", ""))
            or (address.get("NetworkInterfaceId") if address.get("AssociationId") else None)
        )
        if user:
            costs.append(Cost("Elastic IP", f"{address['PublicIp']} (on {user})", per_address))
        else:
            costs.append(
                Cost(
                    "Elastic IP",
                    f"{address['PublicIp']} ({address.get('AllocationId', '')}), NOT ATTACHED",
                    per_address,
                    "attached to nothing: release it (EC2 console -> Elastic IPs)",
                )
            )
    elastic_ips = {address["PublicIp"] for address in elastic}
    for instance in resources.instances(account):
        public_ip = instance.get("PublicIpAddress")
        if public_ip and public_ip not in elastic_ips:
            costs.append(
                Cost("Public IPv4", f"{public_ip} of {instance['InstanceId']}", per_address)
            )
    return costs


def hourly_flat(table: str) -> float:
    return prices()[table]["usd"]


def nat_gateway_costs(account: AwsAccount) -> list[Cost]:
    per_gateway = monthly(hourly_flat("nat_gateway_per_hour"))
    return [
        Cost(
            "NAT gateway", f"{g['NatGatewayId']} (in {g['VpcId']}), plus $0.045 per GB", per_gateway
        )
        for g in serving_nat_gateways(account)
    ]


def load_balancer_costs(account: AwsAccount) -> list[Cost]:
    balancers = account.listing("elbv2", "describe_load_balancers")["LoadBalancers"]
    return [
        Cost(
            "Load balancer",
            f"{b['LoadBalancerName']} ({b['Type']}), plus capacity units",
            monthly(hourly("load_balancer_per_hour", b["Type"])),
        )
        for b in balancers
    ]


def database_costs(account: AwsAccount) -> list[Cost]:
    costs = []
    for database in resources.all_databases(account):
        name, status = database["DBInstanceIdentifier"], database["DBInstanceStatus"]
        storage_type = database.get("StorageType", "gp2")
        storage = per_gb_month(
            "rds_storage_per_gb_month", storage_type, database["AllocatedStorage"]
        )
        copies = 2 if database.get("MultiAZ") else 1
        running = (
            0.0
            if status == "stopped"
            else monthly(hourly("rds_instance_per_hour", database["DBInstanceClass"]), copies)
        )
        total = None if storage is None or running is None else running + storage * copies
        size = f"{database['AllocatedStorage']} GB {storage_type}"
        what = f"{name} ({database['DBInstanceClass']}, {size}"
        what += ", Multi-AZ" if copies == 2 else ""
        what += f", {status})"
        advice = (
            "stopped: RDS starts it again by itself after seven days" if status == "stopped" else ""
        )
        costs.append(Cost("RDS database", what, total, advice))
    return costs


def snapshot_costs(account: AwsAccount) -> list[Cost]:
    costs = []
    snapshots = account.listing("ec2", "describe_snapshots", OwnerIds=["self"])["Snapshots"]
    # OwnerIds=["self"] is all AWS needs; moto ignores it and adds its own images'
    # snapshots (unless told not to load images, as tooling/servers/moto.py does).
    for snapshot in [s for s in snapshots if s.get("OwnerId") == account.account_id]:
        costs.append(
            Cost(
                "EBS snapshot",
                f"{snapshot['SnapshotId']} ({snapshot['VolumeSize']} GB at most)",
                per_gb_month("ebs_snapshot_per_gb_month", None, snapshot["VolumeSize"]),
                "delete it when you no longer need it",
            )
        )
    for snapshot in account.listing("rds", "describe_db_snapshots")["DBSnapshots"]:
        if snapshot.get("SnapshotType") != "manual":
            continue  # automated backups, free up to the database's size
        costs.append(
            Cost(
                "RDS snapshot",
                f"{snapshot['DBSnapshotIdentifier']} ({snapshot['AllocatedStorage']} GB)",
                per_gb_month("rds_snapshot_per_gb_month", None, snapshot["AllocatedStorage"]),
                "kept after its database: delete it when you no longer need it",
            )
        )
    return costs


COLLECTORS = (
    instance_costs,
    volume_costs,
    address_costs,
    nat_gateway_costs,
    load_balancer_costs,
    database_costs,
    snapshot_costs,
)


def account_costs(account: AwsAccount) -> list[Cost]:
    return [cost for collect in COLLECTORS for cost in collect(account)]


def dollars(amount: float | None) -> str:
    return "no price in the table" if amount is None else f"${amount:,.2f}"


@dataclass
class Findings:
    """Everything the cost guard learnt, for the report."""

    regions_read: list[str]
    costs: dict[str, list[Cost]]  # region -> what costs money there
    not_read: dict[str, str] = field(default_factory=dict)  # region -> why
    late: list[str] = field(default_factory=list)  # regions not read within REGIONS_SECONDS
    spend: Spend | None = None
    spend_note: str = ""


def projection_report(findings: Findings) -> list[str]:
    table = prices()
    lines = [
        f"PROJECTED from what runs now, per month, at the on-demand prices of "
        f"{table['region']} in autograder/prices.json (each price's date and source are "
        "there; other regions differ a little; traffic is not in it, the actual spend "
        f"below is). Regions read: {len(findings.regions_read)}.",
    ]
    everything = []
    for region in sorted(findings.costs):
        lines.append(f"{region}:")
        for cost in findings.costs[region]:
            line = f"  {cost.kind}: {cost.what}: {dollars(cost.per_month)} a month"
            lines.append(line + (f"  <- {cost.advice}" if cost.advice else ""))
        everything += findings.costs[region]
    if not everything:
        lines.append("  nothing that costs money in any region read")
    total = sum(c.per_month for c in everything if c.per_month is not None)
    lines.append(f"About ${total:,.2f} a month (${total / 30:,.2f} a day) for what has a price.")
    unpriced = [c.what for c in everything if c.per_month is None]
    if unpriced:
        lines.append(f"Not in the price table, so not in the total: {'; '.join(unpriced)}.")
    for region, why in sorted(findings.not_read.items()):
        lines.append(f"Not read: {region}: {why}")
    if findings.late:
        lines.append(
            f"Not read within {REGIONS_SECONDS:g} s, so not in the total: "
            f"{', '.join(findings.late)}."
        )
    return lines


def report(findings: Findings) -> str:
    lines = ["What your account costs. This informs you; it never costs points.", ""]
    lines += projection_report(findings)
    lines.append("")
    if findings.spend is not None:
        lines += spend_report(findings.spend)
    else:
        lines.append(f"ACTUAL SPEND this month: not read. {findings.spend_note}")
    return "\n".join(lines)


def regions_to_read(account: AwsAccount) -> tuple[list[str], dict[str, str]]:
    """The enabled regions; only the slip's own when they cannot be listed."""
    try:
        return enabled_regions(account), {}
    except UNREADABLE as error:
        why = f"the account's regions could not be listed ({error}); only this one was read"
        return [account.region], {"other regions": why}


def read_costs(account: AwsAccount) -> Findings:
    regions, not_read = regions_to_read(account)
    readings = read_within(
        lambda region: account_costs(account.in_region(region)), regions, seconds=REGIONS_SECONDS
    )
    for region, error in readings.errors.items():
        if not isinstance(error, UNREADABLE):
            raise error  # a bug in the grader
        not_read[region] = str(error)
    costs = {region: found for region, found in readings.results.items() if found}
    return Findings(regions, costs, not_read, readings.unfinished)


def cost_guard(slip: Slip) -> str:
    account = connect(slip)
    findings = read_costs(account)
    try:
        findings.spend = month_to_date_spend(account, datetime.now(UTC).date())
    except UNREADABLE as error:
        findings.spend_note = why_not_read(error)
    return report(findings)
