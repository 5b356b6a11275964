# TODO (assignment 3): the nginx proxy tier (load_balancer = "nginx"): one instance with
#     an Elastic IP in front of a fixed set of app servers, configured from
#     docker/nginx/proxy.conf.template.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   aws_eip.proxy
#   aws_instance.app
#   aws_instance.proxy
#   aws_eip_association.proxy
#   locals: local.proxy_upstream_servers, local.proxy_user_data
