"""How a stack operation ended (deploy, delete), and the stack's outputs as a table (status too)."""

from __future__ import annotations

import argparse
import sys

from threetier import emit
from threetier.deploy import advice, aftermath, events, settings
from threetier.deploy.errors import EXIT_DETACHED, EXIT_FAILURE, EXIT_OK
from threetier.review import console


def report(cfn, outcome: events.Outcome, stack_name: str, args: argparse.Namespace,
                    success: tuple[str, ...], color: bool) -> int:
    took = events.format_elapsed(outcome.elapsed)
    if outcome.detached:
        return detached(outcome, stack_name, args, color)
    if outcome.status in success:
        print(console.paint(f"Stack {stack_name}: {outcome.status} after {took}.", "green", color))
        if outcome.status != "DELETE_COMPLETE" and outcome.stack and outcome.stack.get("Outputs"):
            print()
            print(outputs_table(outcome.stack["Outputs"]))
        return EXIT_OK
    if outcome.timed_out:
        print(console.paint(f"Stopped following stack {stack_name} after {took} (--timeout {args.timeout:g}): "
                            f"it is still {outcome.status}; the operation goes on in AWS. Re-attach with "
                            f"`{reattach(args)}`.", "red", color))
    else:
        print(console.paint(f"Stack {stack_name}: {outcome.status} after {took}.", "red", color))
    failure = outcome.first_failure
    if failure:
        print(f"First failure: {outcome.first_failure_path} ({failure.get('ResourceType', '')}) "
              f"{failure['ResourceStatus']}: {failure.get('ResourceStatusReason') or 'no reason given'}")
    aftermath.print_stack_states(cfn, outcome.stacks, args.env,
                                 args.region, sys.stdout)
    if not outcome.timed_out:
        print(advice.after_failure(outcome.status, stack_name, args.env, args.region))
    return EXIT_FAILURE


def detached(outcome: events.Outcome, stack_name: str, args: argparse.Namespace, color: bool) -> int:
    """EXIT_DETACHED, after saying why following stopped, that the operation goes on in AWS and how
    to re-attach. The stacks' states are not asked: the calls that failed would fail again."""
    reason = outcome.detached
    print(console.paint(f"Stopped following stack {stack_name} after {events.format_elapsed(outcome.elapsed)}: "
                        f"{reason.reason}. The operation goes on in AWS (last seen: {outcome.status}).",
                        "red", color))
    first = "Refresh your credentials (e.g. `aws sso login`), then re-attach" if reason.credentials else "Re-attach"
    print(f"{first} with `{reattach(args)}`; `threetier status {args.env}` shows where it is.")
    return EXIT_DETACHED


def reattach(args: argparse.Namespace) -> str:
    """The command that follows the operation again, with the options that name the stack and where it is
    (those the settings file gives are left out; another settings file than the project's is named)."""
    command = f"threetier watch {args.env}"
    pinned = getattr(args, "settings", None)
    source = getattr(pinned, "source", None)
    if source and source.resolve() != settings.default_path(emit.find_project(args.project_dir)).resolve():
        command += f" --settings {source}"
    for option in ("stack_name", "region", "profile"):
        value = getattr(args, option, None)
        if value and not (pinned and getattr(pinned, option, None) == value):
            command += f" --{option.replace('_', '-')} {value}"
    return command


def outputs_table(outputs: list[dict]) -> str:
    rows = [("OUTPUT", "VALUE", "DESCRIPTION")] + [
        (o.get("OutputKey", ""), o.get("OutputValue", ""), o.get("Description", "")) for o in
        sorted(outputs, key=lambda o: o.get("OutputKey", ""))
    ]
    key_width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    return "\n".join(f"{k.ljust(key_width)}  {v.ljust(value_width)}  {d}".rstrip() for k, v, d in rows)

