"""boto3 clients built from the common --region/--profile/--endpoint-url options, and the environment's
credentials (a profile, or a role to assume, from threetier.toml)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials
from botocore.exceptions import ClientError, ProfileNotFound

from threetier.deploy.errors import AwsError, InputError, aws_said
from threetier.deploy.settings import AssumedRole
from threetier.facts import regions

# Adaptive mode retries throttling and transient errors with exponential backoff, like standard
# mode, and on top slows the client down (a token bucket, one per client) once AWS throttles it:
# following a deploy polls the root and every nested stack (about 10) every 5 s through one
# CloudFormation client, so a throttled poll slows all of them, not one stack at a time.
# Up to 8 retries after the first attempt (in Config, botocore's max_attempts counts the retries:
# 9 attempts in all) rather than standard's 2; a poll that outlives them is borne by
# threetier.deploy.patience, which waits longer still before it stops following.
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
MAX_RETRIES = 8
RETRIES = Config(retries={"mode": "adaptive", "max_attempts": MAX_RETRIES})


@dataclass(frozen=True)
class Clients:
    cloudformation: Any
    s3: Any
    region: str
    endpoint_url: str | None = None
    sts: Any = None  # only asked when an account is pinned (threetier.toml)
    session: Any = None  # the boto3 session the clients come from, for more clients with the same credentials


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("AWS connection")
    group.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's region)")
    group.add_argument("--profile", help="named profile from your AWS config (default: the usual chain)")
    group.add_argument(
        "--endpoint-url", metavar="URL",
        help="send CloudFormation and S3 calls to this endpoint instead of AWS (a local emulator)",
    )


def make_session(region: str | None, profile: str | None, role: AssumedRole | None = None,
                 endpoint_url: str | None = None) -> boto3.Session:
    """A session with a region, acting as `role` when one is given; InputError names what is missing.
    Sends nothing to AWS (the role is assumed at the first call)."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise InputError(f"{error}: check --profile and your AWS config") from None
    if not session.region_name:
        raise InputError("no AWS region: pass --region, set AWS_REGION, or set a region in your profile")
    problem = regions.unknown_region_problem(session.region_name)
    if problem:
        raise InputError(f"region {session.region_name!r}: {problem}")
    if role is None:
        return session
    return _assuming(session, profile, role, endpoint_url)


def _assuming(base: boto3.Session, profile: str | None, role: AssumedRole, endpoint_url: str | None) -> boto3.Session:
    """A session whose credentials are `role`'s, assumed from `base`'s credentials on the first call
    and again before they expire.

    botocore's RefreshableCredentials refresh them 15 minutes before their expiry time (10 at the
    latest: _advisory_refresh_timeout and _mandatory_refresh_timeout in botocore/credentials.py),
    so following a long update outlasts AssumeRole's default one-hour session (DurationSeconds,
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html); the deferred kind
    fetches nothing until a request is signed, as botocore's own assume-role provider does."""
    sts = base.client("sts", endpoint_url=endpoint_url, config=RETRIES)
    provider = _AssumedRoleProvider(lambda: assume_role(sts, role))
    core = botocore.session.Session(profile=profile)
    core.register_component("credential_provider", CredentialResolver([provider]))
    return boto3.Session(botocore_session=core, region_name=base.region_name)


class _AssumedRoleProvider(CredentialProvider):
    METHOD = "assume-role"

    def __init__(self, fetch):
        super().__init__()
        self._fetch = fetch

    def load(self):
        return DeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)


def assume_role(sts, role: AssumedRole) -> dict[str, str]:
    """STS AssumeRole with the role's session name and external id, as botocore's credential metadata.

    RoleSessionName names the session in CloudTrail and in the assumed-role ARN; ExternalId is sent
    only when the role's trust policy asks for one (sts:ExternalId condition)
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)."""
    request = {"RoleArn": role.arn, "RoleSessionName": role.session_name}
    if role.external_id:
        request["ExternalId"] = role.external_id
    try:
        credentials = sts.assume_role(**request)["Credentials"]
    except ClientError as error:
        raise AwsError(f"could not assume role {role.arn} with the base credentials (--profile or the default "
                       f"chain): {aws_said(error)}; check the role's trust policy"
                       + (" and external_id" if role.external_id else "")) from None
    return {"access_key": credentials["AccessKeyId"], "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"], "expiry_time": credentials["Expiration"].isoformat()}


def check_endpoint_url(endpoint_url: str | None) -> None:
    """InputError unless --endpoint-url is an http(s) URL with a host (botocore raises a bare ValueError)."""
    if endpoint_url is None:
        return
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--endpoint-url {endpoint_url!r} is not a URL: give the scheme and host, "
                         "e.g. http://127.0.0.1:5000")


def make_clients(region: str | None, profile: str | None, endpoint_url: str | None,
                 role: AssumedRole | None = None) -> Clients:
    """Clients for CloudFormation, S3 and STS (as `role` when given); creating them sends nothing to AWS."""
    check_endpoint_url(endpoint_url)
    session = make_session(region, profile, role, endpoint_url)
    s3_config = RETRIES
    if endpoint_url:
        # Emulators serve buckets under the endpoint's path, not as sub-domains of it.
        s3_config = RETRIES.merge(Config(s3={"addressing_style": "path"}))
    return Clients(
        cloudformation=session.client("cloudformation", endpoint_url=endpoint_url, config=RETRIES),
        s3=session.client("s3", endpoint_url=endpoint_url, config=s3_config),
        region=session.region_name,
        endpoint_url=endpoint_url,
        sts=session.client("sts", endpoint_url=endpoint_url, config=RETRIES),
        session=session,
    )
