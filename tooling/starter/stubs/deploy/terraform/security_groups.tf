# TODO (assignment 3): who may talk to whom: a security group per tier, rules that name
#     the other tier's group (internet -> load balancer -> app servers -> database),
#     nothing else in.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   aws_security_group.load_balancer
#   aws_security_group.app_servers
#   aws_security_group.database
#   aws_vpc_security_group_ingress_rule.load_balancer_http
#   aws_vpc_security_group_ingress_rule.load_balancer_https
#   aws_vpc_security_group_egress_rule.load_balancer_to_app_servers
#   aws_vpc_security_group_egress_rule.proxy_https_out
#   aws_vpc_security_group_ingress_rule.app_servers_from_load_balancer
#   aws_vpc_security_group_egress_rule.app_servers_to_database
#   aws_vpc_security_group_egress_rule.app_servers_https_out
#   aws_vpc_security_group_ingress_rule.database_from_app_servers
#   aws_vpc_security_group_ingress_rule.proxy_ssh_from_admins
#   aws_vpc_security_group_egress_rule.proxy_ssh_to_app_servers
#   aws_vpc_security_group_ingress_rule.app_servers_ssh_from_proxy
