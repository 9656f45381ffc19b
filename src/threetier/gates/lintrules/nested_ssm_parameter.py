"""E9001: a nested stack's SSM-typed parameter must receive a Parameter Store name.

CloudFormation resolves a parameter of type AWS::SSM::Parameter::Value<T> by
looking its value up in Parameter Store. If the parent passes a value it has
already resolved (a Ref to its own SSM-typed parameter is the *value*, e.g.
ami-0abc...), the nested stack looks that value up as a parameter name and
fails validation. Only the root should declare the SSM type; the nested
template takes the resolved type T.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html#systems-manager-parameter-types-supported
"""

from __future__ import annotations

import os

from cfnlint.decode import decode
from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, intrinsic

SSM_TYPE_PREFIX = "AWS::SSM::Parameter::Value<"


class NestedSsmParameter(CloudFormationLintRule):
    id = "E9001"
    shortdesc = "Nested stack SSM parameter given a resolved value"
    description = (
        "A nested stack parameter of type AWS::SSM::Parameter::Value<...> must receive a Parameter "
        "Store name (a literal, or a Ref to a parent parameter of type String), not a value the parent "
        "already resolved."
    )
    source_url = ("https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
                  "cloudformation-supplied-parameter-types.html#systems-manager-parameter-types-supported")
    tags = ["resources", "cloudformation", "nested", "ssm", "parameters"]

    def match(self, cfn):
        if not cfn.filename:
            return []  # a template from stdin has no directory to find nested files in
        base_dir = os.path.dirname(os.path.abspath(cfn.filename))
        parent = TemplateView(cfn.template)
        matches = []
        for stack_name, _ in parent.resources_of_type("AWS::CloudFormation::Stack"):
            properties = parent.properties(stack_name)
            child_file = properties.get("TemplateURL")
            child_parameters = _local_template_parameters(base_dir, child_file)
            if child_parameters is None:
                continue
            passed_path = ["Resources", stack_name, "Properties", "Parameters"]
            for passed, path in parent.branches(properties.get("Parameters"), passed_path):
                if not isinstance(passed, dict):
                    continue
                for key, value in passed.items():
                    child_type = str(_as_dict(child_parameters.get(key)).get("Type", ""))
                    if not child_type.startswith(SSM_TYPE_PREFIX):
                        continue
                    for leaf, leaf_path in parent.branches(value, [*path, key]):
                        problem = _why_not_a_parameter_name(parent, leaf)
                        if problem:
                            matches.append(RuleMatch(leaf_path, _message(stack_name, key, child_file, child_type, problem)))
        return matches


def _local_template_parameters(base_dir: str, location) -> dict | None:
    """The Parameters of a nested template given as a local relative path (as cfn-lint's E3043
    resolves it), or None for S3/HTTP locations and files that do not decode."""
    if not isinstance(location, str) or location.startswith(("http://", "https://", "s3://")):
        return None
    try:
        template, errors = decode(os.path.normpath(os.path.join(base_dir, location)))
    except Exception:  # noqa: BLE001 - an unreadable nested file is E3043's business, not ours
        return None
    if errors or not isinstance(template, dict):
        return None
    return _as_dict(template.get("Parameters"))


def _why_not_a_parameter_name(parent: TemplateView, value) -> str | None:
    """None when `value` is still a Parameter Store name; else what it is instead."""
    fn = intrinsic(value)
    if fn is None:
        return None if isinstance(value, (str, int, float)) else "a list or object"
    name, target = fn
    if name != "Ref":
        return f"the result of {name}, a value resolved at deploy time"
    param = parent.parameter(target)
    if param is None:
        return f"Ref {target}, a value resolved at deploy time"
    param_type = str(param.get("Type", ""))
    if param_type == "String":
        return None
    if param_type.startswith(SSM_TYPE_PREFIX):
        return (f"Ref {target}, which is itself of type {param_type}: CloudFormation has already "
                "resolved it to the stored value (e.g. an ami-... id)")
    return f"Ref {target}, a parameter of type {param_type} whose value is not a Parameter Store name"


def _message(stack: str, key: str, child_file: str, child_type: str, problem: str) -> str:
    resolved_type = child_type[len(SSM_TYPE_PREFIX):-1] if child_type.endswith(">") else "the resolved type"
    return (
        f"{stack}: {child_file} declares parameter {key} as {child_type}, so it takes a Parameter Store "
        f"name, but {stack} passes {problem}. The nested stack then looks that value up as a Parameter "
        f"Store name and fails validation (parameter not found). Fix: declare the SSM type in the root "
        f"template only, and declare {key} in {child_file} as {resolved_type}, the resolved type; or pass "
        f"the Parameter Store name itself (a literal, or a Ref to a parent parameter of type String)."
    )


def _as_dict(node) -> dict:
    return node if isinstance(node, dict) else {}
