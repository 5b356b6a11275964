# The assignment's proxy tier (load_balancer = "nginx"): instead of the ALB and the Auto
# Scaling group, one nginx instance in a public subnet in front of a fixed set of app
# servers, with the repository's own load-balancer configuration
# (docker/nginx/proxy.conf.template, as in docker-compose.yml and the tests). Its
# upstream list is the app servers' private addresses, known once they exist, so the
# app servers are counted instances here, made from the same launch template.
#
# It is one instance: when it fails the site is down until it is replaced (terraform
# apply -replace=aws_instance.proxy[0]); the ALB is spread over two zones by AWS.

# A fixed public address, made before the app servers so that their ALLOWED_HOSTS can
# name it; it stays the same when the proxy instance is replaced.
resource "aws_eip" "proxy" {
  count  = local.use_alb ? 0 : 1
  domain = "vpc"

  tags = { Name = "${var.name}-proxy" }
}

resource "aws_instance" "app" {
  #checkov:skip=CKV2_AWS_41:The role is attached by the launch template's instance profile (app_servers.tf), which checkov does not follow.
  #checkov:skip=CKV_AWS_126:Detailed monitoring is on in the launch template (app_servers.tf), which these instances are made from.
  count = local.use_alb ? 0 : var.app_server_count
  # Spread over both zones' app subnets.
  subnet_id = aws_subnet.app[count.index % length(aws_subnet.app)].id

  launch_template {
    id      = aws_launch_template.app.id
    version = aws_launch_template.app.latest_version
  }

  # The launch template says all this already; repeated so that each instance states it
  # where a reader (and checkov) looks.
  ebs_optimized = true
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
  root_block_device {
    volume_size = 20
    volume_type = "gp3"
    encrypted   = true
  }

  tags = { Name = "${var.name}-app-${count.index}" }
}

locals {
  # nginx's upstream block (docker/nginx/proxy.conf.template): one line per app server.
  proxy_upstream_servers = join(" ", [for app in aws_instance.app : "server ${app.private_ip}:${local.app_port};"])

  # The proxy's boot script, when it sets itself up: nginx in Docker with that pool.
  proxy_user_data = base64gzip(templatefile("${path.module}/templates/proxy.sh.tftpl", {
    vpc_cidr            = var.vpc_cidr
    upstream_servers    = local.proxy_upstream_servers
    proxy_conf_template = file("${path.module}/../../docker/nginx/proxy.conf.template")
    start_proxy_script  = file("${path.module}/../../docker/nginx/start-proxy.sh")
    proxy_settings      = file("${path.module}/../../docker/nginx/proxy.env")
  }))
}

resource "aws_instance" "proxy" {
  #checkov:skip=CKV_AWS_88:The proxy is what clients reach: it needs its public address (an Elastic IP).
  #checkov:skip=CKV2_AWS_41:The proxy calls no AWS API (it pulls the public nginx image), so it gets no role at all.
  #checkov:skip=CKV_AWS_126:Basic five-minute metrics are enough for nginx, which used 0.4 ms of CPU per request (docs/scaling.md).
  count                  = local.use_alb ? 0 : 1
  ami                    = local.server_image
  instance_type          = var.proxy_instance_type
  subnet_id              = aws_subnet.public[0].id
  vpc_security_group_ids = [aws_security_group.load_balancer.id]
  ebs_optimized          = true

  # Set up by Ansible, the proxy gets only the admin's SSH key (ansible.tf), and its
  # pool comes from the inventory, so a new app server does not replace it.
  user_data_replace_on_change = true
  user_data_base64            = local.servers_set_up_by_ansible ? local.admin_ssh_user_data : local.proxy_user_data

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1 # no role, and no container needs the metadata
  }

  root_block_device {
    volume_size = 8
    volume_type = "gp3"
    encrypted   = true
  }

  tags = { Name = "${var.name}-proxy" }
}

resource "aws_eip_association" "proxy" {
  count         = local.use_alb ? 0 : 1
  allocation_id = aws_eip.proxy[0].id
  instance_id   = aws_instance.proxy[0].id
}
