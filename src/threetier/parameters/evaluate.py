"""Evaluate a generated template offline for one set of parameter values.

Answers "which resources exist, and with what values" for an environment
without AWS: Conditions are decided, and the intrinsics the network depends on
(Ref to parameters, Fn::If, Fn::Select, Fn::Cidr, Fn::Join, Fn::Split, Fn::GetAZs,
Fn::FindInMap, Fn::Sub over known names) are
computed. Anything else (resource Refs, GetAtt) is returned unchanged, as
it can only be known after deploy.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from threetier.facts import regions

NO_VALUE = object()
# Resource attributes that may hold intrinsics (Properties is always resolved).
RESOLVED_ATTRIBUTES = ("Metadata", "CreationPolicy", "UpdatePolicy")


def with_defaults(values: dict[str, str], declared: dict[str, dict]) -> dict[str, str]:
    """`values` with every declared parameter they leave out at its Default, as CloudFormation fills them."""
    defaults = {name: str(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    return {**defaults, **values}


@dataclass
class Evaluation:
    template: dict
    values: dict[str, str]
    region: str = "us-east-1"
    conditions: dict[str, bool] = field(default_factory=dict)
    # AWS::AccountId stays unresolved without one; AWS::Partition is the region's unless given.
    account_id: str | None = None
    partition: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.values) - set(self.template.get("Parameters", {}))
        if unknown:
            raise KeyError(f"not parameters of this template: {sorted(unknown)}")
        self.values = with_defaults({k: str(v) for k, v in self.values.items()}, self.template.get("Parameters", {}))
        for name in self.template.get("Conditions", {}):
            self.condition(name)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self.conditions[name]

    def resources(self) -> dict[str, dict]:
        """The resources that exist under these values, with their properties resolved."""
        active = {}
        for logical_id, resource in self.template.get("Resources", {}).items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            active[logical_id] = {
                **resource,
                **{key: self.resolve(resource[key]) for key in RESOLVED_ATTRIBUTES if key in resource},
                "Properties": self.resolve(resource.get("Properties", {})),
            }
        return active

    def broken_assertions(self, rule: dict) -> list[dict]:
        """The Assertions of one template Rule that fail under these values (none when its RuleCondition is false)."""
        if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
            return []
        return [assertion for assertion in rule.get("Assertions", []) if not self.resolve(assertion["Assert"])]

    def broken_rules(self) -> list[str]:
        """The name of every template Rule these values break, once per failed assertion."""
        return [name for name, rule in self.template.get("Rules", {}).items()
                for _ in self.broken_assertions(rule)]

    def pseudo_parameter(self, name: str) -> str | None:
        """The value of a pseudo parameter this evaluation knows, else None.
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html"""
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return self.account_id
        if name in ("AWS::Partition", "AWS::URLSuffix"):
            partition = self.partition or regions.partition_of(self.region) or regions.COMMERCIAL_PARTITION
            return partition if name == "AWS::Partition" else regions.url_suffix_of(partition)
        return None

    def resolve(self, expr):
        if isinstance(expr, list):
            return [v for v in (self.resolve(item) for item in expr) if v is not NO_VALUE]
        if not isinstance(expr, dict):
            return expr
        if len(expr) == 1:
            (key, arg), = expr.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {k: self.resolve(v) for k, v in expr.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def _ref(ev: Evaluation, name):
    if name == "AWS::NoValue":
        return NO_VALUE
    pseudo = ev.pseudo_parameter(name) if name.startswith("AWS::") else None
    if pseudo is not None:
        return pseudo
    if name in ev.values:
        kind = ev.template.get("Parameters", {}).get(name, {}).get("Type", "")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            # As in CloudFormation: a list parameter is a list, so Fn::Select picks an item.
            return ev.values[name].split(",")
        return ev.values[name]
    return {"Ref": name}


def _if(ev: Evaluation, arg):
    name, when_true, when_false = arg
    return ev.resolve(when_true if ev.condition(name) else when_false)


def _select(ev: Evaluation, arg):
    index, values = ev.resolve(arg[0]), ev.resolve(arg[1])
    if isinstance(values, list):
        return values[int(index)]
    return {"Fn::Select": [index, values]}


def _cidr(ev: Evaluation, arg):
    block, count, host_bits = (ev.resolve(a) for a in arg)
    network = ipaddress.ip_network(block)
    new_prefix = network.max_prefixlen - int(host_bits)
    subnets = []
    for subnet in network.subnets(new_prefix=new_prefix):
        if len(subnets) == int(count):
            break
        subnets.append(str(subnet))
    if len(subnets) < int(count):
        raise ValueError(f"Fn::Cidr: {block} cannot hold {count} subnets of {host_bits} host bits")
    return subnets


def _join(ev: Evaluation, arg):
    delimiter, values = arg[0], ev.resolve(arg[1])
    if all(isinstance(v, str) for v in values):
        return delimiter.join(values)
    return {"Fn::Join": [delimiter, values]}


def _split(ev: Evaluation, arg):
    delimiter, text = arg[0], ev.resolve(arg[1])
    return text.split(delimiter) if isinstance(text, str) else {"Fn::Split": [delimiter, text]}


def _get_azs(ev: Evaluation, arg):
    region = ev.resolve(arg) or ev.region
    return [f"{region}{suffix}" for suffix in "abc"]


def _find_in_map(ev: Evaluation, arg):
    name, top, second = (ev.resolve(a) for a in arg)
    return ev.template["Mappings"][name][top][second]


_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9:.]+)\}")


def _sub(ev: Evaluation, arg):
    """Fn::Sub when every name in it is a parameter, a pseudo parameter or a given variable."""
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], ev.resolve(arg[1]))
    known = {**ev.values, **variables}

    def value(match):
        name = match.group(1)
        found = known.get(name)
        if found is None and name.startswith("AWS::"):
            found = ev.pseudo_parameter(name)
        return found if isinstance(found, str) else match.group(0)

    resolved = _SUB_NAME.sub(value, text)
    if _SUB_NAME.search(resolved) is None:
        return resolved
    return {"Fn::Sub": resolved if not variables else [resolved, variables]}


def _equals(ev: Evaluation, arg):
    left, right = (ev.resolve(a) for a in arg)
    return str(left) == str(right)


_INTRINSICS = {
    "Ref": _ref,
    "Condition": lambda ev, name: ev.condition(name),
    "Fn::If": _if,
    "Fn::Select": _select,
    "Fn::Cidr": _cidr,
    "Fn::Join": _join,
    "Fn::Split": _split,
    "Fn::GetAZs": _get_azs,
    "Fn::FindInMap": _find_in_map,
    "Fn::Sub": _sub,
    "Fn::Equals": _equals,
    "Fn::Not": lambda ev, arg: not ev.resolve(arg[0]),
    "Fn::Contains": lambda ev, arg: ev.resolve(arg[1]) in ev.resolve(arg[0]),
    "Fn::And": lambda ev, arg: all(ev.resolve(a) for a in arg),
    "Fn::Or": lambda ev, arg: any(ev.resolve(a) for a in arg),
}


FIRST_STACK = "NetworkStack"


def first_stack_file(root: dict) -> str | None:
    """The template file of the root's first nested stack; None for a root without one."""
    stack = (root.get("Resources") or {}).get(FIRST_STACK) or {}
    return (stack.get("Properties") or {}).get("TemplateURL")


def with_first_stack_rules(root: dict, first_stack: dict) -> dict:
    """`root` with the Rules of its first nested stack (threetier.parameters.rules) added, written over the root's
    own parameters: each Ref to a nested parameter becomes what the root passes it (or the nested
    default). What a create meets before any resource exists, as one template for `validate`."""
    passed = root["Resources"][FIRST_STACK]["Properties"]["Parameters"]
    declared = first_stack.get("Parameters", {})

    def over_root(expr):
        if isinstance(expr, list):
            return [over_root(item) for item in expr]
        if not isinstance(expr, dict):
            return expr
        if set(expr) == {"Ref"} and expr["Ref"] in declared:
            name = expr["Ref"]
            return passed[name] if name in passed else str(declared[name].get("Default", ""))
        return {key: over_root(value) for key, value in expr.items()}

    return {**root, "Rules": {**root.get("Rules", {}), **over_root(first_stack.get("Rules", {}))}}


def rules_refusing_a_create(root: dict, first_stack: dict, values: dict[str, str],
                            region: str = "us-east-1") -> list[str]:
    """The Rules a create with these root values fails on before any resource exists: the root's,
    then those of its first nested stack with what the root passes it."""
    return Evaluation(with_first_stack_rules(root, first_stack), values, region=region).broken_rules()
