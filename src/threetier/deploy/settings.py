"""Pinned environments: threetier.toml, one table per environment, read before any AWS call.

It holds what would otherwise be typed as flags on every command (account, region,
credentials, template bucket and prefix, stack name, CloudFormation role, stack tags,
notification topics, rollback triggers, protection), in the convention the AWS SAM CLI uses
for its samconfig.toml (one TOML file, a table per environment). parameters/ENV.json stays
plain AWS CLI format.

Credentials: `profile` names a profile of the AWS config files, or `role_to_assume` names a
role every command of the environment assumes (STS AssumeRole, with `session_name` and an
optional `external_id`) from the base credentials (--profile or the default chain). Not both.

A flag overrides a setting, except the account and the region: those are pins, and a
flag or credentials that disagree are refused (exit 2) instead of used.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from threetier.deploy import stacksettargets
from threetier.deploy.errors import InputError

FILE_NAME = "threetier.toml"
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$")
# AssumeRole's RoleSessionName: 2 to 64 of [\w+=,.@-]; ExternalId: 2 to 1224 of [\w+=,.@:/-]
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
# A profile name is a section name of the AWS config file: no brackets, no spaces at the ends.
PROFILE_NAME = re.compile(r"^[^\[\]\s](?:[^\[\]]*[^\[\]\s])?$")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[\w-]+$")
# CloudFormation allows a rollback monitoring time of 0 to 180 minutes
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-rollback-triggers.html).
MAX_MONITORING_MINUTES = 180
DEFAULT_MONITORING_MINUTES = 10
# Environments protected from deletion unless their table says otherwise.
PROTECTED_BY_DEFAULT = ("prod",)
DEFAULT_PREFIX = "threetier"


@dataclass(frozen=True)
class AssumedRole:
    """The role an environment's commands act as (STS AssumeRole from the base credentials)."""

    arn: str
    session_name: str
    external_id: str | None = None


@dataclass(frozen=True)
class Settings:
    env: str
    source: Path | None = None  # the file the values came from; None when there is none
    account_id: str | None = None
    region: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    stack_name: str | None = None
    role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    notification_arns: tuple[str, ...] = ()
    rollback_triggers: bool = True
    rollback_monitoring_minutes: int = DEFAULT_MONITORING_MINUTES
    protected: bool = False
    profile: str | None = None
    role_to_assume: str | None = None
    session_name: str | None = None
    external_id: str | None = None
    stackset: stacksettargets.StackSetSettings | None = None  # [ENV.stackset]: `threetier stackset`

    def assumed_role(self) -> AssumedRole | None:
        """The role to assume, when the environment names one; the session name defaults to
        threetier-ENV (it shows in CloudTrail as the assumed role's session)."""
        if not self.role_to_assume:
            return None
        return AssumedRole(self.role_to_assume, self.session_name or f"threetier-{self.env}", self.external_id)


def _string(value, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string in quotes")
    return value


def _account(value, key: str) -> str:
    if not isinstance(value, str) or not ACCOUNT_ID.match(value):
        raise ValueError(f"{key} {value!r} is not an AWS account id: 12 digits, in quotes "
                         "(a TOML number would lose leading zeros), e.g. \"123456789012\"")
    return value


def _boolean(value, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false (no quotes)")
    return value


def _minutes(value, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MONITORING_MINUTES:
        raise ValueError(f"{key} must be a whole number of minutes from 0 to {MAX_MONITORING_MINUTES}")
    return value


def _matching(pattern: re.Pattern, example: str, what: str = "an ARN like"):
    def check(value, key: str) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"{key} {value!r} is not {what} {example}")
        return value
    return check


def _tags(value, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{key} must be a table of strings, e.g. {key} = {{ team = \"web\" }}")
    return dict(value)


def _topics(value, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list of SNS topic ARNs")
    check = _matching(TOPIC_ARN, "arn:aws:sns:us-east-1:123456789012:deploys")
    return tuple(check(item, key) for item in value)


def _profile(value, key: str) -> str:
    if not isinstance(value, str) or not PROFILE_NAME.match(value):
        raise ValueError(f"{key} must be the name of a profile in your AWS config, in quotes, e.g. {key} = \"dev\"")
    return value


# key -> how its value is checked (and turned into the Settings field of the same name)
KEYS = {
    "account_id": _account,
    "region": _string,
    "bucket": _string,
    "prefix": _string,
    "stack_name": _string,
    "role_arn": _matching(ROLE_ARN, "arn:aws:iam::123456789012:role/cloudformation-deploy"),
    "tags": _tags,
    "notification_arns": _topics,
    "rollback_triggers": _boolean,
    "rollback_monitoring_minutes": _minutes,
    "protected": _boolean,
    "profile": _profile,
    "role_to_assume": _matching(ROLE_ARN, "arn:aws:iam::123456789012:role/deployer"),
    "session_name": _matching(SESSION_NAME, "threetier-dev (2 to 64 letters, digits and +=,.@_-)",
                              what="a role session name like"),
    "external_id": _matching(EXTERNAL_ID, "2 to 1224 letters, digits and +=,.@:/_-",
                             what="an external id:"),
    "stackset": stacksettargets.parse,
}


def default_path(project: Path) -> Path:
    return project / FILE_NAME


def is_protected(project: Path, env: str) -> bool:
    """Whether `env` is protected, for the local checks (`threetier validate`): `protected` in its table of
    threetier.toml, else prod. Unlike `load`, an environment without a table is no error here (validate
    needs no pins); a file that is not TOML, or a `protected` that is no boolean, is (InputError)."""
    path = default_path(project)
    if not path.is_file():
        return env in PROTECTED_BY_DEFAULT
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get(env)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None
    if not isinstance(table, dict) or "protected" not in table:
        return env in PROTECTED_BY_DEFAULT
    try:
        return _boolean(table["protected"], "protected")
    except ValueError as error:
        raise InputError(f"{path}: [{env}] {error}") from None


def stackset_of(project: Path, env: str) -> stacksettargets.StackSetSettings | None:
    """The `[ENV.stackset]` table of threetier.toml, for the local checks (`threetier validate`): None without
    a file, a table or a stackset key; InputError for one that `threetier stackset` would refuse."""
    path = default_path(project)
    if not path.is_file():
        return None
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get(env)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None
    if not isinstance(table, dict) or "stackset" not in table:
        return None
    try:
        return stacksettargets.parse(table["stackset"])
    except ValueError as error:
        raise InputError(f"{path}: [{env}] {error}") from None


def load(project: Path, env: str, path: Path | None = None) -> Settings:
    """The settings of `env`. Without a settings file (and without --settings) nothing is pinned;
    InputError (one line) for a file that is malformed, misses the environment or has a bad value."""
    explicit = path is not None
    path = path or default_path(project)
    unpinned = Settings(env=env, protected=env in PROTECTED_BY_DEFAULT)
    if not path.is_file():
        if explicit:
            raise InputError(f"{path}: no such settings file")
        return unpinned
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None
    tables = {name: table for name, table in document.items() if isinstance(table, dict)}
    loose = [name for name in document if name not in tables]
    if loose:
        raise InputError(f"{path}: {', '.join(loose)} must be inside an environment table such as [{env}]")
    if env not in tables:
        raise InputError(f"{path}: no [{env}] table (environments: {', '.join(tables) or 'none'}); "
                         f"add one to pin {env}'s account and region")
    values = {}
    for key, value in tables[env].items():
        check = KEYS.get(key)
        if check is None:
            raise InputError(f"{path}: [{env}] unknown key {key!r} (known: {', '.join(KEYS)})")
        try:
            values[key] = check(value, key)
        except ValueError as error:
            raise InputError(f"{path}: [{env}] {error}") from None
    problem = _credentials_problem(values)
    if problem:
        raise InputError(f"{path}: [{env}] {problem}")
    return Settings(**{**unpinned.__dict__, "source": path, **values})


def _credentials_problem(values: dict) -> str | None:
    """Why the credential keys of a table do not fit together, or None."""
    if "profile" in values and "role_to_assume" in values:
        return ("profile and role_to_assume are both set: choose one (to assume the role from a profile's "
                "credentials, pass --profile on the command line)")
    loose = [key for key in ("session_name", "external_id") if key in values and "role_to_assume" not in values]
    if loose:
        return f"{' and '.join(loose)} without role_to_assume: they belong to the role to assume"
    return None


def apply(args: argparse.Namespace, settings: Settings) -> None:
    """Fill the options the command line left out from the settings; refuse a --region that
    disagrees with the pinned one (exit 2), since that is what pinning is for."""
    args.settings = settings
    if settings.region and getattr(args, "region", None) and args.region != settings.region:
        raise InputError(f"--region {args.region} disagrees with region {settings.region} pinned for "
                         f"{settings.env} in {settings.source}: nothing was sent to AWS")
    for name in ("region", "profile", "bucket", "prefix", "stack_name", "role_arn"):
        if hasattr(args, name) and getattr(args, name) is None:
            setattr(args, name, getattr(settings, name))
    if hasattr(args, "prefix") and args.prefix is None:
        args.prefix = DEFAULT_PREFIX


def assumed_role(args: argparse.Namespace) -> AssumedRole | None:
    """The role the command's environment assumes (None without settings or without a role)."""
    pinned = getattr(args, "settings", None)
    return pinned.assumed_role() if pinned is not None else None


def require_bucket(args: argparse.Namespace) -> str:
    if not getattr(args, "bucket", None):
        table = f"the [{args.env}] table of {FILE_NAME}" if getattr(args, "env", None) else FILE_NAME
        raise InputError(f"no template bucket: pass --bucket, or set bucket in {table}")
    return args.bucket


def check_account(sts, settings: Settings) -> str | None:
    """The credentials' account (STS GetCallerIdentity) when an account is pinned; InputError when
    it is another one. Nothing else is sent to AWS before this."""
    if not settings.account_id:
        return None
    account = sts.get_caller_identity()["Account"]
    if account != settings.account_id:
        raise InputError(f"these credentials are for account {account}, but {settings.env} is pinned to "
                         f"account {settings.account_id} in {settings.source}: refusing; use credentials "
                         f"for {settings.account_id} (--profile, or profile or role_to_assume in [{settings.env}])")
    return account
