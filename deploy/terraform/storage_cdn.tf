# Photos: a private S3 bucket, read by browsers only through CloudFront on URLs the app
# signs (docs/s3-cloudfront.md explains the design; this is its "Setting it up on AWS").
#
#   browser --signed URL--> CloudFront --Origin Access Control--> S3 bucket (private)
#   app servers --Put/Get/DeleteObject under submissions/ (iam.tf)--> S3 bucket

locals {
  # Where the app keeps photos: submissions/<user id>/<name> (history/files.py).
  photos_prefix = "submissions/"
}

resource "aws_s3_bucket" "photos" {
  #checkov:skip=CKV_AWS_18:Server access logs need a second bucket; CloudFront and the app already see every request.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles the storage bill; versioning already keeps overwritten and deleted photos.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to new objects: the app records each photo in the database when it stores it.
  #checkov:skip=CKV_AWS_145:SSE-S3 instead of KMS: CloudFront's Origin Access Control reads SSE-KMS objects only with a customer-managed key whose policy admits CloudFront, at $1 a month plus requests; SSE-S3 encrypts as well, at no cost.
  # Bucket names are global: Terraform adds a unique suffix.
  bucket_prefix = "${var.name}-photos-"
  force_destroy = var.photos_force_destroy
}

# All four Block Public Access settings: no ACL or policy can make an object public.
resource "aws_s3_bucket_public_access_block" "photos" {
  bucket                  = aws_s3_bucket.photos.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: who may read is said by policies alone (the app sends no ACL).
resource "aws_s3_bucket_ownership_controls" "photos" {
  bucket = aws_s3_bucket.photos.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# A deleted or overwritten photo can be got back for 30 days (the lifecycle rule below).
resource "aws_s3_bucket_versioning" "photos" {
  bucket = aws_s3_bucket.photos.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "photos" {
  bucket = aws_s3_bucket.photos.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256" # SSE-S3; see the checkov note on the bucket
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "photos" {
  bucket = aws_s3_bucket.photos.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.photos]
}

# Only CloudFront, and only on behalf of this distribution, may read photos; nobody may
# use plain HTTP. The app servers need no statement: their role's policy is enough.
data "aws_iam_policy_document" "photos_bucket" {
  statement {
    sid       = "CloudFrontReadsPhotos"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.photos.arn}/${local.photos_prefix}*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.photos.arn]
    }
  }

  statement {
    sid       = "DenyPlainHTTP"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.photos.arn, "${aws_s3_bucket.photos.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "photos" {
  bucket = aws_s3_bucket.photos.id
  policy = data.aws_iam_policy_document.photos_bucket.json

  # The public access block must be in place first: S3 would refuse nothing public
  # here, but the order keeps the bucket closed at every moment.
  depends_on = [aws_s3_bucket_public_access_block.photos]
}

# --- Signed URLs: the key pair ---------------------------------------------------------
# The app signs with the private key (in Secrets Manager, secrets.tf); CloudFront checks
# the signature with the public key in the key group.

resource "tls_private_key" "cloudfront" {
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "aws_cloudfront_public_key" "photos" {
  name_prefix = "${var.name}-photos-"
  encoded_key = tls_private_key.cloudfront.public_key_pem
  comment     = "Checks the signatures of bird.ai's photo URLs"
}

resource "aws_cloudfront_key_group" "photos" {
  name  = "${var.name}-photos"
  items = [aws_cloudfront_public_key.photos.id]
}

# --- The distribution ---------------------------------------------------------------------

resource "aws_cloudfront_origin_access_control" "photos" {
  name                              = "${var.name}-photos"
  description                       = "CloudFront signs its requests to the photo bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# Leaves the signature's query string out of the cache key and away from S3, so links to
# one photo signed at different times share one cached copy (docs/s3-cloudfront.md).
data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_response_headers_policy" "security_headers" {
  name = "Managed-SecurityHeadersPolicy"
}

resource "aws_cloudfront_distribution" "photos" {
  #checkov:skip=CKV_AWS_305:There is no index page to serve: every object is a photo, fetched by its own signed URL.
  #checkov:skip=CKV_AWS_68:A WAF web ACL costs $5 a month plus per rule; every request must already carry a valid signature.
  #checkov:skip=CKV2_AWS_47:No WAF (above); the origin is S3, which runs no Log4j.
  #checkov:skip=CKV_AWS_86:Access logs need a logging bucket with ACLs enabled; not needed for a course deployment.
  #checkov:skip=CKV_AWS_310:One origin: a failover origin would need a replicated second bucket.
  #checkov:skip=CKV_AWS_374:Photos are for users anywhere; signed URLs decide who sees them.
  #checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate; a TLS policy can only be chosen with a custom domain and its ACM certificate.
  #checkov:skip=CKV2_AWS_42:A custom certificate needs a domain name; the distribution's own name and certificate serve the photos.
  enabled         = true
  is_ipv6_enabled = true
  comment         = "bird.ai photos"
  # North America and Europe only: the cheapest price class.
  price_class = "PriceClass_100"

  origin {
    origin_id                = "photos"
    domain_name              = aws_s3_bucket.photos.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.photos.id
  }

  default_cache_behavior {
    target_origin_id           = "photos"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security_headers.id
    # "Restrict viewer access": a request without a valid signature gets 403.
    trusted_key_groups = [aws_cloudfront_key_group.photos.id]
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
