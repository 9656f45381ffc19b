"""The database engine table (threetier.facts.engines) as a CloudFormation Mapping, read by DbEngine."""

from __future__ import annotations

from troposphere import FindInMap, Ref, Template

from threetier import parameters as P
from threetier.facts.engines import ENGINES

MAPPING = "DbEngines"


def add_mapping(t: Template, *keys: str) -> None:
    """Add the engine table with only the columns this template reads (cfn-lint flags unused ones)."""
    t.add_mapping(MAPPING, {engine: {k: row[k] for k in keys} for engine, row in ENGINES.items()})


def lookup(key: str) -> FindInMap:
    return FindInMap(MAPPING, Ref(P.DB_ENGINE.name), key)
