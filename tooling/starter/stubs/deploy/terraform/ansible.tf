# TODO (assignment 3): servers_set_up_by = "ansible": bare Debian 12 instances with the
#     admin's SSH key, for deploy/ansible's playbooks.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   data.aws_ssm_parameter.debian_12
#   locals: local.servers_set_up_by_ansible, local.server_image,
#     local.admin_ssh_user_data, local.proxy_public_ip, local.ansible_inventory
