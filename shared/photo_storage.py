"""The S3 storage for photos: django-storages' S3Storage, with CloudFront links that
share one signature per folder and per hour.

django-storages signs each CloudFront link on its own (one RSA signature, 0.23 ms
measured here: 11 ms for a history page of 24 photos and thumbnails) and counts the
expiry from the current second, so a photo's link changes on every page view and the
browser downloads the photo again. CloudFront also accepts a custom policy whose
resource ends in a wildcard: one signature for `submissions/<user id>/*` covers all of
that user's photos, and an expiry rounded up to the hour keeps every link the same for
an hour, so browsers and CloudFront keep their copies.

Settings name this class in STORAGES (birdai/settings.py); shared/storage.py builds its
options. Without a CloudFront key it behaves exactly like S3Storage.
"""

import math
import time
from datetime import UTC, datetime

from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

SIGNATURES_KEPT = 4096  # per process: one per user folder seen within the hour


def signed_until(expire_seconds: int, now: float | None = None) -> datetime:
    """At least expire_seconds from now, rounded up to a whole hour (UTC)."""
    now = time.time() if now is None else now
    return datetime.fromtimestamp(math.ceil((now + expire_seconds) / 3600) * 3600, tz=UTC)


class PhotoStorage(S3Storage):
    def url(self, name, parameters=None, expire=None, http_method=None):
        if (
            parameters
            or http_method
            or not (self.custom_domain and self.querystring_auth and self.cloudfront_signer)
        ):
            return super().url(name, parameters, expire, http_method)
        name = self._normalize_name(clean_name(name))
        folder = name.rpartition("/")[0]
        expires_at = signed_until(self.querystring_expire if expire is None else expire)
        query = self.folder_signature(folder, expires_at)
        return f"{self.url_protocol}//{self.custom_domain}/{filepath_to_uri(name)}?{query}"

    def folder_signature(self, folder: str, expires_at: datetime) -> str:
        """The query string (Policy, Signature, Key-Pair-Id) valid for every file in
        folder until expires_at; computed once per folder and hour."""
        # BEGIN SOLUTION 2 a2-cdn-folder-signature
        signatures = self.__dict__.setdefault("_folder_signatures", {})
        key = (folder, expires_at)
        if key not in signatures:
            if len(signatures) >= SIGNATURES_KEPT:
                signatures.clear()  # expired ones mostly; cheap to compute again
            resource = f"{self.url_protocol}//{self.custom_domain}/{filepath_to_uri(folder)}/*"
            policy = self.cloudfront_signer.build_policy(resource, expires_at)
            signed = self.cloudfront_signer.generate_presigned_url(resource, policy=policy)
            signatures[key] = signed.split("?", 1)[1]
        return signatures[key]
        # END SOLUTION a2-cdn-folder-signature
        # BEGIN STUB a2-cdn-folder-signature
        # raise NotImplementedError(
        #     "TODO (assignment 2): the query string of a CloudFront signed URL whose custom "
        #     "policy covers every file in folder (folder/*) until expires_at, computed once per "
        #     "folder and hour. Read this module's docstring and docs/s3-cloudfront.md."
        # )
        # END STUB a2-cdn-folder-signature
