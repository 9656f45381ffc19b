"""Database engines the data tier supports, as one CloudFormation Mapping.

The security stack reads the port and the data stack everything else, both
from this one table, so the DB security group always opens the engine's port.
"""

from __future__ import annotations

from troposphere import FindInMap, Ref, Template

from threetier import parameters as P

MAPPING = "DbEngines"

ENGINES = {
    "mysql": {
        "Engine": "mysql",
        "EngineVersion": "8.0",
        "Port": "3306",
        # audit needs an option group; error, general and slow query do not.
        "LogExports": ["error", "general", "slowquery"],
    },
    "postgres": {
        "Engine": "postgres",
        "EngineVersion": "16",
        "Port": "5432",
        "LogExports": ["postgresql", "upgrade"],
    },
}

# RDS for MySQL has no Performance Insights on these classes.
NO_PERFORMANCE_INSIGHTS = {
    "mysql": ("db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"),
}


def add_mapping(t: Template, *keys: str) -> None:
    """Add the engine table with only the columns this template reads (cfn-lint flags unused ones)."""
    t.add_mapping(MAPPING, {engine: {k: row[k] for k in keys} for engine, row in ENGINES.items()})


def lookup(key: str) -> FindInMap:
    return FindInMap(MAPPING, Ref(P.DB_ENGINE.name), key)
