"""`threetier delete ENV`: say what survives, ask, delete the stack and follow its events."""

from __future__ import annotations

import argparse
import sys

from threetier import emit
from threetier.deploy import advice, changeset, companion, events, protection
from threetier.deploy.commands import common, companion as companion_command
from threetier.deploy.commands.outcome import report as report_outcome
from threetier.deploy.errors import EXIT_FAILURE, EXIT_OK
from threetier.review import console


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stack_name = common.stack_name(args, project)
    kept = advice.retained_resources(project / "output")
    clients = common.connect(args)
    cfn = clients.cloudformation
    stack = changeset.describe_stack(cfn, stack_name)
    color = console.wants_color(sys.stdout)
    if stack is None:
        print(f"Stack {stack_name} does not exist in {clients.region}: nothing to delete. "
              f"`threetier leftovers {args.env}` lists what an earlier one retained.")
        return _companion_after(args, project, stack_name, clients.region, color)
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        print(advice.next_step(status, stack_name, args.env, args.region), file=sys.stderr)
        return EXIT_FAILURE

    guarded = protection.guarded(stack, args.settings.protected)
    if guarded and not args.disable_termination_protection:
        print(protection.refusal(stack, stack_name, args.env, args.settings, args.region), file=sys.stderr)
        return EXIT_FAILURE
    print(console.paint(f"Deleting stack {stack_name} ({status}) in {clients.region} deletes every "
                        "resource in it and in its nested stacks.", "red", color))
    if kept:
        print("These resources survive the delete because of their DeletionPolicy "
              "(once the stack is gone, `threetier leftovers ENV` lists them and deletes them when asked):")
        for resource in kept:
            only_if = f", if condition {resource.condition} held" if resource.condition else ""
            print(f"  - {resource.logical_id} ({resource.resource_type}) in {resource.file_name}: "
                  f"DeletionPolicy {resource.policy}{only_if}")
    question = f"Delete stack {stack_name}?"
    if guarded:
        question = (f"Stack {stack_name} is a protected environment: turn its termination protection off "
                    "and delete it?")
    if not common.confirmed(question, args, verb="delete", refused_tail=" to delete the stack.",
                            declined="nothing was deleted"):
        return EXIT_FAILURE

    stack_id = stack["StackId"]
    if stack.get("EnableTerminationProtection"):
        protection.unprotect(cfn, stack_id, stack_name, sys.stdout)
    start = events.baseline(cfn, stack_id)
    cfn.delete_stack(**delete_request(stack_id, args.role_arn))
    print(f"Deleting stack {stack_name}; following its events:")
    outcome = common.follow(cfn, stack_id, stack_name, start, args, color)
    code = report_outcome(cfn, outcome, stack_name, args, ("DELETE_COMPLETE",), color)
    return code if code != EXIT_OK else _companion_after(args, project, stack_name, clients.region, color)


def _companion_after(args: argparse.Namespace, project, stack_name: str, region: str, color: bool) -> int:
    """The us-east-1 companion stack of an environment elsewhere, deleted after the main stack (whose
    distribution used its certificate and web ACL); nothing in us-east-1 or without the template."""
    if region == companion.REGION or not (project / "output" / companion.TEMPLATE).is_file():
        return EXIT_OK
    return companion_command.delete(args, stack_name, color)



def delete_request(stack_id: str, role_arn: str | None) -> dict:
    """DeleteStack's arguments. With a role, CloudFormation deletes as that role, and the caller policy
    (threetier.blocks.callerpolicy) allows DeleteStack only with the deployer role named; without one it
    uses the role of the stack's last operation
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html, RoleARN)."""
    return {"StackName": stack_id, **({"RoleARN": role_arn} if role_arn else {})}
