"""`threetier cancel ENV`: cancel the update in progress and follow its rollback.

CancelUpdateStack "cancels an update on the specified stack ... the stack rolls back the update
and reverts to the previous stack configuration. You can cancel only stacks that are in the
UPDATE_IN_PROGRESS state." Called on the root, it cancels the nested stacks' updates with it.
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import ClientError

from threetier.deploy import changeset, events
from threetier.deploy.commands import common
from threetier.deploy.commands.outcome import report as report_outcome
from threetier.deploy.errors import EXIT_FAILURE, aws_said
from threetier.review import console

CANCELLABLE = "UPDATE_IN_PROGRESS"
CANCEL_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html"
ROLLED_BACK = ("UPDATE_ROLLBACK_COMPLETE",)


def run(args: argparse.Namespace) -> int:
    stack_name, clients, stack = common.root_stack(args)
    cfn = clients.cloudformation
    if stack is None:
        print(f"threetier cancel: stack {stack_name} does not exist in {clients.region}: nothing to cancel.",
              file=sys.stderr)
        return EXIT_FAILURE
    status = stack["StackStatus"]
    if status != CANCELLABLE:
        print(f"threetier cancel: stack {stack_name} is {status}: only an update in progress ({CANCELLABLE}) "
              f"can be cancelled ({CANCEL_PAGE}). {_instead(status, args.env)}", file=sys.stderr)
        return EXIT_FAILURE

    color = console.wants_color(sys.stdout)
    if not common.confirmed(f"Cancel the update of stack {stack_name} ({clients.region})? CloudFormation rolls "
                            "it back to its previous configuration.", args, verb="cancel",
                            refused_tail=" to cancel the update.", declined="the update goes on"):
        return EXIT_FAILURE

    stack_id = stack["StackId"]
    start = events.baseline(cfn, stack_id)
    try:
        cfn.cancel_update_stack(StackName=stack_id)
    except ClientError as error:
        # The update may have ended between DescribeStacks and now.
        now = changeset.describe_stack(cfn, stack_id)
        print(f"threetier cancel: AWS refused to cancel the update: {aws_said(error).removeprefix('AWS said ')}. "
              f"Stack {stack_name} is now {now['StackStatus'] if now else 'gone'}; "
              f"`threetier watch {args.env}` follows what runs on it.", file=sys.stderr)
        return EXIT_FAILURE
    print(f"Cancelled the update of stack {stack_name}; following its rollback (Ctrl-C stops watching, "
          "not the rollback):")
    outcome = common.follow(cfn, stack_id, stack_name, start, args, color)
    return report_outcome(cfn, outcome, stack_name, args, ROLLED_BACK, color)


def _instead(status: str, env: str) -> str:
    """What can be done about a stack in `status` instead of cancelling."""
    if status == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS":
        return ("The update is done; CloudFormation is removing the old resources. To undo it, deploy the "
                "previous version.")
    if status in ("UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS",
                  "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"):
        return f"It is already rolling back: follow it with `threetier watch {env}`."
    if status == "CREATE_IN_PROGRESS":
        return (f"A create cannot be cancelled: follow it with `threetier watch {env}`; once it settles, "
                f"`threetier delete {env}` removes it.")
    if events.is_running(status):
        return f"Follow it with `threetier watch {env}`."
    return f"Nothing is running on it (`threetier status {env}` shows it)."
