# The Application Load Balancer (load_balancer = "alb", the default): it spreads requests
# over the Auto Scaling group's app servers (app_servers.tf), takes out any whose
# /readyz fails, and ends TLS when there is a certificate. proxy.tf is the other choice.

locals {
  use_alb = var.load_balancer == "alb"
  # TLS ends at the ALB; the nginx proxy tier (proxy.tf) serves plain HTTP.
  https = local.use_alb && var.certificate_arn != ""
}

resource "aws_lb" "app" {
  #checkov:skip=CKV_AWS_91:Access logs need a second bucket with its own policy; the app servers' nginx logs every request (journalctl -u birdai-proxy).
  #checkov:skip=CKV_AWS_150:Deletion protection would make `terraform destroy` fail; students must be able to tear the deployment down.
  #checkov:skip=CKV2_AWS_28:A WAF web ACL costs $5 a month plus per rule; nginx on each app server already limits each client address (docker/nginx/proxy.conf.template).
  #checkov:skip=CKV2_AWS_20:HTTP is redirected to HTTPS when certificate_arn is set; without one (course demo) there is no HTTPS to redirect to.
  count              = local.use_alb ? 1 : 0
  name               = var.name
  load_balancer_type = "application"
  internal           = false
  subnets            = aws_subnet.public[*].id
  security_groups    = [aws_security_group.load_balancer.id]
  # Requests with header names nginx and Django would read differently are dropped here.
  drop_invalid_header_fields = true
  # Photo uploads of up to 25 MB from slow phones: longer than the 60 s default.
  idle_timeout = 120
}

resource "aws_lb_target_group" "app" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; inside the VPC it talks plain HTTP to nginx on the app servers, which hold no certificate.
  count    = local.use_alb ? 1 : 0
  name     = var.name
  vpc_id   = aws_vpc.main.id
  protocol = "HTTP"
  port     = local.app_port
  # Give a leaving app server the time gunicorn takes to finish its requests
  # (GUNICORN_GRACEFUL_TIMEOUT, 20 s) and a little more.
  deregistration_delay = 30

  health_check {
    # /readyz answers 200 only when the database, S3 and the model all work, and it
    # answers any host name (the ALB sends the instance's address).
    path                = "/readyz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Port 80 only redirects to HTTPS when there is a certificate; without one it is the course demo's plain HTTP (docs/deploy-aws.md, section 11 B).
  #checkov:skip=CKV_AWS_103:TLS versions apply to the HTTPS listener below, which uses a TLS 1.2/1.3 policy.
  count             = local.use_alb ? 1 : 0
  load_balancer_arn = aws_lb.app[0].arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.app[0].arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.use_alb && local.https ? 1 : 0
  load_balancer_arn = aws_lb.app[0].arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app[0].arn
  }
}
