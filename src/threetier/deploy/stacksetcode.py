"""The rotation function's code for a stack set in several regions.

Lambda reads a function's code only from a bucket in the function's own region (AWS::Lambda::Function
Code, S3Bucket: "An Amazon S3 bucket in the same AWS Region as your function. The bucket can be in a
different AWS account."). A stack set in several regions gets a bucket per region, named by the
code_bucket setting with ${AWS::Region}, which the packaged root passes as Fn::Sub: each instance reads
its own region's copy.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html
"""

from __future__ import annotations

import sys

from botocore.exceptions import ClientError

from threetier.deploy import stacksettargets
from threetier.deploy.errors import InputError
from threetier.deploy.package import (
    STACK_TYPE,
    parse_template,
    rewrite_parameter_values,
)
from threetier.deploy.stacksettargets import StackSetSettings

CODE_KEY, CODE_BUCKET = "RotationCodeKey", "RotationCodeBucket"


def code_keys(template: dict) -> list[str]:
    return [parameters[CODE_KEY] for parameters in _nested_parameters(template) if CODE_KEY in parameters]


def _nested_parameters(template: dict) -> list[dict]:
    return [(resource.get("Properties") or {}).get("Parameters") or {}
            for resource in (template.get("Resources") or {}).values()
            if isinstance(resource, dict) and resource.get("Type") == STACK_TYPE]


def check_regions(template: dict, targets: StackSetSettings, home: str | None) -> None:
    """Refuse (before any call) a target region other than the template bucket's when the environment has a
    rotation function and no code_bucket names a bucket there."""
    if targets.code_bucket or not code_keys(template):
        return
    away = [region for region in targets.regions if region != home]
    if away:
        raise InputError(f"the rotation function's code is in the template bucket's region ({home or 'unknown'}), "
                         f"and Lambda reads code only from a bucket in the function's region: {', '.join(away)} "
                         "cannot read it. Set code_bucket = \"name-${AWS::Region}\" in [ENV.stackset]: a bucket in "
                         "each target region, readable by the organization; nothing was sent to AWS")


def buckets(targets: StackSetSettings, has_code: bool) -> list[str]:
    if not (targets.code_bucket and has_code):
        return []
    return [stacksettargets.code_bucket_in(targets.code_bucket, region) for region in targets.regions]


def copy_to_each_region(clients, targets: StackSetSettings, root_text: str, template_bucket: str) -> str:
    """Copy the packaged rotation code to each region's code bucket (when not there yet) and pass the
    bucket to the app stack as Fn::Sub of code_bucket."""
    template = parse_template(root_text, "the packaged root")
    keys = code_keys(template)
    if not (targets.code_bucket and keys):
        return root_text
    for bucket in buckets(targets, True):
        for key in dict.fromkeys(keys):
            if bucket != template_bucket and not _exists(clients.s3, bucket, key):
                clients.s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": template_bucket, "Key": key})
                print(f"copied {key} -> s3://{bucket}", file=sys.stderr)
    text = rewrite_parameter_values(root_text, template, {CODE_BUCKET: targets.code_bucket})
    text = text.replace(f"{CODE_BUCKET}: '{targets.code_bucket}'", f"{CODE_BUCKET}: !Sub '{targets.code_bucket}'")
    passed = [p.get(CODE_BUCKET) for p in _nested_parameters(parse_template(text, "the packaged root"))
              if CODE_BUCKET in p]
    if not passed or any(value != {"Fn::Sub": targets.code_bucket} for value in passed):
        raise InputError(f"could not pass {CODE_BUCKET} as Fn::Sub {targets.code_bucket!r} in the packaged root")
    return text


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
