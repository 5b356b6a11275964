"""The S3 bucket policy that lets a CDN read photos without signing its requests.

On AWS the bucket trusts one CloudFront distribution (Origin Access Control; the
policy is in docs/aws/). Where no CloudFront exists, in the compose stack and the
tests, the bucket trusts the one address the nginx CDN connects from instead:
SeaweedFS checks aws:SourceIp against the TCP peer, not X-Forwarded-For. Used by
`manage.py create_bucket` and the tests' S3 server (tooling/servers/seaweed.py).
"""

import json


def read_objects_policy(bucket: str, *, from_address: str | None = None) -> str:
    """Anyone may GET objects (not list them), unsigned; with from_address, only
    requests from that one address. As JSON, as put_bucket_policy takes it."""
    statement = {
        "Sid": "ReadObjectsFromTheCdnOnly" if from_address else "PublicReadObjects",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*"],
    }
    if from_address:
        statement["Condition"] = {"IpAddress": {"aws:SourceIp": f"{from_address}/32"}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
