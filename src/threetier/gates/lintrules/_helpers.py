"""Template walking shared by the project's cfn-lint rules.

The rules must catch a mistake in any template a user lints, whatever its
resource names, so they reason about values the way CloudFormation resolves
them, not about our spelling of them:

- `branches` / `items` walk both sides of an `Fn::If` (or one side, when a
  binding decides its condition) and drop `AWS::NoValue`, keeping the JSON path
  of each branch so findings point at the right line;
- `values` resolves what a node can be at deploy time: `Ref` to a parameter
  (its AllowedValues), `Fn::FindInMap` over every row a key can select,
  `Fn::Select`, `Fn::Join`, `Fn::Sub`. Whatever is only known at deploy time
  stays as `${...}` text (`Symbolic`), so two names built from the same
  parameters still compare equal;
- `scenarios` enumerates parameter bindings, so properties that read the same
  parameter (Engine and EngineVersion from one map row) are judged together;
- `ordered_after` is CloudFormation's dependency closure: DependsOn plus every
  Ref/GetAtt/Sub in a resource's declaration (Properties, Metadata, ...);
- `longest` is the most bytes a value can be at deploy time, every parameter at its
  longest (MaxLength, AllowedValues, a bounded AllowedPattern) and every pseudo
  parameter too; `user_data` measures each instance's UserData that way.

This module's name starts with `_`, so cfn-lint's append_rules loader does not
import it as a rule file, and it defines no rule class (see __init__.py).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from threetier.facts import lengths

JsonPath = list  # keys and list indexes from the template root, as RuleMatch takes them

# Beyond this many combinations a walk stops enumerating and falls back to
# taking the union of every value (still conservative, only less precise).
MAX_VALUES = 256


class Symbolic(str):
    """Text only known at deploy time, with `${...}` placeholders: '${ProjectName}-db'.

    A str, so that names built from the same parameters compare equal as they
    will once CloudFormation substitutes them; a subclass, so that a rule never
    takes it for a literal such as 'mysql'.
    """


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
UNKNOWN = Symbolic("${?}")

# Pseudo parameters whose few possible values matter to the rules (e.g. the
# EC2 service principal written as ec2.${AWS::URLSuffix}).
PSEUDO_PARAMETER_VALUES = {
    "AWS::Partition": ("aws", "aws-cn", "aws-us-gov"),
    "AWS::URLSuffix": ("amazonaws.com", "amazonaws.com.cn"),
}

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
# An ISO 8601 duration as CloudFormation takes it for signal timeouts and pause times: PT#H#M#S
# (days allowed, e.g. P1DT2H); each part optional, at least one present.
_DURATION = re.compile(r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def intrinsic(node: Any) -> tuple[str, Any] | None:
    """('Fn::If', args) for a Ref or Fn:: function node, else None."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, args),) = node.items()
        if key == "Ref" or str(key).startswith("Fn::"):
            return str(key), args
    return None


def mentions_pseudo(node: Any, name: str) -> bool:
    """Whether `node` refers to the pseudo parameter `name` (e.g. AWS::Region): a `Ref`, or `${name}` in a
    string (Fn::Sub's), anywhere inside it."""
    if isinstance(node, str):
        return "${%s}" % name in node
    function = intrinsic(node)
    if function and function[0] == "Ref":
        return function[1] == name
    if isinstance(node, dict):
        return any(mentions_pseudo(value, name) for value in node.values())
    if isinstance(node, list):
        return any(mentions_pseudo(value, name) for value in node)
    return False


def as_text(value: Any) -> str:
    """A scalar as CloudFormation passes it around: YAML true is the string 'true'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_literal(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and not isinstance(value, Symbolic)


def literal_texts(values: Iterable[Any]) -> set[str]:
    return {as_text(v) for v in values if is_literal(v)}


def sub_parts(args: Any) -> tuple[str, dict]:
    """The template text and explicit variables of an Fn::Sub."""
    if isinstance(args, str):
        return args, {}
    if isinstance(args, list) and args and isinstance(args[0], str):
        variables = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        return args[0], variables
    return "", {}


def sub_placeholders(text: str) -> list[str]:
    """Names in ${...} placeholders, in order, without the ${!Literal} escapes."""
    names = []
    for name in _SUB_PLACEHOLDER.findall(text):
        name = name.strip()
        if name and not name.startswith("!") and name not in names:
            names.append(name)
    return names


def iso8601_seconds(text: Any) -> float | None:
    """Seconds in an ISO 8601 duration such as PT20M, PT1H30M or PT90S; None if it is not one."""
    match = _DURATION.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if match is None or not any(match.groups()) or text.strip().upper().endswith("T"):
        return None
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _dedupe(values: Iterable[Any]) -> list[Any]:
    seen, unique = set(), []
    for value in values:
        key = (type(value) is Symbolic, repr(value))
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique


def _as_dict(node: Any) -> dict:
    return node if isinstance(node, dict) else {}


@dataclass(frozen=True)
class Length:
    """The most bytes a value can be at deploy time (UTF-8), as far as the template tells.

    `unbounded` names what can be any length (a String parameter without MaxLength,
    AllowedValues or a bounded pattern); `uncounted` what the template gives no length for
    (a resource's attribute), counted as nothing; `parts` the values substituted, with their
    longest, in order.
    """

    most: int
    unbounded: tuple[str, ...] = ()
    uncounted: tuple[str, ...] = ()
    parts: tuple[tuple[str, int], ...] = ()

    def __add__(self, other: "Length") -> "Length":
        return Length(self.most + other.most, self.unbounded + other.unbounded, self.uncounted + other.uncounted,
                      self.parts + other.parts)

    def named(self, what: str) -> "Length":
        """The same length, as one substituted value called `what`."""
        return Length(self.most, self.unbounded, self.uncounted, ((what, self.most),))

    def largest(self, count: int = 3) -> str:
        """The `count` longest values substituted, e.g. 'Ref RepoUrl (400), Ref Notes (255)'."""
        return ", ".join(f"{what} ({size:,})" for what, size in sorted(self.parts, key=lambda part: -part[1])[:count])


# Where each resource type keeps its user data.
USER_DATA_PATHS = {
    "AWS::EC2::LaunchTemplate": ("LaunchTemplateData", "UserData"),
    "AWS::AutoScaling::LaunchConfiguration": ("UserData",),
    "AWS::EC2::Instance": ("UserData",),
}
UTF8_MOST_BYTES = 4  # per character, for text a pattern does not keep to ASCII
_SSM_TYPE = re.compile(r"^AWS::SSM::Parameter::Value<(.+)>$")


class TemplateView:
    """One decoded template (cfn-lint's `cfn.template`), read the way CloudFormation resolves it."""

    def __init__(self, template: Any):
        self.template = _as_dict(template)
        self.resources = _as_dict(self.template.get("Resources"))
        self.parameters = _as_dict(self.template.get("Parameters"))
        self.mappings = _as_dict(self.template.get("Mappings"))
        self.conditions = _as_dict(self.template.get("Conditions"))

    # ---- resources -----------------------------------------------------

    def resources_of_type(self, *types: str) -> list[tuple[str, dict]]:
        return [(name, resource) for name, resource in self.resources.items()
                if isinstance(resource, dict) and resource.get("Type") in types]

    def properties(self, name: str) -> dict:
        return _as_dict(_as_dict(self.resources.get(name)).get("Properties"))

    def parameter(self, name: Any) -> dict | None:
        param = self.parameters.get(name) if isinstance(name, str) else None
        return param if isinstance(param, dict) else None

    def ref_target(self, node: Any) -> str | None:
        """The name a plain `Ref` node points at, else None."""
        fn = intrinsic(node)
        if fn and fn[0] == "Ref" and isinstance(fn[1], str):
            return fn[1]
        return None

    # ---- structure: Fn::If branches and lists ---------------------------

    def branches(self, node: Any, path: JsonPath, binding: dict | None = None) -> Iterator[tuple[Any, JsonPath]]:
        """Each value `node` can be once its Fn::If conditions are decided, with its path.

        Both sides of an Fn::If, unless `binding` decides the condition. AWS::NoValue
        (the property is left out) yields nothing.
        """
        fn = intrinsic(node)
        if fn and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
            holds = self.condition_holds(fn[1][0], binding)
            if holds is not False:
                yield from self.branches(fn[1][1], [*path, "Fn::If", 1], binding)
            if holds is not True:
                yield from self.branches(fn[1][2], [*path, "Fn::If", 2], binding)
            return
        if fn == ("Ref", "AWS::NoValue"):
            return
        yield node, path

    def items(self, node: Any, path: JsonPath, binding: dict | None = None) -> Iterator[tuple[Any, JsonPath]]:
        """Each item of a list property in every branch; a lone item counts as a list of one
        (IAM takes `Statement: {...}` as well as a list)."""
        for branch, branch_path in self.branches(node, path, binding):
            if isinstance(branch, list):
                for index, item in enumerate(branch):
                    yield from self.branches(item, [*branch_path, index], binding)
            elif branch is not None:
                yield branch, branch_path

    # ---- references and ordering ----------------------------------------

    def referenced_resources(self, node: Any) -> set[str]:
        """Resources `node` names through Ref, Fn::GetAtt or Fn::Sub, in any Fn::If branch."""
        found: set[str] = set()
        self._collect_references(node, found)
        return found

    def _collect_references(self, node: Any, found: set[str]) -> None:
        if isinstance(node, list):
            for item in node:
                self._collect_references(item, found)
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                target = value
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) and value else (
                    value.split(".")[0] if isinstance(value, str) else None)
            elif key == "Fn::Sub":
                text, variables = sub_parts(value)
                for name in sub_placeholders(text):
                    base = name.split(".")[0]
                    if name not in variables and base in self.resources:
                        found.add(base)
                self._collect_references(variables, found)
                continue
            else:
                self._collect_references(value, found)
                continue
            if isinstance(target, str) and target in self.resources:
                found.add(target)
            self._collect_references(value, found)

    def resources_referring(self, target: str, type_: str, prop: str) -> list[str]:
        """Resources of `type_` whose `prop` is a Ref to resource `target`, in any Fn::If branch
        (a scaling policy's AutoScalingGroupName, a lifecycle hook's)."""
        return [name for name, _ in self.resources_of_type(type_)
                if any(self.ref_target(branch) == target
                       for branch, _ in self.branches(self.properties(name).get(prop), []))]

    def dependencies(self, name: str) -> set[str]:
        """What CloudFormation creates before `name`: its DependsOn and every resource its
        declaration references, in Properties, Metadata, UpdatePolicy alike."""
        resource = _as_dict(self.resources.get(name))
        depends_on = resource.get("DependsOn")
        named = [depends_on] if isinstance(depends_on, str) else depends_on if isinstance(depends_on, list) else []
        explicit = {n for n in named if isinstance(n, str) and n in self.resources}
        body = {key: value for key, value in resource.items() if key != "DependsOn"}
        return explicit | self.referenced_resources(body)

    def ordered_after(self, name: str) -> set[str]:
        """Every resource created before `name`, directly or through a chain of dependencies."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            for dependency in self.dependencies(todo.pop()) - seen:
                seen.add(dependency)
                todo.append(dependency)
        seen.discard(name)
        return seen

    # ---- values ---------------------------------------------------------

    def values(self, node: Any, binding: dict | None = None) -> list[Any]:
        """Every value `node` can take at deploy time, as far as the template tells.

        Literals stay as they are; lists come back resolved item by item (one
        list per combination); `AWS::NoValue` is NO_VALUE; anything only known at
        deploy time is a `Symbolic` text. A parameter in `binding` has that value,
        any other parameter its AllowedValues, or else stays symbolic.
        """
        return _dedupe(self._values(node, binding or {}))[:MAX_VALUES]

    def _values(self, node: Any, binding: dict) -> list[Any]:
        fn = intrinsic(node)
        if fn is None:
            return self._list_values(node, binding) if isinstance(node, list) else [node]
        name, args = fn
        resolve = {
            "Ref": self._ref_values,
            "Fn::If": self._if_values,
            "Fn::FindInMap": self._find_in_map_values,
            "Fn::Select": self._select_values,
            "Fn::Join": self._join_values,
            "Fn::Sub": self._sub_values,
            "Fn::GetAtt": self._get_att_values,
        }.get(name)
        found = resolve(args, binding) if resolve else []
        return found or [Symbolic("${%s}" % name) if not resolve else UNKNOWN]

    def _list_values(self, items: list, binding: dict) -> list[list]:
        options = [self._values(item, binding) for item in items]
        return [[value for value in combination if value is not NO_VALUE]
                for combination in itertools.islice(itertools.product(*options), MAX_VALUES)]

    def _ref_values(self, name: Any, binding: dict) -> list[Any]:
        if not isinstance(name, str):
            return []
        if name == "AWS::NoValue":
            return [NO_VALUE]
        if name in binding:
            return [binding[name]]
        if name in PSEUDO_PARAMETER_VALUES:
            return list(PSEUDO_PARAMETER_VALUES[name])
        allowed = (self.parameter(name) or {}).get("AllowedValues")
        if isinstance(allowed, list) and allowed:
            return [as_text(value) for value in allowed]
        return [Symbolic("${%s}" % name)]

    def _if_values(self, args: Any, binding: dict) -> list[Any]:
        if not (isinstance(args, list) and len(args) == 3):
            return []
        holds = self.condition_holds(args[0], binding)
        found = []
        if holds is not False:
            found += self._values(args[1], binding)
        if holds is not True:
            found += self._values(args[2], binding)
        return found

    def _map_keys(self, node: Any, available: Iterable[str], binding: dict) -> list[str]:
        keys = []
        for value in self._values(node, binding):
            if not is_literal(value):
                return list(available)  # a key known only at deploy time can select any row
            keys.append(as_text(value))
        return keys

    def _find_in_map_values(self, args: Any, binding: dict) -> list[Any]:
        if not (isinstance(args, list) and len(args) >= 3):
            return []
        mapping = self.mappings.get(args[0]) if isinstance(args[0], str) else None
        if not isinstance(mapping, dict):
            return []
        found = []
        for top in self._map_keys(args[1], mapping, binding):
            row = mapping.get(top)
            if not isinstance(row, dict):
                continue
            for second in self._map_keys(args[2], row, binding):
                if second in row:
                    found += self._values(row[second], binding)
        return found

    def _select_values(self, args: Any, binding: dict) -> list[Any]:
        if not (isinstance(args, list) and len(args) == 2):
            return []
        found = []
        for index in self._values(args[0], binding):
            try:
                position = int(as_text(index))
            except ValueError:
                return []
            for sequence in self._values(args[1], binding):
                ok = isinstance(sequence, list) and 0 <= position < len(sequence)
                found.append(sequence[position] if ok else UNKNOWN)
        return found

    def _join_values(self, args: Any, binding: dict) -> list[Any]:
        if not (isinstance(args, list) and len(args) == 2):
            return []
        found = []
        for delimiter in self._values(args[0], binding):
            for sequence in self._values(args[1], binding):
                parts = [_text_or_none(value) for value in sequence] if isinstance(sequence, list) else [None]
                if None in parts or not is_literal(delimiter):
                    found.append(UNKNOWN)
                    continue
                joined = as_text(delimiter).join(parts)
                symbolic = any(isinstance(part, Symbolic) for part in parts)
                found.append(Symbolic(joined) if symbolic else joined)
        return found

    def _sub_values(self, args: Any, binding: dict) -> list[Any]:
        text, variables = sub_parts(args)
        names = sub_placeholders(text)
        options = []
        for name in names:
            if name in variables:
                options.append(self._values(variables[name], binding))
            elif "." in name:
                options.append([Symbolic("${%s}" % name)])
            else:
                options.append(self._ref_values(name, binding))
        found = []
        for combination in itertools.islice(itertools.product(*options), MAX_VALUES):
            chosen = {}
            for name, value in zip(names, combination):
                part = _text_or_none(value)
                chosen[name] = Symbolic("${%s}" % name) if part is None else part
            rendered = _SUB_PLACEHOLDER.sub(lambda m: _render_placeholder(m.group(1), chosen), text)
            symbolic = any(isinstance(part, Symbolic) for part in chosen.values())
            found.append(Symbolic(rendered) if symbolic else rendered)
        return found

    def _get_att_values(self, args: Any, binding: dict) -> list[Any]:
        if isinstance(args, list) and len(args) == 2 and all(isinstance(a, str) for a in args):
            return [Symbolic("${%s.%s}" % (args[0], args[1]))]
        if isinstance(args, str):
            return [Symbolic("${%s}" % args)]
        return []

    # ---- conditions -----------------------------------------------------

    def condition_holds(self, name: Any, binding: dict | None = None, _seen: tuple = ()) -> bool | None:
        """True or False when the template and `binding` decide the condition, else None."""
        if not isinstance(name, str) or name in _seen or name not in self.conditions:
            return None
        return self._truth(self.conditions[name], binding or {}, (*_seen, name))

    def _truth(self, node: Any, binding: dict, seen: tuple) -> bool | None:
        if not (isinstance(node, dict) and len(node) == 1):
            return None
        ((key, args),) = node.items()
        if key == "Condition":
            return self.condition_holds(args, binding, seen)
        operands = args if isinstance(args, list) else []
        if key == "Fn::Not" and len(operands) == 1:
            inner = self._truth(operands[0], binding, seen)
            return None if inner is None else not inner
        if key in ("Fn::And", "Fn::Or"):
            results = [self._truth(operand, binding, seen) for operand in operands]
            decisive = key == "Fn::Or"  # one True decides an Or, one False decides an And
            if decisive in results:
                return decisive
            return (not decisive) if results and None not in results else None
        if key == "Fn::Equals" and len(operands) == 2:
            left, right = (self.values(operand, binding) for operand in operands)
            if not all(is_literal(v) for v in (*left, *right)):
                return None
            outcomes = {as_text(a) == as_text(b) for a in left for b in right}
            return outcomes.pop() if len(outcomes) == 1 else None
        return None

    def equality_tested(self, name: Any, _seen: tuple = ()) -> tuple[frozenset, bool] | None:
        """({A, B}, polarity) when condition `name` is `Fn::Equals [Ref A, Ref B]`, possibly
        under Fn::Not or a Condition reference: it holds exactly when A == B (polarity True),
        or exactly when A != B (polarity False)."""
        if not isinstance(name, str) or name in _seen:
            return None
        node, polarity = self.conditions.get(name), True
        while isinstance(node, dict) and len(node) == 1:
            ((key, args),) = node.items()
            if key == "Fn::Not" and isinstance(args, list) and len(args) == 1:
                node, polarity = args[0], not polarity
            elif key == "Condition":
                inner = self.equality_tested(args, (*_seen, name))
                return (inner[0], inner[1] == polarity) if inner else None
            elif key == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
                targets = [self.ref_target(operand) for operand in args]
                if all(targets) and targets[0] != targets[1]:
                    return frozenset(targets), polarity
                return None
            else:
                return None
        return None

    # ---- parameters -----------------------------------------------------

    def scenarios(self, *nodes: Any, bind_defaults: bool = False) -> list[dict[str, str]]:
        """Parameter bindings under which to judge `nodes` together.

        Every parameter the nodes (or the conditions of their Fn::Ifs) read is
        bound to each of its AllowedValues; a parameter used as a FindInMap key
        without AllowedValues to each key of that map; with `bind_defaults`, any
        other parameter to its Default. Others stay unbound (symbolic). Too many
        combinations give one empty binding: plain unions, still conservative.
        """
        names: set[str] = set()
        map_keys: dict[str, set[str]] = {}
        for node in nodes:
            self._collect_parameters(node, names, map_keys, set())
        choices: dict[str, list[str]] = {}
        for name in sorted(names):
            param = self.parameter(name) or {}
            allowed = param.get("AllowedValues")
            if isinstance(allowed, list) and allowed:
                choices[name] = _dedupe(as_text(value) for value in allowed)
            elif name in map_keys:
                choices[name] = sorted(map_keys[name])
            elif bind_defaults and "Default" in param:
                choices[name] = [as_text(param["Default"])]
        if math.prod(len(options) for options in choices.values()) > MAX_VALUES:
            return [{}]
        return [dict(zip(choices, combination)) for combination in itertools.product(*choices.values())]

    def _collect_parameters(self, node: Any, names: set[str], map_keys: dict[str, set[str]],
                            conditions_seen: set[str]) -> None:
        if isinstance(node, list):
            for item in node:
                self._collect_parameters(item, names, map_keys, conditions_seen)
            return
        if not isinstance(node, dict):
            return
        for key, args in node.items():
            if key == "Ref" and self.parameter(args) is not None:
                names.add(args)
            elif key == "Fn::Sub":
                text, variables = sub_parts(args)
                names.update(n for n in sub_placeholders(text) if n not in variables and self.parameter(n) is not None)
            elif key == "Fn::FindInMap" and isinstance(args, list) and len(args) >= 3:
                self._note_map_keys(args, map_keys)
            elif key in ("Fn::If", "Condition"):
                condition = args[0] if key == "Fn::If" and isinstance(args, list) and args else args
                if isinstance(condition, str) and condition not in conditions_seen:
                    conditions_seen.add(condition)
                    self._collect_parameters(self.conditions.get(condition), names, map_keys, conditions_seen)
            self._collect_parameters(args, names, map_keys, conditions_seen)

    def _note_map_keys(self, args: list, map_keys: dict[str, set[str]]) -> None:
        mapping = _as_dict(self.mappings.get(args[0]) if isinstance(args[0], str) else None)
        rows = [_as_dict(row) for row in mapping.values()]
        for position, keys in ((1, set(mapping)), (2, {key for row in rows for key in row})):
            target = self.ref_target(args[position])
            if target and self.parameter(target) is not None:
                map_keys.setdefault(target, set()).update(str(key) for key in keys)

    def number_bounds(self, node: Any, binding: dict | None = None) -> tuple[float, float] | None:
        """Lowest and highest number `node` can be: a literal, or a Ref to a parameter bounded
        by AllowedValues or MinValue/MaxValue (a bare number parameter: 0 up to infinity, as
        group sizes cannot be negative), or its value in `binding`. Both Fn::If branches count,
        unless `binding` decides the condition. None if unknown."""
        bounds = []
        for branch, _ in self.branches(node, [], binding):
            target = self.ref_target(branch)
            if target is not None and target in (binding or {}):
                number = binding[target]
                found = (float(number),) * 2 if _is_number(number) else None
            elif target is not None:
                found = self._parameter_bounds(target)
            else:
                found = (float(branch),) * 2 if _is_number(branch) else None
            if found is None:
                return None
            bounds.append(found)
        if not bounds:
            return None
        return min(low for low, _ in bounds), max(high for _, high in bounds)

    def duration_bounds(self, node: Any, binding: dict | None = None) -> tuple[float, float] | None:
        """Shortest and longest ISO 8601 duration `node` can be, in seconds: a literal, or a Ref to
        a parameter, by its value in `binding`, its AllowedValues or else its Default (a String
        parameter has no bounds). Both Fn::If branches count, unless `binding` decides the
        condition. None if any is unknown."""
        seconds = []
        for branch, _ in self.branches(node, [], binding):
            target = self.ref_target(branch)
            param = self.parameter(target)
            if target in (binding or {}):
                texts = [binding[target]]
            elif param is not None:
                texts = param.get("AllowedValues") or [param.get("Default")]
            else:
                texts = [branch]
            seconds += [iso8601_seconds(text) for text in texts]
        if not seconds or None in seconds:
            return None
        return min(seconds), max(seconds)

    # ---- lengths --------------------------------------------------------

    def longest(self, node: Any) -> Length:
        """The most bytes `node` can be at deploy time: every Fn::If branch, every parameter at
        its longest (parameter_length), pseudo parameters at theirs (threetier.facts.lengths)."""
        fn = intrinsic(node)
        if fn is None:
            return Length(len(as_text(node).encode())) if is_literal(node) else Length(0, ("a list or object",))
        name, args = fn
        if name == "Fn::If" and isinstance(args, list) and len(args) == 3:
            return max((self.longest(args[1]), self.longest(args[2])), key=lambda length: length.most)
        if name == "Ref" and isinstance(args, str):
            return self._ref_length(args)
        if name == "Fn::Sub":
            return self._sub_length(args)
        if name == "Fn::Join" and isinstance(args, list) and len(args) == 2 and isinstance(args[1], list):
            separators = Length(len(as_text(args[0]).encode()) * max(len(args[1]) - 1, 0))
            return sum((self.longest(item) for item in args[1]), separators)
        if name == "Fn::GetAtt":
            return Length(0, uncounted=(f"Fn::GetAtt {'.'.join(map(str, args)) if isinstance(args, list) else args}",))
        found = self.values(node)  # Fn::FindInMap over every row, Fn::Select, ...
        if found and all(is_literal(value) for value in found):
            return Length(max(len(as_text(value).encode()) for value in found)).named(name)
        return Length(0, uncounted=(name,))

    def parameter_length(self, name: str) -> Length:
        """The most bytes parameter `name` can be: its longest AllowedValues entry; a String's
        MaxLength or bounded AllowedPattern (UTF8_MOST_BYTES a character, unless the pattern keeps
        to ASCII); a Number's MinValue or MaxValue written out; an AWS type's id. Anything else is
        unbounded."""
        param = self.parameter(name) or {}
        what = f"Ref {name}"
        allowed = param.get("AllowedValues")
        if isinstance(allowed, list) and allowed:
            return Length(max(len(as_text(value).encode()) for value in allowed)).named(what)
        kind = str(param.get("Type", "String"))
        resolved = _SSM_TYPE.match(kind)
        if kind in lengths.PARAMETER_TYPES or (resolved and resolved.group(1) in lengths.PARAMETER_TYPES):
            return Length(lengths.PARAMETER_TYPES[resolved.group(1) if resolved else kind]).named(what)
        if resolved and resolved.group(1) == "String":
            return Length(lengths.SSM_PARAMETER_VALUE).named(what)
        if kind == "Number":
            bounds = [param.get(key) for key in ("MinValue", "MaxValue")]
            if all(_is_number(bound) for bound in bounds):
                return Length(max(len(as_text(bound)) for bound in bounds)).named(what)
            return Length(0, (f"{what}: a Number parameter without MinValue and MaxValue or AllowedValues",))
        if kind != "String":
            return Length(0, (f"{what}: a {kind} parameter",))
        characters, ascii_only = pattern_bounds(param["AllowedPattern"]) if "AllowedPattern" in param else (None, False)
        if _is_number(param.get("MaxLength")):
            characters = min(int(float(as_text(param["MaxLength"]))), characters or math.inf)
        if characters is None:
            return Length(0, (f"{what}: a String parameter without MaxLength, AllowedValues or a bounded "
                              "AllowedPattern",))
        return Length(int(characters) * (1 if ascii_only else UTF8_MOST_BYTES)).named(what)

    def user_data(self) -> list[tuple[str, JsonPath, Length]]:
        """(resource, path, raw bytes at most) of each instance's, launch template's or launch
        configuration's UserData: of the text inside Fn::Base64, or, written as base64 already,
        three bytes for each four characters."""
        found = []
        for name, resource in self.resources.items():
            keys = USER_DATA_PATHS.get(_as_dict(resource).get("Type"))
            node: Any = self.properties(name)
            for key in keys or ():
                node = _as_dict(node).get(key)
            if not keys or node is None:
                continue
            path = ["Resources", name, "Properties", *keys]
            fn = intrinsic(node)
            if fn and fn[0] == "Fn::Base64":
                found.append((name, path, self.longest(fn[1])))
            else:
                encoded = self.longest(node)
                found.append((name, path, Length(math.ceil(encoded.most / 4) * 3, encoded.unbounded,
                                                  encoded.uncounted, encoded.parts)))
        return found

    def _ref_length(self, name: str) -> Length:
        if name in lengths.PSEUDO_PARAMETERS:
            return Length(lengths.PSEUDO_PARAMETERS[name]).named(f"Ref {name}")
        if self.parameter(name) is not None:
            return self.parameter_length(name)
        kind = _as_dict(self.resources.get(name)).get("Type")
        if kind in lengths.RESOURCE_REF:
            return Length(lengths.RESOURCE_REF[kind]).named(f"Ref {name}")
        return Length(0, uncounted=(f"Ref {name}",))

    def _sub_length(self, args: Any) -> Length:
        text, variables = sub_parts(args)
        total = Length(len(_SUB_PLACEHOLDER.sub(lambda m: "${%s}" % m.group(1)[1:] if m.group(1).startswith("!")
                                                else "", text).encode()))
        for match in _SUB_PLACEHOLDER.finditer(text):
            name = match.group(1).strip()
            if name.startswith("!"):
                continue
            if name in variables:
                total += self.longest(variables[name]).named(name)
            elif "." in name:
                total += Length(0, uncounted=(f"${{{name}}}",))
            else:
                total += self._ref_length(name)
        return total

    def _parameter_bounds(self, name: str) -> tuple[float, float] | None:
        param = self.parameter(name)
        if param is None:
            return None
        allowed = [float(v) for v in param.get("AllowedValues") or [] if _is_number(v)]
        if allowed:
            return min(allowed), max(allowed)
        low = float(param["MinValue"]) if _is_number(param.get("MinValue")) else 0.0
        high = float(param["MaxValue"]) if _is_number(param.get("MaxValue")) else math.inf
        return low, high


def pattern_bounds(pattern: str) -> tuple[int | None, bool]:
    """The most characters an AllowedPattern admits (None: any number, or a pattern Python's
    parser does not read) and whether it admits ASCII only. CloudFormation reads patterns as
    Java does, where \\d, \\w and \\s are ASCII."""
    try:
        from re import _parser as sre_parse  # Python 3.11 and later
    except ImportError:  # pragma: no cover (3.10)
        import sre_parse  # type: ignore[no-redef]
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None, False
    most = parsed.getwidth()[1]
    return (most if most < sre_parse.MAXREPEAT else None), _ascii_only(parsed, sre_parse)


def _ascii_only(parsed, sre_parse) -> bool:
    constants = sre_parse  # the opcodes (LITERAL, IN, ...) are names in the parser's module
    for op, av in parsed:
        if op is constants.LITERAL:
            ok = av < 128
        elif op in (constants.NOT_LITERAL, constants.ANY):
            ok = False
        elif op is constants.IN:
            ok = all(_ascii_item(item_op, item_av, constants) for item_op, item_av in av)
        elif op is constants.CATEGORY:
            ok = not str(av).startswith("CATEGORY_NOT")
        else:  # groups, branches, repeats, lookarounds: what they hold
            ok = all(_ascii_only(inner, sre_parse) for inner in _subpatterns(av, sre_parse))
        if not ok:
            return False
    return True


def _ascii_item(op, av, constants) -> bool:
    if op is constants.LITERAL:
        return av < 128
    if op is constants.RANGE:
        return av[1] < 128
    if op is constants.CATEGORY:
        return not str(av).startswith("CATEGORY_NOT")
    return False  # NEGATE: everything but some characters


def _subpatterns(av, sre_parse) -> list:
    items = av if isinstance(av, (tuple, list)) else [av]
    found = []
    for item in items:
        if isinstance(item, sre_parse.SubPattern):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            found += _subpatterns(item, sre_parse)
    return found


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    try:
        float(as_text(value))
    except ValueError:
        return False
    return True


def _text_or_none(value: Any) -> str | None:
    """A resolved value as text inside Fn::Join / Fn::Sub, or None if it has no text form."""
    if isinstance(value, Symbolic):
        return value
    if is_literal(value):
        return as_text(value)
    return None


def _render_placeholder(raw: str, chosen: dict[str, str]) -> str:
    name = raw.strip()
    if name.startswith("!"):
        return "${" + name[1:] + "}"  # ${!Literal} is written out as ${Literal}
    return chosen.get(name, "${" + raw + "}")
