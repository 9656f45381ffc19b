"""Responses shaped like the real CloudFormation API, for botocore's Stubber."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

ACCOUNT = "123456789012"
REGION = "us-east-1"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def stack_arn(name: str, suffix: str = "1") -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0000000{suffix}-aaaa-bbbb-cccc-dddddddddddd"


def change_set_arn(name: str = "threetier-x", suffix: str = "1") -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{name}/0000000{suffix}-eeee-ffff-0000-111111111111"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stack(name: str, status: str, outputs: list[dict] | None = None, reason: str | None = None) -> dict:
    description = {
        "StackId": stack_arn(name),
        "StackName": name,
        "CreationTime": T0,
        "StackStatus": status,
    }
    if outputs is not None:
        description["Outputs"] = outputs
    if reason:
        description["StackStatusReason"] = reason
    return {"Stacks": [description]}


def resource_change(action: str, logical_id: str, resource_type: str, **extra) -> dict:
    change = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource_type}
    change.update(extra)
    return {"Type": "Resource", "ResourceChange": change}


def property_detail(name: str, recreation: str = "Never", evaluation: str = "Static",
                    source: str = "DirectModification", attribute: str = "Properties") -> dict:
    target = {"Attribute": attribute, "RequiresRecreation": recreation}
    if name:
        target["Name"] = name
    return {"Target": target, "Evaluation": evaluation, "ChangeSource": source}


def change_set(stack_name: str, changes: list[dict], status: str = "CREATE_COMPLETE",
               reason: str | None = None, change_set_id: str | None = None,
               stack_id: str | None = None, next_token: str | None = None) -> dict:
    response = {
        "ChangeSetName": "threetier-x",
        "ChangeSetId": change_set_id or change_set_arn(),
        "StackId": stack_id or stack_arn(stack_name),
        "StackName": stack_name,
        "Status": status,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "Changes": changes,
        "IncludeNestedStacks": True,
    }
    if reason:
        response["StatusReason"] = reason
    if next_token:
        response["NextToken"] = next_token
    return response


def event(stack_name: str, seconds: float, logical_id: str, resource_type: str, status: str,
          physical_id: str = "", reason: str = "", stack_id: str | None = None, event_id: str = "") -> dict:
    stack_id = stack_id or stack_arn(stack_name)
    result = {
        "StackId": stack_id,
        "EventId": event_id or f"{logical_id}-{status}-{seconds}",
        "StackName": stack_name,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "Timestamp": at(seconds),
        "ResourceStatus": status,
    }
    if reason:
        result["ResourceStatusReason"] = reason
    return result


def stack_event(stack_name: str, seconds: float, status: str, reason: str = "",
                stack_id: str | None = None) -> dict:
    """An event about the stack itself (PhysicalResourceId is the stack id)."""
    stack_id = stack_id or stack_arn(stack_name)
    return event(stack_name, seconds, stack_name, "AWS::CloudFormation::Stack", status,
                 physical_id=stack_id, reason=reason, stack_id=stack_id)


def events_page(events: list[dict]) -> dict:
    """DescribeStackEvents: newest first."""
    return {"StackEvents": sorted(events, key=lambda e: e["Timestamp"], reverse=True)}


def stack_resource(stack_name: str, logical_id: str, resource_type: str, physical_id: str,
                   status: str = "UPDATE_COMPLETE", stack_id: str | None = None) -> dict:
    """One resource as DescribeStackResources lists it."""
    return {
        "StackName": stack_name, "StackId": stack_id or stack_arn(stack_name),
        "LogicalResourceId": logical_id, "PhysicalResourceId": physical_id,
        "ResourceType": resource_type, "Timestamp": T0, "ResourceStatus": status,
    }


def stack_resource_detail(stack_name: str, logical_id: str, resource_type: str, physical_id: str,
                          status: str = "UPDATE_COMPLETE") -> dict:
    """DescribeStackResource."""
    detail = stack_resource(stack_name, logical_id, resource_type, physical_id, status)
    detail["LastUpdatedTimestamp"] = detail.pop("Timestamp")
    return {"StackResourceDetail": detail}
