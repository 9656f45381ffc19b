"""Template -> CloudFormation YAML as the AWS documentation writes it, in libyaml's C emitter.

The style is the one of the examples in the CloudFormation User Guide:

- intrinsic functions in their short form (`!Ref Name`, `!GetAtt Stack.Outputs.X`,
  `!Sub`), except where YAML cannot nest two short forms (`!Base64` over a
  mapping keeps `Fn::Sub:` as its key, as the Fn::Base64 page shows);
- a list of scalars on one line, `!Equals [!Ref X, 'true']`,
  `AllowedValues: ['true', 'false']`, when it fits in FLOW_LIMIT characters or
  is a list of short tokens (values, regions, instance types), which the
  emitter wraps at WIDTH; longer lists (IAM actions, subnets of an If) one item
  per line;
- mappings always one key per line, keys sorted (troposphere's order);
- strings with line breaks (user data, scripts) as literal blocks.

Compared with troposphere's `to_yaml()` (cfn_flip's block style) the files are
7 % smaller (the root 4.3 KB, part of what keeps it within 40,000 bytes, see
threetier.parameters.rules) and rendering all of them takes a few hundredths of a second
instead of half a second. The YAML nodes
are built here directly and serialized by libyaml; PyYAML's resolver still
decides which strings need quotes, so a string that looks like a number, a
boolean or a date ('5', 'true', '2012-10-17') stays a string.
tests/emit/test_generate.py checks that every file reads back as exactly
`template.to_dict()`.

Short forms: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
"""

from __future__ import annotations

import io

import yaml
from troposphere import Template
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

WIDTH = 120
FLOW_LIMIT = 80
SHORT_TOKEN = 16

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
# One-key mappings written with a short tag: {"Ref": x} -> !Ref x, {"Fn::If": [...]} -> !If [...].
_SHORT_KEYS = ("Ref", "Condition")
_FN_PREFIX = "Fn::"



class EmitterMissing(RuntimeError):
    pass


def to_yaml(template: Template) -> str:
    return dump(template.to_dict())


def dump(data: dict) -> str:
    stream = io.StringIO()
    dumper = _c_dumper()(stream, default_flow_style=False, allow_unicode=True, width=WIDTH, sort_keys=False)
    dumper.open()
    dumper.serialize(_node(data))
    dumper.close()
    return stream.getvalue()


def _node(value, tag: str | None = None) -> Node:
    if isinstance(value, dict):
        if tag is None and len(value) == 1:
            ((key, inner),) = value.items()
            if key in _SHORT_KEYS:
                return _node(inner, f"!{key}")
            if key.startswith(_FN_PREFIX):
                name = key[len(_FN_PREFIX):]
                if name == "GetAtt" and isinstance(inner, (list, tuple)):
                    inner = ".".join(inner)
                return _node(inner, f"!{name}")
        pairs = [(_scalar(key), _node(item)) for key, item in sorted(value.items())]
        return MappingNode(tag or _MAP, pairs, flow_style=False)
    if isinstance(value, (list, tuple)):
        return _sequence([_node(item) for item in value], tag)
    return _scalar(value, tag)


def _scalar(value, tag: str | None = None) -> ScalarNode:
    if isinstance(value, bool):
        return ScalarNode(tag or _BOOL, "true" if value else "false")
    if isinstance(value, int):
        return ScalarNode(tag or _INT, str(value))
    if isinstance(value, float):
        return ScalarNode(tag or _FLOAT, repr(value))
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} {value!r} as CloudFormation YAML")
    return ScalarNode(tag or _STR, value, style="|" if "\n" in value else None)


def _sequence(items: list[Node], tag: str | None) -> SequenceNode:
    widths = [_inline_width(item) for item in items]
    inline = None not in widths and (
        sum(widths) <= FLOW_LIMIT or all(_is_short_token(item) for item in items))
    node = SequenceNode(tag or _SEQ, items, flow_style=inline)
    node.inline_width = sum(widths) + 2 + (len(tag) + 1 if tag else 0) if inline else None
    return node


def _inline_width(node: Node) -> int | None:
    """About how many characters `node` takes inside a one-line list; None: it cannot go in one."""
    if isinstance(node, ScalarNode):
        if node.style == "|":
            return None
        return len(node.value) + 4 + (len(node.tag) + 1 if node.tag.startswith("!") else 0)
    return getattr(node, "inline_width", None)


def _is_short_token(node: Node) -> bool:
    return (isinstance(node, ScalarNode) and not node.tag.startswith("!")
            and len(node.value) <= SHORT_TOKEN and " " not in node.value)


def _c_dumper() -> type:
    """libyaml's emitter, which PyYAML's wheels include. PyYAML's pure-Python emitter
    writes some scalars differently (it quotes every tagged one: `!Ref 'Name'`), so
    without libyaml the files would not match the committed ones."""
    if not getattr(yaml, "__with_libyaml__", False):
        raise EmitterMissing(
            "PyYAML was installed without libyaml, whose emitter writes output/: reinstall it from a "
            "wheel (pip install --force-reinstall --only-binary=:all: PyYAML)")
    return yaml.CSafeDumper
