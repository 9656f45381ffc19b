"""The deployer role's actions, worked out once per cfn-lint install and kept in the result cache.

Working them out reads the provider schemas of ~50 resource types and looks up
~60 services in cfn-lint's 2 MB table of IAM actions (threetier.facts.deployerpolicy):
~35 ms, a fifth of a `generate`, for an answer that changes only when the types,
the schema branches their resources set (threetier.facts.schemabranches), cfn-lint or
that code do. So the answer is kept in one entry of the result cache
(threetier.blocks.resultcache: .cache/threetier/ in the project, or
THREETIER_CACHE_DIR) together with what it was worked out from, and read back
only when all of that is the same now, compared whole: another cfn-lint,
another set of types, a branch property set or unset, or an edit of the code means working it out again, never
a stale answer. An entry that is missing, cut short or not what this module
writes is worked out again and written anew. There is no hash to compute:
loading Python's hashes (OpenSSL) would take ~3 ms of each `generate`.
"""

from __future__ import annotations

from pathlib import Path

from threetier.blocks.resultcache import ResultCache, file_mark
from threetier.facts import deployerpolicy, schemabranches, schemas

TOOL = "deployer-actions"
ENTRY = "latest"


def grantable_actions(templates: dict[str, dict], cache_folder: Path | None) -> list[str]:
    """The actions the templates' resources need (deployerpolicy.used_actions) that IAM knows
    (deployerpolicy.known_to_iam), sorted."""
    cache = ResultCache(cache_folder, TOOL)
    # Walking the templates is cheap; reading the schemas it decides about is what is kept.
    decided = deployerpolicy.set_branches(templates)
    inputs = worked_out_from(decided)
    kept = cache.get(ENTRY)
    if _is_entry_for(kept, inputs):
        return kept["actions"]
    grantable, _ = deployerpolicy.known_to_iam(deployerpolicy.actions_for(decided))
    cache.put(ENTRY, {"inputs": inputs, "actions": grantable})
    return grantable


def worked_out_from(decided: dict[str, list[str]]) -> dict:
    """Everything the answer depends on, as JSON: cfn-lint's install, the code and tables that read
    it, the types and, per type, the branch properties its resources set (deployerpolicy.set_branches)."""
    code = (Path(deployerpolicy.__file__), Path(schemabranches.__file__), Path(schemas.__file__), Path(__file__))
    return {"cfn-lint": [file_mark(path) for path in schemas.install_files()],
            "code": [file_mark(path) for path in code], "types": sorted(decided),
            "branches set": {resource_type: sorted(whens) for resource_type, whens in sorted(decided.items())}}


def _is_entry_for(kept, inputs: dict) -> bool:
    if not isinstance(kept, dict) or kept.get("inputs") != inputs:
        return False
    actions = kept.get("actions")
    # Not empty: every type has handler permissions (handler_actions refuses one without).
    return isinstance(actions, list) and bool(actions) and all(
        isinstance(action, str) and ":" in action for action in actions)
