"""`manage.py create_bucket [--readable-from ADDRESS]`: makes the photo bucket that the
settings name (AWS_STORAGE_BUCKET_NAME) on their S3 server, if it is not there yet.

For the compose stack and other setups without CloudFront. On AWS the bucket is made
once by hand or by Terraform, with the Origin Access Control policy of docs/aws/: do
not run --readable-from there, as it replaces the bucket's whole policy, and would cut
CloudFront off. The bucket stays private. With --readable-from, unsigned GETs of its
objects are let in from that one address, the CDN's (shared/bucket_policy.py).

Safe to run again, or twice at once: an existing bucket is kept (with --readable-from,
its policy is written again).
"""

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from storages.backends.s3 import S3Storage

from shared.bucket_policy import read_objects_policy


class Command(BaseCommand):
    help = "Creates the photo bucket if missing; --readable-from lets a CDN's address read."

    def add_arguments(self, parser):
        parser.add_argument(
            "--readable-from",
            metavar="ADDRESS",
            help="the one IP address allowed to GET objects unsigned (the CDN stand-in)",
        )

    def handle(self, *args, readable_from=None, **options):
        if not isinstance(default_storage, S3Storage):
            raise CommandError(
                "Photos are stored on the local disk: set AWS_STORAGE_BUCKET_NAME to use S3."
            )
        # The storage's own client: the settings' endpoint, region and credentials.
        s3 = default_storage.connection.meta.client
        bucket = default_storage.bucket_name
        try:
            created = create_if_missing(s3, bucket)
            self.stdout.write(f"bucket {bucket} {'created' if created else 'exists'}")
            if readable_from:
                policy = read_objects_policy(bucket, from_address=readable_from)
                s3.put_bucket_policy(Bucket=bucket, Policy=policy)
                self.stdout.write(f"objects readable unsigned from {readable_from} only")
        except (BotoCoreError, ClientError) as error:
            raise CommandError(f"S3 refused or failed for bucket {bucket}: {error}") from error


def create_if_missing(s3, bucket: str) -> bool:
    """True if the bucket was made now. HEAD asks only about this bucket, so the app's
    own credentials suffice (listing every bucket needs s3:ListAllMyBuckets)."""
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"404", "NoSuchBucket"}:
            raise  # 403: the bucket is someone else's, or these credentials may not see it
    try:
        s3.create_bucket(Bucket=bucket, **location(s3.meta.region_name))
    except s3.exceptions.BucketAlreadyOwnedByYou:
        return False  # another run made it in the meantime
    return True


def location(region: str | None) -> dict:
    """S3 wants a bucket's region named, except us-east-1, where naming it is an error."""
    if not region or region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": region}}
