"""The review model: what a change set (or the offline diff) says will happen, as plain data.

`plan`, `deploy` and `diff` build these from DescribeChangeSet responses or from two
templates; the table and the danger guard read them.
"""

from __future__ import annotations

from dataclasses import dataclass

STACK_TYPE = "AWS::CloudFormation::Stack"

# How CloudFormation says "this change set would change nothing": the change
# set FAILS with one of these reasons (and UpdateStack raises the second).
NO_CHANGES_REASONS = ("didn't contain changes", "No updates are to be performed")


@dataclass(frozen=True)
class NestedFailure:
    """A nested change set that failed, with its own reason."""

    stack_path: str  # "project-x-dev/AppStack"
    change_set_id: str
    reason: str


@dataclass(frozen=True)
class Change:
    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    stack_path: str  # "project-x-dev" or "project-x-dev/NetworkStack" for a nested stack
    replacement: str = ""  # True, Conditional or False for Modify; CloudFormation gives none otherwise
    changed_properties: tuple[str, ...] = ()
    physical_id: str = ""
    policy_action: str = ""  # Delete, Retain, Snapshot, ReplaceAndDelete, ... when CloudFormation says
    nested_change_set_id: str = ""  # set on a nested stack row whose own changes follow it
    before_context: str = ""  # JSON text of the resource before/after, when property values are included
    after_context: str = ""

    @property
    def path(self) -> str:
        return f"{self.stack_path}/{self.logical_id}"


@dataclass(frozen=True)
class Review:
    stack_name: str
    stack_id: str
    change_set_id: str
    change_set_type: str  # CREATE or UPDATE
    status: str
    status_reason: str
    changes: tuple[Change, ...]
    execution_status: str = ""
    nested_failures: tuple[NestedFailure, ...] = ()

    @property
    def no_changes(self) -> bool:
        if self.status == "FAILED":
            return is_no_changes_reason(self.status_reason)
        return self.status == "CREATE_COMPLETE" and not self.changes

    @property
    def failed(self) -> bool:
        return self.status != "CREATE_COMPLETE" and not self.no_changes


def is_no_changes_reason(reason: str | None) -> bool:
    return any(text in (reason or "") for text in NO_CHANGES_REASONS)
