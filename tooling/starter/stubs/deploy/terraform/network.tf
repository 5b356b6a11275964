# TODO (assignment 3): the network: one VPC over two availability zones, with public
#     subnets (the load balancer or proxy, the NAT gateway), app subnets (no public
#     address, out through the NAT gateway) and database subnets (no route out).
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   data.aws_availability_zones.available
#   aws_vpc.main
#   aws_default_security_group.unused
#   aws_subnet.public
#   aws_subnet.app
#   aws_subnet.database
#   aws_internet_gateway.main
#   aws_route_table.public
#   aws_route_table_association.public
#   aws_eip.nat
#   aws_nat_gateway.main
#   aws_route_table.app
#   aws_route_table_association.app
#   aws_vpc_endpoint.s3
#   aws_route_table.database
#   aws_route_table_association.database
#   locals: local.zones
