"""Evaluate the root stack and every nested stack that exists for one set of values.

1. The root template is evaluated with the environment's values
   (`threetier.parameters.evaluate` decides Conditions and resolves parameters).
2. Every nested stack whose Condition holds is evaluated with the values the
   root passes it (for user parameters, the environment's values: same names).
3. Values known only after deploy get stand-ins named after their resource:
   "<stack>.<LogicalId>" for a Ref and "<stack>.<LogicalId>.<Attribute>" for a
   GetAtt. They flow through outputs into the next stack, so the data stack's
   `Select(0, AppSubnetIds)` becomes "network.AppSubnet1", a subnet we know.
"""

from __future__ import annotations

from dataclasses import dataclass

from threetier.parameters.evaluate import Evaluation, first_stack_file, with_first_stack_rules

ROOT_FILE = "main.yaml"
# The root's nested stacks keep their GetAtt(Stack, "Outputs.X") values: they are
# replaced by the other stack's output values, not by stand-ins.
NESTED_STACK = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class Templates:
    """Every stack's template as a dict, and which output file each one is."""

    by_module: dict[str, dict]
    module_of_file: dict[str, str]

    def of_file(self, file_name: str) -> dict:
        return self.by_module[self.module_of_file[file_name]]

    def checked_root(self) -> dict:
        """The root with its first nested stack's Rules: what `validate` checks values against."""
        root = self.of_file(ROOT_FILE)
        return with_first_stack_rules(root, self.of_file(first_stack_file(root)))


def evaluate(templates: Templates, values: dict[str, str], region: str) -> list[Stack]:
    """The root stack, then every nested stack that exists, in the order they depend on each other."""
    return _StackEvaluator(templates, values, region).evaluate_all()


@dataclass
class Stack:
    name: str
    template: dict
    evaluation: Evaluation
    resources: dict[str, dict]  # logical id -> resource, properties resolved, stand-ins in place
    sources: dict[str, str]  # this stack's parameter -> the root parameter it came from
    outputs: dict[str, object]

    def qualified(self, logical_id: str) -> str:
        return f"{self.name}.{logical_id}"

    def parameter_behind(self, expr) -> str | None:
        """The user parameter a raw template value comes from, following Fn::If as evaluated."""
        while isinstance(expr, dict) and "Fn::If" in expr:
            condition, when_true, when_false = expr["Fn::If"]
            expr = when_true if self.evaluation.condition(condition) else when_false
        if isinstance(expr, dict) and expr.get("Ref") in self.template.get("Parameters", {}):
            return self.sources.get(expr["Ref"], expr["Ref"])
        return None

    def raw_properties(self, logical_id: str) -> dict:
        return self.template["Resources"][logical_id].get("Properties", {})


class _StackEvaluator:
    def __init__(self, templates: Templates, values: dict[str, str], region: str):
        self.templates = templates
        self.region = region
        root_module = templates.module_of_file[ROOT_FILE]
        self.root = self._evaluate(root_module, values, sources={})
        self.done: dict[str, Stack] = {}  # nested stack logical id in the root -> stack

    def evaluate_all(self) -> list[Stack]:
        for logical_id, resource in self.root.resources.items():
            if resource["Type"] == NESTED_STACK:
                self.nested(logical_id)
        return [self.root, *self.done.values()]

    def nested(self, logical_id: str) -> Stack | None:
        """The nested stack `logical_id` of the root, evaluated once; None when its Condition is off."""
        if logical_id in self.done:
            return self.done[logical_id]
        resource = self.root.resources.get(logical_id)
        if resource is None:
            return None
        module = self.templates.module_of_file[resource["Properties"]["TemplateURL"]]
        declared = self.templates.by_module[module].get("Parameters", {})
        raw = self.root.raw_properties(logical_id).get("Parameters", {})
        values, sources = {}, {}
        for name, value in resource["Properties"].get("Parameters", {}).items():
            value = self._output_value(value)
            if name in declared and isinstance(value, str):
                values[name] = value
            if isinstance(raw.get(name), dict) and "Ref" in raw[name]:
                sources[name] = raw[name]["Ref"]
        self.done[logical_id] = self._evaluate(module, values, sources)
        return self.done[logical_id]

    def _output_value(self, value):
        """A GetAtt of another nested stack's output, replaced by that output's value when known."""
        if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
            stack_id, attribute = value["Fn::GetAtt"]
            if attribute.startswith("Outputs."):
                stack = self.nested(stack_id)
                if stack is not None:
                    return stack.outputs.get(attribute.removeprefix("Outputs."))
        return value

    def _evaluate(self, module: str, values: dict[str, str], sources: dict[str, str]) -> Stack:
        template = self.templates.by_module[module]
        evaluation = Evaluation(template, values, region=self.region)
        active = evaluation.resources()
        resources = {
            logical_id: resource if resource["Type"] == NESTED_STACK
            else {**resource, "Properties": _stand_ins(resource["Properties"], module, active)}
            for logical_id, resource in active.items()
        }
        outputs = {
            name: _stand_ins(evaluation.resolve(output["Value"]), module, active)
            for name, output in template.get("Outputs", {}).items()
            if "Condition" not in output or evaluation.condition(output["Condition"])
        }
        return Stack(module, template, evaluation, resources, sources, outputs)


def _stand_ins(expr, stack: str, resources: dict[str, dict]):
    """Replace Ref/GetAtt of this stack's resources by stand-in names (or known property values)."""
    if isinstance(expr, list):
        return [_stand_ins(item, stack, resources) for item in expr]
    if not isinstance(expr, dict):
        return expr
    if len(expr) == 1:
        (key, arg), = expr.items()
        if key == "Ref" and arg in resources:
            return f"{stack}.{arg}"
        if key == "Fn::GetAtt" and arg[0] in resources:
            logical_id, attribute = arg
            # A subnet's AvailabilityZone is known before deploy: it is a property.
            known = resources[logical_id].get("Properties", {}).get(attribute)
            return known if isinstance(known, str) else f"{stack}.{logical_id}.{attribute}"
        if key == "Fn::Join":
            delimiter, parts = arg[0], _stand_ins(arg[1], stack, resources)
            if isinstance(parts, list) and all(isinstance(part, str) for part in parts):
                return delimiter.join(parts)
            return {key: [delimiter, parts]}
    return {key: _stand_ins(value, stack, resources) for key, value in expr.items()}
