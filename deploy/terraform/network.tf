# The network: one VPC over two availability zones, three kinds of subnet in each.
#
#   public   the load balancer (or the nginx proxy instance) and the NAT gateway:
#            the only subnets with a route to and from the internet
#   app      the app servers: no public address; out to the internet (ECR, Secrets
#            Manager, package updates) only through the NAT gateway
#   database RDS: no route out of the VPC at all
#
# Two zones because an ALB and an RDS subnet group need two, and because one zone's
# outage then takes half the app servers, not the site.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first two zones are used (local.zones); a zone AWS adds later does not change which two.
  state = "available"
}

locals {
  zones = slice(data.aws_availability_zones.available.names, 0, 2)
}

resource "aws_vpc" "main" {
  #checkov:skip=CKV2_AWS_11:Flow logs cost per GB ingested into CloudWatch; the security groups' rules are what a course checks. Add an aws_flow_log for production.
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # RDS's endpoint and the instances' names resolve inside the VPC

  tags = { Name = var.name }
}

# The VPC's default security group comes with rules that let its members reach each
# other; nothing uses it, and this empties it so nothing can by mistake.
resource "aws_default_security_group" "unused" {
  vpc_id = aws_vpc.main.id

  tags = { Name = "${var.name}-default-unused" }
}

resource "aws_subnet" "public" {
  count             = length(local.zones)
  vpc_id            = aws_vpc.main.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index) # 10.0.0.0/24, 10.0.1.0/24
  # Nothing gets a public address just by starting here: the proxy instance asks for
  # one itself (proxy.tf), the ALB and the NAT gateway have their own.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-public-${local.zones[count.index]}" }
}

resource "aws_subnet" "app" {
  count             = length(local.zones)
  vpc_id            = aws_vpc.main.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 10 + count.index) # 10.0.10.0/24, ...

  tags = { Name = "${var.name}-app-${local.zones[count.index]}" }
}

resource "aws_subnet" "database" {
  count             = length(local.zones)
  vpc_id            = aws_vpc.main.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 20 + count.index) # 10.0.20.0/24, ...

  tags = { Name = "${var.name}-database-${local.zones[count.index]}" }
}

# --- Public subnets: to and from the internet ---------------------------------------

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = { Name = var.name }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# --- App subnets: out through one NAT gateway ---------------------------------------
# One NAT gateway, in the first zone, for both app subnets: it costs by the hour
# (README.md, "What it costs"), and the app servers only need it to start (image,
# packages, secrets). If that zone fails, running app servers in the other zone keep
# serving; new ones there cannot start until it is back. A production site would put one
# NAT gateway in each zone.

resource "aws_eip" "nat" {
  domain = "vpc"

  tags = { Name = "${var.name}-nat" }
}

resource "aws_nat_gateway" "main" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id

  tags = { Name = var.name }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_route_table" "app" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.main.id
  }

  tags = { Name = "${var.name}-app" }
}

resource "aws_route_table_association" "app" {
  count          = length(aws_subnet.app)
  subnet_id      = aws_subnet.app[count.index].id
  route_table_id = aws_route_table.app.id
}

# Photos go to S3 through a gateway endpoint: free, and it keeps every upload's bytes
# off the NAT gateway, which charges for each GB it carries.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.app.id]

  tags = { Name = "${var.name}-s3" }
}

# --- Database subnets: no route out ---------------------------------------------------

resource "aws_route_table" "database" {
  vpc_id = aws_vpc.main.id

  tags = { Name = "${var.name}-database" }
}

resource "aws_route_table_association" "database" {
  count          = length(aws_subnet.database)
  subnet_id      = aws_subnet.database[count.index].id
  route_table_id = aws_route_table.database.id
}
