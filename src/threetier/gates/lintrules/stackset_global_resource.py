"""E9033: a global resource that a stack set would create once in every target region.

A stack set deploys the same template to each of its regions in each account. IAM is global: a named
role, policy, user, group or instance profile whose name does not contain the region collides in the
second region of the same account ("already exists") and the instance fails. CloudFront distributions,
web ACLs of scope CLOUDFRONT, the certificates CloudFront uses (ACM in us-east-1 only) and Route 53
hosted zones exist once for a site: created in every region they are duplicates that fight over the
same alias or domain. Such a resource must be under a Condition (a parameter a target overrides, or a
test of AWS::Region) so that one region creates it; a named IAM resource must put ${AWS::Region} in its
name, or be deployed to one region only, as `threetier stackset bootstrap` does (then say so with an
inline cfn-lint suppression and that reason). A bucket name is unique in the whole partition: a named S3
bucket needs both ${AWS::AccountId} and ${AWS::Region} in its name, or the same suppression with the one
account and the regions it is deployed to (threetier stackset bootstrap's code buckets).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import intrinsic, mentions_pseudo

# IAM types and the property that names them.
NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}
ONCE_PER_SITE = ("AWS::CloudFront::Distribution", "AWS::Route53::HostedZone")
WEB_ACL = "AWS::WAFv2::WebACL"
CERTIFICATE = "AWS::CertificateManager::Certificate"
BUCKET = "AWS::S3::Bucket"


class StackSetGlobalResource(CloudFormationLintRule):
    id = "E9033"
    shortdesc = "A global resource a stack set would create in every target region"
    description = ("A named IAM resource without the region in its name, a named S3 bucket without the account and "
                   "the region in its name, or an unconditional CloudFront distribution, CLOUDFRONT web ACL, "
                   "CloudFront certificate or hosted zone.")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html"
    tags = ["stacksets", "iam", "s3", "cloudfront", "wafv2", "route53"]

    def match(self, cfn):
        resources = cfn.template.get("Resources") if isinstance(cfn.template, dict) else None
        resources = resources if isinstance(resources, dict) else {}
        cloudfront_certificates = _certificates_cloudfront_uses(resources)
        matches = []
        for name, resource in resources.items():
            if not isinstance(resource, dict):
                continue
            message = _problem(name, resource, name in cloudfront_certificates)
            if message:
                matches.append(RuleMatch(["Resources", name], message))
        return matches


def _problem(name: str, resource: dict, used_by_cloudfront: bool) -> str | None:
    kind = resource.get("Type")
    properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
    if kind in NAMED_IAM and NAMED_IAM[kind] in properties and not mentions_pseudo(properties[NAMED_IAM[kind]], "AWS::Region"):
        return (f"{name} ({kind}) has a fixed {NAMED_IAM[kind]}: IAM is global, so a stack set's instance in a second "
                "region of the same account fails on the name the first took. Fix: put ${AWS::Region} in the name, "
                "leave the name out, or deploy the template to one region only (threetier stackset bootstrap) "
                "and suppress E9033 on it with that reason.")
    if kind == BUCKET and "BucketName" in properties and not all(
            mentions_pseudo(properties["BucketName"], pseudo) for pseudo in ("AWS::AccountId", "AWS::Region")):
        return (f"{name} ({kind}) has a BucketName without both ${{AWS::AccountId}} and ${{AWS::Region}}: a bucket "
                "name is unique in the whole partition, so a stack set's instance in a second account or region "
                "fails on the name the first took. Fix: put both in the name, leave the name out, or deploy the "
                "template to one account (and one region per name) only and suppress E9033 on it with that reason.")
    once = (kind in ONCE_PER_SITE or (kind == WEB_ACL and properties.get("Scope") == "CLOUDFRONT")
            or (kind == CERTIFICATE and used_by_cloudfront))
    if once and not resource.get("Condition"):
        return (f"{name} ({kind}) is created in every region a stack set deploys this template to, but a site has "
                "one. Fix: put it under a Condition (a parameter a target region overrides, or AWS::Region) so one "
                "region creates it.")
    return None


def _certificates_cloudfront_uses(resources: dict) -> set[str]:
    found = set()
    for resource in resources.values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::CloudFront::Distribution":
            _collect_refs(((resource.get("Properties") or {}).get("DistributionConfig") or {}).get("ViewerCertificate"),
                          found)
    return found


def _collect_refs(node, found: set[str]) -> None:
    function = intrinsic(node)
    if function and function[0] == "Ref" and isinstance(function[1], str):
        found.add(function[1])
    if isinstance(node, dict):
        for value in node.values():
            _collect_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, found)

