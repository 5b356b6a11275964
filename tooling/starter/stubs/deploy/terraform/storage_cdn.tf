# TODO (assignment 3): the photos: a private, encrypted S3 bucket that browsers read only
#     through CloudFront (Origin Access Control) on signed URLs, and the key pair that
#     signs them.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   aws_s3_bucket.photos
#   aws_s3_bucket_public_access_block.photos
#   aws_s3_bucket_ownership_controls.photos
#   aws_s3_bucket_versioning.photos
#   aws_s3_bucket_server_side_encryption_configuration.photos
#   aws_s3_bucket_lifecycle_configuration.photos
#   data.aws_iam_policy_document.photos_bucket
#   aws_s3_bucket_policy.photos
#   tls_private_key.cloudfront
#   aws_cloudfront_public_key.photos
#   aws_cloudfront_key_group.photos
#   aws_cloudfront_origin_access_control.photos
#   data.aws_cloudfront_cache_policy.caching_optimized
#   data.aws_cloudfront_response_headers_policy.security_headers
#   aws_cloudfront_distribution.photos
#   locals: local.photos_prefix
