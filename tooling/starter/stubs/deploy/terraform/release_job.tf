# TODO (assignment 3): the release job: a one-off instance that prepares the database
#     (PostGIS, the app's role, migrations) for each image_tag, then stops.
# Read deploy/terraform/README.md, and the variables (variables.tf) and outputs
# (outputs.tf) this configuration gives.
#
# The names the reference gives them here (outputs.tf and tests/deploy/ use them):
#   aws_instance.release_job
