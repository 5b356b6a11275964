# Who may talk to whom. A security group is a firewall around each network interface;
# rules name the other tier's group, not address ranges, so they hold however many
# instances each tier has and whatever addresses they get.
#
#   internet  --80/443-->  load_balancer  --app_port-->  app_servers  --5432-->  database
#
# Nothing else comes in: no SSH (use Session Manager or the release job's console output,
# README.md), and the database accepts the app servers only. The one exception is
# servers_set_up_by = "ansible" (the end of this file): SSH to the proxy from the
# admin's addresses, and on from the proxy to the app servers. tests/deploy/ checks this
# graph, and that nothing but the load balancer is open to 0.0.0.0/0.

resource "aws_security_group" "load_balancer" {
  name        = "${var.name}-load-balancer"
  description = "What clients reach: the ALB, or the nginx proxy instance"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-load-balancer" }
}

resource "aws_security_group" "app_servers" {
  name        = "${var.name}-app-servers"
  description = "bird.ai app servers (nginx and gunicorn) and the release job"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-app-servers" }
}

resource "aws_security_group" "database" {
  name        = "${var.name}-database"
  description = "RDS PostgreSQL: the app servers only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-database" }
}

# --- The load balancer --------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "load_balancer_http" {
  #checkov:skip=CKV_AWS_260:Port 80 must be open to everyone: it serves the demo (no certificate) or redirects to HTTPS.
  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTP from anywhere (redirected to HTTPS when there is a certificate)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer_https" {
  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTPS from anywhere"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_app_servers" {
  security_group_id            = aws_security_group.load_balancer.id
  description                  = "Requests to the app servers"
  referenced_security_group_id = aws_security_group.app_servers.id
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
}

# The proxy instance pulls the nginx image and its packages over HTTPS; the ALB needs
# no such rule.
resource "aws_vpc_security_group_egress_rule" "proxy_https_out" {
  count             = local.use_alb ? 0 : 1
  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTPS out: the nginx image and packages"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# --- The app servers ------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "app_servers_from_load_balancer" {
  #checkov:skip=CKV_AWS_260:False positive: the source is the load balancer's security group, not 0.0.0.0/0 (tests/deploy/test_terraform_security.py checks every rule's source).
  security_group_id            = aws_security_group.app_servers.id
  description                  = "Requests and health checks from the load balancer"
  referenced_security_group_id = aws_security_group.load_balancer.id
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
}

resource "aws_vpc_security_group_egress_rule" "app_servers_to_database" {
  security_group_id            = aws_security_group.app_servers.id
  description                  = "PostgreSQL"
  referenced_security_group_id = aws_security_group.database.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

# Out through the NAT gateway (and S3's endpoint): ECR, Secrets Manager, S3, package
# updates and RDS's CA bundle all speak HTTPS. Nothing comes in this way.
resource "aws_vpc_security_group_egress_rule" "app_servers_https_out" {
  security_group_id = aws_security_group.app_servers.id
  description       = "HTTPS out: ECR, Secrets Manager, S3, packages"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# --- The database ---------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "database_from_app_servers" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the app servers"
  referenced_security_group_id = aws_security_group.app_servers.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

# --- SSH, only when Ansible sets the servers up (ansible.tf) ----------------------------
#
#   admin_ssh_cidrs  --22-->  proxy  --22-->  app servers   (ssh -J admin@proxy admin@app)
#
# The app servers, which have no public address, take SSH from the proxy's group only;
# the proxy, from the addresses in admin_ssh_cidrs only (never 0.0.0.0/0: variables.tf).

resource "aws_vpc_security_group_ingress_rule" "proxy_ssh_from_admins" {
  for_each          = local.servers_set_up_by_ansible ? toset(var.admin_ssh_cidrs) : toset([])
  security_group_id = aws_security_group.load_balancer.id
  description       = "SSH from an admin's address (Ansible)"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

resource "aws_vpc_security_group_egress_rule" "proxy_ssh_to_app_servers" {
  count                        = local.servers_set_up_by_ansible ? 1 : 0
  security_group_id            = aws_security_group.load_balancer.id
  description                  = "SSH on to the app servers (ProxyJump)"
  referenced_security_group_id = aws_security_group.app_servers.id
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
}

resource "aws_vpc_security_group_ingress_rule" "app_servers_ssh_from_proxy" {
  #checkov:skip=CKV_AWS_24:False positive: the source is the proxy's security group, not 0.0.0.0/0 (tests/deploy/test_terraform_security.py checks every rule's source).
  count                        = local.servers_set_up_by_ansible ? 1 : 0
  security_group_id            = aws_security_group.app_servers.id
  description                  = "SSH from the proxy (ProxyJump), nowhere else"
  referenced_security_group_id = aws_security_group.load_balancer.id
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
}
