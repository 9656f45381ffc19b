"""`threetier deploy ENV`: plan, ask, execute the change set and follow the stack's events."""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import ClientError

from threetier.deploy import aftermath, changeset, events, onfailure, protection
from threetier.deploy.commands import common, plan
from threetier.deploy.commands.outcome import report as report_outcome
from threetier.deploy.errors import EXIT_DANGER, EXIT_FAILURE, EXIT_OK, aws_said
from threetier.insight import timeline
from threetier.review import console, danger, table as review

SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def run(args: argparse.Namespace) -> int:
    planned = plan.make_change_set(args, executes=True)
    if isinstance(planned, int):
        return planned
    rev = planned.review
    cfn = planned.clients.cloudformation
    if rev.no_changes:
        return plan.no_changes(planned, args)
    if rev.failed:
        return plan.change_set_failed(planned)
    color = console.wants_color(sys.stdout)
    sys.stdout.write(review.render_text(rev, planned.dangers, planned.allowed, color, planned.notes()))

    blockers = danger.blocking(planned.dangers, planned.allowed)
    if blockers:
        options = " ".join(sorted({d.allow_option for d in blockers}))
        print(console.paint(f"Refusing to deploy: the change set has dangerous changes. Review them and "
                            f"pass {options} to deploy anyway.", "red", color))
        return EXIT_DANGER

    if not common.confirmed(f"Execute this change set on stack {rev.stack_name} ({planned.clients.region})?",
                            args, verb="deploy", refused_tail=" to execute the change set.",
                            declined="nothing was executed"):
        return EXIT_FAILURE

    refused = _not_executable(cfn, rev, args)
    if refused:
        return refused
    start = events.baseline(cfn, rev.stack_id)
    refused = _execute(cfn, rev, args)
    if refused:
        return refused
    if args.settings.protected:
        protection.protect(cfn, rev.stack_id, rev.stack_name, planned.stack, args.region, sys.stdout)
    expected = f" (expected: {timeline.about(planned.expected_seconds)})" if planned.expected_seconds else ""
    print(f"Executing change set on stack {rev.stack_name}; following its events{expected} (Ctrl-C stops "
          "watching, not the deploy):")
    outcome = common.follow(cfn, rev.stack_id, rev.stack_name, start, args, color, total=len(rev.changes))
    code = report_outcome(cfn, outcome, rev.stack_name, args, SUCCESS, color)
    cleanup_note = _after_failure(rev.change_set_type, args)
    if code != EXIT_OK and not outcome.detached and not outcome.timed_out and cleanup_note:
        print(cleanup_note)
    if code == EXIT_OK and planned.cloudfront:
        print(console.paint(planned.cloudfront.finished(args.env), "yellow", color))
    return code


def _after_failure(change_set_type: str, args: argparse.Namespace) -> str:
    """How to clean up after a failed operation: rollback disabled, or a first create's retained resources."""
    kept_everything = getattr(args, "disable_rollback", False) or (
        change_set_type == "CREATE" and getattr(args, "on_failure", None) == "do-nothing")
    if kept_everything:
        return onfailure.cleanup_advice(args.env, change_set_type)
    if change_set_type == "CREATE" and onfailure.deletes_created(args, change_set_type):
        return ("The rollback deletes what the create made, DeletionPolicy Retain included (RetainExceptOnCreate). "
                f"What AWS made on the way (log groups services create, a final database snapshot) may remain: "
                f"`threetier leftovers {args.env}` lists it once the stack is gone.")
    if change_set_type == "CREATE":
        return (f"Resources with DeletionPolicy Retain outlive a failed create (--no-retain-except-on-create): "
                f"`threetier leftovers {args.env}` lists them once the stack is gone.")
    if onfailure.deletes_created(args, change_set_type):
        return ("The rollback deletes what the update created, DeletionPolicy Retain included "
                "(--retain-except-on-create).")
    return ""


def _not_executable(cfn, rev: changeset.Review, args: argparse.Namespace) -> int | None:
    """EXIT_FAILURE (after saying why) unless CloudFormation can execute the change set now: the stack
    may have changed while the review was read."""
    execution, reason = changeset.execution_status(cfn, rev.change_set_id)
    if execution == changeset.EXECUTABLE:
        return None
    print(f"threetier {args.command}: the change set cannot be executed: its ExecutionStatus is "
          f"{execution or 'unknown'}, not {changeset.EXECUTABLE}{': ' + reason if reason else ''}. "
          f"Nothing was executed; run `threetier {args.command} {args.env}` again for a fresh change set.",
          file=sys.stderr)
    return _stopped_before_executing(cfn, rev, args)


def _execute(cfn, rev: changeset.Review, args: argparse.Namespace) -> int | None:
    """Execute the change set; EXIT_FAILURE (after saying why) when AWS refuses."""
    try:
        cfn.execute_change_set(ChangeSetName=rev.change_set_id,
                               **onfailure.execute_options(args, rev.change_set_type))
    except ClientError as error:
        print(f"threetier {args.command}: AWS refused to execute the change set: "
              f"{aws_said(error).removeprefix('AWS said ')}. Nothing was executed.", file=sys.stderr)
        return _stopped_before_executing(cfn, rev, args)
    args.pending.settle(rev.change_set_id)
    return None


def _stopped_before_executing(cfn, rev: changeset.Review, args: argparse.Namespace) -> int:
    args.pending.discard(rev.change_set_id)
    aftermath.print_stack_states(cfn, {rev.stack_id: rev.stack_name}, args.env, args.region, sys.stderr)
    return EXIT_FAILURE

