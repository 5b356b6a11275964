# TODO (assignment 3): the instance roles, least privilege: the app servers may use the
#     photos under submissions/, pull the image and read the app's secrets; the release
#     job what it needs, nothing more.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   data.aws_iam_policy_document.ec2_assume_role
#   data.aws_iam_policy_document.pull_app_image
#   data.aws_iam_policy_document.read_app_secrets
#   data.aws_iam_policy_document.app_server
#   aws_iam_role.app
#   aws_iam_role_policy.app
#   aws_iam_instance_profile.app
#   data.aws_iam_policy_document.release_job
#   aws_iam_role.release_job
#   aws_iam_role_policy.release_job
#   aws_iam_instance_profile.release_job
