"""E9012: an Auto Scaling group that sets DesiredCapacity while a scaling policy sizes it.

DesiredCapacity is "the capacity it attempts to maintain", updated without
interruption: every stack update that touches the group (a new launch template
version, a release) sets it again and undoes what a target tracking, step or
simple scaling policy scaled out, in the middle of the load that caused it.
Left out, the group starts at MinSize and updates leave its size to the
policies; AWS's CDK warns that the property "will reset the size of your
AutoScalingGroup on every deployment" and recommends leaving it blank.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-autoscaling-autoscalinggroup.html#cfn-autoscaling-autoscalinggroup-desiredcapacity
https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_autoscaling.AutoScalingGroup.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, literal_texts

GROUP = "AWS::AutoScaling::AutoScalingGroup"
POLICY = "AWS::AutoScaling::ScalingPolicy"
# The policy types that move the desired capacity as the load goes; no PolicyType is SimpleScaling.
SIZING = ("TargetTrackingScaling", "StepScaling", "SimpleScaling")


class DesiredCapacityWithScalingPolicy(CloudFormationLintRule):
    id = "E9012"
    shortdesc = "DesiredCapacity on a group that scaling policies size"
    description = (
        "An AWS::AutoScaling::AutoScalingGroup sets DesiredCapacity while an AWS::AutoScaling::ScalingPolicy "
        "(target tracking, step or simple) of the same template scales it: each stack update resets the size."
    )
    source_url = ("https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
                  "aws-resource-autoscaling-autoscalinggroup.html#cfn-autoscaling-autoscalinggroup-desiredcapacity")
    tags = ["resources", "autoscaling"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        matches = []
        for group, _ in view.resources_of_type(GROUP):
            path = ["Resources", group, "Properties", "DesiredCapacity"]
            set_to = [node for node, _ in view.branches(view.properties(group).get("DesiredCapacity"), path)
                      if node is not None]  # left out, or AWS::NoValue in every branch: not set
            policies = [(name, kind) for name in view.resources_referring(group, POLICY, "AutoScalingGroupName")
                        for kind in _sizing_types(view, name)]
            if set_to and policies:
                matches.append(RuleMatch(path, _message(group, set_to, policies)))
        return matches


def _sizing_types(view: TemplateView, policy: str) -> list[str]:
    """The policy's types that size the group (one, or one per Fn::If branch)."""
    node = view.properties(policy).get("PolicyType", "SimpleScaling")
    return sorted(kind for kind in literal_texts(view.values(node)) if kind in SIZING)


def _message(group: str, set_to: list, policies: list[tuple[str, str]]) -> str:
    value = " or ".join(sorted({f"Ref {t}" if (t := _ref(node)) else str(node) for node in set_to}))
    named = ", ".join(f"{name} ({kind})" for name, kind in policies)
    return (
        f"{group} sets DesiredCapacity {value} while {named} scales it: every stack update that touches the "
        f"group (a new launch template version included) sets the capacity back to that value and undoes a "
        f"scale-out in the middle of the load that caused it. Fix: remove DesiredCapacity; the group starts at "
        f"MinSize, so set MinSize to the instances that must always run, and let the policy size it from there."
    )


def _ref(node) -> str | None:
    return node.get("Ref") if isinstance(node, dict) and isinstance(node.get("Ref"), str) else None
