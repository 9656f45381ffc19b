"""E9013: a group whose health check grace period is shorter than its resource signal timeout.

The signal timeout (CreationPolicy ResourceSignal Timeout; a rolling update's
PauseTime with WaitOnResourceSignals) is how long CloudFormation lets a new
instance boot before it signals. With ELB (or VPC Lattice) health checks, Auto
Scaling replaces an InService instance that fails the load balancer's check as
soon as its grace period is over, so an instance still booting then is
terminated before it can signal: the creation fails at the timeout, and every
scale-out or replacement boots and is terminated again. The grace period must
cover the timeout (it starts later, when the instance enters InService). A group
with a launch lifecycle hook is left alone: AWS's page says its grace period may
be 0, as instances boot before they enter InService.
https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-creationpolicy.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, literal_texts

GROUP = "AWS::AutoScaling::AutoScalingGroup"
HOOK = "AWS::AutoScaling::LifecycleHook"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
# Health checks that judge the app, not the instance: a booting instance fails them.
APP_CHECKS = {"ELB", "VPC_LATTICE"}
DEFAULT_TIMEOUT = "PT5M"  # ResourceSignal Timeout, and PauseTime with WaitOnResourceSignals


class GraceShorterThanSignalTimeout(CloudFormationLintRule):
    id = "E9013"
    shortdesc = "Health check grace period shorter than the resource signal timeout"
    description = (
        "An AWS::AutoScaling::AutoScalingGroup with ELB health checks whose HealthCheckGracePeriod can be "
        "shorter than its CreationPolicy ResourceSignal Timeout or its rolling update's PauseTime "
        "(WaitOnResourceSignals): instances still booting are replaced before they signal."
    )
    source_url = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html"
    tags = ["resources", "autoscaling", "creationpolicy", "updatepolicy"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        worst: dict[tuple, tuple[float, RuleMatch]] = {}  # per timeout: the longest one the grace misses
        for group, resource in view.resources_of_type(GROUP):
            properties = view.properties(group)
            if _boots_before_in_service(view, group, properties):
                continue
            nodes = (properties.get("HealthCheckType"), properties.get("HealthCheckGracePeriod"),
                     resource.get("CreationPolicy"), resource.get("UpdatePolicy"))
            # Judged per parameter binding, so that an Fn::If choosing both the grace and the wait
            # on one condition is judged on each side of it.
            for binding in view.scenarios(*nodes):
                for timeout, match in _misses(view, group, resource, binding):
                    key = tuple(match.path)
                    if key not in worst or timeout > worst[key][0]:
                        worst[key] = (timeout, match)
        return [match for _, match in worst.values()]


def _misses(view: TemplateView, group: str, resource: dict, binding: dict):
    """(timeout seconds, RuleMatch) for each signal wait the grace period can end before."""
    properties = view.properties(group)
    checks = _app_checks(view, properties.get("HealthCheckType"), binding)
    grace_node = properties.get("HealthCheckGracePeriod")
    grace = view.number_bounds(grace_node, binding) if grace_node is not None else (0.0, 0.0)  # the default: 0
    if not checks or grace is None:
        return  # no check that judges a booting instance, or a grace only known at deploy time
    for what, node, path in _timeouts(view, group, resource, binding):
        timeout = view.duration_bounds(node, binding)
        if timeout is not None and timeout[1] > grace[0]:
            yield timeout[1], RuleMatch(path, _message(view, group, checks, grace_node, grace[0], what, node,
                                                       timeout[1]))


def _app_checks(view: TemplateView, node, binding: dict) -> str:
    """'ELB' (or 'VPC_LATTICE', ...) when HealthCheckType can include a check a booting instance fails."""
    types = {kind.strip().upper() for text in literal_texts(view.values(node, binding)) for kind in text.split(",")}
    return ", ".join(sorted(types & APP_CHECKS))


def _boots_before_in_service(view: TemplateView, group: str, properties: dict) -> bool:
    """A launch lifecycle hook, in the group or as a resource on it, holds instances in Pending:Wait."""
    path = ["Resources", group, "Properties", "LifecycleHookSpecificationList"]
    hooks = [hook for hook, _ in view.items(properties.get("LifecycleHookSpecificationList"), path)]
    hooks += [view.properties(name) for name in view.resources_referring(group, HOOK, "AutoScalingGroupName")]
    return any(LAUNCHING in literal_texts(view.values(hook.get("LifecycleTransition")))
               for hook in hooks if isinstance(hook, dict))


def _timeouts(view: TemplateView, group: str, resource: dict, binding: dict):
    """(what, duration node, path) for each signal wait: the creation's, and each rolling update's
    that waits on signals."""
    creation = resource.get("CreationPolicy")
    signal = creation.get("ResourceSignal") if isinstance(creation, dict) else None
    if isinstance(signal, dict):
        path = ["Resources", group, "CreationPolicy", "ResourceSignal"]
        yield ("CreationPolicy ResourceSignal Timeout", signal.get("Timeout", DEFAULT_TIMEOUT),
               [*path, "Timeout"] if "Timeout" in signal else path)
    policy_path = ["Resources", group, "UpdatePolicy"]
    for policy, path in view.branches(resource.get("UpdatePolicy"), policy_path, binding):
        rolling = policy.get("AutoScalingRollingUpdate") if isinstance(policy, dict) else None
        for update, update_path in view.branches(rolling, [*path, "AutoScalingRollingUpdate"], binding):
            if not isinstance(update, dict):
                continue
            waits = {text.lower() for text in literal_texts(view.values(update.get("WaitOnResourceSignals"), binding))}
            if "true" in waits:
                yield ("rolling update PauseTime (WaitOnResourceSignals)", update.get("PauseTime", DEFAULT_TIMEOUT),
                       [*update_path, "PauseTime"] if "PauseTime" in update else update_path)


def _message(view: TemplateView, group: str, checks: str, grace_node, grace: float, what: str, timeout_node,
             timeout: float) -> str:
    grace_text = "not set (0 s)" if grace_node is None else _shown(view, grace_node, "as low as", grace)
    target = view.ref_target(grace_node)
    fix = (f"give {target} a MinValue of at least {timeout:g}" if view.parameter(target)
           else f"a HealthCheckGracePeriod of at least {timeout:g}")
    return (
        f"{group}: HealthCheckGracePeriod {grace_text} is shorter than its {what} "
        f"{_shown(view, timeout_node, 'up to', timeout)}. With {checks} health checks an instance still booting "
        f"when its grace period ends fails the check and is replaced before it can signal, though "
        f"CloudFormation would have waited for it: the creation fails at the timeout and scale-outs boot and "
        f"are terminated again. Fix: {fix} (the grace period must cover the boot the timeout allows), or a "
        f"shorter timeout if the boot is faster."
    )


def _shown(view: TemplateView, node, bound: str, seconds: float) -> str:
    """'Ref Grace (as low as 300 s)', 'PT20M (1200 s)', '300 s', or 'up to 1200 s' for an Fn::If."""
    target = view.ref_target(node)
    if view.parameter(target):
        return f"Ref {target} ({bound} {seconds:g} s)"
    if isinstance(node, dict):
        return f"{bound} {seconds:g} s"
    if isinstance(node, str) and not node.strip().isdigit():
        return f"{node} ({seconds:g} s)"
    return f"{seconds:g} s"
