# TODO (assignment 3): RDS PostgreSQL in the database subnets: encrypted, no public
#     address, reachable from the app servers only, its master password kept by RDS in
#     Secrets Manager.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   aws_db_subnet_group.main
#   aws_db_parameter_group.main
#   aws_db_instance.main
#   locals: local.database_app_user
