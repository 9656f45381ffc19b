"""`threetier delete ENV`: say what survives, ask, delete the stack and follow its events."""

from __future__ import annotations

import argparse
import sys

from threetier import emit
from threetier.deploy import advice, changeset, companion, events, protection
from threetier.deploy.commands import common
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
    refused = _refused(stack, stack_name, args, args.region)
    if refused:
        return refused
    guarded = protection.guarded(stack, args.settings.protected)
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

    code = _delete_and_follow(cfn, stack, stack_name, "", args, color)
    return code if code != EXIT_OK else _companion_after(args, project, stack_name, clients.region, color)


def _refused(stack: dict, stack_name: str, args: argparse.Namespace, region: str | None) -> int | None:
    """EXIT_FAILURE (after saying why) while an operation runs on the stack, or when it is guarded
    (termination protection, a protected environment) without --disable-termination-protection."""
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        print(advice.next_step(status, stack_name, args.env, region), file=sys.stderr)
        return EXIT_FAILURE
    if protection.guarded(stack, args.settings.protected) and not args.disable_termination_protection:
        print(protection.refusal(stack, stack_name, args.env, args.settings, region), file=sys.stderr)
        return EXIT_FAILURE
    return None


def _delete_and_follow(cfn, stack: dict, stack_name: str, where: str, args: argparse.Namespace, color: bool) -> int:
    stack_id = stack["StackId"]
    if stack.get("EnableTerminationProtection"):
        protection.unprotect(cfn, stack_id, stack_name, sys.stdout)
    start = events.baseline(cfn, stack_id)
    cfn.delete_stack(**delete_request(stack_id, args.role_arn))
    print(f"Deleting stack {stack_name}{where}; following its events:")
    outcome = common.follow(cfn, stack_id, stack_name, start, args, color)
    return report_outcome(cfn, outcome, stack_name, args, ("DELETE_COMPLETE",), color)


def _companion_after(args: argparse.Namespace, project, main_stack: str, region: str, color: bool) -> int:
    """The us-east-1 companion stack of an environment elsewhere (threetier.deploy.companion), deleted after
    the main stack, whose distribution used its certificate and web ACL; guarded as the main stack is.
    Nothing in us-east-1, without the template, or when there is no companion."""
    if region == companion.REGION or not (project / "output" / companion.TEMPLATE).is_file():
        return EXIT_OK
    name = companion.stack_name(main_stack)
    cfn = common.clients_for(args, companion.REGION).cloudformation
    stack = changeset.describe_stack(cfn, name)
    if stack is None:
        return EXIT_OK
    refused = _refused(stack, name, args, companion.REGION)
    if refused:
        return refused
    print(console.paint(f"Deleting stack {name} ({stack['StackStatus']}) in {companion.REGION}, the companion "
                        "with CloudFront's certificate and web ACL, deletes both.", "red", color))
    if not common.confirmed(f"Delete stack {name} ({companion.REGION})?", args, verb="delete",
                            refused_tail=" to delete the stack.", declined="the companion stack was not deleted"):
        return EXIT_FAILURE
    return _delete_and_follow(cfn, stack, name, f" ({companion.REGION})", args, color)



def delete_request(stack_id: str, role_arn: str | None) -> dict:
    """DeleteStack's arguments. With a role, CloudFormation deletes as that role, and the caller policy
    (threetier.blocks.callerpolicy) allows DeleteStack only with the deployer role named; without one it
    uses the role of the stack's last operation
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html, RoleARN)."""
    return {"StackName": stack_id, **({"RoleARN": role_arn} if role_arn else {})}
