# TODO (assignment 3): the app servers: one launch template (the instance role, user data
#     from templates/) and, behind the ALB, an Auto Scaling group that scales on CPU.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   data.aws_ssm_parameter.amazon_linux
#   aws_launch_template.app
#   aws_autoscaling_group.app
#   aws_autoscaling_policy.app_cpu
#   locals: local.app_port, local.image, local.site_host_names, local.site_url,
#     local.csrf_trusted_origins, local.app_settings, local.app_host_arguments,
#     local.app_server_user_data
