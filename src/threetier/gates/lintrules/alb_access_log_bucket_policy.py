"""E9002: a load balancer that logs to a bucket of the same template waits for its bucket policy.

When `access_logs.s3.enabled` is set, Elastic Load Balancing checks that it
can write to the bucket at once, and the create fails with "Access Denied for
bucket: ... Please check S3bucket permission" if the bucket policy that lets
ELB deliver logs is not in place yet. CloudFormation creates resources in
parallel unless one is ordered after the other.
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView

ENABLED_KEY = "access_logs.s3.enabled"
BUCKET_KEY = "access_logs.s3.bucket"


class AlbAccessLogBucketPolicy(CloudFormationLintRule):
    id = "E9002"
    shortdesc = "Load balancer access logs not ordered after the bucket policy"
    description = (
        "A load balancer with access logs to an S3 bucket created in the same template must be "
        "ordered after every bucket policy of that bucket (DependsOn or a reference), and such a "
        "bucket policy must exist."
    )
    source_url = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"
    tags = ["resources", "elasticloadbalancingv2", "s3", "ordering"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        buckets = {name for name, _ in view.resources_of_type("AWS::S3::Bucket")}
        matches = []
        for lb_name, _ in view.resources_of_type("AWS::ElasticLoadBalancingV2::LoadBalancer"):
            enabled, bucket_values = _access_log_settings(view, lb_name)
            if not enabled:
                continue
            ordered_after = view.ordered_after(lb_name)
            for value, path in bucket_values:
                for bucket in sorted(view.referenced_resources(value) & buckets):
                    policies = _bucket_policies_of(view, bucket)
                    if not policies:
                        matches.append(RuleMatch(path, _no_policy_message(lb_name, bucket)))
                    for policy in policies:
                        if policy not in ordered_after:
                            matches.append(RuleMatch(path, _unordered_message(view, lb_name, bucket, policy)))
        return matches


def _access_log_settings(view: TemplateView, lb_name: str) -> tuple[bool, list[tuple]]:
    """Whether access logs may be on (an enabled value not literally false, in any Fn::If
    branch), and every access_logs.s3.bucket value with its path."""
    attributes_path = ["Resources", lb_name, "Properties", "LoadBalancerAttributes"]
    attributes = view.properties(lb_name).get("LoadBalancerAttributes")
    enabled, bucket_values = False, []
    for item, item_path in view.items(attributes, attributes_path):
        if not isinstance(item, dict):
            continue
        key = item.get("Key")
        if key == ENABLED_KEY:
            for value, _ in view.branches(item.get("Value"), [*item_path, "Value"]):
                if str(value).lower() != "false":
                    enabled = True
        elif key == BUCKET_KEY:
            bucket_values.append((item.get("Value"), [*item_path, "Value"]))
    return enabled, bucket_values


def _bucket_policies_of(view: TemplateView, bucket: str) -> list[str]:
    return sorted(name for name, _ in view.resources_of_type("AWS::S3::BucketPolicy")
                  if bucket in view.referenced_resources(view.properties(name).get("Bucket")))


def _unordered_message(view: TemplateView, lb: str, bucket: str, policy: str) -> str:
    condition = view.resources[policy].get("Condition")
    how = (f"DependsOn cannot name {policy} if its Condition {condition} may be false; use a reference "
           f"that holds under both values, e.g. a Metadata entry on {lb}: "
           f"Fn::If [{condition}, !Ref {policy}, '']"
           if isinstance(condition, str) else
           f"add DependsOn: {policy} to {lb} (or a reference to it, e.g. in Metadata; DependsOn cannot "
           f"name a resource whose Condition may be false)")
    return (
        f"{lb} turns on access logs to bucket {bucket} but is not ordered after its bucket policy "
        f"{policy}: ELB checks that it can write to the bucket when the attribute is set, and the "
        f"create fails with 'Access Denied for bucket ... Please check S3bucket permission' if the "
        f"policy is not in place yet. Fix: order {lb} after {policy}: {how}."
    )


def _no_policy_message(lb: str, bucket: str) -> str:
    return (
        f"{lb} turns on access logs to bucket {bucket}, but no AWS::S3::BucketPolicy in this template "
        f"is on {bucket}: nothing lets Elastic Load Balancing write there, and the create fails with "
        f"'Access Denied for bucket ... Please check S3bucket permission'. Fix: add a bucket policy "
        f"that allows log delivery (s3:PutObject on the AWSLogs/ prefix) and order {lb} after it "
        f"(DependsOn, or, when the policy has a Condition, since DependsOn cannot name a resource whose "
        f"Condition may be false, a reference that holds under both values such as a Metadata entry "
        f"Fn::If [Condition, !Ref Policy, ''])."
    )
