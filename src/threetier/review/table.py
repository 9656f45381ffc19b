"""Render a change-set review as a table for people or as JSON for CI bots."""

from __future__ import annotations

import json

from threetier.review.changes import Change, Review
from threetier.review.console import paint
from threetier.review.danger import Danger

COLUMNS = ("ACTION", "LOGICAL ID", "TYPE", "REPLACEMENT", "STACK", "CHANGED PROPERTIES")


def counts(changes: tuple[Change, ...] | list[Change]) -> dict[str, int]:
    """{add, modify, replace, remove} (plus `other` for Import/Dynamic when present).

    A nested stack row whose own change set is listed below it is not counted:
    its resources are.
    """
    tally = {"add": 0, "modify": 0, "replace": 0, "remove": 0}
    for change in changes:
        if change.nested_change_set_id:
            continue
        if change.action == "Add":
            tally["add"] += 1
        elif change.action == "Remove":
            tally["remove"] += 1
        elif change.action == "Modify" and change.replacement in ("True", "Conditional"):
            tally["replace"] += 1
        elif change.action == "Modify":
            tally["modify"] += 1
        else:
            tally["other"] = tally.get("other", 0) + 1
    return tally


def summary_line(tally: dict[str, int]) -> str:
    line = f"{tally['add']} add, {tally['modify']} modify, {tally['replace']} replace, {tally['remove']} remove"
    if tally.get("other"):
        line += f", {tally['other']} other"
    return line


def table(changes: tuple[Change, ...] | list[Change]) -> str:
    rows = [COLUMNS] + [
        (
            change.action,
            change.logical_id,
            change.resource_type,
            change.replacement or "-",
            change.stack_path,
            ", ".join(change.changed_properties) or "-",
        )
        for change in changes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def danger_lines(dangers: list[Danger], allowed: set[str], color: bool) -> list[str]:
    if not dangers:
        return []
    lines = [paint(f"DANGER: {len(dangers)} change(s) can lose data or expose the network:", "red", color)]
    for danger in dangers:
        change = danger.change
        line = f"  - {danger.kind}: {change.path} ({change.resource_type}) {danger.message}"
        if danger.kind in allowed:
            lines.append(f"{line} [allowed by {danger.allow_option}]")
        else:
            lines.append(paint(f"{line} [needs {danger.allow_option}]", "red", color))
    return lines


def render_text(review: Review, dangers: list[Danger], allowed: set[str], color: bool,
                notes: list[str] | None = None) -> str:
    """The review a person reads: header, table, summary line, danger warnings, then `notes`
    (what guards the update, what a release does)."""
    lines = [
        f"Change set for stack {review.stack_name} ({review.change_set_type}):",
        "",
        table(review.changes),
        "",
        f"Summary: {summary_line(counts(review.changes))}",
    ]
    warnings = danger_lines(dangers, allowed, color)
    if warnings:
        lines += [""] + warnings
    if notes:
        lines += [""] + notes
    return "\n".join(lines) + "\n"


def as_dict(review: Review, dangers: list[Danger], allowed: set[str], extras: dict | None = None) -> dict:
    """The same review as plain data; keys are stable for CI bots."""
    return {
        **(extras or {}),
        "stack": review.stack_name,
        "change_set": review.change_set_id,
        "change_set_type": review.change_set_type,
        "no_changes": review.no_changes,
        "summary": counts(review.changes),
        "changes": [
            {
                "action": change.action,
                "logical_id": change.logical_id,
                "resource_type": change.resource_type,
                "replacement": change.replacement or None,
                "stack_path": change.stack_path,
                "changed_properties": list(change.changed_properties),
                "physical_id": change.physical_id or None,
                "nested_change_set": change.nested_change_set_id or None,
            }
            for change in review.changes
        ],
        "dangers": [
            {
                "kind": danger.kind,
                "stack_path": danger.change.stack_path,
                "logical_id": danger.change.logical_id,
                "resource_type": danger.change.resource_type,
                "message": danger.message,
                "allowed": danger.kind in allowed,
                "allow_option": danger.allow_option,
            }
            for danger in dangers
        ],
    }


def render_json(review: Review, dangers: list[Danger], allowed: set[str], extras: dict | None = None) -> str:
    return json.dumps(as_dict(review, dangers, allowed, extras), indent=2) + "\n"
