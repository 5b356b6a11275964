# The app's secrets, in Secrets Manager. The instances read them when they boot
# (templates/app_host.sh.tftpl), so they are in no user data, image or file here.
#
# Terraform generates them, so they are also in its state file: keep the state private
# (README.md, "The state holds secrets"). The master user's password is the exception:
# RDS generates and keeps it (database.tf).

resource "random_password" "django_secret_key" {
  length  = 64
  special = false
}

resource "random_password" "database_app" {
  length  = 40
  special = false # it goes into DATABASE_URL, where punctuation would need escaping
}

resource "aws_secretsmanager_secret" "django_secret_key" {
  #checkov:skip=CKV_AWS_149:The AWS-managed key (aws/secretsmanager) encrypts it at no cost; a customer-managed key would add $1 a month and a key policy to maintain.
  #checkov:skip=CKV2_AWS_57:Rotating SECRET_KEY signs every user out; it is rotated by hand (terraform apply -replace=random_password.django_secret_key).
  name_prefix = "${var.name}/django-secret-key-"
  description = "Django's SECRET_KEY for bird.ai"
  # Deleted at once by `terraform destroy`, so that a new apply can start over.
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "django_secret_key" {
  secret_id     = aws_secretsmanager_secret.django_secret_key.id
  secret_string = random_password.django_secret_key.result
}

resource "aws_secretsmanager_secret" "database_app_password" {
  #checkov:skip=CKV_AWS_149:The AWS-managed key (aws/secretsmanager) encrypts it at no cost; a customer-managed key would add $1 a month and a key policy to maintain.
  #checkov:skip=CKV2_AWS_57:Rotation needs a Lambda function that changes the role's password; replace random_password.database_app and re-run the release job instead.
  name_prefix             = "${var.name}/database-app-password-"
  description             = "Password of bird.ai's database role ${local.database_app_user}"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "database_app_password" {
  secret_id     = aws_secretsmanager_secret.database_app_password.id
  secret_string = random_password.database_app.result
}

resource "aws_secretsmanager_secret" "cloudfront_private_key" {
  #checkov:skip=CKV_AWS_149:The AWS-managed key (aws/secretsmanager) encrypts it at no cost; a customer-managed key would add $1 a month and a key policy to maintain.
  #checkov:skip=CKV2_AWS_57:Rotation means a new CloudFront public key in the key group first (docs/s3-cloudfront.md, step 3); done by hand.
  name_prefix             = "${var.name}/cloudfront-private-key-"
  description             = "RSA private key (PEM) that signs bird.ai's CloudFront photo URLs"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "cloudfront_private_key" {
  secret_id     = aws_secretsmanager_secret.cloudfront_private_key.id
  secret_string = tls_private_key.cloudfront.private_key_pem
}
