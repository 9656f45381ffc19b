"""`threetier plan ENV`: validate, package, create the change set and print its review; never executes.

`make_change_set` is the part deploy, release and rotate-origin-secret share.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass

from threetier import emit, parameters as P
from threetier.deploy import (
    advice,
    ami,
    azs,
    changeset,
    cleanup,
    deployerrole,
    duration,
    onfailure,
    release,
    rollback,
)
from threetier.deploy.commands import common, companion as companion_command, package as package_command
from threetier.deploy.errors import EXIT_DANGER, EXIT_FAILURE, EXIT_OK, InputError
from threetier.deploy.inputs import StackInputs, load_root_template, load_stack_inputs
from threetier.deploy.package import ROOT_TEMPLATE, package as package_templates, upload_template
from threetier.deploy.session import Clients
from threetier.parameters import paramfile, validate
from threetier.parameters.evaluate import with_defaults
from threetier.review import cloudfrontsteps, console, danger, refusals, table as review


@dataclass(frozen=True)
class Planned:
    clients: Clients
    inputs: StackInputs
    review: changeset.Review
    dangers: list[danger.Danger]
    allowed: set[str]
    guard: rollback.Guard | None = None
    stack: dict | None = None  # the stack as it was before the change set (None on a first create)
    release: release.Release | None = None
    ami: ami.AmiPin | None = None
    env: str = ""
    cloudfront: cloudfrontsteps.Step | None = None  # a step of turning CloudFront on for a live site
    expected_seconds: int | None = None  # threetier timeline's estimate for this change set

    def notes(self) -> list[str]:
        """What the review says besides the table: the CloudFront step, what a release does, the AMI pin,
        the alarms that guard the update."""
        notes = self.cloudfront.lines(self.env) if self.cloudfront else []
        notes += self.release.lines() if self.release else []
        notes += self.ami.lines(self.env) if self.ami else []
        notes += duration.line(self.expected_seconds, self.env)
        return notes + (self.guard.lines() if self.guard else [])

    def extras(self) -> dict:
        """The same for --json."""
        return {"release": self.release.as_dict() if self.release else None,
                "ami": self.ami.as_dict() if self.ami else None,
                "rollback_triggers": self.guard.as_dict() if self.guard else None,
                "cloudfront_step": self.cloudfront.as_dict() if self.cloudfront else None,
                "expected_seconds": self.expected_seconds}


def run(args: argparse.Namespace) -> int:
    planned = make_change_set(args)
    if isinstance(planned, int):
        return planned
    rev = planned.review
    if rev.no_changes:
        return no_changes(planned, args, as_json=args.json)
    if rev.failed:
        return change_set_failed(planned)
    if args.json:
        sys.stdout.write(review.render_json(rev, planned.dangers, planned.allowed, planned.extras()))
    else:
        sys.stdout.write(review.render_text(rev, planned.dangers, planned.allowed,
                                            console.wants_color(sys.stdout), planned.notes()))
    args.pending.settle(rev.change_set_id)
    print(f"Change set kept for review (not executed): {rev.change_set_id}", file=sys.stderr)
    if danger.blocking(planned.dangers, planned.allowed):
        return EXIT_DANGER
    return EXIT_OK


def make_change_set(args: argparse.Namespace, executes: bool = False) -> Planned | int:
    """Validate inputs, package, create the change set and read it; an int is an early exit code.
    `executes`: the caller executes the change set (deploy), so the us-east-1 companion's is executed first."""
    project = emit.find_project(args.project_dir)
    output_dir = project / "output"
    onfailure.on_stack_failure(args)  # contradicting flags stop here, before any AWS call
    # Every missing precondition in one report; the clients settle the region the values are validated
    # for, and the values are checked before any AWS call.
    loaded = {}

    def check_inputs(clients: Clients) -> None:
        loaded["template"] = template = load_root_template(project)
        loaded["inputs"] = load_stack_inputs(project, args.env, template, args.stack_name, region=clients.region,
                                             allow_insecure=args.allow_insecure, overrides=_overrides(args),
                                             protected=args.settings.protected)

    clients = common.preflight(args, check_inputs)
    template, inputs = loaded["template"], loaded["inputs"]
    for note in inputs.notes:
        print(note, file=sys.stderr)
    _check_role_serves_the_stack(args, template, inputs)

    if validate.prefix_list_to_look_up(template, inputs.parameters):
        inputs = package_command.with_cloudfront_prefix_list(args, clients, inputs)
        if inputs is None:
            return EXIT_FAILURE
    # Pins resolved on the way, written only once CloudFormation has the change set: a run that
    # stops before it leaves the files as they were.
    pins = _pins_asked_for(args, project)
    pinned_ami = None
    if ami.applies(template):
        pinned_ami = ami.pin(common.make_client(clients, args.profile, "ssm"), template, inputs.parameters)
        if pinned_ami.newly_pinned:
            pins.add(ami.PIN, "", pinned_ami.pinned)
        inputs = dataclasses.replace(inputs, parameters={**inputs.parameters, ami.PIN: pinned_ami.pinned})
    cfn = clients.cloudformation
    stack = changeset.describe_stack(cfn, inputs.stack_name)
    if stack is not None:
        stuck = advice.next_step(stack["StackStatus"], inputs.stack_name, args.env, args.region)
        if stuck:
            print(f"threetier {args.command}: {stuck}", file=sys.stderr)
            return EXIT_FAILURE
    _refuse_what_aws_would_refuse(stack, template, inputs)
    # Outside us-east-1, CloudFront's certificate and web ACL come from the companion stack there.
    inputs = companion_command.hand_over(args, template, inputs, clients.region, executes)
    if isinstance(inputs, int):
        return inputs
    inputs, cloudfront_step = _cloudfront_step(stack, template, inputs)
    if azs.applies(template):
        inputs = _with_pinned_azs(args, clients, stack, template, inputs, pins)
    change_set_type = changeset.change_set_type_for(stack)
    guard = _rollback_guard(args, cfn, stack, template, change_set_type, inputs.parameters, clients.region)

    destination = package_command.upload_destination(args, clients)
    packaged = package_templates(output_dir, destination)
    root = upload_template(packaged.root_text, ROOT_TEMPLATE, destination)
    package_command.print_uploads([*packaged.uploads, root], sys.stderr)

    print(f"creating a change set ({change_set_type}) for stack {inputs.stack_name} "
          f"({clients.region}) with {inputs.parameter_file.name}", file=sys.stderr)
    created = changeset.create_change_set(
        cfn, inputs.stack_name, root.url, inputs.parameters, change_set_type,
        description=f"threetier {args.command} {args.env}",
        options=_stack_options(args, guard, change_set_type),
    )
    # CloudFormation has the change set (or said nothing would change): keep what this run resolved.
    pins.save(project, args.env)
    _write_release_ref(args, inputs)
    if created is None:
        # AWS refused to even create it because nothing would change: same as an empty change set.
        rev = changeset.Review(
            stack_name=inputs.stack_name, stack_id=stack["StackId"] if stack else "", change_set_id="",
            change_set_type=change_set_type, status="FAILED",
            status_reason="No updates are to be performed.", changes=(),
        )
    else:
        args.pending.track(cleanup.Created(cfn, inputs.stack_name, created["StackId"], created["Id"],
                                           change_set_type, args.env, args.region))
        first_page = changeset.wait_for_change_set(cfn, created["Id"], common.sleep, common.CHANGE_SET_POLL_SECONDS,
                                                   clock=common.clock, limit_seconds=args.timeout * 60)
        rev = changeset.read_review(cfn, first_page, inputs.stack_name, change_set_type)
    allowed = danger.allowed_kinds(args)
    expected = None if rev.failed or rev.no_changes else duration.estimate(project, inputs.parameters, rev,
                                                                           clients.region)
    return Planned(clients, inputs, rev, danger.find_dangers(rev.changes), allowed, guard, stack,
                   release.describe(stack, inputs.parameters, template, rev), pinned_ami, args.env, cloudfront_step,
                   expected)


def _check_role_serves_the_stack(args: argparse.Namespace, template: dict, inputs: StackInputs) -> None:
    """InputError (exit 2) for a --role-arn deployer role that cannot serve this stack (see deployerrole)."""
    project_name = with_defaults(inputs.parameters, template.get("Parameters", {})).get(P.PROJECT_NAME.name, "")
    note = deployerrole.check(args.role_arn, inputs.stack_name, project_name)
    if note:
        print(note, file=sys.stderr)


def _refuse_what_aws_would_refuse(stack: dict | None, template: dict, inputs: StackInputs) -> None:
    """InputError (exit 2), before anything is uploaded or created, for a change from the deployed
    values that AWS would refuse in the middle of the update (storage shrink, fewer AZs, ...)."""
    if stack is None:
        return
    declared = template.get("Parameters", {})
    found = refusals.refusals(with_defaults(_deployed_values(stack), declared),
                              with_defaults(inputs.parameters, declared))
    if found:
        lines = [f"{inputs.parameter_file.name}: {refusal}" for refusal in found]
        raise InputError("\n".join(["AWS would refuse this change in the middle of the update; nothing "
                                     "was created:", *lines]))


def _cloudfront_step(stack: dict | None, template: dict,
                     inputs: StackInputs) -> tuple[StackInputs, cloudfrontsteps.Step | None]:
    """Turning CloudFront on for a deployed stack takes two deploys (threetier.review.cloudfrontsteps):
    the first sends CloudFrontOnly=false whatever the file says, the file keeps the goal."""
    if stack is None:
        return inputs, None
    declared = template.get("Parameters", {})
    step = cloudfrontsteps.step(with_defaults(_deployed_values(stack), declared),
                                with_defaults(inputs.parameters, declared))
    if step is None:
        return inputs, None
    sent = {cloudfrontsteps.ONLY: step.values[cloudfrontsteps.ONLY]}
    return dataclasses.replace(inputs, parameters={**inputs.parameters, **sent}), step


def _deployed_values(stack: dict) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def _rollback_guard(args: argparse.Namespace, cfn, stack: dict | None, template: dict, change_set_type: str,
                    values: dict[str, str], region: str) -> rollback.Guard | None:
    """The monitoring stack's alarms as rollback triggers of an update (unless the settings turn them off,
    or the update itself removes the monitoring stack and with it the alarms)."""
    pinned = args.settings
    if change_set_type != "UPDATE" or not pinned.rollback_triggers:
        return None
    if not rollback.monitoring_kept(template, values, region):
        return None
    return rollback.find_guard(cfn, stack["StackId"], template, pinned.rollback_monitoring_minutes)


def _with_pinned_azs(args: argparse.Namespace, clients: Clients, stack: dict | None, template: dict,
                     inputs: StackInputs, pins: Pins) -> StackInputs:
    """`inputs` with the environment's AZ names, resolved when missing and added to `pins`."""
    resolved = azs.resolve(clients.cloudformation, common.make_ec2(clients, args.profile), stack, template,
                           inputs.parameters)
    if resolved is None:
        return inputs
    before, after = resolved
    if azs.NAMES in inputs.written:
        # The user's list wins over a pin, so a pin cannot complete it.
        raise InputError(f"{inputs.parameter_file}: {azs.NAMES} names {len(before.split(','))} AZs for "
                         f"{P.NUMBER_OF_AZS.name} {azs.wanted(template, inputs.parameters)}: add the next AZ "
                         f"({after.split(',')[-1]}?), or remove the entry and let plan pin the names in "
                         f"parameters/{args.env}{paramfile.PINS_SUFFIX}; "
                         "nothing was created")
    pins.add(azs.NAMES, before, after, "the environment keeps these AZs")
    return dataclasses.replace(inputs, parameters={**inputs.parameters, azs.NAMES: after})


@dataclass
class Pins:
    """Pins a plan resolved: {key: (before, after, why)}, saved into parameters/ENV.pins.json together."""

    changes: dict[str, tuple[str, str, str]] = dataclasses.field(default_factory=dict)

    def add(self, key: str, before: str, after: str, why: str = "") -> None:
        self.changes[key] = (before, after, why)

    def save(self, project, env: str) -> None:
        """Write the pins, each announced on one line; nothing when there are none."""
        if not self.changes:
            return
        path = paramfile.save_pins(project, env, {key: after for key, (_, after, _) in self.changes.items()})
        for key, (before, after, why) in self.changes.items():
            print(f"{path.parent.name}/{path.name}: {key} {before or '(none)'} -> {after}, pinned"
                  f"{': ' + why if why else ''} (commit the file)", file=sys.stderr)


def _overrides(args: argparse.Namespace) -> dict[str, str] | None:
    """Values sent in place of the files' until the change set is created: a release's new ref, and the pins a
    command asks for (rotate-origin-secret's versions)."""
    ref = getattr(args, "release_ref", None)
    overrides = {**({release.REF: ref} if ref else {}), **(getattr(args, "pin_overrides", None) or {})}
    return overrides or None


def _pins_asked_for(args: argparse.Namespace, project) -> Pins:
    """The pins a command asks the change set to carry, to be saved with the ones plan resolves."""
    pins = Pins()
    asked = getattr(args, "pin_overrides", None) or {}
    if asked:
        before = paramfile.load_pins(project, args.env)
        for key, value in asked.items():
            if before.get(key, "") != value:
                pins.add(key, before.get(key, ""), value)
    return pins


def _write_release_ref(args: argparse.Namespace, inputs: StackInputs) -> None:
    """Write a release's ref into parameters/ENV.json, now that its change set exists."""
    ref = getattr(args, "release_ref", None)
    if not ref:
        return
    previous = release.write_ref(inputs.parameter_file, ref)
    print(f"{inputs.parameter_file}: {release.REF} {previous or '(default)'} -> {ref}; commit the file with "
          "the release", file=sys.stderr)


def _stack_options(args: argparse.Namespace, guard: rollback.Guard | None, change_set_type: str) -> dict:
    """CreateChangeSet arguments from the settings and flags: the role CloudFormation acts as, stack tags,
    notification topics, what a failed first create does (OnStackFailure, see onfailure), and the rollback
    triggers of an update (an empty list when nothing guards it,
    which clears triggers an earlier update saved)."""
    pinned = args.settings
    options: dict = {}
    if args.role_arn:
        options["RoleARN"] = args.role_arn
    if pinned.tags:
        options["Tags"] = [{"Key": key, "Value": value} for key, value in pinned.tags.items()]
    if pinned.notification_arns:
        options["NotificationARNs"] = list(pinned.notification_arns)
    if change_set_type == "UPDATE":
        options["RollbackConfiguration"] = guard.configuration() if guard else rollback.NO_TRIGGERS
        note = onfailure.update_note(args)
        if note:
            print(note, file=sys.stderr)
    else:
        options["OnStackFailure"] = onfailure.on_stack_failure(args)
    return options


def no_changes(planned: Planned, args: argparse.Namespace, as_json: bool = False) -> int:
    rev = planned.review
    if rev.change_set_id:
        args.pending.discard(rev.change_set_id)
    if as_json:
        sys.stdout.write(review.render_json(rev, [], planned.allowed))
    else:
        print("No changes.")
    print(f"stack {rev.stack_name} already matches the templates and {planned.inputs.parameter_file.name}"
          + ("; the empty change set was deleted" if rev.change_set_id else ""), file=sys.stderr)
    return EXIT_OK


def change_set_failed(planned: Planned) -> int:
    """Say why the change set failed, nested change sets' own reasons under their stack paths
    (it is deleted on the way out)."""
    rev = planned.review
    print(f"The change set for stack {rev.stack_name} failed: {rev.status_reason or rev.status}",
          file=sys.stderr)
    for failure in rev.nested_failures:
        print(f"  {failure.stack_path}: {failure.reason}", file=sys.stderr)
    return EXIT_FAILURE

