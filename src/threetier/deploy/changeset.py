"""Change sets: find the stack, create, wait, read the changes (nested stacks included).

The review model (Change, Review) is plain data so rendering and the danger
guard can be tested from dicts shaped like DescribeChangeSet responses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from uuid import uuid4

from botocore.exceptions import ClientError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
STACK_TYPE = "AWS::CloudFormation::Stack"

# How CloudFormation says "this change set would change nothing": the change
# set FAILS with one of these reasons (and UpdateStack raises the second).
NO_CHANGES_REASONS = ("didn't contain changes", "No updates are to be performed")

CHANGE_SET_DONE = ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED")


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


def describe_stack(cfn, stack_name: str) -> dict | None:
    """The stack as DescribeStacks returns it, or None when there is no such stack."""
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None
        raise


def outputs(stack: dict) -> dict[str, str]:
    """A described stack's outputs as {key: value}."""
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}


def change_set_type_for(stack: dict | None) -> str:
    """UPDATE for a stack that has been created; CREATE for none, or one a CREATE change set left in review."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    return "UPDATE"


def new_change_set_name(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"threetier-{now:%Y%m%d-%H%M%S}-{uuid4().hex[:8]}"


def create_change_set(cfn, stack_name: str, template_url: str, parameters: dict[str, str],
                      change_set_type: str, description: str) -> dict | None:
    """{"Id", "StackId"} of the new change set, or None if AWS already says there is nothing to change."""
    try:
        return cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=new_change_set_name(),
            ChangeSetType=change_set_type,
            TemplateURL=template_url,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=CAPABILITIES,
            IncludeNestedStacks=True,
            Description=description,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ValidationError" and is_no_changes_reason(
            error.response["Error"].get("Message")
        ):
            return None
        raise


def supports_property_values(cfn) -> bool:
    """Whether this botocore knows DescribeChangeSet's IncludePropertyValues (added in 2024)."""
    members = cfn.meta.service_model.operation_model("DescribeChangeSet").input_shape.members
    return "IncludePropertyValues" in members


def wait_for_change_set(cfn, change_set_id: str, sleep: Callable[[float], None] = time.sleep,
                        poll_seconds: float = 2.0) -> dict:
    """Poll until the change set is computed; returns the first page of the last description."""
    while True:
        page = _describe_page(cfn, change_set_id)
        if page["Status"] in CHANGE_SET_DONE:
            return page
        sleep(poll_seconds)


def read_review(cfn, first_page: dict, stack_name: str, change_set_type: str) -> Review:
    """All changes of a computed change set, each nested change set's rows right after its stack's row."""
    changes = _changes(cfn, first_page, stack_path=stack_name)
    return Review(
        stack_name=stack_name,
        stack_id=first_page.get("StackId", ""),
        change_set_id=first_page["ChangeSetId"],
        change_set_type=change_set_type,
        status=first_page["Status"],
        status_reason=first_page.get("StatusReason") or "",
        changes=tuple(changes),
    )


def delete_change_set(cfn, change_set_id: str) -> None:
    cfn.delete_change_set(ChangeSetName=change_set_id)


def _describe_page(cfn, change_set_id: str, next_token: str | None = None) -> dict:
    request = {"ChangeSetName": change_set_id}
    if next_token:
        request["NextToken"] = next_token
    if supports_property_values(cfn):
        request["IncludePropertyValues"] = True
    return cfn.describe_change_set(**request)


def _changes(cfn, first_page: dict, stack_path: str) -> list[Change]:
    rows: list[Change] = []
    page = first_page
    while True:
        for entry in page.get("Changes", []):
            if entry.get("Type", "Resource") != "Resource" or "ResourceChange" not in entry:
                continue
            change = change_from_api(entry["ResourceChange"], stack_path)
            rows.append(change)
            if change.nested_change_set_id:
                nested = _describe_page(cfn, change.nested_change_set_id)
                rows.extend(_changes(cfn, nested, stack_path=change.path))
        if not page.get("NextToken"):
            return rows
        page = _describe_page(cfn, page["ChangeSetId"], page["NextToken"])


def change_from_api(resource_change: dict, stack_path: str) -> Change:
    """One ResourceChange of DescribeChangeSet as a review row."""
    nested_id = ""
    if resource_change.get("ResourceType") == STACK_TYPE:
        nested_id = resource_change.get("ChangeSetId") or ""
    return Change(
        action=resource_change.get("Action", ""),
        logical_id=resource_change.get("LogicalResourceId", ""),
        resource_type=resource_change.get("ResourceType", ""),
        stack_path=stack_path,
        replacement=resource_change.get("Replacement") or "",
        changed_properties=changed_property_names(resource_change.get("Details") or []),
        physical_id=resource_change.get("PhysicalResourceId") or "",
        policy_action=resource_change.get("PolicyAction") or "",
        nested_change_set_id=nested_id,
        before_context=resource_change.get("BeforeContext") or "",
        after_context=resource_change.get("AfterContext") or "",
    )


def changed_property_names(details: list[dict]) -> tuple[str, ...]:
    """Top-level property names a change touches (or the attribute, e.g. Tags or Metadata), sorted."""
    names = set()
    for detail in details:
        name = _target_name(detail.get("Target") or {})
        if name:
            names.add(name)
    return tuple(sorted(names))


def _target_name(target: dict) -> str:
    if target.get("Attribute") == "Properties" and target.get("Name"):
        return target["Name"]
    # With property values included, Path is e.g. /Properties/Tags/0/Value and Name may be absent.
    parts = [part for part in (target.get("Path") or "").split("/") if part]
    if len(parts) >= 2 and parts[0] == "Properties":
        return parts[1]
    return target.get("Name") or target.get("Attribute") or ""
