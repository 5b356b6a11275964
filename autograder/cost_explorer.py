"""What the student's account has actually spent this month, by service, as AWS Cost
Explorer has billed it so far (ce:GetCostAndUsage): traffic included, which the cost
guard's projection from prices.json cannot see (data transfer out, NAT gateway gigabytes,
load balancer capacity units, requests).

AWS charges $0.01 per GetCostAndUsage request; the grader makes one per run (more only
for an account with hundreds of kinds of usage). Cost Explorer may be off, not ready
(its first data comes up to a day after it is enabled), or refused to the slip (an
older policy, an account of AWS Academy or of an organization that forbids it): each is a
note for the student, never a grader error, as the rest of the cost guard stands without it.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import botocore.exceptions

from autograder.aws import AwsAccount
from autograder.checks import DeploymentWrong

# Cost Explorer answers from one region whatever the account's regions.
CE_REGION = "us-east-1"
METRIC = "UnblendedCost"

# Usage types that grow with traffic, not with time: USE1-DataTransfer-Out-Bytes,
# USE1-NatGateway-Bytes, USE1-LCUUsage, US-Requests-Tier1, EU-DataTransfer-Out-Bytes...
TRAFFIC_USAGE = re.compile(r"DataTransfer|Bytes|LCUUsage|Requests")

# What rounds to $0.00 is left out of the list.
SHOWN_FROM_USD = 0.005


@dataclass
class Spend:
    """Month-to-date spend: per service its total and the part that is traffic."""

    start: date
    end: date  # exclusive, as Cost Explorer counts
    by_service: dict[str, float] = field(default_factory=dict)
    traffic_by_service: dict[str, float] = field(default_factory=dict)
    estimated: bool = False
    currency: str = "USD"

    @property
    def total(self) -> float:
        return sum(self.by_service.values())

    @property
    def traffic(self) -> float:
        return sum(self.traffic_by_service.values())


def this_month(today: date) -> tuple[date, date]:
    """From the 1st to today, today included (Cost Explorer's end date is exclusive)."""
    return today.replace(day=1), today + timedelta(days=1)


def month_to_date_spend(account: AwsAccount, today: date) -> Spend:
    start, end = this_month(today)
    client = account.in_region(CE_REGION).client("ce")
    spend = Spend(start, end)
    parameters = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "MONTHLY",
        "Metrics": [METRIC],
        "GroupBy": [
            {"Type": "DIMENSION", "Key": "SERVICE"},
            {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
        ],
    }
    while True:
        answer = client.get_cost_and_usage(**parameters)
        for period in answer.get("ResultsByTime", []):
            spend.estimated |= bool(period.get("Estimated"))
            for group in period.get("Groups", []):
                service, usage_type = group["Keys"]  # the two GroupBy dimensions
                cost = group["Metrics"][METRIC]
                amount = float(cost["Amount"])
                spend.currency = cost.get("Unit", spend.currency)
                spend.by_service[service] = spend.by_service.get(service, 0.0) + amount
                if TRAFFIC_USAGE.search(usage_type):
                    traffic = spend.traffic_by_service.get(service, 0.0)
                    spend.traffic_by_service[service] = traffic + amount
        if not answer.get("NextPageToken"):
            return spend
        parameters["NextPageToken"] = answer["NextPageToken"]


def why_not_read(error: Exception) -> str:
    """The student's note when Cost Explorer could not be read."""
    if isinstance(error, DeploymentWrong):  # refused (autograder/aws.py judged it)
        return (
            "AWS refused the slip ce:GetCostAndUsage. Attach the grader's policy as it is "
            "now (docs/aws/grader-access.md); some accounts (AWS Academy, an organization's "
            "member account) may not use Cost Explorer at all: then look at the Billing "
            "console yourself."
        )
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code == "DataUnavailableException":
            return (
                "Cost Explorer has no data yet: it starts up to a day after it is first "
                "opened (Billing console -> Cost Explorer)."
            )
        message = error.response.get("Error", {}).get("Message", "")
        return f"Cost Explorer answered {code}: {message}"
    return f"Cost Explorer could not be reached ({type(error).__name__}: {error})"


def dollars(amount: float) -> str:
    return f"${amount:,.2f}"


def spend_report(spend: Spend) -> list[str]:
    last_day = spend.end - timedelta(days=1)
    lines = [
        f"ACTUAL SPEND this month ({spend.start:%d %b} to {last_day:%d %b %Y}), from AWS "
        "Cost Explorer, all regions, traffic included"
        + (" (AWS's estimate until the month's bill closes)" if spend.estimated else "")
        + ":"
    ]
    shown = sorted(
        ((amount, service) for service, amount in spend.by_service.items()),
        reverse=True,
    )
    for amount, service in shown:
        if amount < SHOWN_FROM_USD:
            continue
        traffic = spend.traffic_by_service.get(service, 0.0)
        of_which = f" (traffic {dollars(traffic)})" if traffic >= SHOWN_FROM_USD else ""
        lines.append(f"  {service}: {dollars(amount)}{of_which}")
    if len(lines) == 1:
        lines.append("  nothing billed yet")
    lines.append(
        f"Spent so far: {dollars(spend.total)} {spend.currency}, of which traffic (data "
        f"transfer, NAT gigabytes, load balancer capacity units, requests) "
        f"{dollars(spend.traffic)}."
    )
    return lines
