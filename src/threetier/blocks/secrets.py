"""Secrets the stacks share by reference, never by value.

A template that needs a secret's value (a CloudFront origin header, the
load balancer rule that checks it) gets a dynamic reference that
CloudFormation resolves at deploy time; the value is in no template,
parameter or output.
"""

from __future__ import annotations

from troposphere import If, Sub, Template, secretsmanager

from threetier.blocks import naming
from threetier.blocks.suppressions import checkov

ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
ORIGIN_VERIFY_KEY = "value"
SECRET_KEY_REASON = (
    "CKV_AWS_149",
    "Encrypted with the AWS managed key aws/secretsmanager; IAM limits reading it to the "
    "app role, and no other account needs it, so a customer managed key adds no control.",
)


def resolve(arn_parameter: str, key: str) -> Sub:
    """`{{resolve:secretsmanager:...}}` of one JSON key of the secret whose ARN is a parameter."""
    return Sub("{{resolve:secretsmanager:${%s}:SecretString:%s}}" % (arn_parameter, key))


def resolve_version(arn_parameter: str, key: str, version_parameter: str, has_version: str) -> If:
    """The same, pinned to the version id a parameter names when the condition `has_version` holds.

    A dynamic reference is resolved when the property's text changes, not when
    the secret does: the version id in the text makes a rotation a reviewed
    change set. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html
    """
    return If(has_version, pinned(arn_parameter, key, version_parameter), resolve(arn_parameter, key))


def pinned(arn_parameter: str, key: str, version_parameter: str) -> Sub:
    """One JSON key of the secret version whose id a parameter holds."""
    return Sub("{{resolve:secretsmanager:${%s}:SecretString:%s::${%s}}}" % (arn_parameter, key, version_parameter))


def origin_verify_secret(t: Template, condition: str | None = None) -> secretsmanager.Secret:
    """The header value that proves a request came through CloudFront: in the data stack in the
    chain layout, in the front stack (templates/front.py) in the parallel one.

    Nothing depends on its value surviving: CloudFront and the load balancer
    both read it from here, so a new one is as good as the old.
    """
    secret = t.add_resource(
        secretsmanager.Secret(
            "OriginVerifySecret",
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Description=Sub("${ProjectName}-${EnvironmentName}: header value CloudFront sends to the load balancer"),
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate="{}",
                GenerateStringKey=ORIGIN_VERIFY_KEY,
                PasswordLength=48,
                ExcludePunctuation=True,
            ),
            Tags=naming.tags("origin-verify-secret"),
            Metadata=checkov(SECRET_KEY_REASON),
        )
    )
    if condition is not None:
        secret.Condition = condition
    return secret
