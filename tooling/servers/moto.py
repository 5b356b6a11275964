"""moto's server: a local stand-in for the AWS APIs the tests and the course's autograder
read, on a free loopback port.

    with MotoServer() as aws:
        os.environ["AWS_ENDPOINT_URL"] = aws.endpoint_url   # every boto3 client goes there
        ...
        aws.reset()                                         # forget every resource

It is the one stand-in the tests use for a cloud service: there is no local AWS. moto
keeps the resources it is told about in memory and answers describe/list calls about
them; it does not run instances or databases, and it does not check IAM permissions
unless told to.
Any access key works; moto keeps every account's resources apart by the key's account.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

from tooling.servers.net import LOOPBACK, free_port, http_request, http_status
from tooling.servers.process import ServerProcess, ServerStartError

# The region the tests and the reference deployment (Terraform's default) use.
REGION = "us-east-1"


def moto_server_binary() -> str:
    # moto[server] installs `moto_server` next to the virtualenv's python.
    beside_python = Path(sys.executable).parent / "moto_server"
    if not beside_python.exists():
        raise ServerStartError("moto_server not found: pip install -r requirements-dev.txt")
    return str(beside_python)


# Variables that would add to client_environment()'s credentials; unset them beside it.
CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN")


class MotoServer(ServerProcess):
    name = "moto"

    def __init__(self, *, port: int | None = None) -> None:
        super().__init__()
        self.port = port or free_port()
        self.endpoint_url = f"http://{LOOPBACK}:{self.port}"

    def command(self) -> list[str]:
        return [moto_server_binary(), "-H", LOOPBACK, "-p", str(self.port)]

    def popen_options(self) -> dict[str, Any]:
        # The server must never sign anything with, or fall back to, real credentials
        # found in the environment; it needs none.
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith("AWS_")
        }
        # No built-in images: moto would otherwise list some 1,300 snapshots of its own
        # images in every region, where a student's account has none, and reading every
        # region (the cost guard) would take ten times as long. Any AMI id still runs.
        settings = {"AWS_DEFAULT_REGION": REGION, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
        return {"env": {**environment, **settings}, "cwd": self.workdir}

    def is_ready(self) -> bool:
        # moto's own API (not an AWS one) answers once the server handles requests.
        return http_status(f"{self.endpoint_url}/moto-api/data.json") == 200

    def reset(self) -> None:
        """Forget every resource of every account, as a new server would."""
        answer = http_request("POST", f"{self.endpoint_url}/moto-api/reset")
        if answer.status != 200:
            raise ServerStartError(f"moto reset answered {answer.status}: {answer.body[:200]!r}")

    def queue_cost_and_usage(self, *answers: dict[str, Any]) -> None:
        """What Cost Explorer's GetCostAndUsage answers next (moto tracks no spending of
        its own, and answers nothing unless told): each new request takes the next answer,
        the same request again gets the same one."""
        body = json.dumps({"results": list(answers)}).encode()
        url = f"{self.endpoint_url}/moto-api/static/ce/cost-and-usage-results"
        answer = http_request("POST", url, body=body, headers={"Content-Type": "application/json"})
        if answer.status != 201:
            raise ServerStartError(f"moto answered {answer.status}: {answer.body[:200]!r}")

    def client_environment(self) -> dict[str, str]:
        """What points boto3 at this server, with throwaway keys (never real ones)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any key
            "AWS_DEFAULT_REGION": REGION,
            # Nor the config files of the machine's user (unset AWS_PROFILE and
            # AWS_SESSION_TOKEN too: CLEARED_VARIABLES).
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
