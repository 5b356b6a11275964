# The release job: a one-off instance that prepares the database for the image_tag being
# deployed, then stops itself. It is replaced, and so runs again, whenever its user data
# changes: on the first apply and with every new image_tag.
#
#   1. CREATE EXTENSION postgis (the RDS master user may; the app's role may not)
#   2. docs/aws/app-role.sql: the app's role birdai_app, with its password from Secrets
#      Manager (templates/bootstrap_database.py; safe to run again)
#   3. manage.py migrate, as the master user, who owns the tables
#
# Why not in the app servers' user data: every app server would then need the master
# password, and two booting together would run the same migration at once
# (docs/deploy-aws.md, section 9). Why not Terraform's PostgreSQL provider: it would
# have to reach the database from wherever `terraform apply` runs, and the database has
# no public address.
#
# It runs beside the rollout of the new app servers, not before it: a release's
# migrations must work with the previous release's code for those minutes (add columns
# and tables first, drop them a release later). See its output with
#   aws ec2 get-console-output --latest --instance-id "$(terraform output -raw release_job_instance_id)"

resource "aws_instance" "release_job" {
  #checkov:skip=CKV_AWS_126:Detailed monitoring would only watch a job that runs for minutes.
  ami                         = data.aws_ssm_parameter.amazon_linux.insecure_value
  instance_type               = var.app_instance_type
  subnet_id                   = aws_subnet.app[0].id
  vpc_security_group_ids      = [aws_security_group.app_servers.id] # the database admits this group only
  associate_public_ip_address = false
  iam_instance_profile        = aws_iam_instance_profile.release_job.name
  ebs_optimized               = true

  # Stopped, not terminated, when done: Terraform then still finds it and runs it again
  # only when the release changes. A stopped instance costs only its disk.
  instance_initiated_shutdown_behavior = "stop"
  user_data_replace_on_change          = true
  user_data_base64 = base64gzip(join("\n", [
    templatefile("${path.module}/templates/app_host.sh.tftpl", merge(local.app_host_arguments, {
      power_off_at_exit = true
    })),
    templatefile("${path.module}/templates/release_job.sh.tftpl", merge(local.app_host_arguments, {
      master_secret_arn  = aws_db_instance.main.master_user_secret[0].secret_arn
      master_user        = aws_db_instance.main.username
      app_role_sql       = file("${path.module}/../../docs/aws/app-role.sql")
      bootstrap_database = file("${path.module}/templates/bootstrap_database.py")
    })),
  ]))

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only, as on the app servers
    http_put_response_hop_limit = 2          # the job's containers reach it too
  }

  root_block_device {
    volume_size = 20
    volume_type = "gp3"
    encrypted   = true
  }

  tags = { Name = "${var.name}-release-job" }

  # The role's policy must exist before the job boots and reads the secrets.
  depends_on = [aws_iam_role_policy.release_job, aws_secretsmanager_secret_version.database_app_password]
}
