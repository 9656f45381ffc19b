"""How libyaml's emitter writes a scalar: plain, 'single-quoted' or as a | literal block.

threetier.emit.cfnyaml writes the YAML itself, byte for byte as libyaml's
emitter (the one PyYAML's wheels include) would, so it must quote exactly the
strings libyaml quotes. libyaml decides in two steps, followed here:

1. whether the text may be plain at all: not if it starts with an indicator
   (`- `, `#`, `&`, `!`, `'`, `[`...), holds `: ` or ` #`, starts or ends with
   a space, and in a flow list not if it holds `,[]{}` or `:` (libyaml's
   emitter.c, yaml_emitter_analyze_scalar and yaml_emitter_select_scalar_style);
2. whether a plain string would be read back as a string: PyYAML's resolver,
   the same table PyYAML's emitter consults, says what a YAML 1.1 reader
   makes of it (`'5'`, `'true'`, `'2012-10-17'`, `''`, `'~'` stay quoted);
   and, beyond what libyaml is asked by PyYAML, a string that the YAML 1.2
   core schema or SnakeYAML would type otherwise (threetier.facts.yamlreaders:
   `'054676820928'`, `'1e3'`) is quoted too; dump_with_libyaml asks libyaml
   to single-quote the same strings.

Whatever libyaml would write double-quoted or with an explicit tag (control
characters, tabs, a trailing space in a multi-line string, a float such as
1e-05 that reads back as a string) raises NeedsLibyaml: cfnyaml then has
libyaml write that document, so the bytes are libyaml's either way.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from threetier.facts import yamlreaders

PLAIN = "plain"
SINGLE_QUOTED = "single-quoted"
LITERAL = "literal"

STR_TAG = "tag:yaml.org,2002:str"

# ASCII that libyaml writes as it is: a line feed and the printable characters.
# (A class of all it writes as it is, in Unicode, takes 14 ms to compile.)
_ASCII_ESCAPED = re.compile("[^\n\x20-\x7e]")
# Most texts (names, paths, numbers): no indicator, no space, nothing to escape.
_ORDINARY = re.compile(r"[0-9A-Za-z_/][0-9A-Za-z_./-]*")
# Most others (IAM actions, types, ARNs, ${Sub} strings): `:`, `{` or `}` inside, which
# end a plain scalar in a flow list, but no `: ` or final `:`, which would in a block.
_COLONS_OR_BRACES = re.compile(r"[0-9A-Za-z_/$][0-9A-Za-z_./$:{}-]*[0-9A-Za-z_./${}-]")
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_FLOW_INDICATORS = frozenset(",?[]{}:")

_RESOLVER = Resolver()


class NeedsLibyaml(Exception):
    """A scalar libyaml would write in a way this module does not (double-quoted, tagged)."""


class Allowed(NamedTuple):
    """The styles libyaml allows for a text (yaml_emitter_analyze_scalar's scalar_data)."""

    multiline: bool
    flow_plain: bool
    block_plain: bool
    single_quoted: bool
    block: bool


def style(text: str, tag: str, *, literal_wanted: bool, in_flow: bool, simple_key: bool) -> str:
    """PLAIN, SINGLE_QUOTED or LITERAL: what libyaml writes `text` as, for a node of `tag`
    (a YAML tag such as STR_TAG, or a short form's `!Ref`) in that place; else NeedsLibyaml."""
    allowed = analyze(text)
    custom_tag = tag.startswith("!")
    if simple_key and allowed.multiline:
        raise NeedsLibyaml(f"multi-line key {text!r}")
    if literal_wanted:
        if not allowed.block or in_flow or simple_key:
            raise NeedsLibyaml(f"{text!r} cannot be a literal block here")
        return _literal(text)
    chosen = PLAIN
    if not (allowed.flow_plain if in_flow else allowed.block_plain):
        chosen = SINGLE_QUOTED
    if not text and (in_flow or simple_key):
        chosen = SINGLE_QUOTED
    if not custom_tag and implicit_tag(text) != tag:
        if tag != STR_TAG:
            raise NeedsLibyaml(f"{text!r} does not read back as {tag}: libyaml writes its tag")
        chosen = SINGLE_QUOTED
    if chosen == PLAIN and tag == STR_TAG and quoted_for_other_readers(text):
        chosen = SINGLE_QUOTED
    if chosen == SINGLE_QUOTED and not allowed.single_quoted:
        raise NeedsLibyaml(f"{text!r} would be double-quoted")
    if chosen != PLAIN and not custom_tag and tag != STR_TAG:
        raise NeedsLibyaml(f"{text!r} would be quoted with a tag")
    return chosen


def quoted_for_other_readers(text: str) -> bool:
    """A string PyYAML reads back as one, but YAML 1.2 or SnakeYAML (and CloudFormation) would
    type otherwise, e.g. an account id with a leading zero: quoted, as libyaml is told to."""
    return yamlreaders.typed_otherwise(text) is not None


def implicit_tag(text: str) -> str:
    """The tag a YAML 1.1 reader gives `text` written plain, as PyYAML's emitter asks its resolver."""
    return _RESOLVER.resolve(ScalarNode, text, (True, False))


_ANYTHING = Allowed(multiline=False, flow_plain=True, block_plain=True, single_quoted=True, block=True)
_PLAIN_IN_A_BLOCK_ONLY = _ANYTHING._replace(flow_plain=False)


def analyze(text: str) -> Allowed:
    """libyaml's yaml_emitter_analyze_scalar, for the texts it writes as they are (NeedsLibyaml for others)."""
    if not text:
        return Allowed(multiline=False, flow_plain=False, block_plain=True, single_quoted=True, block=False)
    if _ORDINARY.fullmatch(text):
        return _ANYTHING
    if _COLONS_OR_BRACES.fullmatch(text):
        return _PLAIN_IN_A_BLOCK_ONLY
    if _ASCII_ESCAPED.search(text) if text.isascii() else not all(map(_written_as_is, text)):
        raise NeedsLibyaml(f"{text!r} has characters libyaml escapes or breaks lines at")
    flow_indicators, block_indicators = _indicators(text)
    line_breaks = "\n" in text
    leading_or_trailing = text[0] in " \n" or text[-1] in " \n"
    space_break = " \n" in text
    break_space = "\n " in text
    plain = not (leading_or_trailing or break_space or space_break or line_breaks)
    return Allowed(
        multiline=line_breaks,
        flow_plain=plain and not flow_indicators,
        block_plain=plain and not block_indicators,
        single_quoted=not (break_space or space_break),
        block=not (space_break or text[-1] == " "),
    )


def _written_as_is(character: str) -> bool:
    """libyaml's IS_PRINTABLE with allow_unicode: a line feed, printable ASCII, and the Basic
    Multilingual Plane but for surrogates, the byte order mark and U+FFFE/F; less U+2028
    and U+2029, line breaks libyaml writes its own way."""
    code = ord(character)
    return (code == 0x0A or 0x20 <= code <= 0x7E or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029))
            or (0xE000 <= code <= 0xFFFD and code != 0xFEFF))


def _indicators(text: str) -> tuple[bool, bool]:
    """(flow, block): whether plain `text` would end or start a structure in a flow list, in a block.
    Only printable characters get here, so a blank after a character is a space, a line break or the end."""
    first, rest = text[0], text[1:]
    followed_by_blank = rest[:1] in ("", " ", "\n")
    flow = block = text.startswith(("---", "..."))
    if first in _FIRST_INDICATORS or (first == "-" and followed_by_blank):
        flow = block = True
    elif first in "?:":
        flow = True
        block = block or followed_by_blank
    if not _FLOW_INDICATORS.isdisjoint(rest):
        flow = True
    if ": " in rest or ":\n" in rest or rest.endswith(":") or " #" in text or "\n#" in text:
        flow = block = True
    return flow, block


def _literal(text: str) -> str:
    # A block that keeps two or more final line breaks (`|+`) makes libyaml end the document with `...`.
    if text.endswith("\n") and (len(text) == 1 or text[-2] == "\n"):
        raise NeedsLibyaml(f"{text!r} would be written with |+")
    return LITERAL
