"""Refs, GetAtts and Sub variables that name nothing the template defines.

troposphere takes any string as a Ref, so a typo in a template module would be generated and caught
only by cfn-lint, or by CloudFormation at deploy time; generate refuses it instead, naming the file
and the path to the reference.
"""

from __future__ import annotations

import re

# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
PSEUDO_PARAMETERS = frozenset({
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
})
# ${Name} or ${Resource.Attribute}; ${!Literal} is written out as ${Literal} and names nothing
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html).
SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


def undefined(file_name: str, template: dict) -> list[str]:
    """`file: path: Ref Name` for every reference in `template` to something it does not define."""
    parameters = set(template.get("Parameters") or {})
    resources = set(template.get("Resources") or {})
    names = _Names(parameters | resources | PSEUDO_PARAMETERS, resources)
    found: list[str] = []
    for section in ("Resources", "Outputs", "Conditions", "Rules", "Metadata"):
        if section in template:
            _walk(template[section], section, names, found)
    return [f"{file_name}: {problem}" for problem in found]


class _Names:
    def __init__(self, referable: set[str], resources: set[str]):
        self.referable = referable
        self.resources = resources

    def with_locals(self, local: set[str]) -> _Names:
        return _Names(self.referable | local, self.resources)


def _walk(node, path: str, names: _Names, found: list[str]) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, f"{path}[{index}]", names, found)
        return
    if not isinstance(node, dict):
        return
    if len(node) == 1:
        (key, value), = node.items()
        if key == "Ref":
            _check_ref(value, path, names, found)
            return
        if key == "Fn::GetAtt":
            _check_get_att(value, path, names, found)
            return
        if key == "Fn::Sub":
            _check_sub(value, path, names, found)
            return
    for key, value in node.items():
        _walk(value, f"{path}.{key}", names, found)


def _check_ref(name, path: str, names: _Names, found: list[str]) -> None:
    if isinstance(name, str) and name not in names.referable:
        found.append(f"{path}: Ref {name} (no parameter, resource or pseudo parameter of that name)")


def _check_get_att(value, path: str, names: _Names, found: list[str]) -> None:
    if isinstance(value, str):
        resource = value.split(".", 1)[0]
    elif isinstance(value, list) and value and isinstance(value[0], str):
        resource = value[0]
    else:
        return
    if resource not in names.resources:
        found.append(f"{path}: GetAtt {resource} (no resource of that name)")


def _check_sub(value, path: str, names: _Names, found: list[str]) -> None:
    if isinstance(value, str):
        text, local = value, {}
    elif isinstance(value, list) and value and isinstance(value[0], str):
        text, local = value[0], value[1] if len(value) > 1 and isinstance(value[1], dict) else {}
        _walk(local, f"{path}.Fn::Sub[1]", names, found)
    else:
        _walk(value, f"{path}.Fn::Sub", names, found)
        return
    known = names.with_locals(set(local))
    for variable in SUB_VARIABLE.findall(text):
        resource = variable.split(".", 1)[0] if "." in variable and not variable.startswith("AWS::") else None
        if variable in known.referable or (resource and resource in names.resources):
            continue
        found.append(f"{path}: Sub ${{{variable}}} (no parameter, resource, pseudo parameter or Sub variable "
                     "of that name)")
