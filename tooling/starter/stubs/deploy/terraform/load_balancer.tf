# TODO (assignment 3): the Application Load Balancer (load_balancer = "alb"): HTTP and,
#     with a certificate, HTTPS listeners, a target group checked on /readyz.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   aws_lb.app
#   aws_lb_target_group.app
#   aws_lb_listener.http
#   aws_lb_listener.https
#   locals: local.use_alb, local.https
