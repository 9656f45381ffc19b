"""Secrets the stacks share by reference, never by value.

A template that needs a secret's value (a CloudFront origin header, the
load balancer rule that checks it) gets a dynamic reference that
CloudFormation resolves at deploy time; the value is in no template,
parameter or output.
"""

from __future__ import annotations

from troposphere import Sub

ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
ORIGIN_VERIFY_KEY = "value"


def resolve(arn_parameter: str, key: str) -> Sub:
    """`{{resolve:secretsmanager:...}}` of one JSON key of the secret whose ARN is a parameter."""
    return Sub("{{resolve:secretsmanager:${%s}:SecretString:%s}}" % (arn_parameter, key))
