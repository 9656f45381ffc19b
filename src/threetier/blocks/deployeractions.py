"""The deployer role's actions, worked out once per cfn-lint install and kept in the result cache.

Working them out reads the provider schemas of ~50 resource types and looks up
~60 services in cfn-lint's 2 MB table of IAM actions (threetier.facts.deployerpolicy):
~35 ms, a fifth of a `generate`, for an answer that changes only when the types,
cfn-lint or that code do. So the answer is kept in one entry of the result cache
(threetier.blocks.resultcache: .cache/threetier/ in the project, or
THREETIER_CACHE_DIR) together with what it was worked out from, and read back
only when all of that is the same now, compared whole: another cfn-lint,
another set of types or an edit of the code means working it out again, never
a stale answer. An entry that is missing, cut short or not what this module
writes is worked out again and written anew. There is no hash to compute:
loading Python's hashes (OpenSSL) would take ~3 ms of each `generate`.
"""

from __future__ import annotations

from pathlib import Path

from threetier.blocks.resultcache import ResultCache, file_mark
from threetier.facts import deployerpolicy, schemas

TOOL = "deployer-actions"
ENTRY = "latest"


def grantable_actions(types: list[str], cache_folder: Path | None) -> list[str]:
    """The handler permissions of `types` that IAM knows (deployerpolicy.known_to_iam), sorted."""
    cache = ResultCache(cache_folder, TOOL)
    inputs = worked_out_from(types)
    kept = cache.get(ENTRY)
    if _is_entry_for(kept, inputs):
        return kept["actions"]
    grantable, _ = deployerpolicy.known_to_iam(deployerpolicy.handler_actions(types))
    cache.put(ENTRY, {"inputs": inputs, "actions": grantable})
    return grantable


def worked_out_from(types: list[str]) -> dict:
    """Everything the answer depends on, as JSON: cfn-lint's install, the code that reads it, the types."""
    code = (Path(deployerpolicy.__file__), Path(schemas.__file__), Path(__file__))
    return {"cfn-lint": [file_mark(path) for path in schemas.install_files()],
            "code": [file_mark(path) for path in code], "types": sorted(types)}


def _is_entry_for(kept, inputs: dict) -> bool:
    if not isinstance(kept, dict) or kept.get("inputs") != inputs:
        return False
    actions = kept.get("actions")
    # Not empty: every type has handler permissions (handler_actions refuses one without).
    return isinstance(actions, list) and bool(actions) and all(
        isinstance(action, str) and ":" in action for action in actions)
