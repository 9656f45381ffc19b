"""`threetier release ENV REF` and `threetier pin-ami ENV`: change one value of the environment.

A release plans the app's new ref and writes it into parameters/ENV.json once its change set is
created; pin-ami moves the pinned image (parameters/ENV.pins.json) and leaves the plan to the operator.
"""

from __future__ import annotations

import argparse

from threetier import emit
from threetier.deploy import ami, release, settings
from threetier.deploy.commands import common, plan
from threetier.deploy.errors import EXIT_OK, InputError
from threetier.deploy.inputs import load_root_template, load_user_values, load_values
from threetier.parameters import paramfile, validate


def run_release(args: argparse.Namespace) -> int:
    """Plan the new AppRepositoryRef; plan writes it into parameters/ENV.json once the change set is created,
    so a release that fails before (credentials, a refused value, ...) leaves the file as it was."""
    project = emit.find_project(args.project_dir)
    settings.require_bucket(args)
    _, values = load_values(project, args.env)
    release.check_ref(values, load_root_template(project), args.ref)
    args.release_ref = args.ref
    return plan.run(args)


def run_pin_ami(args: argparse.Namespace) -> int:
    """Move the environment's pinned AMI to AmiId's latest image (or the one given)."""
    project = emit.find_project(args.project_dir)
    template = load_root_template(project)
    path, values = load_values(project, args.env)
    _, user_values = load_user_values(project, args.env)
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
    if user_values.get(ami.PIN):
        pins_file = paramfile.pins_path_for(project, args.env).name
        raise InputError(f"{path}: sets {ami.PIN} {user_values[ami.PIN]} itself, which wins over a pin: change it "
                         f"there, or remove it to let pin-ami keep the pin in {pins_file}")
    previous = values.get(ami.PIN) or "(none)"
    pins_path = ami.move(project, args.env, image_id)
    print(f"{pins_path}: {ami.PIN} {previous} -> {image_id}. Review it with `threetier plan {args.env}` (every "
          "server is replaced, one at a time), deploy it, and commit the file.")
    return EXIT_OK

