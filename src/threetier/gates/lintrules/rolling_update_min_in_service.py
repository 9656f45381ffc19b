"""E9004: a rolling update's MinInstancesInService must stay below the group's MaxSize.

CloudFormation refuses the update with "MinInstancesInService must be less
than the autoscaling group's MaxSize" otherwise. A template that reads both
from parameters is broken for every MinSize == MaxSize group (e.g. 1/1), a
valid group: the update fails only on the first deploy that replaces instances.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, intrinsic


class RollingUpdateMinInService(CloudFormationLintRule):
    id = "E9004"
    shortdesc = "Rolling update MinInstancesInService can reach MaxSize"
    description = (
        "UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService must be less than the Auto Scaling "
        "group's MaxSize for every parameter value the template allows."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html"
    tags = ["resources", "autoscaling", "updatepolicy"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        matches = []
        for group, resource in view.resources_of_type("AWS::AutoScaling::AutoScalingGroup"):
            properties = view.properties(group)
            max_size = _GroupSize(view, properties.get("MaxSize"))
            if max_size.lowest is None:
                continue  # MaxSize only known at deploy time: nothing to compare against
            min_size_param = view.ref_target(properties.get("MinSize"))
            policy_path = ["Resources", group, "UpdatePolicy"]
            for policy, path in view.branches(resource.get("UpdatePolicy"), policy_path):
                rolling = policy.get("AutoScalingRollingUpdate") if isinstance(policy, dict) else None
                for update, update_path in view.branches(rolling, [*path, "AutoScalingRollingUpdate"]):
                    if not isinstance(update, dict) or "MinInstancesInService" not in update:
                        continue
                    check = _Check(view, group, max_size, min_size_param)
                    check.walk(update["MinInstancesInService"], [*update_path, "MinInstancesInService"], frozenset())
                    matches.extend(check.matches)
        return matches


class _GroupSize:
    def __init__(self, view: TemplateView, node):
        self.parameter = view.ref_target(node) if view.parameter(view.ref_target(node)) else None
        bounds = view.number_bounds(node)
        self.lowest = bounds[0] if bounds else None
        self.text = f"Ref {self.parameter}" if self.parameter else str(node)


class _Check:
    """Walks MinInstancesInService through its Fn::If branches, remembering which pairs of
    parameters the enclosing conditions prove unequal."""

    def __init__(self, view: TemplateView, group: str, max_size: _GroupSize, min_size_param: str | None):
        self.view, self.group, self.max_size, self.min_size_param = view, group, max_size, min_size_param
        self.matches: list[RuleMatch] = []

    def walk(self, node, path: list, unequal: frozenset) -> None:
        fn = intrinsic(node)
        if fn and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
            tested = self.view.equality_tested(fn[1][0])
            for index in (1, 2):
                # The true branch of "A == B" (or the false one of "A != B") learns nothing;
                # the other branch knows A != B.
                knows_unequal = tested is not None and (index == 2) == tested[1]
                self.walk(fn[1][index], [*path, "Fn::If", index],
                          unequal | {tested[0]} if knows_unequal else unequal)
            return
        if fn == ("Ref", "AWS::NoValue"):
            return  # MinInstancesInService defaults to 0
        target = self.view.ref_target(node)
        if target is not None and self._proven_below_max(target, unequal):
            return
        bounds = self.view.number_bounds(node)
        if bounds is None:
            return  # known only at deploy time
        if bounds[1] >= self.max_size.lowest:
            self.matches.append(RuleMatch(path, self._message(node, bounds[1])))

    def _proven_below_max(self, parameter: str, unequal: frozenset) -> bool:
        # MinSize <= MaxSize holds for any group that exists, so MinSize != MaxSize means MinSize < MaxSize.
        return (parameter == self.min_size_param and self.max_size.parameter is not None
                and frozenset({parameter, self.max_size.parameter}) in unequal)

    def _message(self, node, highest: float) -> str:
        target = self.view.ref_target(node)
        value = f"Ref {target} (up to {_number(highest)})" if target else _number(highest)
        lowest = _number(self.max_size.lowest)
        if target and target == self.min_size_param and self.max_size.parameter:
            example = (f" Fix: MinInstancesInService: !If [MinEqualsMax, 0, !Ref {target}] with the condition "
                       f"MinEqualsMax: !Equals [!Ref {target}, !Ref {self.max_size.parameter}], or a number "
                       f"below MaxSize's smallest allowed value.")
        else:
            example = (f" Fix: a MinInstancesInService below {lowest} (MaxSize's smallest allowed value), "
                       f"or raise MaxSize's lower bound (its parameter's MinValue or AllowedValues).")
        return (
            f"{self.group}: MinInstancesInService {value} can reach MaxSize ({self.max_size.text}, as low as "
            f"{lowest}). CloudFormation then refuses the rolling update with 'MinInstancesInService must be "
            f"less than the autoscaling group's MaxSize', on the first update that replaces instances."
            + example
        )


def _number(value: float) -> str:
    return "unbounded" if value == float("inf") else f"{value:g}"
