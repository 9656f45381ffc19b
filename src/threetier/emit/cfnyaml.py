"""Template -> CloudFormation YAML as the AWS documentation writes it, in libyaml's emitter's bytes.

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
threetier.parameters.rules).

The text is written straight from the template's data by _Writer, which does
what libyaml's emitter does (the C emitter in PyYAML's wheels, emitter.c) for
the YAML this style makes: block mappings and lists, one-line lists wrapped
after WIDTH, plain, single-quoted and literal scalars, long ones folded at
WIDTH, and the same quoting (threetier.emit.scalarstyle: PyYAML's resolver
still decides which strings would read back as something else, so '5', 'true'
or '2012-10-17' stay strings). For the ten templates it takes 24 ms of CPU where
building PyYAML's nodes and having libyaml serialize them took 33 (each the best
of 8 fresh processes). What _Writer does not write the way
libyaml would (a string libyaml double-quotes, a float it tags) makes dump()
hand the document to libyaml (dump_with_libyaml), so the bytes are libyaml's
either way; tests/emit/test_cfnyaml.py compares the two on every template and
on a corpus of awkward values, and tests/emit/test_generate.py checks that
every file reads back as exactly `template.to_dict()`.

Short forms: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

import yaml
from troposphere import Template
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from threetier.emit import scalarstyle
from threetier.emit.scalarstyle import LITERAL, PLAIN, STR_TAG, NeedsLibyaml

WIDTH = 120
FLOW_LIMIT = 80
SHORT_TOKEN = 16
INDENT = 2
# libyaml writes a longer key (in UTF-8 bytes) as a complex key, `? key`.
SIMPLE_KEY_BYTES = 128

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
# One-key mappings written with a short tag: {"Ref": x} -> !Ref x, {"Fn::If": [...]} -> !If [...].
_SHORT_KEYS = ("Ref", "Condition")
_FN_PREFIX = "Fn::"
# Runs of spaces and of anything else: libyaml may break a long line at a single space.
_RUNS = re.compile(r" +|[^ ]+")
# A tag libyaml writes as it is, `!Name`, with no %-escapes.
_PLAIN_TAG = re.compile(r"![0-9A-Za-z_-]+")


class EmitterMissing(RuntimeError):
    pass


def to_yaml(template: Template) -> str:
    return dump(template.to_dict())


def dump(data: dict) -> str:
    try:
        return _Writer().document(data)
    except NeedsLibyaml:
        return dump_with_libyaml(data)


# The style, decided on the data: which mappings are short forms, which lists fit on one line.

def short_form(value) -> tuple[str | None, object]:
    """(`!Name`, its argument) for a one-key intrinsic function mapping; (None, value) for anything else."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if key in _SHORT_KEYS:
            return f"!{key}", inner
        if key.startswith(_FN_PREFIX):
            name = key[len(_FN_PREFIX):]
            if name == "GetAtt" and isinstance(inner, (list, tuple)):
                inner = ".".join(inner)
            return f"!{name}", inner
    return None, value


def scalar_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if not isinstance(value, str):
        raise _not_writable(value)
    return value


def _not_writable(value) -> TypeError:
    return TypeError(f"cannot write {type(value).__name__} {value!r} as CloudFormation YAML")


def yaml_tag(value) -> str:
    """The YAML tag of a scalar of the template (scalar_text checked its type)."""
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _INT
    return _FLOAT if isinstance(value, float) else STR_TAG


def list_width(items: list, tag: str | None) -> int | None:
    """About how many characters `items` take as a one-line list; None: one item per line."""
    widths = [_item_width(item) for item in items]
    if None in widths:
        return None
    if sum(widths) <= FLOW_LIMIT or all(_is_short_token(item) for item in items):
        return sum(widths) + 2 + (len(tag) + 1 if tag else 0)
    return None


def _item_width(item) -> int | None:
    tag, inner = short_form(item)
    if isinstance(inner, dict):
        return None
    if isinstance(inner, (list, tuple)):
        return list_width(inner, tag)
    text = scalar_text(inner)
    if isinstance(inner, str) and "\n" in text:
        return None  # a literal block
    return len(text) + 4 + (len(tag) + 1 if tag else 0)


def _is_short_token(item) -> bool:
    if isinstance(item, (dict, list, tuple)):
        return False
    text = scalar_text(item)
    return len(text) <= SHORT_TOKEN and " " not in text


class _Writer:
    """libyaml's emitter (emitter.c) for block mappings and lists, one-line lists and the
    scalars scalarstyle allows, writing straight from the data. The state and each step
    are libyaml's: the column, whether the line holds only indentation so far
    (`indention`), whether the last character written was white space, and the indent,
    -1 before the first mapping."""

    def __init__(self):
        self.parts: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.flow_level = 0

    def document(self, data) -> str:
        self.node(data, indent=-1)
        self.write_indent(-1)  # the line break after the last line
        return "".join(self.parts)

    def node(self, value, indent: int, in_mapping: bool = False) -> None:
        tag, value = short_form(value)
        if isinstance(value, dict):
            self.mapping(value, tag, indent)
        elif isinstance(value, (list, tuple)):
            self.sequence(value, tag, indent, in_mapping)
        elif isinstance(value, (str, int, float)):  # bool is an int
            self.scalar(value, tag, indent)
        else:
            raise _not_writable(value)  # before the scalar cache, which would ask for a hash

    def mapping(self, value: dict, tag: str | None, indent: int) -> None:
        self.tag(tag)
        if not value:
            self.indicator("{", need_whitespace=True, is_whitespace=True)
            self.indicator("}")
            return
        if self.flow_level:
            raise NeedsLibyaml("a mapping inside a one-line list")
        indent = _increased(indent)
        for key in sorted(value):
            self.write_indent(indent)
            written = _key_text(key) + ":"  # a key is never folded, and follows the indentation
            self.parts.append(written)
            self.column += len(written)
            self.whitespace = self.indention = False
            self.node(value[key], indent, in_mapping=True)

    def sequence(self, items: list, tag: str | None, indent: int, in_mapping: bool) -> None:
        one_line = self.flow_level or list_width(items, tag) is not None
        self.tag(tag)
        if one_line:
            self.flow_sequence(items, indent)
            return
        # A list that is a mapping's value starts at the key's column, as in PyYAML.
        indent = _increased(indent, indentless=in_mapping and not self.indention)
        for item in items:
            self.write_indent(indent)
            self.indicator("-", need_whitespace=True, is_indention=True)
            self.node(item, indent)

    def flow_sequence(self, items: list, indent: int) -> None:
        self.indicator("[", need_whitespace=True, is_whitespace=True)
        indent = _increased(indent, flow=True)
        self.flow_level += 1
        for index, item in enumerate(items):
            if index:
                self.indicator(",")
            if self.column > WIDTH:
                self.write_indent(indent)
            self.node(item, indent)
        self.flow_level -= 1
        self.indicator("]")

    def scalar(self, value, tag: str | None, indent: int) -> None:
        text, chosen, written = _scalar_text(value, tag, self.flow_level > 0)
        if chosen == LITERAL or (" " in text and self.column + len(written) >= WIDTH):
            self.scalar_in_steps(text, chosen, tag, indent)  # a literal block, or it may be folded
            return
        # What libyaml writes when no space of it can pass WIDTH: a space unless the last
        # character written was white space, then the tag, a space and the text (see scalar_in_steps).
        if not self.whitespace and written:
            written = " " + written
        self.parts.append(written)
        self.column += len(written)
        self.whitespace = self.indention = False

    def scalar_in_steps(self, text: str, chosen: str, tag: str | None, indent: int) -> None:
        self.tag(tag)
        indent = _increased(indent, flow=True)
        if chosen == PLAIN:
            self.plain(text, indent)
        elif chosen == LITERAL:
            self.literal(text, indent)
        else:
            self.single_quoted(text, indent)

    def tag(self, tag: str | None) -> None:
        if tag is None:
            return
        if not self.whitespace:
            self.put(" ")
        self.put(_checked_tag(tag))
        self.whitespace = self.indention = False

    def plain(self, text: str, indent: int) -> None:
        if not self.whitespace and (text or self.flow_level):
            self.put(" ")
        self.text(text, indent, quoted=False)
        self.whitespace = self.indention = False

    def single_quoted(self, text: str, indent: int) -> None:
        self.indicator("'", need_whitespace=True)
        self.text(text, indent, quoted=True)
        self.indicator("'")
        self.whitespace = self.indention = False

    def text(self, text: str, indent: int, quoted: bool) -> None:
        """A plain or single-quoted value's characters; past WIDTH, libyaml goes on at
        `indent` on the next line instead of writing a single space (keys: _key_text)."""
        written = text.replace("'", "''") if quoted else text
        if self.column + len(written) <= WIDTH + 1 or " " not in text:
            self.put(written)  # no space of it can be past WIDTH
            return
        for run in _RUNS.finditer(text):
            piece = run.group()
            if piece[0] != " ":
                self.put(piece.replace("'", "''") if quoted else piece)
                self.indention = False
            elif (len(piece) == 1 and self.column > WIDTH
                  and (not quoted or 0 < run.start() < len(text) - 1)):
                self.write_indent(indent)
            else:
                self.put(piece)

    def literal(self, text: str, indent: int) -> None:
        self.indicator("|", need_whitespace=True)
        if text[0] in " \n":
            self.indicator(str(INDENT))  # the indentation, which the first line cannot show
        if not text.endswith("\n"):
            self.indicator("-")  # strip: the text has no final line break
        self.line_break()
        self.whitespace = True
        for number, line in enumerate(text.split("\n")):
            if number:
                self.line_break()
            if line:
                self.write_indent(indent)
                self.put(line)
                self.indention = False

    def indicator(self, text: str, need_whitespace: bool = False, is_whitespace: bool = False,
                  is_indention: bool = False) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(text)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    def write_indent(self, indent: int) -> None:
        """Go to column `indent`, on a new line unless this one holds only indentation before it."""
        indent = max(indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.parts.append("\n" + " " * indent)
        elif self.column < indent:
            self.parts.append(" " * (indent - self.column))
        self.column = indent
        self.whitespace = self.indention = True

    def line_break(self) -> None:
        self.parts.append("\n")
        self.column = 0
        self.indention = True

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.column += len(text)


def _increased(indent: int, flow: bool = False, indentless: bool = False) -> int:
    """libyaml's indent for what a node at `indent` contains."""
    if indent < 0:
        return INDENT if flow else 0
    return indent if indentless else indent + INDENT


@lru_cache(maxsize=None, typed=True)
def _scalar_text(value, tag: str | None, in_flow: bool) -> tuple[str, str, str]:
    """(the text, its scalarstyle style, what libyaml writes for the tag and the text if nothing is folded)."""
    text = scalar_text(value)
    chosen = scalarstyle.style(text, tag or yaml_tag(value), literal_wanted=isinstance(value, str) and "\n" in text,
                               in_flow=in_flow, simple_key=False)
    if chosen == PLAIN:
        written = text
    elif chosen == LITERAL:
        written = ""  # written in steps
    else:
        written = _single_quoted(text)
    if tag is not None:
        written = _checked_tag(tag) + (" " + written if written else "")
    return text, chosen, written


@lru_cache(maxsize=None, typed=True)
def _key_text(key) -> str:
    """A key as libyaml writes it: never folded, a complex key `? ...` if long (not written here)."""
    text = scalar_text(key)
    chosen = scalarstyle.style(text, yaml_tag(key), literal_wanted=False, in_flow=False, simple_key=True)
    if len(text.encode("utf-8")) > SIMPLE_KEY_BYTES:
        raise NeedsLibyaml(f"key {text[:40]!r}... is written as a complex key")
    return text if chosen == PLAIN else _single_quoted(text)


def _single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@lru_cache(maxsize=None)
def _checked_tag(tag: str) -> str:
    if _PLAIN_TAG.fullmatch(tag) is None:
        raise NeedsLibyaml(f"tag {tag!r} would be escaped")
    return tag


# libyaml itself: for what _Writer does not write, and the reference the tests compare it with.

def dump_with_libyaml(data: dict) -> str:
    stream = io.StringIO()
    dumper = _c_dumper()(stream, default_flow_style=False, allow_unicode=True, width=WIDTH, sort_keys=False)
    dumper.open()
    dumper.serialize(_node(data))
    dumper.close()
    return stream.getvalue()


def _node(value) -> Node:
    tag, value = short_form(value)
    if isinstance(value, dict):
        pairs = [(_scalar(key), _node(item)) for key, item in sorted(value.items())]
        return MappingNode(tag or _MAP, pairs, flow_style=False)
    if isinstance(value, (list, tuple)):
        inline = list_width(value, tag) is not None
        return SequenceNode(tag or _SEQ, [_node(item) for item in value], flow_style=inline)
    return _scalar(value, tag)


def _scalar(value, tag: str | None = None) -> ScalarNode:
    text = scalar_text(value)
    literal = isinstance(value, str) and "\n" in text
    style = "|" if literal else None
    if not literal and tag is None and isinstance(value, str) and scalarstyle.quoted_for_other_readers(text):
        style = "'"
    return ScalarNode(tag or yaml_tag(value), text, style=style)


def _c_dumper() -> type:
    """libyaml's emitter, which PyYAML's wheels include. PyYAML's pure-Python emitter
    writes some scalars differently (it quotes every tagged one: `!Ref 'Name'`), so
    without libyaml the files would not match the committed ones."""
    if not getattr(yaml, "__with_libyaml__", False):
        raise EmitterMissing(
            "PyYAML was installed without libyaml, whose emitter writes what this template needs "
            "(a string it double-quotes, a float it tags): reinstall it from a wheel "
            "(pip install --force-reinstall --only-binary=:all: PyYAML)")
    return yaml.CSafeDumper
