"""W9014: a string value that YAML 1.2, SnakeYAML or CloudFormation's reader would read as a number.

`054676820928` (an account id with a leading zero) or `1e3` is a string to
PyYAML, which follows YAML 1.1, so PyYAML's dumpers write it back unquoted:
`aws cloudformation package` does, for the root and every nested template it
packages (aws-cli's yamlhelper uses PyYAML's SafeDumper). Written plain, the
YAML 1.2 core schema reads an integer, SnakeYAML's float table a float, and
CloudFormation created a stack holding 1.2345678901E10 for such an account id
(aws/aws-cli#6908). Quoting it in this file does not survive that write-back:
give the value a form no reader types, e.g. a principal as
`arn:${AWS::Partition}:iam::ACCOUNT:root` from a mapping of `iam::ACCOUNT:root`.
The readers' tables: threetier.facts.yamlreaders.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.emit import scalarstyle
from threetier.facts import yamlreaders


class NumberLikeStrings(CloudFormationLintRule):
    id = "W9014"
    shortdesc = "String that YAML 1.2 or CloudFormation's reader types as a number"
    description = (
        "A string value or key that PyYAML (YAML 1.1) writes back unquoted but YAML 1.2, SnakeYAML or "
        "CloudFormation reads as a number, boolean or null once `aws cloudformation package` has written "
        "it back, e.g. an account id with a leading zero."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html"
    tags = ["yaml", "package"]

    def match(self, cfn):
        return [RuleMatch(path, _message(path, text, reader)) for path, text, reader in _fragile(cfn.template, [])]


def _fragile(node, path: list):
    """(path, text, what another reader makes of it) for every fragile string key or value under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                reader = _typed_otherwise(key)
                if reader:
                    yield [*path, key], key, reader
            yield from _fragile(value, [*path, key])
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _fragile(item, [*path, index])
    elif isinstance(node, str):
        reader = _typed_otherwise(node)
        if reader:
            yield path, node, reader


def _typed_otherwise(text: str) -> str | None:
    """What another reader makes of `text`, when PyYAML would write it back unquoted."""
    reader = yamlreaders.typed_otherwise(text)
    if reader and scalarstyle.implicit_tag(text) == scalarstyle.STR_TAG:
        return reader
    return None


def _message(path: list, text: str, reader: str) -> str:
    where = "/".join(str(part) for part in path)
    return (
        f"{where}: '{text}' is a string to YAML 1.1, so `aws cloudformation package` writes it back "
        f"unquoted, and then {reader} (CloudFormation read such an account id as 1.2345678901E10, "
        f"aws/aws-cli#6908). Fix: give the value a form no reader types: an account id as iam::ACCOUNT:root "
        f"in a mapping, with arn:${{AWS::Partition}}:${{...}} around it; another value with a letter in it."
    )
