"""E9032: a nested stack's TemplateURL that a stack set's instances cannot read from their accounts.

A stack set's instances run in the target accounts and regions, where CloudFormation fetches each
nested stack's TemplateURL as the account's StackSets execution role. The project's nested templates
are relative paths that `threetier package` uploads to the template bucket, which `threetier stackset`
refuses unless its policy lets the organization read it (aws:PrincipalOrgID). Anything else must be an
https URL of an S3 object: not a local file (`file://`, an absolute path), not plain http, not another
host, and not a bucket named after `AWS::AccountId`, which would need one bucket per target account that
nothing creates.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stack.html#cfn-cloudformation-stack-templateurl
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
"""

from __future__ import annotations

import re

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import mentions_pseudo

STACK = "AWS::CloudFormation::Stack"
# https://bucket.s3.region.amazonaws.com/key, https://s3.region.amazonaws.com/bucket/key, and the China suffix.
S3_URL = re.compile(r"^https://([a-z0-9.-]+\.)?s3[.-]([a-z0-9-]+\.)?amazonaws\.com(\.cn)?/")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class StackSetNestedTemplateUrl(CloudFormationLintRule):
    id = "E9032"
    shortdesc = "A nested template URL a stack set's target accounts cannot read"
    description = ("AWS::CloudFormation::Stack TemplateURL that is neither a relative path `threetier package` "
                   "uploads nor an https S3 URL, or that names a bucket per account (AWS::AccountId).")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html"
    tags = ["stacksets", "nested", "s3"]

    def match(self, cfn):
        resources = cfn.template.get("Resources") if isinstance(cfn.template, dict) else None
        matches = []
        for name, resource in (resources or {}).items():
            if not isinstance(resource, dict) or resource.get("Type") != STACK:
                continue
            url = (resource.get("Properties") or {}).get("TemplateURL")
            problem = _problem(url)
            if problem:
                matches.append(RuleMatch(["Resources", name, "Properties", "TemplateURL"], f"{name}: {problem}"))
        return matches


def _problem(url) -> str | None:
    if isinstance(url, str):
        return _literal_problem(url)
    if mentions_pseudo(url, "AWS::AccountId"):
        return ("TemplateURL names a bucket per account (AWS::AccountId): a stack set's instances would read a "
                "bucket in each target account, which nothing creates. Fix: the one template bucket the "
                "organization reads (a relative path `threetier package` uploads).")
    return None


def _literal_problem(url: str) -> str | None:
    if not SCHEME.match(url):
        if url.startswith("/"):
            return (f"TemplateURL {url} is an absolute local path: a stack set's target accounts cannot read a "
                    "local file. Fix: a path relative to the template, which `threetier package` uploads.")
        return None  # relative: packaged into the organization-readable template bucket
    if not S3_URL.match(url):
        return (f"TemplateURL {url} is not an https S3 object URL: a stack set's instances read nested templates "
                "from S3 in their own accounts. Fix: put it in the template bucket the organization reads.")
    return None

