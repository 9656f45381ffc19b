"""E9031: a template that `threetier stackset` deploys carries a transform (a macro).

Every template in output/ can be a stack set's (the environment's root and its nested stacks, the
deployer role's bootstrap). CreateStackSet's Capabilities: "StackSets with service-managed permissions
don't currently support the use of macros in templates. (This includes the AWS::Include and
AWS::Serverless transforms, which are macros hosted by CloudFormation.) Even if you specify this
capability for a StackSet with service-managed permissions, if you reference a macro in your template
the StackSet operation will fail." With self-managed permissions a macro needs CAPABILITY_AUTO_EXPAND and
no change set review, and CreateChangeSet does not expand macros in nested stacks at all. A template
that is not a stack set's says so with a template-level `cfn-lint: config: ignore_checks` and a reason.
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/what-is-cfnstacksets.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

SERVERLESS_PREFIX = "AWS::Serverless::"


class StackSetTransform(CloudFormationLintRule):
    id = "E9031"
    shortdesc = "A stack set template carries a transform"
    description = ("A top-level Transform, an Fn::Transform or an AWS::Serverless resource in a template a stack "
                   "set deploys: service-managed stack sets do not run macros, and the operation fails.")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html"
    tags = ["stacksets", "transform"]

    def match(self, cfn):
        template = cfn.template if isinstance(cfn.template, dict) else {}
        matches = []
        transform = template.get("Transform")
        if transform:
            names = transform if isinstance(transform, list) else [transform]
            matches.append(RuleMatch(["Transform"], _message(f"Transform {', '.join(map(str, names))}")))
        for name, resource in (template.get("Resources") or {}).items():
            kind = resource.get("Type", "") if isinstance(resource, dict) else ""
            if isinstance(kind, str) and kind.startswith(SERVERLESS_PREFIX):
                matches.append(RuleMatch(["Resources", name, "Type"], _message(f"{name} ({kind}, a SAM resource)")))
        for path in _fn_transforms(template, []):
            matches.append(RuleMatch(path, _message(f"Fn::Transform at {'/'.join(map(str, path[:-1]))}")))
        return matches


def _fn_transforms(node, path: list) -> list[list]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::Transform":
                found.append([*path, key])
            found += _fn_transforms(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _fn_transforms(value, [*path, index])
    return found


def _message(what: str) -> str:
    return (f"{what}: a stack set deploys this template, and stack sets with service-managed permissions do not "
            "run macros (AWS::Include and AWS::Serverless included): the operation fails. Fix: write the expanded "
            "resources (the project's rotation function is its own for this reason), or, for a template no stack "
            "set deploys, suppress E9031 in its Metadata with that reason.")
