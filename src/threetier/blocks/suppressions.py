"""Inline suppressions for linters and scanners, each with its reason beside it.

A suppression lives in the Metadata of the one resource it concerns, never in a
global skip list, so a reviewer sees the exception and why at the same place.
"""

from __future__ import annotations


def cfn_lint(rule: str, reason: str) -> dict:
    """Resource Metadata that makes cfn-lint skip `rule` there; `ignore_reasons` is for humans."""
    return {"cfn-lint": {"config": {"ignore_checks": [rule], "ignore_reasons": {rule: reason}}}}


def checkov(*skips: tuple[str, str]) -> dict:
    """Resource Metadata that makes checkov skip each (check id, one-line reason) there."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}}
