"""`threetier leftovers ENV`: list what a failed or deleted environment left (retained resources, final
snapshots), and delete them only when asked, with the danger guard's care for data.

Refuses while the environment's root stack exists: what it retains still belongs to it, and a
stack whose own resources were deleted under it can no longer be updated or deleted cleanly.
The mechanics (finding by tags and names, each service's delete call) are in threetier.deploy.leftovers.
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import ClientError

from threetier import emit, parameters as P
from threetier.deploy import changeset, leftovers
from threetier.deploy.commands import common
from threetier.deploy.errors import EXIT_DANGER, EXIT_FAILURE, EXIT_OK, InputError, aws_said
from threetier.deploy.inputs import load_root_template, load_stack_inputs
from threetier.parameters.evaluate import with_defaults
from threetier.review import console


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--delete", action="store_true",
                        help="delete what is listed (asks first unless --yes); without it nothing is deleted")
    parser.add_argument("--delete-data", nargs="+", action="extend", default=[], metavar="KIND",
                        choices=sorted(leftovers.DATA_CHOICES),
                        help="with --delete, also delete these kinds that hold data: "
                             f"{', '.join(sorted(leftovers.DATA_CHOICES))} (buckets with objects; an empty "
                             "bucket needs none). Secrets and KMS keys get a 7-day recovery window")
    parser.add_argument("--yes", action="store_true", help="delete without asking")


def run(args: argparse.Namespace) -> int:
    if args.delete_data and not args.delete:
        raise InputError("--delete-data only chooses what --delete may delete: pass --delete too")
    where = _environment(args)
    clients = common.connect(args)
    stack = changeset.describe_stack(clients.cloudformation, where.stack_name)
    if stack is not None:
        print(f"threetier leftovers: stack {where.stack_name} still exists ({stack['StackStatus']}) in "
              f"{clients.region}: what it retains still belongs to it. Delete it first with "
              f"`threetier delete {args.env}`; nothing was listed or deleted.", file=sys.stderr)
        return EXIT_FAILURE

    def client(service: str):
        return common.make_client(clients, args.profile, service)

    found = leftovers.Finder(client).find(where)
    if not found:
        print(f"Nothing left by {where.stack_name} in {clients.region} (tags Project={where.project}, "
              f"Environment={where.env}, and names starting with {where.stack_name}-).")
        return EXIT_OK
    print(f"Left by {where.stack_name} in {clients.region} ({len(found)}):")
    for leftover in found:
        print(f"  {leftover.line()}")
    if not args.delete:
        print(f"Nothing was deleted. `threetier leftovers {args.env} --delete` deletes them; kinds that hold "
              f"data also need --delete-data KIND ({', '.join(sorted(leftovers.DATA_CHOICES))}).")
        return EXIT_OK
    return _delete(args, client, found)


def _delete(args: argparse.Namespace, client, found: list[leftovers.Leftover]) -> int:
    allowed = {leftovers.DATA_CHOICES[choice] for choice in args.delete_data}
    chosen = [left for left in found if not left.done and not left.blocked
              and (not left.holds_data or left.kind in allowed)]
    kept = [left for left in found if not left.done and not left.blocked and left.holds_data
            and left.kind not in allowed]
    blocked = [left for left in found if left.blocked and not left.done]
    if not chosen:
        return _finish(args, kept, blocked, failed=0)
    color = console.wants_color(sys.stdout)
    print(console.paint(f"Deleting {len(chosen)}: " + ", ".join(f"{left.kind} {left.name}" for left in chosen),
                        "red", color))
    if not common.confirmed(f"Delete these {len(chosen)}?", args, verb="delete", refused_tail=" to delete them.",
                            declined="nothing was deleted"):
        return EXIT_FAILURE
    deleter = leftovers.Deleter(client)
    failed = 0
    for left in chosen:
        try:
            print(f"  {left.kind} {left.name}: {deleter.delete(left)}")
        except ClientError as error:
            failed += 1
            print(f"  {left.kind} {left.name}: not deleted: {aws_said(error)}")
    return _finish(args, kept, blocked, failed)


def _finish(args: argparse.Namespace, kept: list, blocked: list, failed: int) -> int:
    for left in blocked:
        print(f"Not deleted: {left.kind} {left.name}: {left.blocked}.")
    if failed or blocked:
        print(f"threetier leftovers: {failed + len(blocked)} could not be deleted (see above); "
              f"run `threetier leftovers {args.env}` again to see what is left.", file=sys.stderr)
        return EXIT_FAILURE
    if kept:
        kinds = sorted({choice for choice, kind in leftovers.DATA_CHOICES.items() if any(k.kind == kind for k in kept)})
        print(f"threetier leftovers: kept {len(kept)} that hold data; pass --delete-data {' '.join(kinds)} "
              "to delete them too.", file=sys.stderr)
        return EXIT_DANGER
    return EXIT_OK


def _environment(args: argparse.Namespace) -> leftovers.Environment:
    """Project, environment, stack name and the domain whose zone the stack creates, from parameters/ENV.json."""
    project = emit.find_project(args.project_dir)
    stack_name = common.stack_name(args, project)
    template = load_root_template(project)
    values = with_defaults(load_stack_inputs(project, args.env).parameters, template.get("Parameters", {}))
    # The dns stack creates a zone only for a domain without HostedZoneId (condition CreateHostedZone).
    domain = "" if values.get("HostedZoneId") else values.get("DomainName", "")
    return leftovers.Environment(values.get(P.PROJECT_NAME.name, ""), values.get(P.ENVIRONMENT_NAME.name, args.env),
                                 stack_name, domain)
