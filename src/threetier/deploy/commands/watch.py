"""`threetier watch ENV`: re-attach to the operation running on the stack, or say that nothing runs.

After Ctrl-C, a lost terminal, a CI job cancelled or a follow that had to stop (exit 4), the
operation goes on in AWS; this shows it again from its start, root and nested stacks, in the
view `deploy` prints, and ends as `deploy` (or `delete`) would have.
"""

from __future__ import annotations

import argparse
import sys

from threetier import emit
from threetier.deploy import advice, changeset, events
from threetier.deploy.commands import common
from threetier.deploy.commands.outcome import report as report_outcome
from threetier.deploy.errors import EXIT_OK
from threetier.deploy.patience import Patience
from threetier.review import console

# The ends that mean the operation did what it was started for. An update rolled back is a
# failure, as in `deploy`, unless the operation was itself a rollback (continue-rollback).
DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE")
ROLLBACK_STARTS = ("UPDATE_ROLLBACK_IN_PROGRESS",)


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stack_name = common.stack_name(args, project)
    clients = common.connect(args)
    cfn = clients.cloudformation
    # The first calls bear throttling as the following does: re-attaching is what one does when AWS is busy.
    patience = Patience(common.EVENT_POLL_SECONDS, sys.stderr, common.sleep)
    stack = patience.call(lambda: changeset.describe_stack(cfn, stack_name))
    if stack is None:
        print(f"Nothing is running: stack {stack_name} does not exist in {clients.region}.")
        return EXIT_OK
    status = stack["StackStatus"]
    if not events.is_running(status):
        return _nothing_running(stack, stack_name, args)

    stack_id = stack["StackId"]
    running = patience.call(lambda: events.running_operation(cfn, stack_id))
    print(f"Stack {stack_name} is {status}{_since(running.began)}; following the operation from its start "
          "(Ctrl-C stops watching, not the operation):")
    color = console.wants_color(sys.stdout)
    outcome = common.follow(cfn, stack_id, stack_name, running.baseline, args, color)
    began = (running.began or {}).get("ResourceStatus", "")
    success = DONE + (("UPDATE_ROLLBACK_COMPLETE",) if began in ROLLBACK_STARTS else ())
    return report_outcome(cfn, outcome, stack_name, args, success, color)


def _since(began: dict | None) -> str:
    if not began:
        return ""
    reason = f", {began['ResourceStatusReason']}" if began.get("ResourceStatusReason") else ""
    return f" (since {began['Timestamp']:%Y-%m-%d %H:%M:%S %Z}: {began['ResourceStatus']}{reason})".replace(" )", ")")


def _nothing_running(stack: dict, stack_name: str, args: argparse.Namespace) -> int:
    """Exit 0 after the stack's last status, its reason and when, and what to do if it is stuck."""
    status = stack["StackStatus"]
    changed = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    when = f" since {changed:%Y-%m-%d %H:%M:%S %Z}".rstrip() if changed else ""
    print(f"Nothing is running on stack {stack_name}: its last status is {status}{when}.")
    if stack.get("StackStatusReason"):
        print(f"Reason:  {stack['StackStatusReason']}")
    stuck = advice.next_step(status, stack_name, args.env, args.region)
    if stuck:
        print(stuck)
    return EXIT_OK
