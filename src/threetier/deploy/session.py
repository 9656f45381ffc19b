"""boto3 clients built from the common --region/--profile/--endpoint-url options."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from threetier.deploy.errors import InputError
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


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("AWS connection")
    group.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's region)")
    group.add_argument("--profile", help="named profile from your AWS config (default: the usual chain)")
    group.add_argument(
        "--endpoint-url", metavar="URL",
        help="send CloudFormation and S3 calls to this endpoint instead of AWS (a local emulator)",
    )


def make_session(region: str | None, profile: str | None) -> boto3.Session:
    """A session with a region; InputError names what is missing. Sends nothing to AWS."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise InputError(f"{error}: check --profile and your AWS config") from None
    if not session.region_name:
        raise InputError("no AWS region: pass --region, set AWS_REGION, or set a region in your profile")
    problem = regions.unknown_region_problem(session.region_name)
    if problem:
        raise InputError(f"region {session.region_name!r}: {problem}")
    return session


def check_endpoint_url(endpoint_url: str | None) -> None:
    """InputError unless --endpoint-url is an http(s) URL with a host (botocore raises a bare ValueError)."""
    if endpoint_url is None:
        return
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--endpoint-url {endpoint_url!r} is not a URL: give the scheme and host, "
                         "e.g. http://127.0.0.1:5000")


def make_clients(region: str | None, profile: str | None, endpoint_url: str | None) -> Clients:
    """Clients for CloudFormation and S3; creating them sends nothing to AWS."""
    check_endpoint_url(endpoint_url)
    session = make_session(region, profile)
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
    )
