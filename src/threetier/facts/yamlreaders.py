"""How YAML readers other than PyYAML type a plain (unquoted) scalar.

PyYAML follows YAML 1.1, and so do the files' own checks. Other readers of the
same text do not agree with it on every string:

- the YAML 1.2 core schema reads any plain run of digits as an integer
  (`054676820928` becomes 54676820928) and `1e3` as a float;
- SnakeYAML, the Java library, kept YAML 1.1's tables but made the decimal
  point of a float optional (its Resolver at the commit linked below), so
  `054676820928` was a float there; SnakeYAML 1.33 (Debian 12) reads it as a
  string again, but still reads `1e3` as a float and `1_000` as an integer;
- CloudFormation's own reader typed such a string as a number: a template in
  which `aws cloudformation package` had written an account id with a leading
  zero plain (its PyYAML dumper leaves 1.1 strings unquoted) created a stack
  holding 1.2345678901E10 (aws/aws-cli#6908), as that SnakeYAML table does.

So a string that any of these would type differently must be quoted, and a
template should not hold one at all where a tool may write it back plain.
"""

from __future__ import annotations

import re

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://yaml.org/spec/1.2.2/#1032-tag-resolution",
    "https://github.com/snakeyaml/snakeyaml/blob/082458dddf9db294fb85bdecf53f180e257b6ea5/src/main/java/org/yaml/snakeyaml/resolver/Resolver.java",
    "https://github.com/aws/aws-cli/issues/6908",
    "https://github.com/aws/aws-cli/blob/develop/awscli/customizations/cloudformation/yamlhelper.py",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html",
)
CHECKED = "2026-12-06"

# YAML 1.2.2, 10.3.2 "Tag Resolution" (the core schema), in the spec's order.
YAML_1_2_CORE = (
    ("null", re.compile(r"null|Null|NULL|~|")),
    ("bool", re.compile(r"true|True|TRUE|false|False|FALSE")),
    ("int", re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    ("float", re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
                         r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")),
)

# SnakeYAML, org.yaml.snakeyaml.resolver.Resolver at that commit: each pattern with the first
# characters it is tried for (INT before FLOAT, as there); the empty text is null.
SNAKEYAML = (
    ("bool", "yYnNtTfFoO", re.compile(r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF")),
    ("int", "-+0123456789", re.compile(
        r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+")),
    ("float", "-+0123456789.", re.compile(
        r"[-+]?(\.[0-9]+|[0-9_]+(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")),
    ("merge", "<", re.compile(r"<<")),
    ("null", "~nN", re.compile(r"~|null|Null|NULL| ")),
    ("timestamp", "0123456789", re.compile(
        r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)"
        r"[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?")),
    ("value", "=", re.compile(r"=")),
)


def yaml_1_2_type(text: str) -> str:
    """What the YAML 1.2 core schema makes of `text` written plain: 'str' or the type it reads."""
    for name, pattern in YAML_1_2_CORE:
        if pattern.fullmatch(text):
            return name
    return "str"


def snakeyaml_type(text: str) -> str:
    """What SnakeYAML's resolver makes of `text` written plain: 'str' or the type it reads."""
    if not text:
        return "null"
    for name, first, pattern in SNAKEYAML:
        if text[0] in first and pattern.fullmatch(text):
            return name
    return "str"


# Every text either table types starts with one of these (or is empty).
_TYPED_FIRST = frozenset("-+0123456789.~nNtTfFyYoO<= ")


def typed_otherwise(text: str) -> str | None:
    """Which reader would read plain `text` as something other than a string, or None."""
    if text and text[0] not in _TYPED_FIRST:
        return None
    if yaml_1_2_type(text) != "str":
        return f"YAML 1.2 reads it as {yaml_1_2_type(text)}"
    if snakeyaml_type(text) != "str":
        return f"SnakeYAML reads it as {snakeyaml_type(text)}"
    return None
