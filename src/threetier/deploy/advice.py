"""What to do next when a stack is stuck or an operation failed, and what a delete keeps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threetier.deploy.package import parse_template

# Statuses from which no change set can be executed until someone acts.
STUCK = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED",
         "CREATE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_FAILED")
KEPT_BY_POLICY = ("Retain", "Snapshot", "RetainExceptOnCreate")


def next_step(status: str, stack_name: str, env: str, region: str | None) -> str | None:
    """Advice for a stack in `status`, or None when it can be planned and deployed as is."""
    at = f" --region {region}" if region else ""
    if status == "ROLLBACK_COMPLETE":
        return (
            f"Stack {stack_name} is in ROLLBACK_COMPLETE: its creation failed and was rolled back, and "
            "such a stack cannot be updated. It must be deleted before retrying:\n"
            f"  threetier delete {env}{at}\n"
            f"  (or: aws cloudformation delete-stack --stack-name {stack_name}{at})\n"
            f"then fix the cause and run `threetier deploy {env}` again."
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        # ResourcesToSkip names a nested stack's resource NestedStackLogicalId.ResourceLogicalId, and the
        # call goes to the root, never to a nested stack:
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ContinueUpdateRollback.html
        return (
            f"Stack {stack_name} is in UPDATE_ROLLBACK_FAILED: the rollback of a failed update could not "
            "finish. Fix what blocks it (see the failed events), then continue the rollback:\n"
            f"  threetier continue-rollback {env}{at}\n"
            "  (it lists the resources that failed to roll back; add --skip NAME for those that cannot be,\n"
            "  a resource in a nested stack as NestedStackLogicalId.ResourceLogicalId, e.g. AppStack.Asg)\n"
            f"  (or: aws cloudformation continue-update-rollback --stack-name {stack_name}{at} "
            "--resources-to-skip NestedStackLogicalId.ResourceLogicalId ...)\n"
            f"and once it is UPDATE_ROLLBACK_COMPLETE, run `threetier deploy {env}` again."
        )
    if status == "ROLLBACK_FAILED":
        return (
            f"Stack {stack_name} is in ROLLBACK_FAILED: its creation failed and so did the cleanup. "
            f"Delete it (threetier delete {env}{at}); if that fails too, delete the blocking resources "
            "by hand or keep them with `aws cloudformation delete-stack --retain-resources ...`."
        )
    if status == "DELETE_FAILED":
        return (
            f"Stack {stack_name} is in DELETE_FAILED: some resources could not be deleted (e.g. a database "
            "with deletion protection on, or a bucket that is not empty). Fix that, then run "
            f"`threetier delete {env}{at}` again, or keep them with "
            f"`aws cloudformation delete-stack --stack-name {stack_name} --retain-resources ...{at}`."
        )
    if status in ("CREATE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_FAILED"):
        return (
            f"Stack {stack_name} is in {status}. Look at its failed events in the CloudFormation console; "
            f"delete it (threetier delete {env}{at}) or roll it back before deploying again."
        )
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        return (
            f"Stack {stack_name} is busy ({status}). Follow it to its end with `threetier watch {env}{at}`, "
            "then try again."
        )
    return None


def after_failure(status: str, stack_name: str, env: str, region: str | None) -> str:
    """What to do after a deploy ended in `status` (anything but CREATE/UPDATE_COMPLETE)."""
    if status == "UPDATE_ROLLBACK_COMPLETE":
        return (
            f"The update was rolled back: stack {stack_name} is back as it was. "
            f"Fix the cause above and run `threetier deploy {env}` again."
        )
    if status == "DELETE_COMPLETE":
        # A first create with OnStackFailure DELETE (threetier.deploy.onfailure, the default) ends here.
        return (
            f"The first create failed and stack {stack_name} was rolled back and deleted (--on-failure delete). "
            f"Fix the cause above and run `threetier deploy {env}` again."
        )
    return next_step(status, stack_name, env, region) or (
        f"Stack {stack_name} ended in {status}; see `threetier status {env}`."
    )


@dataclass(frozen=True)
class Retained:
    file_name: str
    logical_id: str
    resource_type: str
    policy: str
    condition: str = ""  # the resource exists only when this condition holds


def retained_resources(output_dir: Path) -> list[Retained]:
    """Resources in output/*.yaml whose DeletionPolicy keeps them (or a snapshot) after a stack delete."""
    kept = []
    for path in sorted(output_dir.glob("*.yaml")):
        template = parse_template(path.read_text(encoding="utf-8"), path)
        for logical_id, resource in (template.get("Resources") or {}).items():
            if not isinstance(resource, dict):
                continue
            policy = resource.get("DeletionPolicy")
            if policy in KEPT_BY_POLICY:
                kept.append(Retained(path.name, logical_id, resource.get("Type", ""), policy,
                                     resource.get("Condition") or ""))
    return kept
