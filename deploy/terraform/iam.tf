# Who may do what. Instances get short-lived credentials from their role through the
# metadata service; there is no access key anywhere.
#
#   app servers  read/write photos under the bucket's submissions/ prefix, pull this
#                project's image, read the app's three secrets. Nothing else.
#   release job  pull the image, read the app's secrets and the master user's (database.tf).

data "aws_iam_policy_document" "ec2_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

# `docker pull` from this one repository (what AWS's AmazonEC2ContainerRegistryPullOnly
# allows, but not for every repository in the account).
data "aws_iam_policy_document" "pull_app_image" {
  statement {
    sid = "SignInToTheRegistry"
    # GetAuthorizationToken is account-wide: it has no resource to narrow it to.
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullTheAppImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [aws_ecr_repository.app.arn]
  }
}

data "aws_iam_policy_document" "read_app_secrets" {
  statement {
    sid     = "ReadTheAppSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.django_secret_key.arn,
      aws_secretsmanager_secret.database_app_password.arn,
      aws_secretsmanager_secret.cloudfront_private_key.arn,
    ]
  }
}

# --- The app servers ------------------------------------------------------------------

data "aws_iam_policy_document" "app_server" {
  source_policy_documents = [
    data.aws_iam_policy_document.pull_app_image.json,
    data.aws_iam_policy_document.read_app_secrets.json,
  ]

  # Store, read back and delete photos (docs/s3-cloudfront.md, "The app servers' IAM
  # role"); no PutObjectAcl: the bucket has ACLs switched off.
  statement {
    sid       = "ReadWriteDeletePhotos"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.photos.arn}/${local.photos_prefix}*"]
  }

  # Without ListBucket, S3 answers 403 instead of 404 for a missing key, and
  # django-storages checks that a name is free before every save; /readyz's HeadBucket
  # needs it too. Listing with a prefix is limited to the photos' prefix; HeadBucket
  # sends no prefix, hence "IfExists".
  statement {
    sid       = "ListPhotosAndCheckTheBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.photos.arn]

    condition {
      test     = "StringLikeIfExists"
      variable = "s3:prefix"
      values   = ["${local.photos_prefix}*"]
    }
  }
}

resource "aws_iam_role" "app" {
  name_prefix        = "${var.name}-app-"
  description        = "bird.ai app servers"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume_role.json
}

resource "aws_iam_role_policy" "app" {
  name   = "app-server"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app_server.json
}

# EC2 attaches a role to an instance through an instance profile that holds it.
resource "aws_iam_instance_profile" "app" {
  name_prefix = "${var.name}-app-"
  role        = aws_iam_role.app.name
}

# --- The release job ------------------------------------------------------------------

data "aws_iam_policy_document" "release_job" {
  source_policy_documents = [
    data.aws_iam_policy_document.pull_app_image.json,
    data.aws_iam_policy_document.read_app_secrets.json,
  ]

  statement {
    sid       = "ReadTheMasterUserPassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_db_instance.main.master_user_secret[0].secret_arn]
  }
}

resource "aws_iam_role" "release_job" {
  name_prefix        = "${var.name}-release-"
  description        = "bird.ai release job: database role, PostGIS, migrations"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume_role.json
}

resource "aws_iam_role_policy" "release_job" {
  name   = "release-job"
  role   = aws_iam_role.release_job.id
  policy = data.aws_iam_policy_document.release_job.json
}

resource "aws_iam_instance_profile" "release_job" {
  name_prefix = "${var.name}-release-"
  role        = aws_iam_role.release_job.name
}
