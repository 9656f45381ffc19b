"""`threetier drift ENV`: drift detection on the root and every nested stack."""

from __future__ import annotations

import argparse
import sys

from threetier.deploy import drift
from threetier.deploy.commands import common
from threetier.deploy.errors import EXIT_FAILURE, EXIT_OK


def run(args: argparse.Namespace) -> int:
    stack_name, clients, stack = common.root_stack(args)
    cfn = clients.cloudformation
    if stack is None:
        print(f"Stack {stack_name} does not exist in {clients.region}.", file=sys.stderr)
        return EXIT_FAILURE
    stacks = drift.stack_tree(cfn, stack["StackId"], stack_name)
    print(f"detecting drift on {len(stacks)} stack(s) of {stack_name} ({clients.region})", file=sys.stderr)
    checked = drift.detect(cfn, stacks, sys.stderr, sleep=common.sleep, clock=common.clock,
                           poll_seconds=common.DRIFT_POLL_SECONDS, limit_seconds=args.timeout * 60)
    resources = [resource for stack_drift in checked for resource in drift.drifted_resources(cfn, stack_drift)]
    if args.json:
        sys.stdout.write(drift.render_json(stack_name, checked, resources))
    else:
        sys.stdout.write(drift.render_text(stack_name, clients.region, checked, resources, args.env))
    failed = any(stack_drift.detection_status == drift.FAILED for stack_drift in checked)
    return EXIT_FAILURE if resources or failed else EXIT_OK

