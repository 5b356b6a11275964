"""Creates the photo bucket on the compose stack's S3 server (run by the "migrate"
service after the database migrations). Safe to run again.

The bucket stays private: only GETs from the CDN container's fixed address
(CDN_SOURCE_ADDRESS) are allowed without a signature, standing in for CloudFront's
Origin Access Control (docs/s3-cloudfront.md).
"""

import json
import os

import boto3
from botocore.config import Config

bucket = os.environ["AWS_STORAGE_BUCKET_NAME"]
cdn_address = os.environ["CDN_SOURCE_ADDRESS"]
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["AWS_S3_ENDPOINT_URL"],
    region_name=os.environ.get("AWS_S3_REGION_NAME") or "us-east-1",
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}),
)
existing = {entry["Name"] for entry in s3.list_buckets().get("Buckets", [])}
if bucket not in existing:
    s3.create_bucket(Bucket=bucket)
policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadObjectsFromTheCdnOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"IpAddress": {"aws:SourceIp": f"{cdn_address}/32"}},
        }
    ],
}
s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
print(f"bucket {bucket} ready; readable from {cdn_address} only")
