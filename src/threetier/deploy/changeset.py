"""Change sets: find the stack, create, wait, read the changes (nested stacks included).

The review model (Change, Review) is plain data, in threetier.review.changes, so
rendering and the danger guard can be tested from dicts shaped like DescribeChangeSet
responses.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Callable
from uuid import uuid4

from botocore.exceptions import ClientError

from threetier.review.changes import (  # noqa: F401 (STACK_TYPE and NO_CHANGES_REASONS: for callers)
    NO_CHANGES_REASONS,
    STACK_TYPE,
    Change,
    NestedFailure,
    Review,
    is_no_changes_reason,
)

# Only what the templates need: they create IAM roles but name none (no RoleName,
# so no CAPABILITY_NAMED_IAM), and use no macro (the rotation function is the
# project's own, so no CAPABILITY_AUTO_EXPAND).
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html
CAPABILITIES = ["CAPABILITY_IAM"]

CHANGE_SET_DONE = ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED")

# Only a change set whose ExecutionStatus is AVAILABLE can be executed
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html).
EXECUTABLE = "AVAILABLE"

# How a root change set names a nested one that failed:
# "Nested change set arn:aws:cloudformation:...:changeSet/... was not successfully created: Currently in FAILED."
_CHANGE_SET_ARN = re.compile(r"arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:[0-9]+:changeSet/[^\s]+[^\s.,;:]")


class ChangeSetTimeout(Exception):
    """The change set was still being computed when the wait limit ran out."""

    def __init__(self, status: str, waited: float):
        super().__init__(status)
        self.status = status
        self.waited = waited


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


def create_change_set(cfn, stack_name: str, template_url: str | None, parameters: dict[str, str],
                      change_set_type: str, description: str, options: dict | None = None,
                      template_body: str | None = None) -> dict | None:
    """{"Id", "StackId"} of the new change set, or None if AWS already says there is nothing to change.

    `options` are further CreateChangeSet arguments (RoleARN, Tags, NotificationARNs,
    RollbackConfiguration), sent only when given. `template_body` is sent instead of a URL (a
    template of at most 51,200 bytes, with no nested stacks to upload: the us-east-1 companion)."""
    source = {"TemplateBody": template_body} if template_body is not None else {"TemplateURL": template_url}
    try:
        return cfn.create_change_set(
            **(options or {}),
            **source,
            StackName=stack_name,
            ChangeSetName=new_change_set_name(),
            ChangeSetType=change_set_type,
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
                        poll_seconds: float = 2.0, clock: Callable[[], float] = time.monotonic,
                        limit_seconds: float | None = None) -> dict:
    """Poll until the change set is computed; returns the first page of the last description.

    ChangeSetTimeout when it is still pending after `limit_seconds` (a change set can stay in
    CREATE_PENDING for good when CloudFormation has trouble)."""
    started = clock()
    while True:
        page = _describe_page(cfn, change_set_id)
        if page["Status"] in CHANGE_SET_DONE:
            return page
        waited = clock() - started
        if limit_seconds is not None and waited + poll_seconds > limit_seconds:
            raise ChangeSetTimeout(page["Status"], waited)
        sleep(poll_seconds)


def execution_status(cfn, change_set_id: str) -> tuple[str, str]:
    """(ExecutionStatus, StatusReason) of a change set as CloudFormation sees it now."""
    page = cfn.describe_change_set(ChangeSetName=change_set_id)
    return page.get("ExecutionStatus", ""), page.get("StatusReason") or ""


def read_review(cfn, first_page: dict, stack_name: str, change_set_type: str) -> Review:
    """All changes of a computed change set, each nested change set's rows right after its stack's row,
    and the reason of every nested change set that failed."""
    failures: list[NestedFailure] = []
    changes = _changes(cfn, first_page, stack_path=stack_name, failures=failures)
    reason = first_page.get("StatusReason") or ""
    if first_page["Status"] == "FAILED":
        failures += _failures_named_in(cfn, reason, stack_name, known={f.change_set_id for f in failures})
    return Review(
        stack_name=stack_name,
        stack_id=first_page.get("StackId", ""),
        change_set_id=first_page["ChangeSetId"],
        change_set_type=change_set_type,
        status=first_page["Status"],
        status_reason=reason,
        changes=tuple(changes),
        execution_status=first_page.get("ExecutionStatus") or "",
        nested_failures=tuple(failures),
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


def _changes(cfn, first_page: dict, stack_path: str, failures: list[NestedFailure]) -> list[Change]:
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
                if nested.get("Status") == "FAILED":
                    failures.append(NestedFailure(change.path, change.nested_change_set_id,
                                                  nested.get("StatusReason") or "no reason given"))
                rows.extend(_changes(cfn, nested, stack_path=change.path, failures=failures))
        if not page.get("NextToken"):
            return rows
        page = _describe_page(cfn, page["ChangeSetId"], page["NextToken"])


def _failures_named_in(cfn, reason: str, stack_name: str, known: set[str]) -> list[NestedFailure]:
    """Nested change sets a failed root's reason names that no row led to, with their own reasons."""
    found = []
    for change_set_id in dict.fromkeys(_CHANGE_SET_ARN.findall(reason)):
        if change_set_id in known:
            continue
        try:
            page = cfn.describe_change_set(ChangeSetName=change_set_id)
        except ClientError:
            continue  # already gone: the root's own reason is all there is
        path = page.get("StackName") or f"a nested stack of {stack_name}"
        found.append(NestedFailure(path, change_set_id, page.get("StatusReason") or page.get("Status", "")))
    return found


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
