# The app servers. Every one starts from the same launch template: Amazon Linux 2023,
# the instance role (iam.tf), and user data that installs Docker, pulls the image from
# ECR, writes the settings from Secrets Manager and starts gunicorn behind nginx with the
# systemd units of docs/aws/. Nothing is set up by hand, so an instance that fails is
# simply replaced. With the ALB they form an Auto Scaling group; with the nginx proxy
# tier, a fixed set of instances (proxy.tf). With servers_set_up_by = "ansible" the
# template holds bare Debian 12 and the admin's SSH key instead (ansible.tf).

# The newest Amazon Linux 2023 image, as AWS publishes it (the AMI's ID differs by region).
data "aws_ssm_parameter" "amazon_linux" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  # nginx on each app server takes the load balancer's requests on port 80
  # (docs/aws/birdai-proxy.service publishes it) and passes them to gunicorn.
  app_port = 80

  image = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"

  site_host_names = length(var.site_host_names) > 0 ? var.site_host_names : [
    local.use_alb ? aws_lb.app[0].dns_name : aws_eip.proxy[0].public_dns
  ]
  site_url             = "${local.https ? "https" : "http"}://${local.site_host_names[0]}"
  csrf_trusted_origins = [for host in local.site_host_names : "${local.https ? "https" : "http"}://${host}"]

  # The settings every container of the image gets (.env.example explains each), less
  # the secrets, which the instance reads from Secrets Manager when it boots
  # (templates/app_host.sh.tftpl), so they are never in the user data.
  app_settings = {
    BIRDAI_PRODUCTION    = "true"
    ALLOWED_HOSTS        = join(",", local.site_host_names)
    CSRF_TRUSTED_ORIGINS = join(",", local.csrf_trusted_origins)
    BIRDAI_HTTPS         = local.https ? "true" : "false"
    # The load balancer (ALB or the proxy tier's nginx), then nginx on the app server.
    TRUSTED_PROXY_COUNT     = "2"
    DATABASE_SSLMODE        = "verify-full"
    DATABASE_SSLROOTCERT    = "/run/secrets/rds-ca.pem"
    AWS_STORAGE_BUCKET_NAME = aws_s3_bucket.photos.id
    AWS_S3_REGION_NAME      = var.region
    AWS_S3_CUSTOM_DOMAIN    = aws_cloudfront_distribution.photos.domain_name
    AWS_CLOUDFRONT_KEY_ID   = aws_cloudfront_public_key.photos.id
    AWS_CLOUDFRONT_KEY_FILE = "/run/secrets/cloudfront-private.pem"
    GUNICORN_WORKERS        = tostring(var.gunicorn_workers)
    # The JSON sign-up and token endpoints the course's autograder signs up with.
    API_SIGNUP_ENABLED = var.api_signup_enabled ? "true" : "false"
  }

  # What the app servers' user data and the release job's share
  # (templates/app_host.sh.tftpl): Docker, the image, the settings.
  app_host_arguments = {
    region                    = var.region
    image                     = local.image
    registry                  = split("/", aws_ecr_repository.app.repository_url)[0]
    settings                  = local.app_settings
    database_host             = aws_db_instance.main.address
    database_name             = aws_db_instance.main.db_name
    database_app_user         = local.database_app_user
    database_app_secret_arn   = aws_secretsmanager_secret.database_app_password.arn
    django_secret_key_arn     = aws_secretsmanager_secret.django_secret_key.arn
    cloudfront_key_secret_arn = aws_secretsmanager_secret.cloudfront_private_key.arn
  }

  # Gzipped: with the nginx configuration inside, the script is larger than the 16 KB
  # EC2 accepts as user data; cloud-init unpacks it.
  app_server_user_data = base64gzip(join("\n", [
    templatefile("${path.module}/templates/app_host.sh.tftpl", merge(local.app_host_arguments, {
      power_off_at_exit = false
    })),
    templatefile("${path.module}/templates/app_server.sh.tftpl", {
      vpc_cidr            = var.vpc_cidr
      proxy_conf_template = file("${path.module}/../../docker/nginx/proxy.conf.template")
      start_proxy_script  = file("${path.module}/../../docker/nginx/start-proxy.sh")
      proxy_settings      = file("${path.module}/../../docker/nginx/proxy.env")
      app_unit            = file("${path.module}/../../docs/aws/birdai.service")
      proxy_unit          = file("${path.module}/../../docs/aws/birdai-proxy.service")
    }),
  ]))
}

resource "aws_launch_template" "app" {
  #checkov:skip=CKV_AWS_341:The app reads the role's credentials from inside a Docker container, one hop further than the instance: with a hop limit of 1 the answer never arrives (docs/deploy-aws.md, section 5).
  name_prefix   = "${var.name}-app-"
  image_id      = local.server_image
  instance_type = var.app_instance_type
  user_data     = local.servers_set_up_by_ansible ? local.admin_ssh_user_data : local.app_server_user_data
  # A new image_tag or setting makes a new version; the Auto Scaling group rolls it out.
  # (Set up by Ansible, the template does not change with a release: rolling-deploy.yml
  # replaces the container, not the instance.)
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.app.arn
  }

  network_interfaces {
    # App servers are reached through the load balancer only: no public address.
    associate_public_ip_address = false
    security_groups             = [aws_security_group.app_servers.id]
    delete_on_termination       = true
  }

  metadata_options {
    http_endpoint = "enabled"
    # IMDSv2 only: a token fetched with PUT, which a server tricked into fetching a URL
    # (SSRF) cannot send, guards the role's credentials.
    http_tokens = "required"
    # The app asks for the role's credentials from inside a container, one network hop
    # further than the instance: with a limit of 1 the answer never arrives
    # (docs/deploy-aws.md, section 5).
    http_put_response_hop_limit = 2
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = 20 # the image and its layers; 8 GB, the default, is too tight
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true # one-minute CPU metrics, which the scaling policy below reacts to
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-app" }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "${var.name}-app" }
  }
}

resource "aws_autoscaling_group" "app" {
  count               = local.use_alb ? 1 : 0
  name_prefix         = "${var.name}-app-"
  vpc_zone_identifier = aws_subnet.app[*].id
  min_size            = var.app_server_count
  desired_capacity    = var.app_server_count
  max_size            = var.app_server_max_count
  target_group_arns   = [aws_lb_target_group.app[0].arn]
  # An instance whose /readyz keeps failing is replaced, not only taken out of the pool.
  health_check_type = "ELB"
  # Docker, the image pull and loading the model take a few minutes; on the very first
  # apply the release job (release_job.tf) must also have made the database role.
  health_check_grace_period = 600

  launch_template {
    id      = aws_launch_template.app.id
    version = aws_launch_template.app.latest_version
  }

  # A new launch template version (new image_tag) replaces the app servers a few at a
  # time, keeping at least half of them serving.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
      instance_warmup        = 300
    }
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-app"
    propagate_at_launch = true
  }
}

# Adds app servers when their average CPU stays above 60 %, removes them below: CPU is
# what limits an app server (docs/scaling.md, "Capacity of one app server").
resource "aws_autoscaling_policy" "app_cpu" {
  count                  = local.use_alb ? 1 : 0
  name                   = "${var.name}-app-cpu"
  autoscaling_group_name = aws_autoscaling_group.app[0].name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
    target_value = 60
  }
}
