"""CLI subcommands of the deploy wrapper: package, plan, deploy, status, delete.

Each command reads and checks its local inputs first (exit 2 on bad input,
before any AWS call), then talks to CloudFormation and S3. Reviews and results
go to stdout; progress chatter goes to stderr, so `plan --json` prints pure JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

from threetier import emit, parameters as P
from threetier.deploy import (
    advice,
    aftermath,
    ami,
    azs,
    changeset,
    cleanup,
    drift,
    events,
    protection,
    quickcreate,
    release,
    rollback,
    settings,
)
from threetier.deploy.errors import EXIT_DANGER, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, AwsError, InputError, aws_said
from threetier.deploy.inputs import StackInputs, load_root_template, load_stack_inputs, load_values, stack_name_for
from threetier.deploy.package import (
    ROOT_TEMPLATE,
    Destination,
    package,
    upload_template,
    write_packaged_root,
)
from threetier.deploy.session import RETRIES, Clients, add_aws_options, make_clients
from threetier.parameters import validate
from threetier.review import console, danger, table as review

# Tests replace these so that nothing waits for real.
sleep = time.sleep
clock = time.monotonic
CHANGE_SET_POLL_SECONDS = 2.0
EVENT_POLL_SECONDS = 5.0
DRIFT_POLL_SECONDS = 5.0

EXIT_INTERRUPTED = 130
# How long a command waits for a change set to be computed, or for a stack operation
# to settle, before it stops waiting (--timeout). A first prod create with a Multi-AZ
# database, a replica and CloudFront takes about an hour.
DEFAULT_TIMEOUT_MINUTES = 120
SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
EXPIRED_CREDENTIALS = ("ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId")


def add_commands(commands) -> None:
    """Add the deploy subcommands to the `threetier` argparse subparsers."""
    aws = argparse.ArgumentParser(add_help=False)
    add_aws_options(aws)

    bucket = argparse.ArgumentParser(add_help=False)
    bucket.add_argument("--bucket",
                        help="S3 bucket for the templates, in the region you deploy to "
                             "(default: bucket in threetier.toml)")
    bucket.add_argument("--prefix", help="key prefix in the bucket (default: prefix in threetier.toml, "
                                         f"else {settings.DEFAULT_PREFIX})")

    stack = argparse.ArgumentParser(add_help=False)
    stack.add_argument("env", metavar="ENV", help="environment: its values are in parameters/ENV.json")
    stack.add_argument("--stack-name",
                       help="default: stack_name in threetier.toml, else <ProjectName>-<EnvironmentName> "
                            "from parameters/ENV.json")
    stack.add_argument("--settings", type=Path, metavar="FILE",
                       help="settings file pinning the environment's account, region, bucket, ... "
                            "(default: threetier.toml in the project, if there is one)")

    role = argparse.ArgumentParser(add_help=False)
    role.add_argument("--role-arn", help="IAM role CloudFormation uses for the stack operation "
                                         "(default: role_arn in threetier.toml)")

    wait = argparse.ArgumentParser(add_help=False)
    wait.add_argument("--timeout", type=_minutes, default=DEFAULT_TIMEOUT_MINUTES, metavar="MINUTES",
                      help="stop waiting for the change set or the stack after this many minutes "
                           "(default: %(default)s); the stack operation itself goes on")

    guard = argparse.ArgumentParser(add_help=False)
    allow = guard.add_argument_group("danger guard")
    danger.add_allow_options(allow)
    allow.add_argument("--allow-insecure", action="store_true",
                       help="accept prod parameters without Multi-AZ or deletion protection (warns instead)")

    package_cmd = commands.add_parser(
        "package", parents=[bucket, aws],
        help="upload the templates to S3; with ENV, print a console quick-create link with its values",
        description="Upload every nested template of output/main.yaml to S3 under a content-hashed "
                    "key and write output/packaged/main.yaml, which points at them (upload that file "
                    "in the CloudFormation console). With ENV: validate parameters/ENV.json first, check "
                    "the bucket is in the deploy region, upload the root too, fill in what a console "
                    "user cannot easily find (the CloudFront prefix list id), and print a quick-create "
                    "link that opens the console with ENV's values.",
    )
    package_cmd.add_argument("env", metavar="ENV", nargs="?",
                             help="environment whose values the quick-create link carries")
    package_cmd.set_defaults(run=run_package)

    plan = commands.add_parser(
        "plan", parents=[stack, bucket, role, guard, wait, aws],
        help="package, create a change set and print its review; never executes",
        description="Exit codes: 0 reviewed (or no changes), 1 AWS or change set failure, "
                    "2 bad input, 3 dangerous changes not allowed by an --allow-... option.",
    )
    plan.add_argument("--json", action="store_true", help="print the review as JSON (for CI bots)")
    plan.set_defaults(run=run_plan)

    deploy = commands.add_parser(
        "deploy", parents=[stack, bucket, role, guard, wait, aws],
        help="plan, ask, execute the change set and follow the stack events",
        description="Exit codes: 0 CREATE_COMPLETE/UPDATE_COMPLETE (or no changes), 1 failure or not "
                    "confirmed, 2 bad input, 3 refused because of dangerous changes.",
    )
    deploy.add_argument("--yes", action="store_true", help="execute without asking")
    deploy.set_defaults(run=run_deploy)

    rotate = commands.add_parser(
        "rotate-origin-secret", parents=[stack, bucket, role, guard, wait, aws],
        help="a new value for the header CloudFront sends the load balancer, deployed as a reviewed change set",
        description="Secrets Manager generates a new version of the origin header secret; parameters/ENV.json "
                    "pins it (CloudFront sends it) and the previous one (the load balancer still accepts it "
                    "while CloudFront's edges switch); then the same review, prompt and exit codes as deploy.",
    )
    rotate.add_argument("--yes", action="store_true", help="execute without asking")
    rotate.set_defaults(run=run_rotate_origin_secret)

    status = commands.add_parser("status", parents=[stack, aws], help="stack status and outputs")
    status.set_defaults(run=run_status)

    delete = commands.add_parser("delete", parents=[stack, wait, aws],
                                 help="delete the stack (resources with DeletionPolicy Retain/Snapshot stay)")
    delete.add_argument("--yes", action="store_true", help="delete without asking")
    delete.add_argument("--disable-termination-protection", action="store_true",
                        help="needed to delete a protected environment: turns the stack's termination "
                             "protection off (after the confirmation), then deletes")
    delete.set_defaults(run=run_delete)

    release_cmd = commands.add_parser(
        "release", parents=[stack, bucket, role, guard, wait, aws],
        help="set AppRepositoryRef in parameters/ENV.json (nothing else) and plan it",
        description="A release is a parameter change: a new launch template version and a rolling "
                    "replacement of the servers. Writes REF into parameters/ENV.json, then does what "
                    "`plan` does (deploy it with `threetier deploy ENV`). Exit codes as plan.",
    )
    release_cmd.add_argument("ref", metavar="REF", help="branch, tag or commit of the app to release")
    release_cmd.add_argument("--json", action="store_true", help="print the review as JSON")
    release_cmd.set_defaults(run=lambda args: _guarded(_release, args))

    pin_ami = commands.add_parser(
        "pin-ami", parents=[stack, aws],
        help="move PinnedAmiId in parameters/ENV.json to AmiId's latest image (or --ami-id); then plan",
        description="Servers run the image the environment pins; this moves the pin deliberately. "
                    "Writes parameters/ENV.json only: review and apply it with plan/deploy.",
    )
    pin_ami.add_argument("--ami-id", help="pin this image id instead of AmiId's latest")
    pin_ami.set_defaults(run=lambda args: _guarded(_pin_ami, args))

    drift_cmd = commands.add_parser(
        "drift", parents=[stack, wait, aws],
        help="drift detection on the root and every nested stack",
        description="Exit codes: 0 every stack in sync, 1 drifted (or detection failed), 2 bad input.",
    )
    drift_cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    drift_cmd.set_defaults(run=lambda args: _guarded(_drift, args))


def _raised_by_response_parser(error: BaseException) -> bool:
    """botocore's parsers fail with a bare KeyError (and the like) on XML that is not the expected answer."""
    tb = error.__traceback__
    while tb and tb.tb_next:
        tb = tb.tb_next
    return bool(tb) and tb.tb_frame.f_globals.get("__name__") == "botocore.parsers"


def _minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = 0
    if not 0 < minutes <= 24 * 60:
        raise argparse.ArgumentTypeError(f"{text!r}: give minutes from 1 to 1440, e.g. 120")
    return minutes


def run_package(args: argparse.Namespace) -> int:
    return _guarded(_package, args)


def run_plan(args: argparse.Namespace) -> int:
    return _guarded(_plan, args)


def run_deploy(args: argparse.Namespace) -> int:
    return _guarded(_deploy, args)


def run_rotate_origin_secret(args: argparse.Namespace) -> int:
    from threetier.deploy import origin

    return _guarded(lambda arguments: origin.rotate(arguments, _deploy), args)


def run_status(args: argparse.Namespace) -> int:
    return _guarded(_status, args)


def run_delete(args: argparse.Namespace) -> int:
    return _guarded(_delete, args)


def _guarded(command, args: argparse.Namespace) -> int:
    """Run a command; turn the errors people meet into one clear line and an exit code, then delete
    any change set it created and neither executed nor kept for review."""
    args.pending = cleanup.Pending(sys.stderr)
    try:
        return _reporting_errors(lambda arguments: command(_with_settings(arguments)), args)
    finally:
        args.pending.discard_all()


def _with_settings(args: argparse.Namespace) -> argparse.Namespace:
    """The environment's settings (threetier.toml) filled into the options the command line left out."""
    if getattr(args, "env", None):
        project = emit.find_project(args.project_dir)
        settings.apply(args, settings.load(project, args.env, getattr(args, "settings", None)))
    elif getattr(args, "prefix", "") is None:
        args.prefix = settings.DEFAULT_PREFIX
    return args


def connect(args: argparse.Namespace) -> Clients:
    """Clients for the command, after checking that the credentials are for the pinned account
    (the first AWS call of every command that has an environment)."""
    clients = make_clients(args.region, args.profile, args.endpoint_url)
    check_pinned_account(args, clients)
    return clients


def check_pinned_account(args: argparse.Namespace, clients: Clients) -> None:
    """Refuse (InputError, exit 2) credentials for another account than the one pinned for the environment."""
    pinned = getattr(args, "settings", None)
    if pinned is not None and pinned.account_id:
        account = settings.check_account(clients.sts, pinned)
        print(f"account {account} and region {clients.region}, as pinned for {args.env} in {pinned.source}",
              file=sys.stderr)


def _reporting_errors(command, args: argparse.Namespace) -> int:
    name = f"threetier {args.command}"
    try:
        return command(args)
    except drift.DriftTimeout as error:
        print(f"{name}: drift detection was still running on {', '.join(error.pending)} after "
              f"{events.format_elapsed(error.waited)} (--timeout {args.timeout:g}): stopped waiting. "
              "Try again later, or with a longer --timeout.", file=sys.stderr)
        return EXIT_FAILURE
    except changeset.ChangeSetTimeout as error:
        print(f"{name}: the change set was still {error.status} after {events.format_elapsed(error.waited)} "
              f"(--timeout {args.timeout:g}): stopped waiting. CloudFormation may be slow or stuck; "
              "try again later, or with a longer --timeout.", file=sys.stderr)
        return EXIT_FAILURE
    except InputError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AwsError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except NoCredentialsError:
        print(f"{name}: no AWS credentials found: pass --profile, or run `aws configure` "
              "or `aws sso login`", file=sys.stderr)
        return EXIT_FAILURE
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        print(f"{name}: {aws_said(error)}", file=sys.stderr)
        if code in EXPIRED_CREDENTIALS:
            print("Your credentials are expired or invalid: refresh them (e.g. `aws sso login`) "
                  "and try again.", file=sys.stderr)
        return EXIT_FAILURE
    except BotoCoreError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except (ResponseParserError, KeyError, AttributeError, TypeError) as error:
        if not isinstance(error, ResponseParserError) and not _raised_by_response_parser(error):
            raise
        endpoint = getattr(args, "endpoint_url", None)
        print(f"{name}: the answer from {endpoint or 'AWS'} is not an AWS API response (unreadable or a "
              "server error): check --endpoint-url and --region, then try again", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        env = getattr(args, "env", "ENV")
        print(f"\n{name}: interrupted. Anything already started in AWS goes on; "
              f"check it with `threetier status {env}`.", file=sys.stderr)
        return EXIT_INTERRUPTED


# ----------------------------------------------------------------------------- package

def _package(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    output_dir = project / "output"
    clients = make_clients(args.region, args.profile, args.endpoint_url)
    inputs = None
    if args.env:
        template = load_root_template(project)
        inputs = load_stack_inputs(project, args.env, template, region=clients.region)
        for note in inputs.notes:
            print(note, file=sys.stderr)
    destination = _destination(args, clients)
    if args.env:
        check_pinned_account(args, clients)
        quickcreate.check_bucket_region(clients.s3, destination.bucket, clients.region)
        if validate.prefix_list_to_look_up(template, inputs.parameters):
            inputs = _with_cloudfront_prefix_list(args, clients, inputs)
            if inputs is None:
                return EXIT_FAILURE
    packaged = package(output_dir, destination)
    path = write_packaged_root(output_dir, packaged.root_text)
    if inputs is None:
        _print_uploads(packaged.uploads, sys.stdout)
        print(f"wrote {path}: upload it in the CloudFormation console (Create stack > Upload a template file)")
        return EXIT_OK
    root = upload_template(packaged.root_text, ROOT_TEMPLATE, destination)
    _print_uploads([*packaged.uploads, root], sys.stderr)
    url = quickcreate.link(clients.region, root.url, inputs.stack_name, inputs.parameters)
    print(f"Quick-create link for {inputs.stack_name} with {inputs.parameter_file.name} (review the values, "
          "tick CAPABILITY_IAM and CAPABILITY_AUTO_EXPAND, then Create stack):")
    print(url)
    if len(url) > quickcreate.LONG_LINK:
        print(f"note: the link is {len(url)} characters; some tools cut links that long", file=sys.stderr)
    return EXIT_OK


def _destination(args: argparse.Namespace, clients: Clients) -> Destination:
    return Destination(s3=clients.s3, bucket=settings.require_bucket(args), prefix=args.prefix,
                       region=clients.region, endpoint_url=clients.endpoint_url)


def _print_uploads(uploads, out) -> None:
    for upload in uploads:
        verb = "uploaded " if upload.uploaded else "unchanged"
        print(f"{verb} {upload.file_name} -> {upload.url}", file=out)
    for note in dict.fromkeys(upload.note for upload in uploads if upload.note):
        print(note, file=sys.stderr)


# ----------------------------------------------------------------------------- plan

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

    def notes(self) -> list[str]:
        """What the review says besides the table: what a release does, the AMI pin, the alarms that
        guard the update."""
        notes = self.release.lines() if self.release else []
        notes += self.ami.lines(self.env) if self.ami else []
        return notes + (self.guard.lines() if self.guard else [])

    def extras(self) -> dict:
        """The same for --json."""
        return {"release": self.release.as_dict() if self.release else None,
                "ami": self.ami.as_dict() if self.ami else None,
                "rollback_triggers": self.guard.as_dict() if self.guard else None}


def _plan(args: argparse.Namespace) -> int:
    planned = _make_change_set(args)
    if isinstance(planned, int):
        return planned
    rev = planned.review
    if rev.no_changes:
        return _no_changes(planned, args, as_json=args.json)
    if rev.failed:
        return _change_set_failed(planned)
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


def _make_change_set(args: argparse.Namespace) -> Planned | int:
    """Validate inputs, package, create the change set and read it; an int is an early exit code."""
    project = emit.find_project(args.project_dir)
    output_dir = project / "output"
    settings.require_bucket(args)
    template = load_root_template(project)
    # Creating clients sends nothing; it settles the region the values are validated for.
    clients = make_clients(args.region, args.profile, args.endpoint_url)
    inputs = load_stack_inputs(project, args.env, template, args.stack_name, region=clients.region,
                               allow_insecure=args.allow_insecure)
    for note in inputs.notes:
        print(note, file=sys.stderr)

    # The first AWS calls.
    check_pinned_account(args, clients)
    if validate.prefix_list_to_look_up(template, inputs.parameters):
        inputs = _with_cloudfront_prefix_list(args, clients, inputs)
        if inputs is None:
            return EXIT_FAILURE
    pinned_ami = None
    if ami.applies(template):
        pinned_ami = ami.pin(make_client(clients, args.profile, "ssm"), template, inputs.parameters,
                             inputs.parameter_file)
        inputs = dataclasses.replace(inputs, parameters={**inputs.parameters, ami.PIN: pinned_ami.pinned})
    cfn = clients.cloudformation
    stack = changeset.describe_stack(cfn, inputs.stack_name)
    if stack is not None:
        stuck = advice.next_step(stack["StackStatus"], inputs.stack_name, args.env, args.region)
        if stuck:
            print(f"threetier {args.command}: {stuck}", file=sys.stderr)
            return EXIT_FAILURE
    if azs.applies(template):
        inputs = _with_pinned_azs(args, clients, stack, template, inputs)
    change_set_type = changeset.change_set_type_for(stack)
    guard = _rollback_guard(args, cfn, stack, template, change_set_type)

    destination = _destination(args, clients)
    packaged = package(output_dir, destination)
    root = upload_template(packaged.root_text, ROOT_TEMPLATE, destination)
    _print_uploads([*packaged.uploads, root], sys.stderr)

    print(f"creating a change set ({change_set_type}) for stack {inputs.stack_name} "
          f"({clients.region}) with {inputs.parameter_file.name}", file=sys.stderr)
    created = changeset.create_change_set(
        cfn, inputs.stack_name, root.url, inputs.parameters, change_set_type,
        description=f"threetier {args.command} {args.env}",
        options=_stack_options(args, guard),
    )
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
        first_page = changeset.wait_for_change_set(cfn, created["Id"], sleep, CHANGE_SET_POLL_SECONDS,
                                                   clock=clock, limit_seconds=args.timeout * 60)
        rev = changeset.read_review(cfn, first_page, inputs.stack_name, change_set_type)
    allowed = danger.allowed_kinds(args)
    return Planned(clients, inputs, rev, danger.find_dangers(rev.changes), allowed, guard, stack,
                   release.describe(stack, inputs.parameters, template, rev), pinned_ami, args.env)


def _rollback_guard(args: argparse.Namespace, cfn, stack: dict | None, template: dict,
                    change_set_type: str) -> rollback.Guard | None:
    """The monitoring stack's alarms as rollback triggers of an update (unless the settings turn them off)."""
    pinned = args.settings
    if change_set_type != "UPDATE" or not pinned.rollback_triggers:
        return None
    return rollback.find_guard(cfn, stack["StackId"], template, pinned.rollback_monitoring_minutes)


def _with_pinned_azs(args: argparse.Namespace, clients: Clients, stack: dict | None, template: dict,
                     inputs: StackInputs) -> StackInputs:
    """`inputs` with the environment's AZ names, resolved and written into the parameter file when missing."""
    written = azs.resolve(clients.cloudformation, make_ec2(clients, args.profile), stack, template,
                          inputs.parameters, inputs.parameter_file)
    if written is None:
        return inputs
    before, after = written
    print(f"{azs.NAMES}: {before or '(empty)'} -> {after}, written into {inputs.parameter_file.name}: the "
          "environment keeps these AZs (commit the file)", file=sys.stderr)
    return dataclasses.replace(inputs, parameters={**inputs.parameters, azs.NAMES: after})


def _stack_options(args: argparse.Namespace, guard: rollback.Guard | None) -> dict:
    """CreateChangeSet arguments from the settings and flags: the role CloudFormation acts as, stack tags,
    notification topics, and the rollback triggers of an update."""
    pinned = args.settings
    options: dict = {}
    if args.role_arn:
        options["RoleARN"] = args.role_arn
    if pinned.tags:
        options["Tags"] = [{"Key": key, "Value": value} for key, value in pinned.tags.items()]
    if pinned.notification_arns:
        options["NotificationARNs"] = list(pinned.notification_arns)
    if guard is not None:
        options["RollbackConfiguration"] = guard.configuration()
    return options


def make_client(clients: Clients, profile: str | None, service: str):
    """A client of `service` for the region, profile and endpoint of `clients` (creating it sends nothing)."""
    session = boto3.Session(profile_name=profile, region_name=clients.region)
    return session.client(service, endpoint_url=clients.endpoint_url, config=RETRIES)


def make_ec2(clients: Clients, profile: str | None):
    return make_client(clients, profile, "ec2")


def _with_cloudfront_prefix_list(args: argparse.Namespace, clients: Clients,
                                 inputs: StackInputs) -> StackInputs | None:
    """`inputs` with CloudFrontPrefixListId set to the region's CloudFront origin-facing prefix list."""
    name = P.CLOUDFRONT_PREFIX_LIST_ID.name
    found = cloudfront_prefix_list_id(make_ec2(clients, args.profile))
    if found is None:
        print(f"threetier {args.command}: no managed prefix list {validate.CLOUDFRONT_PREFIX_LIST_NAME} "
              f"in {clients.region}: set {name} in {inputs.parameter_file.name} yourself, "
              f"or turn {P.CLOUDFRONT_ENABLED.name} off", file=sys.stderr)
        return None
    print(f"{name}: looked up {validate.CLOUDFRONT_PREFIX_LIST_NAME} in {clients.region}: {found} "
          f"({inputs.parameter_file.name} turns CloudFront on and leaves {name} empty)", file=sys.stderr)
    return dataclasses.replace(inputs, parameters={**inputs.parameters, name: found})


def cloudfront_prefix_list_id(ec2) -> str | None:
    """Id of the AWS-managed CloudFront origin-facing prefix list in the client's region, or None."""
    response = ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [validate.CLOUDFRONT_PREFIX_LIST_NAME]}],
    )
    found = sorted(pl["PrefixListId"] for pl in response.get("PrefixLists", []))
    return found[0] if found else None


def _no_changes(planned: Planned, args: argparse.Namespace, as_json: bool = False) -> int:
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


def _change_set_failed(planned: Planned) -> int:
    """Say why the change set failed, nested change sets' own reasons under their stack paths
    (it is deleted on the way out)."""
    rev = planned.review
    print(f"The change set for stack {rev.stack_name} failed: {rev.status_reason or rev.status}",
          file=sys.stderr)
    for failure in rev.nested_failures:
        print(f"  {failure.stack_path}: {failure.reason}", file=sys.stderr)
    return EXIT_FAILURE


def _release(args: argparse.Namespace) -> int:
    """Write the new AppRepositoryRef into parameters/ENV.json, then plan it."""
    project = emit.find_project(args.project_dir)
    settings.require_bucket(args)
    path, values = load_values(project, args.env)
    previous = release.set_ref(path, values, load_root_template(project), args.ref)
    print(f"{path}: {release.REF} {previous or '(default)'} -> {args.ref}; commit the file with the release",
          file=sys.stderr)
    return _plan(args)


def _pin_ami(args: argparse.Namespace) -> int:
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
        clients = connect(args)
        image_id = ami.latest(make_client(clients, args.profile, "ssm"), ami.source_of(template, values))
    previous = values.get(ami.PIN) or "(none)"
    ami.move(path, image_id)
    print(f"{path}: {ami.PIN} {previous} -> {image_id}. Review it with `threetier plan {args.env}` (every "
          "server is replaced, one at a time), deploy it, and commit the file.")
    return EXIT_OK


# ----------------------------------------------------------------------------- deploy

def _deploy(args: argparse.Namespace) -> int:
    planned = _make_change_set(args)
    if isinstance(planned, int):
        return planned
    rev = planned.review
    cfn = planned.clients.cloudformation
    if rev.no_changes:
        return _no_changes(planned, args)
    if rev.failed:
        return _change_set_failed(planned)
    color = console.wants_color(sys.stdout)
    sys.stdout.write(review.render_text(rev, planned.dangers, planned.allowed, color, planned.notes()))

    blockers = danger.blocking(planned.dangers, planned.allowed)
    if blockers:
        options = " ".join(sorted({d.allow_option for d in blockers}))
        print(console.paint(f"Refusing to deploy: the change set has dangerous changes. Review them and "
                            f"pass {options} to deploy anyway.", "red", color))
        return EXIT_DANGER

    answer = console.confirm(
        f"Execute this change set on stack {rev.stack_name} ({planned.clients.region})?",
        args.yes, sys.stdin, sys.stdout,
    )
    if answer != console.CONFIRMED:
        if answer == console.NOT_INTERACTIVE:
            print("Refusing to deploy without confirmation: stdin is not a terminal. "
                  "Pass --yes to execute the change set.", file=sys.stderr)
        else:
            print("Not confirmed: nothing was executed.", file=sys.stderr)
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
    print(f"Executing change set on stack {rev.stack_name}; following its events (Ctrl-C stops watching, "
          "not the deploy):")
    outcome = events.follow(
        cfn, rev.stack_id, rev.stack_name, start, sys.stdout, total=len(rev.changes),
        clock=clock, sleep=sleep, poll_seconds=EVENT_POLL_SECONDS, color=color,
        limit_seconds=args.timeout * 60,
    )
    return _report_outcome(cfn, outcome, rev.stack_name, args, SUCCESS, color)


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
        cfn.execute_change_set(ChangeSetName=rev.change_set_id)
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


def _report_outcome(cfn, outcome: events.Outcome, stack_name: str, args: argparse.Namespace,
                    success: tuple[str, ...], color: bool) -> int:
    took = events.format_elapsed(outcome.elapsed)
    if outcome.status in success:
        print(console.paint(f"Stack {stack_name}: {outcome.status} after {took}.", "green", color))
        if outcome.status != "DELETE_COMPLETE" and outcome.stack and outcome.stack.get("Outputs"):
            print()
            print(_outputs_table(outcome.stack["Outputs"]))
        return EXIT_OK
    if outcome.timed_out:
        print(console.paint(f"Stopped following stack {stack_name} after {took} (--timeout {args.timeout:g}): "
                            f"it is still {outcome.status}; the operation goes on in AWS.", "red", color))
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


# ----------------------------------------------------------------------------- status

def _status(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stack_name = _stack_name(args, project)
    clients = connect(args)
    stack = changeset.describe_stack(clients.cloudformation, stack_name)
    if stack is None:
        print(f"Stack {stack_name} does not exist in {clients.region}.")
        return EXIT_FAILURE
    status = stack["StackStatus"]
    print(f"Stack:   {stack_name}")
    print(f"Region:  {clients.region}")
    print(f"Status:  {status}")
    if stack.get("StackStatusReason"):
        print(f"Reason:  {stack['StackStatusReason']}")
    print(f"Protect: termination protection {'on' if stack.get('EnableTerminationProtection') else 'off'}"
          + (" (a protected environment)" if args.settings.protected else ""))
    changed = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    if changed:
        print(f"Changed: {changed:%Y-%m-%d %H:%M:%S %Z}".rstrip())
    if status == "REVIEW_IN_PROGRESS":
        print(_not_deployed_yet(clients.cloudformation, stack, args))
    outputs = stack.get("Outputs") or []
    print()
    print(_outputs_table(outputs) if outputs else "Outputs: none")
    stuck = advice.next_step(status, stack_name, args.env, args.region)
    if stuck and not status.endswith("_IN_PROGRESS"):
        print()
        print(stuck)
        return EXIT_FAILURE
    return EXIT_OK


def _not_deployed_yet(cfn, stack: dict, args: argparse.Namespace) -> str:
    """What a stack in REVIEW_IN_PROGRESS holds: change sets waiting for review, or nothing at all."""
    at = f" --region {args.region}" if args.region else ""
    summaries = cfn.list_change_sets(StackName=stack["StackId"]).get("Summaries", [])
    waiting = [s for s in summaries if not s.get("Status", "").startswith("DELETE_")]
    if not waiting:
        return ("Not deployed yet, and no change set waits on it: an empty stack (no resources, no cost). "
                f"Remove it with `threetier delete {args.env}{at}`, or deploy with `threetier deploy {args.env}`.")
    names = ", ".join(f"{s.get('ChangeSetName', '')} ({s.get('Status', '')})" for s in waiting)
    return (f"Not deployed yet: {len(waiting)} change set(s) wait for review: {names}. "
            f"`threetier deploy {args.env}` creates and executes a fresh one; "
            f"`threetier delete {args.env}{at}` removes the stack and them.")


def _stack_name(args: argparse.Namespace, project: Path) -> str:
    """--stack-name, or the name the parameter file gives (no template check: nothing is created)."""
    if args.stack_name:
        return stack_name_for({}, project, args.stack_name)
    return load_stack_inputs(project, args.env).stack_name


def _outputs_table(outputs: list[dict]) -> str:
    rows = [("OUTPUT", "VALUE", "DESCRIPTION")] + [
        (o.get("OutputKey", ""), o.get("OutputValue", ""), o.get("Description", "")) for o in
        sorted(outputs, key=lambda o: o.get("OutputKey", ""))
    ]
    key_width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    return "\n".join(f"{k.ljust(key_width)}  {v.ljust(value_width)}  {d}".rstrip() for k, v, d in rows)


# ----------------------------------------------------------------------------- delete

def _delete(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stack_name = _stack_name(args, project)
    kept = advice.retained_resources(project / "output")
    clients = connect(args)
    cfn = clients.cloudformation
    stack = changeset.describe_stack(cfn, stack_name)
    if stack is None:
        print(f"Stack {stack_name} does not exist in {clients.region}: nothing to delete.")
        return EXIT_OK
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        print(advice.next_step(status, stack_name, args.env, args.region), file=sys.stderr)
        return EXIT_FAILURE

    color = console.wants_color(sys.stdout)
    guarded = protection.guarded(stack, args.settings.protected)
    if guarded and not args.disable_termination_protection:
        print(protection.refusal(stack, stack_name, args.env, args.settings, args.region), file=sys.stderr)
        return EXIT_FAILURE
    print(console.paint(f"Deleting stack {stack_name} ({status}) in {clients.region} deletes every "
                        "resource in it and in its nested stacks.", "red", color))
    if kept:
        print("These resources survive the delete because of their DeletionPolicy "
              "(delete them by hand when you no longer need them):")
        for resource in kept:
            only_if = f", if condition {resource.condition} held" if resource.condition else ""
            print(f"  - {resource.logical_id} ({resource.resource_type}) in {resource.file_name}: "
                  f"DeletionPolicy {resource.policy}{only_if}")
    question = f"Delete stack {stack_name}?"
    if guarded:
        question = (f"Stack {stack_name} is a protected environment: turn its termination protection off "
                    "and delete it?")
    answer = console.confirm(question, args.yes, sys.stdin, sys.stdout)
    if answer == console.NOT_INTERACTIVE:
        print("Refusing to delete without confirmation: stdin is not a terminal. "
              "Pass --yes to delete the stack.", file=sys.stderr)
        return EXIT_FAILURE
    if answer == console.DECLINED:
        print("Not confirmed: nothing was deleted.", file=sys.stderr)
        return EXIT_FAILURE

    stack_id = stack["StackId"]
    if stack.get("EnableTerminationProtection"):
        protection.unprotect(cfn, stack_id, stack_name, sys.stdout)
    start = events.baseline(cfn, stack_id)
    cfn.delete_stack(StackName=stack_id)
    print(f"Deleting stack {stack_name}; following its events:")
    outcome = events.follow(cfn, stack_id, stack_name, start, sys.stdout, clock=clock, sleep=sleep,
                            poll_seconds=EVENT_POLL_SECONDS, color=color, limit_seconds=args.timeout * 60)
    return _report_outcome(cfn, outcome, stack_name, args, ("DELETE_COMPLETE",), color)


# ----------------------------------------------------------------------------- drift

def _drift(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stack_name = _stack_name(args, project)
    clients = connect(args)
    cfn = clients.cloudformation
    stack = changeset.describe_stack(cfn, stack_name)
    if stack is None:
        print(f"Stack {stack_name} does not exist in {clients.region}.", file=sys.stderr)
        return EXIT_FAILURE
    stacks = drift.stack_tree(cfn, stack["StackId"], stack_name)
    print(f"detecting drift on {len(stacks)} stack(s) of {stack_name} ({clients.region})", file=sys.stderr)
    checked = drift.detect(cfn, stacks, sys.stderr, sleep=sleep, clock=clock, poll_seconds=DRIFT_POLL_SECONDS,
                           limit_seconds=args.timeout * 60)
    resources = [resource for stack_drift in checked for resource in drift.drifted_resources(cfn, stack_drift)]
    if args.json:
        sys.stdout.write(drift.render_json(stack_name, checked, resources))
    else:
        sys.stdout.write(drift.render_text(stack_name, clients.region, checked, resources, args.env))
    failed = any(stack_drift.detection_status == drift.FAILED for stack_drift in checked)
    return EXIT_FAILURE if resources or failed else EXIT_OK
