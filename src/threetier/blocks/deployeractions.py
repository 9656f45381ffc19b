"""The deployer role's actions, worked out once per cfn-lint install and kept in the result cache.

Working them out reads the provider schemas of ~50 resource types and looks up
~60 services in cfn-lint's 2 MB table of IAM actions (threetier.facts.deployerpolicy):
~35 ms, a sixth of a `generate`, for an answer that changes only when the types,
cfn-lint or that code do. So the answer is stored under a hash of all three
(threetier.blocks.resultcache: .cache/threetier/ in the project, or
THREETIER_CACHE_DIR): another cfn-lint, a new type or an edit of the code is
another key, never a stale answer. An entry that is missing, cut short or not a
list of action names is worked out again and written anew.
"""

from __future__ import annotations

from pathlib import Path

from threetier.facts import deployerpolicy, schemas
from threetier.blocks.resultcache import ResultCache, files_fingerprint, fingerprint

TOOL = "deployer-actions"


def grantable_actions(types: list[str], cache_folder: Path | None) -> list[str]:
    """The handler permissions of `types` that IAM knows (deployerpolicy.known_to_iam), sorted."""
    cache = ResultCache(cache_folder, TOOL)
    key = cache_key(types)
    cached = cache.get(key)
    if _is_action_list(cached):
        return cached
    grantable, _ = deployerpolicy.known_to_iam(deployerpolicy.handler_actions(types))
    cache.put(key, grantable)
    return grantable


def cache_key(types: list[str]) -> str:
    """Everything the answer depends on: cfn-lint's install, the code that reads it, the types."""
    code = files_fingerprint([Path(deployerpolicy.__file__), Path(schemas.__file__), Path(__file__)])
    return fingerprint(TOOL, *schemas.install_marks(), code, *sorted(types))


def _is_action_list(value) -> bool:
    # Not empty: every type has handler permissions (handler_actions refuses one without).
    return isinstance(value, list) and bool(value) and all(
        isinstance(action, str) and ":" in action for action in value)
