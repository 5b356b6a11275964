# TODO (assignment 3): the image registry the app servers pull from.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   aws_ecr_repository.app
#   aws_ecr_lifecycle_policy.app
