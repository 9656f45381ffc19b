"""`threetier continue-rollback ENV [--skip NAME ...]`: finish a rollback that failed, and follow it.

A stack in UPDATE_ROLLBACK_FAILED can be neither updated nor deployed until its rollback is
continued (ContinueUpdateRollback) to UPDATE_ROLLBACK_COMPLETE. This lists what failed to roll
back, root and nested stacks, under the names ResourcesToSkip takes (threetier.deploy.rollbackskips),
then continues, as the environment's role (--role-arn or role_arn) like the other commands, skipping
what --skip names.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-continueupdaterollback.html
"""

from __future__ import annotations

import argparse
import sys

from threetier.deploy import events, rollbackskips
from threetier.deploy.commands import common
from threetier.deploy.commands.outcome import report as report_outcome
from threetier.deploy.errors import EXIT_FAILURE
from threetier.review import console

CONTINUABLE = "UPDATE_ROLLBACK_FAILED"
CONTINUE_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ContinueUpdateRollback.html"
ROLLED_BACK = ("UPDATE_ROLLBACK_COMPLETE",)


def run(args: argparse.Namespace) -> int:
    stack_name, clients, stack = common.root_stack(args)
    cfn = clients.cloudformation
    if stack is None:
        print(f"threetier continue-rollback: stack {stack_name} does not exist in {clients.region}.", file=sys.stderr)
        return EXIT_FAILURE
    status = stack["StackStatus"]
    if status != CONTINUABLE:
        following = f" Follow it with `threetier watch {args.env}`." if events.is_running(status) else ""
        print(f"threetier continue-rollback: stack {stack_name} is {status}: only a stack in {CONTINUABLE} "
              f"can continue its rollback ({CONTINUE_PAGE}).{following}", file=sys.stderr)
        return EXIT_FAILURE

    stack_id = stack["StackId"]
    unrolled = rollbackskips.failed_to_roll_back(cfn, stack_id, stack_name)
    _list(unrolled)
    skips = list(dict.fromkeys(args.skip or []))
    problems = rollbackskips.unknown_skips(skips, unrolled)
    if problems:
        print("threetier continue-rollback: " + "; ".join(problems) + ". Nothing was changed; --skip takes the "
              "names listed above.", file=sys.stderr)
        return EXIT_FAILURE
    if skips:
        # "CloudFormation sets the status of the specified resources to UPDATE_COMPLETE and continues to roll
        # back the stack. After the rollback is complete, the state of the skipped resources will be
        # inconsistent with the state of the resources in the stack template." (API reference above)
        print(f"Skipping {', '.join(skips)}: CloudFormation marks them rolled back without changing them, so "
              "they may then differ from the template. Check them by hand before the next deploy.")

    color = console.wants_color(sys.stdout)
    if not common.confirmed(f"Continue the rollback of stack {stack_name} ({clients.region})?", args,
                            verb="continue the rollback", refused_tail=".", declined="nothing was changed"):
        return EXIT_FAILURE

    start = events.baseline(cfn, stack_id)
    cfn.continue_update_rollback(**continue_request(stack_id, args.role_arn, skips))
    print(f"Continuing the rollback of stack {stack_name}; following its events (Ctrl-C stops watching, "
          "not the rollback):")
    outcome = common.follow(cfn, stack_id, stack_name, start, args, color)
    return report_outcome(cfn, outcome, stack_name, args, ROLLED_BACK, color)


def continue_request(stack_id: str, role_arn: str | None, skips: list[str]) -> dict:
    """ContinueUpdateRollback's arguments. With a role, CloudFormation rolls back as that role (the caller
    policy allows the call only with the deployer role named); without one, the stack's last role."""
    return {"StackName": stack_id, **({"RoleARN": role_arn} if role_arn else {}),
            **({"ResourcesToSkip": skips} if skips else {})}


def _list(unrolled: list[rollbackskips.Unrolled]) -> None:
    if not unrolled:
        print("No resource is in UPDATE_FAILED: continuing retries the rollback as it is (e.g. after a timeout, "
              "or once you fixed what blocked it).")
        return
    print("Resources that failed to roll back (fix what blocks them, or skip them with --skip NAME):")
    width = max(len(u.skip_name) for u in unrolled)
    type_width = max(len(u.resource_type) for u in unrolled)
    for u in unrolled:
        note = (" (a nested stack: skip the resources in it that failed, unless it is being deleted)"
                if u.is_nested_stack else "")
        print(f"  {u.skip_name.ljust(width)}  {u.resource_type.ljust(type_width)}  {u.path}: {u.reason}{note}")
