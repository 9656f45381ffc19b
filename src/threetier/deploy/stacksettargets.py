"""Where `threetier stackset` rolls an environment out: the `[ENV.stackset]` table of threetier.toml.

```toml
[prod.stackset]
permission_model = "service-managed"      # or "self-managed" (admin and execution roles you create)
regions = ["eu-west-1", "eu-central-1"]   # in this order, one at a time unless region_concurrency = "parallel"
failure_tolerance = 0                      # accounts per region that may fail before the operation stops
max_concurrent = 1                         # accounts per region at once

[[prod.stackset.targets]]
organizational_units = ["ou-ab12-cdef3456"]   # service-managed; self-managed takes `accounts`
parameters = { InstanceType = "t3.large" }    # overrides for this target's stack instances
```

Everything here is checked before any AWS call (InputError, exit 2): an OU id in another format
than the one the API takes, an account that is not 12 digits, a region botocore does not know,
the same account and region (or OU and region) in two targets, OUs with self-managed permissions
or accounts with service-managed ones, and a failure tolerance above 0 in a protected environment.
The region checks that need the environment's values (a feature a region lacks) are in
`threetier.deploy.commands.stackset`, which runs the parameter validation once per target region.

Sources:
- OU and root id patterns, and at most 50 OUs per operation:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html
  https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackInstances.html
- Operation preferences (region order, concurrency, failure tolerance):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationPreferences.html
- Service-managed stack sets target OUs of AWS Organizations; self-managed ones target accounts:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from threetier.facts.regions import unknown_region_problem

SERVICE_MANAGED = "service-managed"
SELF_MANAGED = "self-managed"
PERMISSION_MODELS = {SERVICE_MANAGED: "SERVICE_MANAGED", SELF_MANAGED: "SELF_MANAGED"}
# DeploymentTargets.OrganizationalUnitIds: an OU id, or the organization's root id.
OU_ID = re.compile(r"^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$")
STACK_SET_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,127}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
MAX_OUS_PER_OPERATION = 50
REGION_CONCURRENCY = {"sequential": "SEQUENTIAL", "parallel": "PARALLEL"}
CALL_AS = {"self": "SELF", "delegated-admin": "DELEGATED_ADMIN"}
TABLE = "stackset"
REGION_VARIABLE = "${AWS::Region}"
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class Target:
    """One `[[ENV.stackset.targets]]` entry: OUs or accounts, the regions (all of the stack set's unless
    it names some) and its parameter overrides."""

    number: int  # 1-based, as the user counts the entries
    organizational_units: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return self.organizational_units or self.accounts

    def label(self) -> str:
        return f"target {self.number} ({', '.join(self.names)})"

    def deployment_targets(self) -> dict:
        """CreateStackInstances' account side: DeploymentTargets with OUs, else Accounts."""
        if self.organizational_units:
            return {"DeploymentTargets": {"OrganizationalUnitIds": list(self.organizational_units)}}
        return {"Accounts": list(self.accounts)}

    def parameter_overrides(self) -> list[dict]:
        return [{"ParameterKey": key, "ParameterValue": value} for key, value in sorted(self.parameters.items())]


@dataclass(frozen=True)
class StackSetSettings:
    permission_model: str = SERVICE_MANAGED
    regions: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()
    name: str | None = None
    region_concurrency: str = "sequential"
    max_concurrent: int = 1
    failure_tolerance: int = 0
    failure_tolerance_percentage: int | None = None
    call_as: str = "self"
    administration_role_arn: str | None = None
    execution_role_name: str | None = None
    auto_deployment: bool = True
    retain_stacks_on_account_removal: bool = True
    code_bucket: str | None = None  # "name-${AWS::Region}": the rotation code's bucket in each target region
    organization_id: str | None = None  # o-...: the organization that reads the code buckets (bootstrap)

    @property
    def api_permission_model(self) -> str:
        return PERMISSION_MODELS[self.permission_model]

    def operation_preferences(self) -> dict:
        """StackSetOperationPreferences: the regions in the order given, one at a time by default, and
        the failure tolerance (a count, or a percentage when one is set). MaxConcurrentCount may be at
        most FailureToleranceCount + 1 in the default STRICT_FAILURE_TOLERANCE mode (API reference)."""
        preferences = {"RegionConcurrencyType": REGION_CONCURRENCY[self.region_concurrency],
                       "RegionOrder": list(self.regions)}
        if self.failure_tolerance_percentage is not None:
            preferences["FailureTolerancePercentage"] = self.failure_tolerance_percentage
        else:
            preferences["FailureToleranceCount"] = self.failure_tolerance
        preferences["MaxConcurrentCount"] = self.max_concurrent
        return preferences

    def call_as_argument(self) -> dict:
        """CallAs, only for service-managed stack sets (self-managed ones take no CallAs other than SELF)."""
        if self.permission_model != SERVICE_MANAGED:
            return {}
        return {"CallAs": CALL_AS[self.call_as]}

    def regions_of(self, target: Target) -> tuple[str, ...]:
        return target.regions or self.regions

    def instances(self) -> list[tuple[Target, str, str]]:
        """(target, account or OU, region) for every stack instance the settings ask for, regions in order."""
        return [(target, name, region) for region in self.regions for target in self.targets
                if region in self.regions_of(target) for name in target.names]


def parse(value, key: str = TABLE) -> StackSetSettings:
    """The `[ENV.stackset]` table as StackSetSettings; ValueError (one line, naming the setting) otherwise."""
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a table: [ENV.{key}]")
    known = {"permission_model", "regions", "targets", "name", "region_concurrency", "max_concurrent",
             "failure_tolerance", "failure_tolerance_percentage", "call_as", "administration_role_arn",
             "execution_role_name", "auto_deployment", "retain_stacks_on_account_removal", "code_bucket",
             "organization_id"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"{key}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    model = _choice(value.get("permission_model", SERVICE_MANAGED), f"{key}.permission_model", PERMISSION_MODELS)
    regions = _regions(value.get("regions"), f"{key}.regions", required=True)
    raw_targets = value.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets or not all(isinstance(t, dict) for t in raw_targets):
        raise ValueError(f"{key}.targets: give at least one [[ENV.{key}.targets]] table with "
                         "organizational_units or accounts")
    targets = tuple(_target(raw, number, model, regions, key) for number, raw in enumerate(raw_targets, 1))
    settings = StackSetSettings(
        permission_model=model, regions=regions, targets=targets,
        name=_optional(value, "name", key, _stack_set_name),
        region_concurrency=_choice(value.get("region_concurrency", "sequential"), f"{key}.region_concurrency",
                                   REGION_CONCURRENCY),
        max_concurrent=_whole(value.get("max_concurrent", 1), f"{key}.max_concurrent", 1),
        failure_tolerance=_whole(value.get("failure_tolerance", 0), f"{key}.failure_tolerance", 0),
        failure_tolerance_percentage=_optional(value, "failure_tolerance_percentage", key, _percentage),
        call_as=_choice(value.get("call_as", "self"), f"{key}.call_as", CALL_AS),
        administration_role_arn=_optional(value, "administration_role_arn", key, _role_arn),
        execution_role_name=_optional(value, "execution_role_name", key, _role_name),
        auto_deployment=_flag(value.get("auto_deployment", True), f"{key}.auto_deployment"),
        retain_stacks_on_account_removal=_flag(value.get("retain_stacks_on_account_removal", True),
                                               f"{key}.retain_stacks_on_account_removal"),
        code_bucket=_optional(value, "code_bucket", key, _code_bucket),
        organization_id=_optional(value, "organization_id", key, _organization_id),
    )
    _check_model_keys(settings, value, key)
    _check_concurrency(settings, value, key)
    _check_overlaps(settings, key)
    return settings


def protection_problem(settings: StackSetSettings, env: str) -> str | None:
    """A protected environment stops at the first failed account: no tolerance."""
    if settings.failure_tolerance or settings.failure_tolerance_percentage:
        return (f"{TABLE}.failure_tolerance must be 0 in {env}, a protected environment: an operation on it stops "
                "at the first failed stack instance (set protected = false in its table to allow more)")
    return None


def _target(raw: dict, number: int, model: str, regions: tuple[str, ...], key: str) -> Target:
    where = f"{key}.targets[{number}]"
    unknown = sorted(set(raw) - {"organizational_units", "accounts", "regions", "parameters"})
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: accounts, organizational_units, "
                         "parameters, regions)")
    ous = _strings(raw.get("organizational_units", []), f"{where}.organizational_units")
    accounts = _strings(raw.get("accounts", []), f"{where}.accounts")
    if bool(ous) == bool(accounts):
        raise ValueError(f"{where}: give either organizational_units (service-managed) or accounts "
                         "(self-managed), not both and not neither")
    if ous and model != SERVICE_MANAGED:
        raise ValueError(f"{where}.organizational_units: a {model} stack set targets accounts; set "
                         f"permission_model = \"{SERVICE_MANAGED}\" to target OUs")
    if accounts and model != SELF_MANAGED:
        raise ValueError(f"{where}.accounts: a {model} stack set targets organizational units (ou-... or r-...); "
                         f"set permission_model = \"{SELF_MANAGED}\" to target accounts")
    for ou in ous:
        if not OU_ID.match(ou):
            raise ValueError(f"{where}.organizational_units: {ou!r} is not an OU id like ou-ab12-cdef3456 "
                             "(ou-, 4 to 32 lower-case letters or digits, -, 8 to 32 more) or a root id "
                             "like r-ab12")
    if len(ous) > MAX_OUS_PER_OPERATION:
        raise ValueError(f"{where}.organizational_units: {len(ous)} OUs; an operation takes at most "
                         f"{MAX_OUS_PER_OPERATION}: target their parent OU instead")
    from threetier.deploy.settings import ACCOUNT_ID  # (settings imports this module)

    for account in accounts:
        if not ACCOUNT_ID.match(account):
            raise ValueError(f"{where}.accounts: {account!r} is not an AWS account id: 12 digits, in quotes")
    own = _regions(raw.get("regions"), f"{where}.regions", required=False)
    outside = [region for region in own if region not in regions]
    if outside:
        raise ValueError(f"{where}.regions: {', '.join(outside)} is not in {key}.regions "
                         f"({', '.join(regions)}), which sets the order regions are deployed in")
    parameters = raw.get("parameters", {})
    if not isinstance(parameters, dict) or not all(isinstance(v, str) for v in parameters.values()):
        raise ValueError(f"{where}.parameters must be a table of strings, e.g. parameters = "
                         "{ InstanceType = \"t3.large\" }")
    return Target(number, ous, accounts, own, dict(parameters))


def _check_model_keys(settings: StackSetSettings, value: dict, key: str) -> None:
    if settings.permission_model == SERVICE_MANAGED:
        wrong = [name for name in ("administration_role_arn", "execution_role_name") if name in value]
        if wrong:
            raise ValueError(f"{key}.{wrong[0]} belongs to self-managed permissions; a service-managed stack set "
                             "uses the roles StackSets creates in each account")
    else:
        wrong = [name for name in ("call_as", "auto_deployment", "retain_stacks_on_account_removal")
                 if name in value]
        if wrong:
            raise ValueError(f"{key}.{wrong[0]} belongs to service-managed permissions (AWS Organizations)")


def _check_concurrency(settings: StackSetSettings, value: dict, key: str) -> None:
    if "failure_tolerance" in value and "failure_tolerance_percentage" in value:
        raise ValueError(f"{key}: set failure_tolerance or failure_tolerance_percentage, not both")
    if settings.failure_tolerance_percentage is None and settings.max_concurrent > settings.failure_tolerance + 1:
        raise ValueError(f"{key}.max_concurrent {settings.max_concurrent} is more than failure_tolerance + 1 "
                         f"({settings.failure_tolerance + 1}): StackSets refuses that in its default strict "
                         "failure tolerance mode")


def _check_overlaps(settings: StackSetSettings, key: str) -> None:
    """Two targets that deploy the same account (or OU) to the same region would both own its stack
    instance, with different overrides: refuse, naming both."""
    seen: dict[tuple[str, str], Target] = {}
    for target, name, region in settings.instances():
        earlier = seen.setdefault((name, region), target)
        if earlier is not target:
            raise ValueError(f"{key}.targets[{earlier.number}] and targets[{target.number}] both deploy {name} "
                             f"in {region}: each account (or OU) and region belongs to one target")


def _regions(value, where: str, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    regions = _strings(value if value is not None else [], where)
    if not regions:
        raise ValueError(f"{where}: list the regions to deploy to, in order, e.g. [\"eu-west-1\", \"eu-central-1\"]")
    for region in regions:
        problem = unknown_region_problem(region)
        if problem:
            raise ValueError(f"{where}: {region!r} is {problem}")
    if len(set(regions)) != len(regions):
        raise ValueError(f"{where}: a region is listed twice")
    return regions


def _strings(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where} must be a list of strings in quotes")
    return tuple(value)


def _choice(value, where: str, allowed: dict) -> str:
    if value not in allowed:
        raise ValueError(f"{where} {value!r}: use one of {', '.join(repr(name) for name in allowed)}")
    return value


def _whole(value, where: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{where} must be a whole number, at least {least}")
    return value


def _flag(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where} must be true or false (no quotes)")
    return value


def _optional(value: dict, name: str, key: str, check):
    return check(value[name], f"{key}.{name}") if name in value else None


def _percentage(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f"{where} must be a whole number from 0 to 100")
    return value


def _pattern(pattern: re.Pattern, example: str):
    def check(value, where: str) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"{where} {value!r} is not {example}")
        return value
    return check


def code_bucket_in(pattern: str, region: str) -> str:
    return pattern.replace(REGION_VARIABLE, region)


def code_bucket_parts(pattern: str) -> tuple[str, str]:
    """The text before and after ${AWS::Region} (output/code-bucket.yaml names its bucket from them)."""
    before, _, after = pattern.partition(REGION_VARIABLE)
    return before, after


def _code_bucket(value, where: str) -> str:
    """A bucket name with ${AWS::Region} in it: Lambda reads a function's code only from a bucket in the
    function's own region (AWS::Lambda::Function Code, S3Bucket)."""
    if not isinstance(value, str) or value.count(REGION_VARIABLE) != 1 or not BUCKET_NAME.match(
            code_bucket_in(value, "ap-southeast-5")):
        raise ValueError(f"{where} {value!r} is not a bucket name with {REGION_VARIABLE} in it once, e.g. "
                         "\"my-code-${AWS::Region}\" (Lambda reads code only from a bucket in the function's region)")
    return value


_stack_set_name = _pattern(STACK_SET_NAME, "a stack set name: a letter, then letters, digits and hyphens")
def _role_arn(value, where: str) -> str:
    from threetier.deploy.settings import ROLE_ARN  # (settings imports this module)

    return _pattern(ROLE_ARN, "a role ARN like arn:aws:iam::123456789012:role/AWSCloudFormationStackSetAdministrationRole")(
        value, where)
_role_name = _pattern(ROLE_NAME, "a role name like AWSCloudFormationStackSetExecutionRole")
# Organization.Id: https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
_organization_id = _pattern(re.compile(r"^o-[a-z0-9]{10,32}$"),
                            "an organization id like o-abc123def4 (aws organizations describe-organization)")
