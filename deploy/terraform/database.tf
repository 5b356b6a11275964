# RDS PostgreSQL in the database subnets: encrypted, no public address, reachable from
# the app servers' security group only (security_groups.tf).
#
# Two roles, as in docs/deploy-aws.md, section 2:
#   the master user (birdai_admin) owns the database and runs the migrations. RDS keeps
#     its password in Secrets Manager itself (manage_master_user_password), so it is in
#     neither these files nor the Terraform state; only the release job may read it.
#   birdai_app, the role the app servers connect as, may read and write rows and nothing
#     else (docs/aws/app-role.sql). Terraform cannot run SQL without a PostgreSQL provider
#     that reaches the database, which sits in a private subnet; the release job
#     (release_job.tf) runs that file, and CREATE EXTENSION postgis, from inside the VPC.
#     Its password is generated here and kept in Secrets Manager (secrets.tf).

locals {
  database_app_user = "birdai_app" # the role docs/aws/app-role.sql makes
}

resource "aws_db_subnet_group" "main" {
  name       = var.name
  subnet_ids = aws_subnet.database[*].id
}

resource "aws_db_parameter_group" "main" {
  name_prefix = "${var.name}-postgres${var.db_engine_version}-"
  family      = "postgres${var.db_engine_version}"

  # Refuse unencrypted connections; the app connects with verify-full anyway.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Statements slower than half a second go to the log (exported to CloudWatch below).
  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "main" {
  #checkov:skip=CKV_AWS_157:Multi-AZ doubles the database's cost; it is a variable (db_multi_az), off for a course deployment.
  #checkov:skip=CKV_AWS_293:Deletion protection would make `terraform destroy` fail; db_keep_final_snapshot keeps the data instead.
  #checkov:skip=CKV_AWS_161:The app signs in with a password from Secrets Manager; IAM authentication would need a token refreshed every 15 minutes in the app.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs a role of its own and costs per instance; CloudWatch's standard RDS metrics are enough here.
  #checkov:skip=CKV_AWS_353:Performance Insights is optional; slow statements are logged instead (log_min_duration_statement).
  #checkov:skip=CKV_AWS_354:Performance Insights is not enabled (above).
  #checkov:skip=CKV2_AWS_30:Statements slower than 500 ms are logged (parameter group); logging every statement would cost more than it tells.
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class
  # Minor (security) releases are applied in the maintenance window; a new major version
  # comes only when db_engine_version changes.
  auto_minor_version_upgrade = true

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_allocated_storage * 5
  storage_type          = "gp3"
  # The disk, its snapshots and backups, with the account's AWS-managed key (aws/rds).
  storage_encrypted = true

  db_name                     = "birdai"
  username                    = "birdai_admin"
  manage_master_user_password = true

  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  parameter_group_name   = aws_db_parameter_group.main.name

  backup_retention_period         = 7
  copy_tags_to_snapshot           = true
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]

  skip_final_snapshot       = !var.db_keep_final_snapshot
  final_snapshot_identifier = "${var.name}-final"
}
