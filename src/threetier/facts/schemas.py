"""The CloudFormation resource provider schemas cfn-lint ships, read straight from its data.

`cfnlint.schema.PROVIDER_SCHEMA_MANAGER` gives the same dicts, but importing
cfn-lint takes most of a second; `generate` (the deployer role) and `diff` read
only a few schemas. Per region, providers/<region>.json names the file in
resources/ that holds each type's schema.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html",
    "the resource provider schemas in cfn-lint's data (the release pinned in setup.cfg), read at run time",
)
CHECKED = "2026-11-30"

DEFAULT_REGION = "us-east-1"


class NoSchema(LookupError):
    """A resource type without a provider schema (an old, non-provisionable type, or none at all)."""


@lru_cache(maxsize=None)
def _package() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise NoSchema("cfn-lint is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _data() -> Path:
    return _package() / "data" / "schemas"


def install_files() -> list[Path]:
    """The files that tell this cfn-lint install from another: its version file and the tables
    read here first. A new release, or installing the same one again, rewrites them."""
    return [_package() / "version.py", _data() / "providers" / f"{DEFAULT_REGION}.json", _policies_path()]


@lru_cache(maxsize=None)
def _index(region: str) -> dict[str, str]:
    return json.loads((_data() / "providers" / f"{region}.json").read_text())


@lru_cache(maxsize=None)
def resource_schema(resource_type: str, region: str = DEFAULT_REGION) -> dict:
    name = _index(region).get(resource_type)
    if name is None:
        raise NoSchema(resource_type)
    return json.loads((_data() / "resources" / f"{name}.json").read_text())


@lru_cache(maxsize=None)
def iam_actions() -> dict:
    """cfn-lint's table of IAM actions per service prefix (what its rule W3037 checks against)."""
    return json.loads(_policies_text())


def iam_action_names(services: set[str]) -> dict[str, set[str]]:
    """{service prefix: the names of its actions} in iam_actions(), lower case, for `services`
    that are in it, without decoding all of its 2 MB (40 ms on every `generate`): the file
    has one key per line, indented one space per level, so a service's action names are
    the lines indented three spaces in its "Actions" object. Another layout: the whole
    table is read."""
    text = _policies_text()
    if not text.startswith('{\n "'):
        return {name: set(entry.get("Actions", {})) for name, entry in iam_actions().items() if name in services}
    found = {}
    for service in services:
        start = text.find(f'\n "{service}": {{')
        if start < 0:
            continue
        end = text.find('\n "', start + 1)
        entry = text[start:end if end >= 0 else len(text)]
        actions = entry.find('\n  "Actions": {')
        if actions < 0:
            found[service] = set()
            continue
        after = entry.find('\n  "', actions + 1)
        found[service] = set(_ACTION_LINE.findall(entry[actions:after if after >= 0 else len(entry)]))
    return found


_ACTION_LINE = re.compile(r'\n   "([^"]+)": ')


@lru_cache(maxsize=None)
def _policies_text() -> str:
    return _policies_path().read_text()


def _policies_path() -> Path:
    return _data().parent / "AdditionalSpecs" / "Policies.json"
