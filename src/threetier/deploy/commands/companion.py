"""The us-east-1 companion stack in plan and deploy (threetier.deploy.companion): its change set
first, reviewed like the main stack's; deploy executes it and hands its outputs to the main stack.

`hand_over` is what plan.make_change_set calls; delete removes the companion after the main stack.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from threetier import emit
from threetier.deploy import advice, changeset, cleanup, companion, events, onfailure, protection, rollback
from threetier.deploy.commands import common
from threetier.deploy.commands.outcome import report as report_outcome
from threetier.deploy.errors import EXIT_DANGER, EXIT_FAILURE, EXIT_OK
from threetier.deploy.inputs import StackInputs
from threetier.review import console, danger, table as review

SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def hand_over(args: argparse.Namespace, template: dict, inputs: StackInputs, region: str,
              executes: bool) -> StackInputs | int:
    """`inputs` with the companion's outputs when the environment needs one (else as they are), after
    its change set was reviewed (plan, release) or executed (`executes`: deploy); an int is an exit code
    (a plan stops there while the companion has no outputs yet: the main stack's change set needs them)."""
    need = companion.need(template, inputs.parameters, region, inputs.stack_name)
    if need is None:
        return inputs
    cfn = common.clients_for(args, companion.REGION).cloudformation
    stack = changeset.describe_stack(cfn, need.stack_name)
    code = _change(args, cfn, need, stack, executes)
    if code is not None:
        return code
    if executes:
        stack = changeset.describe_stack(cfn, need.stack_name)
    values = companion.handed_over(need, stack)
    if values is None and executes:
        print(f"threetier {args.command}: stack {need.stack_name} ({companion.REGION}) has no "
              f"{' or '.join(need.fills)} output: nothing was sent to the main stack; check its outputs with "
              f"`aws cloudformation describe-stacks --stack-name {need.stack_name} --region {companion.REGION}`",
              file=sys.stderr)
        return EXIT_FAILURE
    if values is None:
        print(f"The main stack's change set needs {' and '.join(need.fills)} from stack {need.stack_name} "
              f"({companion.REGION}), which does not have them yet: `threetier deploy {args.env}` creates the "
              "companion first, then plans the main stack.", file=sys.stderr)
        return EXIT_OK
    for name, value in values.items():
        print(f"{name}: {value}, from stack {need.stack_name} ({companion.REGION})", file=sys.stderr)
    return dataclasses.replace(inputs, parameters={**inputs.parameters, **values})


def _change(args: argparse.Namespace, cfn, need: companion.Need, stack: dict | None, executes: bool) -> int | None:
    """Review (and, for deploy, execute) the companion's change set; None to go on with the main stack."""
    if stack is not None:
        stuck = advice.next_step(stack["StackStatus"], need.stack_name, args.env, companion.REGION)
        if stuck:
            print(f"threetier {args.command}: {stuck}", file=sys.stderr)
            return EXIT_FAILURE
    rev = _review(args, cfn, need, stack)
    if rev.no_changes:
        if rev.change_set_id:
            args.pending.discard(rev.change_set_id)
        print(f"Stack {need.stack_name} ({companion.REGION}): no changes.", file=sys.stderr)
        return None
    if rev.failed:
        print(f"The change set for stack {need.stack_name} ({companion.REGION}) failed: "
              f"{rev.status_reason or rev.status}", file=sys.stderr)
        return EXIT_FAILURE
    dangers = danger.find_dangers(rev.changes)
    allowed = danger.allowed_kinds(args)
    color = console.wants_color(sys.stdout)
    # plan --json keeps stdout for the main stack's review.
    out = sys.stderr if getattr(args, "json", False) else sys.stdout
    out.write(review.render_text(rev, dangers, allowed, color and out is sys.stdout, [
        f"The companion stack in {companion.REGION}: CloudFront takes its certificate and web ACL from there; "
        f"it gives the main stack {' and '.join(need.fills)}."]))
    if danger.blocking(dangers, allowed):
        return EXIT_DANGER
    if not executes:
        args.pending.settle(rev.change_set_id)
        print(f"Change set kept for review (not executed): {rev.change_set_id}", file=sys.stderr)
        return None
    return _execute(args, cfn, need, stack, rev, color)


def _review(args: argparse.Namespace, cfn, need: companion.Need, stack: dict | None) -> changeset.Review:
    change_set_type = changeset.change_set_type_for(stack)
    body = (emit.find_project(args.project_dir) / "output" / companion.TEMPLATE).read_text(encoding="utf-8")
    print(f"creating a change set ({change_set_type}) for stack {need.stack_name} ({companion.REGION})",
          file=sys.stderr)
    created = changeset.create_change_set(cfn, need.stack_name, None, need.parameters, change_set_type,
                                          description=f"threetier {args.command} {args.env}",
                                          options=_options(args, change_set_type), template_body=body)
    if created is None:
        return changeset.Review(stack_name=need.stack_name, stack_id=stack["StackId"] if stack else "",
                                change_set_id="", change_set_type=change_set_type, status="FAILED",
                                status_reason="No updates are to be performed.", changes=())
    args.pending.track(cleanup.Created(cfn, need.stack_name, created["StackId"], created["Id"], change_set_type,
                                       args.env, companion.REGION))
    first_page = changeset.wait_for_change_set(cfn, created["Id"], common.sleep, common.CHANGE_SET_POLL_SECONDS,
                                               clock=common.clock, limit_seconds=args.timeout * 60)
    return changeset.read_review(cfn, first_page, need.stack_name, change_set_type)


def _options(args: argparse.Namespace, change_set_type: str) -> dict:
    """As the main stack's: the deployer role (IAM is global) and the stack tags. Not the notification
    topics: SNS topics are regional, and the environment's are not in us-east-1."""
    options: dict = {}
    if args.role_arn:
        options["RoleARN"] = args.role_arn
    if args.settings.tags:
        options["Tags"] = [{"Key": key, "Value": value} for key, value in args.settings.tags.items()]
    if change_set_type == "UPDATE":
        options["RollbackConfiguration"] = rollback.NO_TRIGGERS
    else:
        options["OnStackFailure"] = onfailure.on_stack_failure(args)
    return options


def _execute(args: argparse.Namespace, cfn, need: companion.Need, stack: dict | None, rev: changeset.Review,
             color: bool) -> int | None:
    if not common.confirmed(f"Execute this change set on stack {need.stack_name} ({companion.REGION})?", args,
                            verb="deploy", refused_tail=" to execute the change set.",
                            declined="nothing was executed"):
        return EXIT_FAILURE
    start = events.baseline(cfn, rev.stack_id)
    cfn.execute_change_set(ChangeSetName=rev.change_set_id, **onfailure.execute_options(args, rev.change_set_type))
    args.pending.settle(rev.change_set_id)
    if args.settings.protected:
        protection.protect(cfn, rev.stack_id, need.stack_name, stack, companion.REGION, sys.stdout)
    print(f"Executing change set on stack {need.stack_name} ({companion.REGION}); following its events:")
    outcome = common.follow(cfn, rev.stack_id, need.stack_name, start, args, color, total=len(rev.changes))
    code = report_outcome(cfn, outcome, need.stack_name, args, SUCCESS, color)
    return None if code == EXIT_OK else code

