"""What plan and deploy need before they may change anything, checked all at once.

A newcomer with nothing set up would otherwise meet one missing thing per run (the bucket, then the
region, then the credentials); here every one is listed with its fix in one report (InputError, exit 2).
Each check that needs AWS (the account pin, the bucket's region) runs only once the checks before it
passed, and only reads.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import boto3
from botocore.exceptions import ProfileNotFound

from threetier.deploy import settings
from threetier.deploy.errors import InputError
from threetier.deploy.session import Clients

NO_CREDENTIALS = "no AWS credentials found: pass --profile, or run `aws configure` or `aws sso login`"


def connect(args: argparse.Namespace, make_clients: Callable[[], Clients],
            check_account: Callable[[Clients], None], bucket_region: Callable[[object, str], str],
            stale: str | None = None, check_inputs: Callable[[Clients], None] | None = None) -> Clients:
    """The command's clients once every precondition holds; else InputError listing every one that does not.

    `stale` is what is wrong with output/ (or None); `check_inputs` checks the command's local inputs (the
    parameter file, for the region the clients settle) and raises InputError; the other callables are the
    deploy commands' seams. Bad input is reported before any AWS call: the checks that read AWS run only
    once the inputs passed."""
    problems = [problem for problem in (_bucket_missing(args), stale) if problem]
    clients = None
    try:
        clients = make_clients()
    except InputError as error:
        problems.append(str(error))
    inputs_wrong = False
    if clients is not None and check_inputs is not None:
        try:
            check_inputs(clients)
        except InputError as error:
            problems.append(str(error))
            inputs_wrong = True
    if not _has_credentials(args, clients):
        problems.append(NO_CREDENTIALS)
    elif clients is not None and not inputs_wrong:
        problems += _remote_problems(args, clients, check_account, bucket_region)
    if problems:
        raise InputError(report(args, problems))
    return clients


def report(args: argparse.Namespace, problems: list[str]) -> str:
    """One problem is one line, as every other input error; more are a list under a heading."""
    if len(problems) == 1:
        return problems[0]
    return "\n".join([f"{len(problems)} things to fix before {args.command} {args.env} can run (nothing was changed):",
                      *(f"  - {problem}" for problem in problems)])


def _bucket_missing(args: argparse.Namespace) -> str | None:
    try:
        settings.require_bucket(args)
    except InputError as error:
        return (f"{error} (create one in the deploy region: "
                f"aws s3 mb s3://NAME --region {getattr(args, 'region', None) or 'REGION'})")
    return None


def _has_credentials(args: argparse.Namespace, clients: Clients | None) -> bool:
    """Whether botocore finds credentials (asks nothing of AWS). Clients made without a session (tests'
    stubs) carry their own."""
    if clients is not None:
        return clients.session is None or clients.session.get_credentials() is not None
    try:
        return boto3.Session(profile_name=args.profile).get_credentials() is not None
    except ProfileNotFound:
        return True  # the profile's own problem is already listed by make_clients


def _remote_problems(args: argparse.Namespace, clients: Clients, check_account, bucket_region) -> list[str]:
    problems = []
    try:
        check_account(clients)
    except InputError as error:
        problems.append(str(error))
    if args.bucket and not problems:
        try:
            found = bucket_region(clients.s3, args.bucket)
        except InputError as error:
            problems.append(str(error))
        else:
            if found != clients.region:
                problems.append(f"bucket {args.bucket} is in {found}, the stack would be in {clients.region}: "
                                f"use a bucket in {clients.region} (--bucket, or bucket in threetier.toml), "
                                f"or deploy in {found} (--region)")
    return problems
