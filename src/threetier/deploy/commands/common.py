"""What every deploy command shares: settings filled in, AWS clients, one clear line per error.

`sleep`, `clock`, `make_clients` and `make_ec2` are looked up here at call time, so tests
replace them in this module and nothing waits or calls AWS for real.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

from threetier import emit
from threetier.emit import manifest
from threetier.deploy import changeset, cleanup, drift, events, preflight as preflight_checks, quickcreate, settings
from threetier.deploy.errors import EXIT_DETACHED, EXIT_FAILURE, EXIT_USAGE, AwsError, InputError, aws_said
from threetier.deploy.inputs import load_stack_inputs, stack_name_for
from threetier.deploy.patience import EXPIRED_CREDENTIALS, Detached
from threetier.deploy.session import RETRIES, Clients, make_clients, make_session
from threetier.review import console

# Tests replace these so that nothing waits for real.
sleep = time.sleep
bucket_region = quickcreate.bucket_region
clock = time.monotonic
CHANGE_SET_POLL_SECONDS = 2.0
EVENT_POLL_SECONDS = 5.0
DRIFT_POLL_SECONDS = 5.0

EXIT_INTERRUPTED = 130


def guarded(command, args: argparse.Namespace) -> int:
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
    clients = clients_for(args)
    check_pinned_account(args, clients)
    return clients


def preflight(args: argparse.Namespace, check_inputs=None) -> Clients:
    """Clients for plan and deploy once every precondition holds (threetier.deploy.preflight): output/
    generated from the code as it is (or regenerated, --regenerate), the bucket, the region, the
    credentials, the command's own inputs (`check_inputs(clients)`, before any AWS call), the pinned
    account, the bucket's region; else InputError listing them all."""
    stale = manifest.check(emit.find_project(args.project_dir), getattr(args, "regenerate", False))
    return preflight_checks.connect(args, lambda: clients_for(args), lambda clients: check_pinned_account(args, clients),
                                    lambda s3, bucket: bucket_region(s3, bucket), stale=stale,
                                    check_inputs=check_inputs)


def environment_session(args: argparse.Namespace, region: str) -> boto3.Session:
    """A session with the environment's credentials (the profile, flag or setting, or the role the settings
    assume), for a command that reads no stack (`cost --live`); bad settings are an InputError, and nothing
    is sent to AWS until its first call."""
    _with_settings(args)
    return make_session(region, args.profile, settings.assumed_role(args))


def clients_for(args: argparse.Namespace, region: str | None = None) -> Clients:
    """Clients with the environment's credentials: the profile (flag or setting), or the role the
    settings assume; in `region` rather than the environment's when given (the us-east-1 companion
    stack's); creating them sends nothing to AWS."""
    role = settings.assumed_role(args)
    region = region or args.region
    if role is None:
        return make_clients(region, args.profile, args.endpoint_url)
    return make_clients(region, args.profile, args.endpoint_url, role=role)


def check_pinned_account(args: argparse.Namespace, clients: Clients) -> None:
    """Refuse (InputError, exit 2) credentials for another account than the one pinned for the environment."""
    pinned = getattr(args, "settings", None)
    if pinned is not None and pinned.account_id:
        account = settings.check_account(clients.sts, pinned)
        role = f" (as role {pinned.role_to_assume})" if pinned.role_to_assume else ""
        print(f"account {account}{role} and region {clients.region}, as pinned for {args.env} in {pinned.source}",
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
    except Detached as error:
        # Polling a running operation stopped before following it started (threetier watch's first calls).
        env = getattr(args, "env", "ENV")
        refresh = "refresh your credentials (e.g. `aws sso login`), then " if error.credentials else ""
        print(f"{name}: stopped: {error.reason}. Whatever runs on the stack goes on in AWS; "
              f"{refresh}re-attach with `threetier watch {env}`.", file=sys.stderr)
        return EXIT_DETACHED
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
              f"re-attach with `threetier watch {env}`, or check it with `threetier status {env}`.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _raised_by_response_parser(error: BaseException) -> bool:
    """botocore's parsers fail with a bare KeyError (and the like) on XML that is not the expected answer."""
    tb = error.__traceback__
    while tb and tb.tb_next:
        tb = tb.tb_next
    return bool(tb) and tb.tb_frame.f_globals.get("__name__") == "botocore.parsers"


def make_client(clients: Clients, profile: str | None, service: str):
    """A client of `service` for the region, credentials and endpoint of `clients` (creating it sends nothing)."""
    session = clients.session or boto3.Session(profile_name=profile, region_name=clients.region)
    return session.client(service, endpoint_url=clients.endpoint_url, config=RETRIES)


def make_client_in(clients: Clients, profile: str | None, service: str, region: str):
    """A client of `service` in another `region`, with the credentials and endpoint of `clients` (the
    backup region's vault, `threetier recovery-points` and `restore`)."""
    session = clients.session or boto3.Session(profile_name=profile, region_name=clients.region)
    return session.client(service, region_name=region, endpoint_url=clients.endpoint_url, config=RETRIES)


def make_ec2(clients: Clients, profile: str | None):
    return make_client(clients, profile, "ec2")


def confirmed(question: str, args: argparse.Namespace, *, verb: str, refused_tail: str, declined: str) -> bool:
    """Ask `question` (or take --yes); when not confirmed, say why on stderr: no terminal to ask
    (`Refusing to <verb> without confirmation ... Pass --yes<refused_tail>`) or the answer was no."""
    answer = console.confirm(question, args.yes, sys.stdin, sys.stdout)
    if answer == console.NOT_INTERACTIVE:
        print(f"Refusing to {verb} without confirmation: stdin is not a terminal. Pass --yes{refused_tail}",
              file=sys.stderr)
    elif answer != console.CONFIRMED:
        print(f"Not confirmed: {declined}.", file=sys.stderr)
    return answer == console.CONFIRMED


def follow(cfn, stack_id: str, stack_name: str, start, args: argparse.Namespace, color: bool,
           total: int | None = None) -> events.Outcome:
    """Follow the stack's events from `start` with the command's seams and its --timeout."""
    return events.follow(cfn, stack_id, stack_name, start, sys.stdout, total=total, clock=clock, sleep=sleep,
                         poll_seconds=EVENT_POLL_SECONDS, color=color, limit_seconds=args.timeout * 60)


def root_stack(args: argparse.Namespace) -> tuple[str, Clients, dict | None]:
    """(the environment's root stack name, the connected clients, its DescribeStacks entry or None)."""
    name = stack_name(args, emit.find_project(args.project_dir))
    clients = connect(args)
    return name, clients, changeset.describe_stack(clients.cloudformation, name)


def stack_name(args: argparse.Namespace, project: Path) -> str:
    """--stack-name, or the name the parameter file gives (no template check: nothing is created)."""
    if args.stack_name:
        return stack_name_for({}, project, args.stack_name)
    return load_stack_inputs(project, args.env).stack_name

