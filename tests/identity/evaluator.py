"""IAM policy evaluation for the identity tests, by a maintained evaluator.

principalmapper's local simulation (`local_check_authorization_full`) does a
full evaluation: explicit denies first, then the permissions boundary, then the
identity policies, with IAM's condition operators (String*, Arn*, Bool, Null,
IfExists, ForAnyValue/ForAllValues) and wildcard matching of actions and
resources. Nothing in this project matches IAM patterns by hand.

principalmapper 1.1.5 (2022) imports `Mapping` from `collections`, which Python
3.10 removed; the two names are aliased to `collections.abc` before it loads.
"""

from __future__ import annotations

import collections
import collections.abc

for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy
from principalmapper.querying.local_policy_simulation import policy_has_matching_statement
from principalmapper.querying.query_interface import local_check_authorization_full
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict


def principal(arn: str, documents: dict[str, dict], boundary: dict | None = None,
              trust: dict | None = None) -> Node:
    """A role or user with these identity policy documents (name -> document) and an optional boundary."""
    policies = [Policy(arn, name, document) for name, document in documents.items()]
    if ":role/" in arn and trust is None:
        trust = {"Version": "2012-10-17", "Statement": []}
    return Node(arn, "AROAEXAMPLEDEPLOYER", policies, [], trust, None, 0, False, False,
                None if boundary is None else Policy(arn, "boundary", boundary), False, {})


def allowed(who: Node, action: str, resource: str, context: dict[str, str | list[str]] | None = None) -> bool:
    """Whether IAM allows `who` to call `action` on `resource` with this request context."""
    return local_check_authorization_full(who, action, resource, dict(context or {}))


def trusts(trust: dict, federated: str, action: str, context: dict[str, str]) -> bool:
    """Whether a role's trust policy lets the identity provider `federated` call `action` with this
    request context (the token's claims as condition keys): an Allow matches and no Deny does.

    principalmapper compares AWS and Service principals only, so the Federated principal is compared
    here, as IAM does, by its exact ARN; the action and the conditions are principalmapper's.
    """
    keys = CaseInsensitiveDict(context)

    def matches(effect: str) -> bool:
        return any(federated in _as_list((statement.get("Principal") or {}).get("Federated"))
                   and policy_has_matching_statement({"Statement": [statement]}, effect, action, "*", keys)
                   for statement in _as_list(trust["Statement"]))

    return matches("Allow") and not matches("Deny")


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
