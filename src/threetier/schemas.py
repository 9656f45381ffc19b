"""The CloudFormation resource provider schemas cfn-lint ships, read straight from its data.

`cfnlint.schema.PROVIDER_SCHEMA_MANAGER` gives the same dicts, but importing
cfn-lint takes most of a second; `generate` (the deployer role) and `diff` read
only a few schemas. Per region, providers/<region>.json names the file in
resources/ that holds each type's schema.
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

DEFAULT_REGION = "us-east-1"


class NoSchema(LookupError):
    """A resource type without a provider schema (an old, non-provisionable type, or none at all)."""


@lru_cache(maxsize=None)
def _data() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise NoSchema("cfn-lint is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"


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


def iam_actions_of(services: set[str]) -> dict:
    """The entries of `services` in iam_actions(), without parsing all of its 2 MB (40 ms on
    every `generate`): each service's object is decoded where the file's layout (one
    top-level key per line, indented by one space) puts it; a service with no such line
    is not in the table. Another layout: the whole table is read."""
    text = _policies_text()
    if not text.startswith('{\n "'):
        return {name: entry for name, entry in iam_actions().items() if name in services}
    decoder = json.JSONDecoder()
    found = {}
    for service in services:
        start = text.find(f'\n "{service}": {{')
        if start >= 0:
            found[service], _ = decoder.raw_decode(text, text.index("{", start))
    return found


@lru_cache(maxsize=None)
def _policies_text() -> str:
    return (_data().parent / "AdditionalSpecs" / "Policies.json").read_text()
