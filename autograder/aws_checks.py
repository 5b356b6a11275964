"""The checks over the AWS API, with the slip's read-only credentials: the private
bucket, CloudFront through Origin Access Control, RDS, the security groups, the
instance types, the load balancer, and the cost guard (issue #16, item 6).

Written by the w-grader-aws helper; until it lands, this placeholder keeps
autograder/catalog.py importable and the list empty.
"""

from autograder.checks import Check

CHECKS: list[Check] = []
