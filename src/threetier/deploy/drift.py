"""`threetier drift ENV`: drift detection on the root and every nested stack.

DetectStackDrift on a stack does not look into its nested stacks; each must be asked itself
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DetectStackDrift.html).
So the nested stacks are found first (ListStackResources, recursively), detection is started
on all of them at once, DescribeStackDriftDetectionStatus is polled until each is done, and
DescribeStackResourceDrifts lists the MODIFIED and DELETED resources with their property
differences (expected -> actual). Only properties the template sets are compared
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, TextIO

from threetier.deploy.events import STACK_TYPE, format_elapsed

IN_PROGRESS = "DETECTION_IN_PROGRESS"
FAILED = "DETECTION_FAILED"
DRIFTED_STATUSES = ["MODIFIED", "DELETED"]


class DriftTimeout(Exception):
    def __init__(self, pending: list[str], waited: float):
        super().__init__(", ".join(pending))
        self.pending = pending
        self.waited = waited


@dataclass(frozen=True)
class StackDrift:
    path: str
    stack_id: str
    detection_status: str  # DETECTION_COMPLETE or DETECTION_FAILED
    drift_status: str  # DRIFTED, IN_SYNC, UNKNOWN, NOT_CHECKED
    reason: str = ""


@dataclass(frozen=True)
class ResourceDrift:
    stack_path: str
    logical_id: str
    resource_type: str
    physical_id: str
    status: str  # MODIFIED or DELETED
    differences: tuple[dict, ...]  # PropertyDifferences as the API gives them


def stack_tree(cfn, stack_id: str, path: str) -> dict[str, str]:
    """{stack id: path} of the stack and every nested stack under it, root first."""
    found = {stack_id: path}
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
    for page in pages:
        for resource in page.get("StackResourceSummaries", []):
            nested_id = resource.get("PhysicalResourceId") or ""
            if (resource.get("ResourceType") == STACK_TYPE and nested_id.startswith("arn:")
                    and not resource.get("ResourceStatus", "").startswith("DELETE_")):
                found.update(stack_tree(cfn, nested_id, f"{path}/{resource['LogicalResourceId']}"))
    return found


def detect(cfn, stacks: dict[str, str], progress: TextIO, *, sleep: Callable[[float], None],
           clock: Callable[[], float], poll_seconds: float, limit_seconds: float) -> list[StackDrift]:
    """Start detection on every stack, then wait for all of them, printing progress."""
    started = clock()
    detections = {stack_id: cfn.detect_stack_drift(StackName=stack_id)["StackDriftDetectionId"]
                  for stack_id in stacks}
    done: dict[str, StackDrift] = {}
    while True:
        for stack_id, detection_id in detections.items():
            if stack_id in done:
                continue
            status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
            if status["DetectionStatus"] != IN_PROGRESS:
                done[stack_id] = StackDrift(stacks[stack_id], stack_id, status["DetectionStatus"],
                                            status.get("StackDriftStatus", ""),
                                            status.get("DetectionStatusReason") or "")
        waited = clock() - started
        print(f"{format_elapsed(waited):>7}  {len(done)}/{len(stacks)} stacks checked", file=progress)
        if len(done) == len(stacks):
            return [done[stack_id] for stack_id in stacks]
        if waited + poll_seconds > limit_seconds:
            raise DriftTimeout([stacks[s] for s in stacks if s not in done], waited)
        sleep(poll_seconds)


def drifted_resources(cfn, stack: StackDrift) -> list[ResourceDrift]:
    """The stack's MODIFIED and DELETED resources (botocore has no paginator for this call)."""
    found = []
    request = {"StackName": stack.stack_id, "StackResourceDriftStatusFilters": DRIFTED_STATUSES}
    while True:
        page = cfn.describe_stack_resource_drifts(**request)
        found += [ResourceDrift(stack.path, drift["LogicalResourceId"], drift["ResourceType"],
                                drift.get("PhysicalResourceId", ""), drift["StackResourceDriftStatus"],
                                tuple(drift.get("PropertyDifferences") or ()))
                  for drift in page.get("StackResourceDrifts", [])]
        if not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


def render_text(stack_name: str, region: str, stacks: list[StackDrift], resources: list[ResourceDrift],
                env: str) -> str:
    lines = [f"Drift of stack {stack_name} ({region}): {len(resources)} drifted resource(s) "
             f"in {len(stacks)} stack(s)"]
    for stack in stacks:
        if stack.detection_status == FAILED:
            lines.append(f"  {stack.path}: detection failed: {stack.reason or 'no reason given'}")
    for path in dict.fromkeys(resource.stack_path for resource in resources):
        lines += ["", path]
        for resource in (res for res in resources if res.stack_path == path):
            lines.append(f"  {resource.status:<9} {resource.logical_id} ({resource.resource_type}) "
                         f"{resource.physical_id}".rstrip())
            lines += [f"    {d['PropertyPath']}: {d.get('ExpectedValue', '')} -> {d.get('ActualValue', '')}"
                      f"  ({d['DifferenceType']})" for d in resource.differences]
    if resources:
        lines += ["", f"To restore what the templates say, deploy again (`threetier deploy {env}`); to keep a "
                      "change, make it in the code (templates/ or parameters/ENV.json), generate and deploy."]
    elif all(stack.drift_status == "IN_SYNC" for stack in stacks):
        lines.append("Every stack is IN_SYNC with its template.")
    return "\n".join(lines) + "\n"


def render_json(stack_name: str, stacks: list[StackDrift], resources: list[ResourceDrift]) -> str:
    return json.dumps({
        "stack": stack_name,
        "drifted": bool(resources),
        "stacks": [{"path": s.path, "stack_id": s.stack_id, "detection_status": s.detection_status,
                    "drift_status": s.drift_status, "reason": s.reason or None} for s in stacks],
        "resources": [{
            "stack_path": res.stack_path, "logical_id": res.logical_id, "resource_type": res.resource_type,
            "physical_id": res.physical_id, "status": res.status,
            "differences": [{"path": d["PropertyPath"], "expected": d.get("ExpectedValue"),
                             "actual": d.get("ActualValue"), "type": d["DifferenceType"]}
                            for d in res.differences],
        } for res in resources],
    }, indent=2) + "\n"
