"""The resources that failed to roll back, named the way ContinueUpdateRollback's ResourcesToSkip takes them.

From the ContinueUpdateRollback API reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ContinueUpdateRollback.html):
- "You can specify only resources that are in the UPDATE_FAILED state because a rollback failed."
- "To skip resources that are part of nested stacks, use the following format:
  NestedStackName.ResourceLogicalID", where NestedStackName is the nested stack's logical id in
  its parent, not its stack name ("Don't confuse a child stack's name with its corresponding
  logical ID defined in the parent stack").
- "If you want to specify the logical ID of a stack resource (Type: AWS::CloudFormation::Stack) in
  the ResourcesToSkip list, then its corresponding embedded stack must be in one of the following
  states: DELETE_IN_PROGRESS, DELETE_COMPLETE, or DELETE_FAILED." A nested stack that failed to roll
  back is otherwise continued through the resources in it.
- StackName: "Don't specify the name of a nested stack ... use this operation on the parent stack":
  the root is rolled back, and the names below are relative to it.
The project nests one level (root -> NetworkStack, AppStack, ...); a deeper resource is named by
its nested stacks' logical ids joined the same way (A.B.Resource).
"""

from __future__ import annotations

from dataclasses import dataclass

from threetier.deploy.events import STACK_TYPE

FAILED = "UPDATE_FAILED"


@dataclass(frozen=True)
class Unrolled:
    """A resource in UPDATE_FAILED after a failed rollback."""

    skip_name: str  # what ResourcesToSkip takes: LogicalId, or NestedStackLogicalId.LogicalId
    path: str  # stack path as the events show it: project-x-dev/AppStack/Asg
    resource_type: str
    reason: str

    @property
    def is_nested_stack(self) -> bool:
        return self.resource_type == STACK_TYPE


def failed_to_roll_back(cfn, stack_id: str, stack_name: str) -> list[Unrolled]:
    """Every resource in UPDATE_FAILED in the stack and its nested stacks, root first."""
    found: list[Unrolled] = []
    queue = [(stack_id, stack_name, "")]  # stack, its path, the prefix of its resources' skip names
    while queue:
        current, path, prefix = queue.pop(0)
        for resource in _resources(cfn, current):
            logical_id = resource["LogicalResourceId"]
            physical_id = resource.get("PhysicalResourceId") or ""
            if resource.get("ResourceStatus") == FAILED:
                found.append(Unrolled(f"{prefix}{logical_id}", f"{path}/{logical_id}", resource.get("ResourceType", ""),
                                      resource.get("ResourceStatusReason") or "no reason given"))
            if resource.get("ResourceType") == STACK_TYPE and physical_id.startswith("arn:"):
                queue.append((physical_id, f"{path}/{logical_id}", f"{prefix}{logical_id}."))
    return found


def _resources(cfn, stack_id: str) -> list[dict]:
    """ListStackResources, every page (DescribeStackResources stops at 100)."""
    resources, next_token = [], None
    while True:
        page = cfn.list_stack_resources(StackName=stack_id, **({"NextToken": next_token} if next_token else {}))
        resources += page.get("StackResourceSummaries", [])
        next_token = page.get("NextToken")
        if not next_token:
            return resources


def unknown_skips(skips: list[str], unrolled: list[Unrolled]) -> list[str]:
    """One line per --skip that names no resource that failed to roll back, with the name it may mean."""
    names = {u.skip_name for u in unrolled}
    problems = []
    for skip in skips:
        if skip in names:
            continue
        meant = [u.skip_name for u in unrolled if u.skip_name.rsplit(".", 1)[-1] == skip]
        hint = f" (in a nested stack it is named {' or '.join(meant)})" if meant else ""
        problems.append(f"{skip}: not a resource that failed to roll back{hint}")
    return problems
