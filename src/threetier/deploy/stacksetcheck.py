"""The checks of a stack set's targets that need the environment's values, shared by `threetier stackset`
(before any AWS call) and `threetier validate ENV` (which has no AWS at all).

- Each target region gets the validation plan runs for one stack (threetier.parameters.validate), with the
  target's overrides: a region the environment's features do not support is refused there, naming the
  target and the region (e.g. three Availability Zones in a region that has two).
- A site's global resources (CloudFront distribution, CLOUDFRONT web ACL, hosted zone; lint rule E9033 for
  the template side) may be created in one region per account: the values of two target regions that both
  create one are refused. A stack set deploys the same template to each of its regions.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
"""

from __future__ import annotations

from pathlib import Path

from threetier import parameters as P
from threetier.deploy.errors import InputError
from threetier.deploy.inputs import load_stack_inputs
from threetier.deploy.stacksettargets import StackSetSettings, Target
from threetier.parameters import validate

# What a site has once: created in two regions of one account they are duplicates (E9033).
ONCE_PER_SITE = ("AWS::CloudFront::Distribution", "AWS::Route53::HostedZone")
CLOUDFRONT_WEB_ACL = "AWS::WAFv2::WebACL"


def check_targets(project: Path, env: str, template: dict, targets: StackSetSettings, protected: bool,
                  templates=None, allow_insecure: bool = False) -> None:
    """InputError naming the first target and region the values cannot work in; with `templates` (the
    insight model's), also the accounts (or OUs) whose values create a site's global resources twice."""
    for target in targets.targets:
        for region in targets.regions_of(target):
            try:
                inputs = load_stack_inputs(project, env, template, region=region, overrides=target.parameters,
                                           protected=protected, allow_insecure=allow_insecure)
            except InputError as error:
                raise InputError(f"{target.label()} in {region}:\n{error}") from None
            if validate.prefix_list_to_look_up(template, inputs.parameters):
                raise InputError(_prefix_list_problem(target, region))
    if templates is not None:
        _global_resources_once(project, env, targets, templates)


def _prefix_list_problem(target: Target, region: str) -> str:
    """`plan` looks the CloudFront origin-facing prefix list up for its one region; its id differs from region
    to region, and a stack set has no step per region to look it up in."""
    name = P.CLOUDFRONT_PREFIX_LIST_ID.name
    return (f"{target.label()} in {region}: {P.CLOUDFRONT_ENABLED.name} is true and {name} is empty: `threetier plan` "
            f"looks it up for its one region, but the list's id differs per region. Give it in the target's "
            f"parameters, one target per region (aws ec2 describe-managed-prefix-lists --region {region} --filters "
            f"Name=prefix-list-name,Values={validate.CLOUDFRONT_PREFIX_LIST_NAME}); nothing was sent to AWS")


def _global_resources_once(project: Path, env: str, targets: StackSetSettings, templates) -> None:
    from threetier.insight import stacks

    creating: dict[str, list[tuple[str, Target]]] = {}
    for target in targets.targets:
        values = {**load_stack_inputs(project, env).parameters, **target.parameters}
        for region in targets.regions_of(target):
            made = _global_resources(stacks.evaluate(templates, values, region))
            for name in target.names if made else ():
                creating.setdefault(name, []).append((region, target))
                if len(creating[name]) > 1:
                    (first, earlier), (second, later) = creating[name][:2]
                    raise InputError(
                        f"{name}: the values of {earlier.label()} in {first} and {later.label()} in {second} both "
                        f"create {', '.join(made)}, which a site has once: a stack set deploys the same template "
                        "to each region. Turn them off in all regions but one with the target's parameters "
                        "(e.g. a [[ENV.stackset.targets]] per region with CloudFrontEnabled = \"false\"); "
                        "nothing was sent to AWS")


def _global_resources(evaluated) -> list[str]:
    found = []
    for stack in evaluated:
        for logical_id, resource in stack.resources.items():
            kind = resource.get("Type")
            scope = (resource.get("Properties") or {}).get("Scope")
            if kind in ONCE_PER_SITE or (kind == CLOUDFRONT_WEB_ACL and scope == "CLOUDFRONT"):
                found.append(f"{stack.qualified(logical_id)} ({kind})")
    return found
