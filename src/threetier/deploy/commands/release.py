"""`threetier release ENV REF` and `threetier pin-ami ENV`: change one value in parameters/ENV.json.

A release writes the app's ref and then plans it; pin-ami moves the pinned image and leaves the
plan to the operator.
"""

from __future__ import annotations

import argparse
import sys

from threetier import emit
from threetier.deploy import ami, release, settings
from threetier.deploy.commands import common, plan
from threetier.deploy.errors import EXIT_OK, InputError
from threetier.deploy.inputs import load_root_template, load_values
from threetier.parameters import validate


def run_release(args: argparse.Namespace) -> int:
    """Write the new AppRepositoryRef into parameters/ENV.json, then plan it."""
    project = emit.find_project(args.project_dir)
    settings.require_bucket(args)
    path, values = load_values(project, args.env)
    previous = release.set_ref(path, values, load_root_template(project), args.ref)
    print(f"{path}: {release.REF} {previous or '(default)'} -> {args.ref}; commit the file with the release",
          file=sys.stderr)
    return plan.run(args)


def run_pin_ami(args: argparse.Namespace) -> int:
    """Move the environment's pinned AMI to AmiId's latest image (or the one given)."""
    project = emit.find_project(args.project_dir)
    template = load_root_template(project)
    path, values = load_values(project, args.env)
    if not ami.applies(template):
        raise InputError(f"output/main.yaml has no {ami.PIN} parameter: run `python generate.py` first")
    image_id = args.ami_id
    if image_id:
        problems = validate.errors(validate.declared_problems(template["Parameters"], {**values, ami.PIN: image_id}))
        if any(ami.PIN in str(problem) for problem in problems):
            raise InputError(f"--ami-id {image_id}: not an AMI id (ami- and 8 or 17 hexadecimal digits)")
    else:
        clients = common.connect(args)
        image_id = ami.latest(common.make_client(clients, args.profile, "ssm"), ami.source_of(template, values))
    previous = values.get(ami.PIN) or "(none)"
    ami.move(path, image_id)
    print(f"{path}: {ami.PIN} {previous} -> {image_id}. Review it with `threetier plan {args.env}` (every "
          "server is replaced, one at a time), deploy it, and commit the file.")
    return EXIT_OK

