"""STORAGES settings that put the app's files on a test S3 server, built by the same
shared.storage.s3_storage_options the production settings use."""

from shared.storage import s3_storage_options

STATIC_FILES = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def s3_storage_setting(s3_server, bucket: str, **options) -> dict:
    """STORAGES["default"] for this bucket, signed with the server's key; `options` go to
    s3_storage_options (custom_domain=, cloudfront_key=, ...)."""
    environment = s3_server.django_environment(bucket)
    return {
        "BACKEND": "shared.photo_storage.PhotoStorage",
        "OPTIONS": {
            **s3_storage_options(
                bucket_name=bucket,
                endpoint_url=environment["AWS_S3_ENDPOINT_URL"],
                region_name=environment["AWS_S3_REGION_NAME"],
                **options,
            ),
            "access_key": environment["AWS_ACCESS_KEY_ID"],
            "secret_key": environment["AWS_SECRET_ACCESS_KEY"],
        },
    }


def s3_storages(s3_server, bucket: str, **options) -> dict:
    """The whole STORAGES setting: files on S3, static files from the apps' folders."""
    return {
        "default": s3_storage_setting(s3_server, bucket, **options),
        "staticfiles": STATIC_FILES,
    }
