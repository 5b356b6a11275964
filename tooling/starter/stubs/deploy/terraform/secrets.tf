# TODO (assignment 3): the app's secrets in Secrets Manager (the Django secret key, the
#     database password of the app's role, the CloudFront private key).
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   random_password.django_secret_key
#   random_password.database_app
#   aws_secretsmanager_secret.django_secret_key
#   aws_secretsmanager_secret_version.django_secret_key
#   aws_secretsmanager_secret.database_app_password
#   aws_secretsmanager_secret_version.database_app_password
#   aws_secretsmanager_secret.cloudfront_private_key
#   aws_secretsmanager_secret_version.cloudfront_private_key
