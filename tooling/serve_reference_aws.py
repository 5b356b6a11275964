"""moto's server on loopback holding the reference AWS account, and the permission slip a
student would submit for it, until stopped (SIGTERM or SIGINT). scripts/autograder-image-test
grades with it from the grader's image, as Gradescope would grade a student's account.

    python -m tooling.serve_reference_aws --url http://127.0.0.1:8080 \\
        --slip submission/deployment.json --endpoint-file moto.endpoint

The slip names `--url` and the read-only IAM user's key (a role slip needs the grader's
own AWS credentials to assume it, which a local run does not have). The endpoint file
(moto's URL, for AWS_ENDPOINT_URL) is written last, once everything is ready.
"""

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from tooling.reference_aws_account import build_reference_deployment
from tooling.servers.moto import CLEARED_VARIABLES, REGION, MotoServer


def stop(signum: int, frame: object) -> None:
    sys.exit(0)  # leaves the `with` below, which stops moto's server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.serve_reference_aws")
    parser.add_argument("--url", required=True, help="the deployment the slip names")
    parser.add_argument("--slip", type=Path, required=True, help="deployment.json to write")
    parser.add_argument("--endpoint-file", type=Path, required=True, help="for moto's URL")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with MotoServer() as aws:
        # boto3, building the account here, talks to moto with its administrator keys.
        for name in CLEARED_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(aws.client_environment())
        deployment = build_reference_deployment()
        key = deployment.grader_key
        slip = {
            "url": args.url,
            "region": REGION,
            "access_key_id": key.access_key_id,
            "secret_access_key": key.secret_access_key,
        }
        args.slip.write_text(json.dumps(slip, indent=2) + "\n")
        args.endpoint_file.write_text(aws.endpoint_url + "\n")
        print(f"moto at {aws.endpoint_url}: the reference account", flush=True)
        while True:
            signal.pause()


if __name__ == "__main__":
    sys.exit(main())
