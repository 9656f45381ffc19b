"""The CloudFront web ACL: one builder for the edge stack (in us-east-1) and the us-east-1 companion stack.

A web ACL that protects a CloudFront distribution has Scope CLOUDFRONT, and such a web
ACL can only be created in us-east-1 (the CloudFormation resource's Scope property):
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-webacl.html
https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html
"""

from __future__ import annotations

from troposphere import Sub, wafv2

from threetier.blocks import naming

# AWS managed rule groups on the web ACL: the common rule set (OWASP top
# risks) and known bad inputs (e.g. Log4j JNDI lookups, CVE-2021-44228).
MANAGED_RULE_GROUPS = (
    ("AWSManagedRulesCommonRuleSet", "common-rule-set"),
    ("AWSManagedRulesKnownBadInputsRuleSet", "known-bad-inputs"),
)


def web_acl(title: str, condition: str | None = None) -> wafv2.WebACL:
    """A CLOUDFRONT-scoped web ACL that allows by default and applies the managed rule groups."""
    acl = wafv2.WebACL(
        title,
        Scope="CLOUDFRONT",
        DefaultAction=wafv2.DefaultAction(Allow=wafv2.AllowAction()),
        Rules=[_managed_rule_group(priority, name, metric)
               for priority, (name, metric) in enumerate(MANAGED_RULE_GROUPS)],
        VisibilityConfig=_visibility("web-acl"),
        Tags=naming.tags("web-acl"),
    )
    if condition is not None:
        acl.Condition = condition
    return acl


def _managed_rule_group(priority: int, name: str, metric: str) -> wafv2.WebACLRule:
    return wafv2.WebACLRule(
        Name=name,
        Priority=priority,
        # "None": apply the rule group's own block actions.
        OverrideAction=wafv2.OverrideAction(**{"None": {}}),
        Statement=wafv2.Statement(
            ManagedRuleGroupStatement=wafv2.ManagedRuleGroupStatement(VendorName="AWS", Name=name)
        ),
        VisibilityConfig=_visibility(metric),
    )


def _visibility(metric: str) -> wafv2.VisibilityConfig:
    return wafv2.VisibilityConfig(
        CloudWatchMetricsEnabled=True,
        MetricName=Sub("${ProjectName}-${EnvironmentName}-" + metric),
        SampledRequestsEnabled=True,
    )
