"""Check a parameter file before anything is sent to AWS.

`validate(template, values, ...)` runs every function in CHECKS, in order, and
returns all the problems at once. Each check guards the parameters its
docstring names and returns `Problem`s; a check whose parameters are not
declared by the template (a project with a different root) returns nothing.

A problem is dropped when an earlier check already reported one of the
parameters it reads, so one bad value gives one message, not a cascade (a
non-numeric AsgMinSize is a constraint error, not also a sizing error).

The per-value checks read the template's Parameters section (AllowedValues,
AllowedPattern, length, range): they are the only implementation of those, and
the deploy wrapper (`threetier.deploy.inputs`) uses them too. The cross-field
checks read the names from `threetier.parameters`. The root template's own
Rules are evaluated last, offline, with `threetier.parameters.evaluate`.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
from dataclasses import dataclass, field

from threetier import parameters as P
from threetier.facts import architectures, ec2types, engines
from threetier.facts.engines import ENGINES as ENGINE_TABLE, NO_PERFORMANCE_INSIGHTS
from threetier.facts.regions import (
    AZ_COUNTS,
    CLOUDFRONT_LOGS_UNSUPPORTED,
    COMMERCIAL_PARTITION,
    COMMERCIAL_PARTITION as COMPANION_PARTITION,
    partition_of,
    unknown_region_problem,
)
from threetier.parameters.evaluate import Evaluation

ERROR = "error"
WARNING = "warning"
NOTE = "note"
SEVERITIES = (ERROR, WARNING, NOTE)

CLOUDFRONT_PREFIX_LIST_NAME = "com.amazonaws.global.cloudfront.origin-facing"
# Parameters `threetier plan`/`deploy` fill in themselves when the file leaves them empty.
FILLED_BY_PLAN = frozenset({P.CLOUDFRONT_PREFIX_LIST_ID.name, P.AVAILABILITY_ZONE_NAMES.name})
# CloudFront takes its certificate and its (CLOUDFRONT-scoped) web ACL from us-east-1 only: outside
# it, `threetier plan`/`deploy` create them in the companion stack there (output/edge-us-east-1.yaml,
# threetier.deploy.companion) and fill these in from its outputs.
# https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
# https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html
COMPANION_REGION = "us-east-1"
COMPANION_TEMPLATE = "edge-us-east-1.yaml"
# {parameter of the main stack: the companion stack's output it takes}
COMPANION_OUTPUTS = {P.CLOUDFRONT_CERTIFICATE_ARN.name: "CertificateArn", P.WEB_ACL_ARN.name: "WebAclArn"}
FILLED_BY_COMPANION = frozenset(COMPANION_OUTPUTS)


PRIVATE_RANGES = tuple(ipaddress.ip_network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
SUBNET_COUNT = 9  # public, app and data subnets in up to three AZs (see templates/network.py)

# RDS instance class families per engine (MySQL 8.4, PostgreSQL 16), from the
# RDS "Supported DB engines for DB instance classes" table. Extend when AWS adds one.
_COMMON_FAMILIES = (
    "t3", "t4g",
    "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6idn", "m6in", "m7g", "m7i", "m8g",
    "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6idn", "r6in", "r7g", "r7i", "r8g",
    "x2g", "x2idn", "x2iedn",
)
ENGINES = {engine: row["Label"] for engine, row in ENGINE_TABLE.items()}
DB_INSTANCE_FAMILIES = {
    "mysql": _COMMON_FAMILIES,
    "postgres": _COMMON_FAMILIES,
}
BURSTABLE_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_LARGE_SIZE = re.compile(r"^(large|xlarge|[0-9]+xlarge)$")
_DB_CLASS = re.compile(r"^db\.([a-z0-9]+)\.([a-z0-9]+)$")

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_ACM_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):")
_KNOWN_LIST_LIMIT = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a parameter file; `related` names the other parameters it read."""

    parameter: str
    value: str | None
    message: str
    severity: str = ERROR
    related: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = self.parameter if self.value is None else f"{self.parameter}={self.value!r}"
        prefix = "" if self.severity == ERROR else f"{self.severity}: "
        return f"{prefix}{where}: {self.message}"


@dataclass(frozen=True)
class Inputs:
    """What the checks read: the template's Parameters and Rules, the file's values, the situation."""

    declared: dict
    given: dict[str, str]
    region: str | None = None
    allow_insecure: bool = False
    filled_later: frozenset[str] = frozenset()
    rules: dict = field(default_factory=dict)
    protected: bool = False  # a protected environment (threetier.deploy.settings: prod unless threetier.toml says)

    def declares(self, *names: str) -> bool:
        return all(name in self.declared for name in names)

    def value(self, name: str) -> str | None:
        """The file's value, else the template default; None if the template lacks the parameter."""
        if name not in self.declared:
            return None
        if name in self.given:
            return self.given[name]
        default = (self.declared[name] or {}).get("Default")
        return None if default is None else str(default)

    def number(self, name: str) -> float | None:
        try:
            return float(self.value(name))
        except (TypeError, ValueError):
            return None

    def shown(self, name: str) -> str:
        """`Name=value`, saying when the value is the template default."""
        return f"{name}={self.value(name)}" + ("" if name in self.given else " (the default)")

    def effective(self) -> dict[str, str]:
        """Declared parameters the file sets, as CloudFormation would receive them."""
        return {k: v for k, v in self.given.items() if k in self.declared}


# ----------------------------------------------------------------------------- running

def validate(template: dict, values: dict[str, str], region: str | None = None,
             allow_insecure: bool = False, filled_later: frozenset[str] = frozenset(),
             protected: bool = False) -> list[Problem]:
    """Every problem with `values` for `template`: errors, then warnings, then notes, each in check order.
    `protected`: the values are a protected environment's, which some checks refuse instead of warning."""
    declared = template.get("Parameters") or {}
    inputs = Inputs(
        declared=declared, given=dict(values), region=region, allow_insecure=allow_insecure,
        filled_later=frozenset(filled_later) | companion_fills(declared, region),
        rules=template.get("Rules") or {}, protected=protected,
    )
    return sorted(run(inputs, CHECKS), key=lambda problem: SEVERITIES.index(problem.severity))


def companion_fills(declared: dict, region: str | None) -> frozenset[str]:
    """FILLED_BY_COMPANION for a stack in a known region of the commercial partition other than
    us-east-1, whose template declares them (the companion_* checks say what they need); else nothing."""
    if (region in (None, COMPANION_REGION) or partition_of(region) != COMPANION_PARTITION
            or not all(name in declared for name in FILLED_BY_COMPANION)):
        return frozenset()
    return FILLED_BY_COMPANION


def run(inputs: Inputs, checks) -> list[Problem]:
    found: list[Problem] = []
    for check in checks:
        reported = {problem.parameter for problem in found}
        found += [p for p in check(inputs) if not ({p.parameter, *p.related} & reported)]
    return found


def declared_problems(declared: dict, values: dict[str, str]) -> list[Problem]:
    """Only the checks against the template's Parameters section (keys, required, constraints)."""
    return run(Inputs(declared=declared, given=dict(values)), PARAMETER_CHECKS)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def prefix_list_to_look_up(template: dict, values: dict[str, str]) -> bool:
    """True when CloudFrontEnabled is true and CloudFrontPrefixListId is empty (plan/deploy fill it in)."""
    inputs = Inputs(declared=template.get("Parameters") or {}, given=values)
    return (inputs.value(P.CLOUDFRONT_ENABLED.name) == "true"
            and inputs.value(P.CLOUDFRONT_PREFIX_LIST_ID.name) == "")


def region_from(option: str | None) -> str | None:
    """--region, else AWS_REGION, else AWS_DEFAULT_REGION (as the AWS CLI does), else None."""
    return option or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def report_lines(path, problems: list[Problem]) -> list[str]:
    """One line per problem, prefixed with the parameter file."""
    return [f"{path}: {problem}" for problem in problems]


def summary(problems: list[Problem]) -> str:
    """`2 errors, 1 note`: the non-zero counts."""
    counts = {severity: sum(p.severity == severity for p in problems) for severity in SEVERITIES}
    shown = [f"{n} {severity}{'' if n == 1 else 's'}" for severity, n in counts.items() if n]
    return ", ".join(shown) or "no problems"


# ----------------------------------------------------------------------------- the template's Parameters

def unknown_keys(inputs: Inputs) -> list[Problem]:
    """Every key of the file: the template must declare it (suggests the closest name)."""
    return [Problem(key, None, _unknown_message(key, inputs.declared))
            for key in inputs.given if key not in inputs.declared]


def _unknown_message(key: str, declared: dict) -> str:
    if key in _REPLACED:
        return f"no longer a parameter: {_REPLACED[key]}"
    if key in _WIRED:
        return "set by the root stack from another stack's output, not by a parameter file: remove it"
    lowered = {name.lower(): name for name in declared}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return f"not a parameter of the template; did you mean {lowered[close[0]]}?"
    if len(declared) <= _KNOWN_LIST_LIMIT:
        return f"not a parameter of the template (known: {', '.join(sorted(declared))})"
    return "not a parameter of the template (parameters/README.md lists them all)"


# Parameters an older parameter file may still have, and what took their place.
_REPLACED = {
    P.VPC_CIDR.name: "split into VpcNetworkAddress and VpcPrefixLength (10.0.0.0/16 is 10.0.0.0 and 16), "
                     "so the template can check that the subnets fit",
    # The template leaves the group's desired capacity to CPU target tracking (see P.ASG_MIN_SIZE).
    "AsgDesiredCapacity": "CPU target tracking sets the number of app servers between AsgMinSize and AsgMaxSize, "
                          "and a desired capacity in the template would reset it on every stack update; remove it, "
                          "and set AsgMinSize to the servers to start with and never go below",
}
_WIRED = frozenset(p.name for p in vars(P).values() if isinstance(p, P.Param) and p.group == P.GROUP_WIRED)


def declared_constraints(inputs: Inputs) -> list[Problem]:
    """Every declared parameter: given when it has no Default; within its AllowedValues,
    AllowedPattern, MinLength/MaxLength and MinValue/MaxValue."""
    problems = []
    for name, spec in inputs.declared.items():
        spec = spec or {}
        if name not in inputs.given:
            if "Default" not in spec:
                problems.append(Problem(name, None, "required (the template gives it no default)"))
            continue
        message = constraint_problem(spec, inputs.given[name])
        if message:
            problems.append(Problem(name, inputs.given[name], message))
    return problems


def nested_constraints(inputs: Inputs) -> list[Problem]:
    """The parameters the root declares bare (Param.root_checks False: BackupRule, BackupRegion, ...,
    DbRestoreSnapshot) against their own definitions: the nested stack would refuse them only in the
    middle of a deploy. Not BackupVaultLock: vault_lock says more."""
    problems = []
    for param in (*P.BACKUP, P.DB_RESTORE_SNAPSHOT):
        value = inputs.given.get(param.name)
        if param.root_checks or param is P.BACKUP_VAULT_LOCK or value is None or param.name not in inputs.declared:
            continue
        message = constraint_problem(param.to_parameter().to_dict(), value)
        if message:
            problems.append(Problem(param.name, value, message))
    return problems


def health_check_grace(inputs: Inputs) -> list[Problem]:
    """HealthCheckGraceSeconds: at least the boot budget, the BOOT_SIGNAL_SECONDS CloudFormation waits
    for a new server's signal; with ELB health checks a server still booting after its grace period
    is replaced before it can signal. The template's MinValue refuses the same; this says why.
    https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html"""
    name, budget = P.HEALTH_CHECK_GRACE_SECONDS.name, P.BOOT_SIGNAL_SECONDS
    value = inputs.given.get(name)
    if value is None or not inputs.declares(name) or not _WHOLE_NUMBER.fullmatch(value) or int(value) >= budget:
        return []  # not set here, or not a whole number: declared_constraints says so
    return [Problem(name, value, (
        f"shorter than the {budget} s CloudFormation waits for a new server's cfn-signal: the load balancer "
        f"health check would get a server that is still booting replaced before it signals; use {budget} "
        "or more"))]


def network_address_with_prefix(inputs: Inputs) -> list[Problem]:
    """VpcNetworkAddress typed as a CIDR block (10.0.0.0/16), as the VPC console asks for it: the
    declared pattern refuses it, and this says how to split it (before declared_constraints, whose
    message for the same value is then left out)."""
    name, length_name = P.VPC_NETWORK_ADDRESS.name, P.VPC_PREFIX_LENGTH.name
    value = inputs.given.get(name)
    if value is None or "/" not in value or not inputs.declares(name):
        return []
    try:
        network = ipaddress.IPv4Network(value.strip(), strict=False)
    except ValueError:
        return []
    address = value.strip().split("/", 1)[0]
    return [Problem(name, value, f"a CIDR block, but this field takes the address alone: split it into "
                    f"{name}={address} and {length_name}={network.prefixlen}")]


def constraint_problem(spec: dict, value: str) -> str | None:
    """Why CloudFormation would refuse `value` for a parameter declared as `spec`, or None."""
    explain = spec.get("ConstraintDescription")
    allowed = [str(v) for v in spec.get("AllowedValues") or []]
    if allowed and value not in allowed:
        return explain or f"must be one of {', '.join(allowed)}"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        # The limit itself, not the ConstraintDescription: a value can have the right form and
        # still be too long (the app user data must fit EC2's 16 KB with every value at its longest).
        return f"{len(value)} characters, more than the {spec['MaxLength']} allowed"
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, value):
        return explain or f"must match {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return explain or f"must be at least {spec['MinLength']} characters"
    if spec.get("Type") == "Number":
        # Every Number parameter of these templates counts something whole (servers, GiB, days,
        # ports, percent): CloudFormation would take 2.5 or 1e1, the resources would not.
        if not _WHOLE_NUMBER.fullmatch(value):
            return f"must be a whole number written in digits, e.g. {spec.get('Default', '2')}"
        number = float(value)
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return explain or f"must be at least {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return explain or f"must be at most {spec['MaxValue']}"
    return None


# ----------------------------------------------------------------------------- sizes

def asg_sizes(inputs: Inputs) -> list[Problem]:
    """AsgMinSize <= AsgMaxSize."""
    low_name, high_name = P.ASG_MIN_SIZE.name, P.ASG_MAX_SIZE.name
    low, high = inputs.number(low_name), inputs.number(high_name)
    if low is None or high is None or low <= high:
        return []
    return [Problem(low_name, inputs.value(low_name),
                    f"must be at most {inputs.shown(high_name)}", related=(high_name,))]


def db_storage(inputs: Inputs) -> list[Problem]:
    """DbMaxAllocatedStorage at least 10 % above DbAllocatedStorage, as RDS requires of the
    autoscaling limit ("Invalid max storage size" otherwise).
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html"""
    top, start = P.DB_MAX_ALLOCATED_STORAGE.name, P.DB_ALLOCATED_STORAGE.name
    limit, initial = inputs.number(top), inputs.number(start)
    if limit is None or initial is None or limit >= initial * 1.1:
        return []
    return [Problem(top, inputs.value(top), f"must be at least 10 % above {inputs.shown(start)}, "
                    f"i.e. {math.ceil(initial * 1.1)} or more: it is the storage autoscaling limit in GiB",
                    related=(start,))]


def vpc_cidr(inputs: Inputs) -> list[Problem]:
    """VpcNetworkAddress/VpcPrefixLength: an RFC 1918 block on its boundary, big enough for nine
    subnets of SubnetCidrBits host bits."""
    name, length_name, bits_name = P.VPC_NETWORK_ADDRESS.name, P.VPC_PREFIX_LENGTH.name, P.SUBNET_CIDR_BITS.name
    address, length = inputs.value(name), inputs.value(length_name)
    if address is None or length is None:
        return []
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        return [Problem(name, address, "not an IPv4 address such as 10.0.0.0")]
    try:
        network = ipaddress.IPv4Network(f"{address}/{length}", strict=False)
    except ValueError:
        # The length is at fault, not the address: declared_constraints has named it already (and this
        # is then left out) unless the template allows any value.
        return [Problem(length_name, length, "not a prefix length such as 16")]
    if network.version != 4 or not any(network.subnet_of(block) for block in PRIVATE_RANGES):
        return [Problem(name, address, "must be inside a private (RFC 1918) range: 10.0.0.0/8, "
                        "172.16.0.0/12 or 192.168.0.0/16")]
    if str(network.network_address) != address:
        return [Problem(name, address, f"is not on a /{length} boundary: the block would be {network}, "
                        f"so use {network.network_address}", related=(length_name,))]
    bits = inputs.number(bits_name)
    if bits is None:
        return []
    needed = SUBNET_COUNT * 2 ** int(bits)
    if needed <= network.num_addresses:
        return []
    largest_prefix = 32 - math.ceil(math.log2(needed))
    fewest_bits = 32 - network.prefixlen - math.ceil(math.log2(SUBNET_COUNT))
    return [Problem(
        length_name, length, f"too small for {SUBNET_COUNT} subnets of /{32 - int(bits)} "
        f"with {inputs.shown(bits_name)}: use VpcPrefixLength {largest_prefix} or less, "
        f"or SubnetCidrBits {fewest_bits} or less", related=(bits_name, name),
    )]


# ----------------------------------------------------------------------------- region

def region_known(inputs: Inputs) -> list[Problem]:
    """AWS::Region: one botocore's endpoint data knows; without one, the checks that depend on it are
    skipped (said once, as a note)."""
    problem = unknown_region_problem(inputs.region) if inputs.region else None
    if problem:
        return [Problem("AWS::Region", inputs.region, problem)]
    depends = (inputs.declares(P.NUMBER_OF_AZS.name) or inputs.declares(P.ALB_CERTIFICATE_ARN.name)
               or any("AWS::Region" in _refs(rule) for rule in inputs.rules.values()))
    if inputs.region or not depends:
        return []
    return [Problem("AWS::Region", None, "no region given (--region, AWS_REGION or AWS_DEFAULT_REGION): "
                    "the Availability Zone count and region-dependent rules were not checked", NOTE)]


def az_count(inputs: Inputs) -> list[Problem]:
    """NumberOfAzs: no more than the region offers."""
    name = P.NUMBER_OF_AZS.name
    requested, available = inputs.number(name), AZ_COUNTS.get(inputs.region or "")
    if requested is None or available is None or requested <= available:
        return []
    return [Problem(name, inputs.value(name), f"{inputs.region} has only {available} Availability Zones "
                    f"for most accounts: use {available}, or deploy to another region")]


def az_names(inputs: Inputs) -> list[Problem]:
    """AvailabilityZoneNames: distinct, at least NumberOfAzs of them, all in the region."""
    name = P.AVAILABILITY_ZONE_NAMES.name
    text = inputs.value(name)
    if not text:
        return []
    names = text.split(",")
    problems = []
    requested = inputs.number(P.NUMBER_OF_AZS.name)
    # plan appends the missing ones itself
    if requested is not None and len(names) < requested and name not in inputs.filled_later:
        problems.append(Problem(name, text, f"names {len(names)} AZs for {inputs.shown(P.NUMBER_OF_AZS.name)}: "
                                "add the next one (threetier plan does)", related=(P.NUMBER_OF_AZS.name,)))
    if len(set(names)) != len(names):
        problems.append(Problem(name, text, "names an AZ twice: each tier needs a different AZ per subnet"))
    foreign = [az for az in names if inputs.region and not az.startswith(inputs.region)]
    if foreign:
        problems.append(Problem(name, text, f"{', '.join(foreign)} is not in {inputs.region}"))
    return problems


# ----------------------------------------------------------------------------- access

def bastion_access(inputs: Inputs) -> list[Problem]:
    """BastionKeyPairName and AdminCidr: both set when BastionCount is above 0."""
    count = P.BASTION_COUNT.name
    if inputs.value(count) in (None, "0"):
        return []
    problems = []
    for param, what in ((P.BASTION_KEY_PAIR, "an existing EC2 key pair in this region"),
                        (P.ADMIN_CIDR, "the one IPv4 range allowed to SSH in, e.g. 203.0.113.0/24")):
        if inputs.value(param.name) == "":
            problems.append(Problem(param.name, "", f"required when {inputs.shown(count)} is above 0: {what}",
                                    related=(count,)))
    return problems


def admin_cidr_not_world(inputs: Inputs) -> list[Problem]:
    """AdminCidr: never a /0 (the whole internet), bastions or not."""
    name = P.ADMIN_CIDR.name
    value = inputs.value(name)
    if not value or not value.endswith("/0"):
        return []
    return [Problem(name, value, "opens SSH to the whole internet: give your own range, e.g. 203.0.113.0/24 "
                    "(or use SSM Session Manager with BastionCount 0)")]


# ----------------------------------------------------------------------------- certificates and CloudFront

def cloudfront_certificate_region(inputs: Inputs) -> list[Problem]:
    """CloudFrontCertificateArn: an ACM certificate in us-east-1 (CloudFront uses no other region's)."""
    name = P.CLOUDFRONT_CERTIFICATE_ARN.name
    value = inputs.value(name)
    region = _arn_region(value)
    if region is None or region == "us-east-1":
        return []
    return [Problem(name, value, f"is in {region}: CloudFront only uses ACM certificates from us-east-1; "
                    "request or import the certificate there")]


def waf_needs_cloudfront(inputs: Inputs) -> list[Problem]:
    """WafEnabled: true only with CloudFrontEnabled true (the web ACL is attached to the distribution)."""
    name, switch = P.WAF_ENABLED.name, P.CLOUDFRONT_ENABLED.name
    if not inputs.declares(name, switch) or inputs.value(name) != "true" or inputs.value(switch) == "true":
        return []
    return [Problem(name, "true", f"needs {switch} true: the web ACL protects the CloudFront distribution; "
                    f"set {switch} to true, or this to false", related=(switch,))]


def companion_needs(inputs: Inputs) -> dict[str, str]:
    """{parameter the companion stack would fill: the setting that asks for it} for this region's values."""
    if (inputs.region in (None, COMPANION_REGION) or not inputs.declares(*FILLED_BY_COMPANION)
            or inputs.value(P.CLOUDFRONT_ENABLED.name) != "true"):
        return {}
    needs = {}
    if inputs.value(P.WAF_ENABLED.name) == "true" and not inputs.value(P.WEB_ACL_ARN.name):
        needs[P.WEB_ACL_ARN.name] = P.WAF_ENABLED.name
    if (inputs.value(P.DOMAIN_NAME.name) and inputs.value(P.HOSTED_ZONE_ID.name)
            and not inputs.value(P.CLOUDFRONT_CERTIFICATE_ARN.name)):
        needs[P.CLOUDFRONT_CERTIFICATE_ARN.name] = P.DOMAIN_NAME.name
    return needs


def companion_partition(inputs: Inputs) -> list[Problem]:
    """WafEnabled and DomainName with CloudFront outside us-east-1: only where the companion stack can be
    made, the commercial partition (aws-cn and aws-us-gov have no us-east-1)."""
    partition = partition_of(inputs.region) if inputs.region else None
    if partition in (None, COMPANION_PARTITION):
        return []
    return [Problem(setting, inputs.value(setting),
                    f"with {P.CLOUDFRONT_ENABLED.name} true needs {filled} from the companion stack in "
                    f"{COMPANION_REGION}, and {inputs.region} is in the {partition} partition, which has no "
                    f"{COMPANION_REGION}: set this to {'false' if setting == P.WAF_ENABLED.name else 'empty'}, "
                    f"or {P.CLOUDFRONT_ENABLED.name} to false", related=(filled, P.CLOUDFRONT_ENABLED.name))
            for filled, setting in companion_needs(inputs).items()]


def companion_stack(inputs: Inputs) -> list[Problem]:
    """CloudFrontCertificateArn and WebAclArn outside us-east-1: what the us-east-1 companion stack makes
    (plan/deploy create it and pass its outputs; a console deploy creates it by hand first). A note."""
    if partition_of(inputs.region or "") != COMPANION_PARTITION:
        return []
    what = {P.WEB_ACL_ARN.name: "web ACL", P.CLOUDFRONT_CERTIFICATE_ARN.name: "certificate"}
    return [Problem(filled, "", f"empty with {inputs.shown(setting)} and CloudFront in {inputs.region}: "
                    f"`threetier plan`/`deploy` create the {what[filled]} in the companion stack in "
                    f"{COMPANION_REGION} and pass it on; for a console deploy, create output/{COMPANION_TEMPLATE} "
                    f"in {COMPANION_REGION} first and set this to its {COMPANION_OUTPUTS[filled]} output",
                    NOTE, related=(setting,))
            for filled, setting in companion_needs(inputs).items()]


def alb_certificate_region(inputs: Inputs) -> list[Problem]:
    """AlbCertificateArn: an ACM certificate in the stack's region (the load balancer uses no other)."""
    name = P.ALB_CERTIFICATE_ARN.name
    value = inputs.value(name)
    region = _arn_region(value)
    if region is None or inputs.region is None or region == inputs.region:
        return []
    return [Problem(name, value, f"is in {region}, the stack in {inputs.region}: a load balancer only uses "
                    "certificates from its own region")]


def backup_region(inputs: Inputs) -> list[Problem]:
    """BackupRegion: another region than the environment's, that botocore knows, in the same partition
    (AWS Backup copies within a partition). A copy in the same region is lost with it (REL09).
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html"""
    name = P.BACKUP_REGION.name
    value = inputs.value(name)
    if not value:
        return []
    if value == inputs.region:
        return [Problem(name, value, f"is the environment's own region ({inputs.region}): the copies must be in "
                        "another region to outlive it; choose a second region, e.g. "
                        f"{'us-west-2' if value != 'us-west-2' else 'us-east-2'}")]
    unknown = unknown_region_problem(value)
    if unknown:
        return [Problem(name, value, unknown)]
    if inputs.region and not unknown_region_problem(inputs.region) \
            and partition_of(value) != partition_of(inputs.region):
        return [Problem(name, value, f"is in partition {partition_of(value)}, the stack in "
                        f"{partition_of(inputs.region)}: AWS Backup copies only within a partition")]
    return []


def vault_lock(inputs: Inputs) -> list[Problem]:
    """BackupVaultLock: off, or the explicit yes. A lock in compliance mode cannot be undone once its
    grace time is over, not by the account's root user nor by AWS, and it refuses deleting any recovery
    point before its retention: nothing a `true` should turn on.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html"""
    name = P.BACKUP_VAULT_LOCK.name
    value = inputs.given.get(name)
    if value is None or value in (P.VAULT_LOCK_OFF, P.VAULT_LOCK_YES) or name not in inputs.declared:
        if value == P.VAULT_LOCK_YES and not inputs.value(P.BACKUP_REGION.name):
            return [Problem(name, value, f"with {P.BACKUP_REGION.name} empty there is no AWS Backup vault to "
                            "lock", WARNING, related=(P.BACKUP_REGION.name,))]
        return []
    return [Problem(name, value, f"is not an explicit yes. A vault lock cannot be undone {P.VAULT_LOCK_GRACE_DAYS} "
                    "days after it is set, not even by AWS, and no recovery point can then be deleted before its "
                    f"retention (BackupRule). To lock the vaults, write exactly {P.VAULT_LOCK_YES}; otherwise "
                    f"{P.VAULT_LOCK_OFF}")]


def backup_rule_retention(inputs: Inputs) -> list[Problem]:
    """BackupRule: the continuous backup kept longer than the time between two backups, else its recovery
    point expires before the next backup renews it.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery-retention-period.html"""
    name = P.BACKUP_RULE.name
    value = inputs.given.get(name)
    if not value or name not in inputs.declared or not re.fullmatch(P.RULE_PATTERN, value):
        return []
    hours, days, _ = (int(part) for part in value.split("/"))
    if days * 24 > hours:
        return []
    return [Problem(name, value, f"keeps the recovery points {days} day(s), no longer than the {hours} hours between "
                    "two backups: AWS Backup lets the database's continuous recovery point expire before the next "
                    f"backup; keep them longer (e.g. {hours}/{days + 1}/...) or back up more often")]


def backup_account_copy(inputs: Inputs) -> list[Problem]:
    """BackupAccountVaultArn: needs the plan (BackupRegion), and is a vault in the same partition."""
    name, region_name = P.BACKUP_ACCOUNT_VAULT_ARN.name, P.BACKUP_REGION.name
    value = inputs.value(name)
    if not value:
        return []
    if not inputs.value(region_name):
        return [Problem(name, value, f"needs {region_name}: the copy to another account is a step of the AWS "
                        "Backup plan, which only exists with a second region", related=(region_name,))]
    # AWS Backup copies an RDS recovery point with the database's own encryption (RDS is not fully managed
    # by it: https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html), the database uses RDS's
    # AWS managed key (templates/data.py), and RDS shares no snapshot encrypted with that key with another
    # account (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html).
    return [Problem(name, value, "only the file system's recovery points reach the other account: the database "
                    "is encrypted with RDS's AWS managed key (aws/rds), whose snapshots cannot go to another "
                    "account, so its copy jobs fail and the backup alarm fires", WARNING)]


def _arn_region(arn: str | None) -> str | None:
    match = _ACM_ARN_REGION.match(arn or "")
    return match.group(1) if match else None


def cloudfront_prefix_list(inputs: Inputs) -> list[Problem]:
    """CloudFrontPrefixListId: needed when CloudFrontEnabled is true; plan/deploy look it up."""
    name, switch = P.CLOUDFRONT_PREFIX_LIST_ID.name, P.CLOUDFRONT_ENABLED.name
    if name in inputs.filled_later or inputs.value(switch) != "true" or inputs.value(name) != "":
        return []
    return [Problem(name, "", f"empty with {switch} true: `threetier plan`/`deploy` look up "
                    f"{CLOUDFRONT_PREFIX_LIST_NAME} and pass its id; for a console deploy, set it to "
                    "the PrefixListId from `aws ec2 describe-managed-prefix-lists --filters "
                    f"Name=prefix-list-name,Values={CLOUDFRONT_PREFIX_LIST_NAME}`", NOTE, related=(switch,))]


def domain_first_pass(inputs: Inputs) -> list[Problem]:
    """HostedZoneId: empty with a DomainName means this deploy only creates the zone (said as a note)."""
    name, domain = P.HOSTED_ZONE_ID.name, P.DOMAIN_NAME.name
    if not inputs.value(domain) or inputs.value(name) != "":
        return []
    return [Problem(name, "", f"empty with {inputs.shown(domain)}: this deploy creates the hosted zone only "
                    "(no certificates or HTTPS yet). Point the registrar at the NameServers output, check "
                    "with `threetier delegation ENV`, then set HostedZoneId and deploy again",
                    NOTE, related=(domain,))]


def cloudfront_logs_region(inputs: Inputs) -> list[Problem]:
    """CloudFrontLogging: not in a region whose buckets CloudFront cannot deliver standard logs to."""
    name, switch = P.CLOUDFRONT_LOGGING.name, P.CLOUDFRONT_ENABLED.name
    if (inputs.value(name) != "true" or inputs.value(switch) != "true"
            or inputs.region not in CLOUDFRONT_LOGS_UNSUPPORTED):
        return []
    return [Problem(name, "true", f"CloudFront cannot deliver standard logs to buckets in {inputs.region}, "
                    "where the log bucket would be: set it to false", related=(switch,))]


def access_logs_region(inputs: Inputs) -> list[Problem]:
    """AlbAccessLogs: only in the commercial partition, whose log delivery accounts the app template knows."""
    name = P.ALB_ACCESS_LOGS.name
    partition = partition_of(inputs.region) if inputs.region else None
    if inputs.value(name) != "true" or partition in (None, COMMERCIAL_PARTITION):
        return []
    return [Problem(name, "true", f"{inputs.region} is in the {partition} partition, whose load balancer log "
                    "delivery account the template does not know: set it to false")]


# ----------------------------------------------------------------------------- files

def efs_modes(inputs: Inputs) -> list[Problem]:
    """EfsThroughputMode: elastic only with EfsPerformanceMode generalPurpose (EFS refuses maxIO)."""
    mode, throughput = P.EFS_PERFORMANCE_MODE.name, P.EFS_THROUGHPUT_MODE.name
    if inputs.value(mode) != "maxIO" or inputs.value(throughput) != "elastic":
        return []
    return [Problem(throughput, "elastic", f"EFS has no elastic throughput with {inputs.shown(mode)}: "
                    "use bursting, or EfsPerformanceMode generalPurpose", related=(mode,))]


# ----------------------------------------------------------------------------- instances

def instance_types(inputs: Inputs) -> list[Problem]:
    """InstanceType (and BastionInstanceType with bastions): a type EC2 has, offered in the region."""
    problems = []
    for param in _instance_type_params(inputs):
        value = inputs.value(param.name)
        message = ec2types.problem(value, inputs.region) if value else None
        if message:
            problems.append(Problem(param.name, value, message))
    return problems


def _instance_type_params(inputs: Inputs) -> tuple[P.Param, ...]:
    with_bastions = inputs.value(P.BASTION_COUNT.name) not in (None, "0")
    return (P.INSTANCE_TYPE, *([P.BASTION_INSTANCE_TYPE] if with_bastions else []))


def instance_architecture(inputs: Inputs) -> list[Problem]:
    """InstanceType (and BastionInstanceType with bastions): the architecture of the image AmiId names."""
    ami = inputs.value(P.AMI_ID.name) or ""
    wanted = architectures.of_ami_parameter(ami)
    if wanted is None:
        return []
    problems = []
    for param in _instance_type_params(inputs):
        value = inputs.value(param.name)
        if value and architectures.of_instance_type(value) != wanted:
            other = "an arm64 (Graviton)" if wanted == architectures.X86_64 else "an x86_64"
            problems.append(Problem(param.name, value, f"is {other} type, but {inputs.shown(P.AMI_ID.name)} is "
                                    f"an {wanted} image: EC2 cannot launch it there. Use an {wanted} type, or "
                                    "the AMI parameter of the type's architecture",
                                    related=(P.AMI_ID.name,)))
    return problems


def cpu_credits(inputs: Inputs) -> list[Problem]:
    """CpuCredits: set for T instance types, empty for others; standard under a CPU target above the baseline."""
    name, type_name = P.CPU_CREDITS.name, P.INSTANCE_TYPE.name
    credits, instance_type = inputs.value(name), inputs.value(type_name)
    if credits is None or not instance_type:
        return []
    if not architectures.is_burstable(instance_type):
        if credits:
            return [Problem(name, credits, f"applies to T instance types only, not {instance_type}: "
                            "leave it empty", related=(type_name,))]
        return []
    if not credits:
        return [Problem(name, credits, f"{instance_type} is a T type: choose unlimited (CPU above the "
                        "baseline is billed) or standard (held at the baseline once credits run out)",
                        WARNING, related=(type_name,))]
    baseline = architectures.BURSTABLE.get(instance_type, (None, None))[1]
    target = inputs.number(P.CPU_TARGET_PERCENT.name)
    if credits == "standard" and baseline is not None and target is not None and target > baseline:
        return [Problem(name, credits, f"{instance_type} is held at its {baseline:g} % baseline once its "
                        f"credits run out, so CpuTargetPercent={target:g} cannot scale out then; "
                        "fine for a test environment, use unlimited where load matters",
                        NOTE, related=(type_name, P.CPU_TARGET_PERCENT.name))]
    return []


# ----------------------------------------------------------------------------- database

def db_instance_class(inputs: Inputs) -> list[Problem]:
    """DbInstanceClass and DbReplicaInstanceClass: a family and size RDS offers for DbEngine."""
    engine = inputs.value(P.DB_ENGINE.name) or "mysql"
    families = DB_INSTANCE_FAMILIES.get(engine)
    if families is None:
        return []
    problems = []
    for name in (P.DB_INSTANCE_CLASS.name, P.DB_REPLICA_INSTANCE_CLASS.name):
        value = inputs.value(name)
        message = _db_class_problem(value, engine, families) if value else None
        if message:
            problems.append(Problem(name, value, message, related=(P.DB_ENGINE.name,)))
    return problems


def _db_class_problem(value: str, engine: str, families: tuple[str, ...]) -> str | None:
    match = _DB_CLASS.match(value)
    if not match:
        return "not an RDS instance class: db.<family>.<size>, e.g. db.t4g.medium"
    family, size = match.groups()
    if family not in families:
        return (f"RDS for {ENGINES.get(engine, engine)} has no db.{family} classes; "
                f"families: {', '.join(families)}")
    if family.startswith("t"):
        if size not in BURSTABLE_SIZES:
            return f"db.{family} comes in {', '.join(BURSTABLE_SIZES)}"
    elif not _LARGE_SIZE.match(size):
        return f"db.{family} comes in large, xlarge and <n>xlarge sizes"
    return None


def performance_insights(inputs: Inputs) -> list[Problem]:
    """DbPerformanceInsights: only on instance classes that support it (not the smallest MySQL ones),
    the read replica's included, which inherits the setting."""
    switch = P.DB_PERFORMANCE_INSIGHTS.name
    unsupported = NO_PERFORMANCE_INSIGHTS.get(inputs.value(P.DB_ENGINE.name) or "", ())
    if inputs.value(switch) != "true":
        return []
    classes = [P.DB_INSTANCE_CLASS.name]
    if inputs.value(P.DB_REPLICA_ENABLED.name) == "true" and inputs.value(P.DB_REPLICA_INSTANCE_CLASS.name):
        classes.append(P.DB_REPLICA_INSTANCE_CLASS.name)
    return [Problem(switch, "true", f"RDS has no Performance Insights on {inputs.shown(name)}: use "
                    "db.t4g.medium or larger, or set it to false", related=(name,))
            for name in classes if inputs.value(name) in unsupported]


def connections_alarm(inputs: Inputs) -> list[Problem]:
    """DbConnectionsMax: below the most connections DbInstanceClass allows, or the alarm never fires."""
    name, engine = P.DB_CONNECTIONS_MAX.name, inputs.value(P.DB_ENGINE.name) or "mysql"
    threshold, instance_class = inputs.number(name), inputs.value(P.DB_INSTANCE_CLASS.name)
    if threshold is None or not instance_class:
        return []
    most = engines.max_connections_at_most(engine, instance_class)
    if most is None or threshold <= most * 0.8:
        return []
    allows = (f"{ENGINES.get(engine, engine)} on {instance_class} allows at most {most} connections "
              f"(default max_connections, less the memory RDS keeps)")
    if threshold >= most:
        severity, effect = ERROR, "so this alarm can never fire"
    else:
        severity, effect = WARNING, "so this alarm may never fire"
    return [Problem(name, inputs.value(name), f"{allows}, {effect}: use about 70 % of it, e.g. {int(most * 0.7)}",
                    severity, related=(P.DB_INSTANCE_CLASS.name, P.DB_ENGINE.name))]


def prod_safety(inputs: Inputs) -> list[Problem]:
    """DbMultiAz and DbDeletionProtection: true when EnvironmentName is prod (unless --allow-insecure)."""
    if inputs.value(P.ENVIRONMENT_NAME.name) != "prod":
        return []
    severity = WARNING if inputs.allow_insecure else ERROR
    consequence = ("accepted because of --allow-insecure" if inputs.allow_insecure
                   else "set it to true, or pass --allow-insecure to accept it")
    problems = []
    for param, why in ((P.DB_MULTI_AZ, "prod keeps a standby database in a second AZ"),
                       (P.DB_DELETION_PROTECTION, "prod's database must not be deletable by one mistake")):
        if inputs.value(param.name) == "false":
            problems.append(Problem(param.name, "false", f"{why}: {consequence}", severity))
    return problems


# ----------------------------------------------------------------------------- who hears the alarms

# Mail domains reserved for documentation and tests: no one receives mail there.
# https://www.rfc-editor.org/rfc/rfc2606 (example.com, .net, .org; .example, .test, .invalid, .localhost)
RESERVED_MAIL_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL_DOMAINS = ("example", "test", "invalid", "localhost")
WHO_HEARS = ("an email address of whoever answers the alarms (AWS sends it a confirmation to accept; "
             "`threetier status ENV` shows it waiting until then), or the ARN of an existing SNS topic that "
             "a chat or pager integration reads (its access policy must let CloudWatch publish: "
             "docs/deploy.md, \"Who hears the alarms\")")


def alarm_recipient(inputs: Inputs) -> list[Problem]:
    """AlarmEmail: someone hears the alarms (with MonitoringEnabled true). Empty, or an address in a
    domain reserved for examples, is an error for a protected environment and a warning for others."""
    name = P.ALARM_EMAIL.name
    value = inputs.value(name)
    if value is None or inputs.value(P.MONITORING_ENABLED.name) == "false":
        return []
    if value == "":
        nobody = "empty: the alarms notify a topic no one subscribes to, so no one hears them"
    elif _reserved_mail_domain(value):
        nobody = (f"{value.rpartition('@')[2]} is reserved for examples (RFC 2606): no mail is delivered "
                  "there, so no one hears the alarms")
    else:
        return []
    if inputs.protected:
        return [Problem(name, value, f"{nobody}, and this is a protected environment: set it to {WHO_HEARS}",
                        related=(P.MONITORING_ENABLED.name,))]
    return [Problem(name, value, f"{nobody}; set it to an email address or an SNS topic ARN "
                    "(a protected environment must)", WARNING, related=(P.MONITORING_ENABLED.name,))]


def _reserved_mail_domain(address: str) -> bool:
    if "@" not in address:
        return False  # a topic ARN
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return (any(domain == reserved or domain.endswith("." + reserved) for reserved in RESERVED_MAIL_DOMAINS)
            or domain.rpartition(".")[2] in RESERVED_TOP_LEVEL_DOMAINS)


# ----------------------------------------------------------------------------- the template's Rules

def template_rules(inputs: Inputs) -> list[Problem]:
    """The template's own Rules, evaluated offline (skipped: rules about parameters the CLI fills
    in later, and rules reading AWS::Region when no region is known)."""
    if not inputs.rules:
        return []
    try:
        evaluation = Evaluation({"Parameters": inputs.declared}, inputs.effective(),
                                region=inputs.region or "us-east-1")
    except (KeyError, ValueError, TypeError):
        return []
    problems = []
    for name, rule in inputs.rules.items():
        refs = _refs(rule)
        if refs & inputs.filled_later or (inputs.region is None and "AWS::Region" in refs):
            continue
        problems += _broken_assertions(evaluation, name, rule, inputs)
    return problems


def _broken_assertions(evaluation: Evaluation, name: str, rule: dict, inputs: Inputs) -> list[Problem]:
    try:
        broken = evaluation.broken_assertions(rule)
    except (KeyError, ValueError, TypeError, IndexError):
        return []
    problems = []
    for assertion in broken:
        asserted = sorted(_refs(assertion["Assert"]) - {"AWS::Region"}) or sorted(_refs(rule) - {"AWS::Region"})
        first = asserted[0] if asserted else name
        description = (assertion.get("AssertDescription") or "breaks the rule").rstrip(".")
        message = f"{description} (template rule {name})"
        problems.append(Problem(first, inputs.value(first), message,
                                related=tuple(sorted(_refs(rule) - {first, "AWS::Region"}))))
    return problems


def _refs(expr) -> set[str]:
    if isinstance(expr, list):
        return set().union(*(_refs(item) for item in expr)) if expr else set()
    if isinstance(expr, dict):
        if set(expr) == {"Ref"} and isinstance(expr["Ref"], str):
            return {expr["Ref"]}
        return set().union(*(_refs(v) for v in expr.values())) if expr else set()
    return set()


# Each value on its own, against the template's Parameters section (the grace period first, to say
# why its MinValue is what it is).
PARAMETER_CHECKS = (unknown_keys, health_check_grace, network_address_with_prefix, declared_constraints,
                    nested_constraints)
# Combinations, the situation (region, environment) and the template's Rules.
CROSS_FIELD_CHECKS = (
    asg_sizes,
    db_storage,
    vpc_cidr,
    region_known,
    az_count,
    az_names,
    bastion_access,
    admin_cidr_not_world,
    cloudfront_certificate_region,
    waf_needs_cloudfront,
    companion_partition,
    companion_stack,
    alb_certificate_region,
    backup_region,
    vault_lock,
    backup_rule_retention,
    backup_account_copy,
    cloudfront_prefix_list,
    cloudfront_logs_region,
    access_logs_region,
    domain_first_pass,
    efs_modes,
    instance_types,
    instance_architecture,
    cpu_credits,
    db_instance_class,
    performance_insights,
    connections_alarm,
    prod_safety,
    alarm_recipient,
    template_rules,
)
CHECKS = PARAMETER_CHECKS + CROSS_FIELD_CHECKS
