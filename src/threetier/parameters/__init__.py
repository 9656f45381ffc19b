"""Every template parameter, defined once.

The root stack and the nested stacks add the same definitions with `use`, so a
parameter has one type, default, constraint and label wherever it appears, and
the CLI validation and the docs read the same objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from troposphere import Parameter, Template

INTERFACE = "AWS::CloudFormation::Interface"

# Console groups in the order a person fills them in: what the stack is, how
# big, its name on the web, who hears about alarms; then the optional and the
# rarely changed. The root template adds its parameters in this order (ROOT).
GROUP_PROJECT = "Project"
GROUP_SIZE = "Size and protection"
GROUP_EDGE = "Domain, HTTPS and CDN (optional)"
GROUP_NOTIFICATIONS = "Alarms and notifications"
GROUP_APP = "Application"
GROUP_BASTION = "Bastion hosts (optional)"
GROUP_IAM = "Locked-down accounts (optional)"
GROUP_ADVANCED_SERVERS = "Advanced: network, servers, load balancer, CDN"
GROUP_ADVANCED_DATA = "Advanced: database and file system"
GROUP_ADVANCED_ALARMS = "Advanced: alarm thresholds"


@dataclass(frozen=True)
class Param:
    """One CloudFormation parameter with its console label and group.

    `description` is the full explanation (parameters/README.md); `hint` the
    few words the root template shows under the console label, because the root
    must stay small enough for `aws cloudformation deploy` (see ROOT_SIZE_LIMIT).
    """

    name: str
    type: str
    description: str
    label: str
    group: str
    hint: str = ""
    default: str | None = None
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    constraint: str | None = None

    def to_parameter(self, root: bool = False) -> Parameter:
        """As the root declares it (short hint, no repeated constraint text) or a nested stack does.

        A nested stack gets the parameter from the root, which already explains
        and checks it, so only the values wired between stacks keep a description.
        In the root, a ConstraintDescription is given only with an AllowedPattern:
        the console offers AllowedValues as a list, and CloudFormation's own
        messages for MinValue/MaxValue name the bound, but for a pattern it would
        print the regular expression.
        """
        props = {"Type": self.type}
        description = self.hint if root else (self.description if self.group == GROUP_WIRED else "")
        if description:
            props["Description"] = description
        if self.default is not None:
            props["Default"] = self.default
        if self.allowed_values:
            props["AllowedValues"] = list(self.allowed_values)
        if self.allowed_pattern is not None:
            props["AllowedPattern"] = self.allowed_pattern
        if self.min_value is not None:
            props["MinValue"] = self.min_value
        if self.max_value is not None:
            props["MaxValue"] = self.max_value
        if self.constraint is not None and (self.allowed_pattern is not None or not root):
            props["ConstraintDescription"] = self.constraint
        return Parameter(self.name, **props)


SSM_TYPE = re.compile(r"^AWS::SSM::Parameter::Value<(.+)>$")


def as_nested(param: Param) -> Param:
    """The parameter as a nested stack declares it, when the root passes `!Ref` of it.

    CloudFormation resolves an SSM parameter type in the stack that declares it
    and passes the resolved value (e.g. ami-0abc...) on. A nested stack that
    declared the same SSM type would look that value up as a Parameter Store
    name and fail validation, so it takes the resolved type, without a default.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html
    (project lint rule E9001 catches the mistake in any parent/child pair).
    """
    match = SSM_TYPE.match(param.type)
    if not match:
        return param
    return replace(param, type=match.group(1), default=None,
                   description=f"{match.group(1)} the root stack resolved from its {param.name} SSM parameter.")


def use(t: Template, *params: Param, root: bool = False) -> None:
    """Add parameters to a template and record their group and label."""
    interface = t.metadata.setdefault(
        INTERFACE, {"ParameterGroups": [], "ParameterLabels": {}}
    )
    for param in params:
        t.add_parameter(param.to_parameter(root))
        _group(interface, param.group).append(param.name)
        interface["ParameterLabels"][param.name] = {"default": param.label}


def _group(interface: dict, name: str) -> list:
    for group in interface["ParameterGroups"]:
        if group["Label"]["default"] == name:
            return group["Parameters"]
    group = {"Label": {"default": name}, "Parameters": []}
    interface["ParameterGroups"].append(group)
    return group["Parameters"]


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
# RFC 1918 ranges only, prefix /16 (the largest VPC) to /23 (the smallest
# that still holds nine /27 subnets).
PRIVATE_VPC_ADDRESS_PATTERN = (
    r"^(10\." + _OCTET + r"|172\.(1[6-9]|2[0-9]|3[01])|192\.168)"
    r"\." + _OCTET + r"\." + _OCTET + r"$"
)
VPC_PREFIX_LENGTHS = tuple(str(length) for length in range(16, 24))

# Values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS = (
    "1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365",
    "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653",
)


def log_retention(name: str, description: str, label: str, group: str, default: str) -> Param:
    """A number of days CloudWatch Logs keeps a log group's events, from the periods it accepts."""
    return Param(
        name, "Number", description, label=label, group=group, default=default,
        allowed_values=LOG_RETENTION_DAYS,
        constraint="One of the CloudWatch Logs retention periods: " + ", ".join(LOG_RETENTION_DAYS) + ".",
    )

PROJECT_NAME = Param(
    "ProjectName",
    "String",
    "Short project name, used as the first part of every resource Name tag "
    "(<project>-<environment>-<thing>).",
    hint="First part of every Name tag, e.g. shop",
    label="Project name",
    group=GROUP_PROJECT,
    default="project-x",
    # No "--": the database is named <project>-<environment>-db, and RDS
    # identifiers may not hold two hyphens in a row.
    allowed_pattern=r"^(?!.*--)[a-z][a-z0-9-]{1,18}[a-z0-9]$",
    constraint="3 to 20 characters: lower-case letters, digits and single hyphens, "
    "starting with a letter and not ending with a hyphen.",
)

ENVIRONMENT_NAME = Param(
    "EnvironmentName",
    "String",
    "Environment this stack serves (e.g. dev, staging, prod); tagged on every "
    "resource and part of every Name tag.",
    hint="e.g. dev, staging, prod",
    label="Environment name",
    group=GROUP_PROJECT,
    default="dev",
    allowed_pattern=r"^[a-z][a-z0-9]{1,9}$",
    constraint="2 to 10 characters: lower-case letters and digits, starting "
    "with a letter (e.g. dev, staging, prod).",
)

# The VPC's block in two parts, so a root Rule can check that nine subnets fit:
# Rules compare whole values, they cannot read the prefix out of "10.0.0.0/16".
VPC_NETWORK_ADDRESS = Param(
    "VpcNetworkAddress",
    "String",
    "First address of the VPC's IPv4 block (VpcNetworkAddress/VpcPrefixLength): private "
    "(RFC 1918) and on a block boundary, e.g. 10.0.0.0 for a /16.",
    hint="RFC 1918 address on the block boundary",
    label="VPC network address",
    group=GROUP_ADVANCED_SERVERS,
    default="10.0.0.0",
    allowed_pattern=PRIVATE_VPC_ADDRESS_PATTERN,
    constraint="A private (RFC 1918) IPv4 address such as 10.0.0.0, 172.16.0.0 or 192.168.0.0.",
)

VPC_PREFIX_LENGTH = Param(
    "VpcPrefixLength",
    "String",
    "Prefix length of the VPC's block: 16 gives 65,536 addresses, 23 gives 512. Nine "
    "subnets of SubnetCidrBits host bits must fit (a Rule checks).",
    hint="16 to 23; nine subnets must fit",
    label="VPC prefix length",
    group=GROUP_ADVANCED_SERVERS,
    default="16",
    allowed_values=VPC_PREFIX_LENGTHS,
    constraint="16 to 23.",
)

SUBNET_CIDR_BITS = Param(
    "SubnetCidrBits",
    "Number",
    "Host bits of each subnet, as Fn::Cidr counts them: 12 gives /20 subnets "
    "(4,091 usable addresses), 8 gives /24 (251). Nine subnets of this size "
    "must fit in the VPC CIDR block.",
    hint="12: /20 subnets, 8: /24; nine must fit the VPC",
    label="Subnet size (host bits)",
    group=GROUP_ADVANCED_SERVERS,
    default="12",
    min_value=5,
    max_value=12,
    constraint="A whole number from 5 (/27 subnets) to 12 (/20 subnets).",
)

NUMBER_OF_AZS = Param(
    "NumberOfAzs",
    "String",
    "How many Availability Zones to spread every tier across.",
    label="Number of Availability Zones",
    group=GROUP_SIZE,
    default="2",
    allowed_values=("2", "3"),
    constraint="2 or 3.",
)

SINGLE_NAT_GATEWAY = Param(
    "SingleNatGateway",
    "String",
    "true: one NAT gateway shared by all AZs (cheaper; outbound traffic stops "
    "if its AZ fails). false: one NAT gateway per AZ (highly available).",
    hint="true: one NAT gateway for all AZs (cheaper, less available)",
    label="Single shared NAT gateway",
    group=GROUP_SIZE,
    default="true",
    allowed_values=("true", "false"),
    constraint="true or false.",
)

FLOW_LOG_RETENTION_DAYS = log_retention(
    "FlowLogRetentionDays", "Days to keep VPC flow logs in CloudWatch Logs.",
    label="Flow log retention (days)", group=GROUP_ADVANCED_SERVERS, default="30",
)

PROJECT = (PROJECT_NAME, ENVIRONMENT_NAME)
# Fn::GetAZs returns only the AZs that have a default subnet (when any has one) and its order
# "isn't guaranteed" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getavailabilityzones.html);
# subnets are placed by position, so the environment keeps the names it was built in.
AVAILABILITY_ZONE_NAMES = Param(
    "AvailabilityZoneNames",
    "String",
    "The AZs of subnets 1, 2 and 3, comma-separated, kept by the environment (threetier plan sets "
    "them when empty). Empty: Fn::GetAZs by position, whose order is not guaranteed.",
    label="Availability Zone names",
    hint="set by threetier plan; empty: Fn::GetAZs",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    # The shape only: validate checks the names against the region.
    allowed_pattern=r"^([a-z0-9-]+(,[a-z0-9-]+){1,2})?$",
    constraint="Empty, or 2 or 3 AZ names, comma-separated.",
)

# What the root and the network stack share; the root joins the block for it (VPC_CIDR).
NETWORK_SHARED = (
    SUBNET_CIDR_BITS,
    NUMBER_OF_AZS,
    AVAILABILITY_ZONE_NAMES,
    SINGLE_NAT_GATEWAY,
    FLOW_LOG_RETENTION_DAYS,
)
NETWORK = (VPC_NETWORK_ADDRESS, VPC_PREFIX_LENGTH, *NETWORK_SHARED)

# --- Security ---------------------------------------------------------------



APP_PORT = Param(
    "AppPort",
    "Number",
    "TCP port the application listens on behind the load balancer "
    "(the reference Flask app uses 5000).",
    label="Application port",
    group=GROUP_APP,
    default="5000",
    min_value=1024,
    max_value=65535,
    constraint="A TCP port from 1024 to 65535.",
)

BASTION_COUNT = Param(
    "BastionCount",
    "String",
    "Bastion hosts in the public subnets (0, 1 or 2). 0 is the default: "
    "operators use SSM Session Manager and no SSH port is open anywhere.",
    hint="0: no SSH anywhere; use Session Manager",
    label="Bastion hosts",
    group=GROUP_BASTION,
    default="0",
    allowed_values=("0", "1", "2"),
    constraint="0, 1 or 2.",
)

ADMIN_CIDR = Param(
    "AdminCidr",
    "String",
    "The only IPv4 range allowed to SSH to the bastion hosts, e.g. your office "
    "203.0.113.0/24. Required when BastionCount is above 0; 0.0.0.0/0 is refused.",
    hint="The one range allowed to SSH in, e.g. 203.0.113.0/24",
    label="Admin CIDR for SSH to bastions",
    group=GROUP_BASTION,
    default="",
    # Any prefix but /0: SSH is never open to the whole internet.
    allowed_pattern=r"^$|^" + _OCTET + r"\." + _OCTET + r"\." + _OCTET + r"\." + _OCTET
    + r"/([1-9]|[12][0-9]|3[0-2])$",
    constraint="Empty (no bastions) or an IPv4 CIDR block such as 203.0.113.0/24; never a /0 "
    "such as 0.0.0.0/0.",
)

SECURITY = (APP_PORT, BASTION_COUNT, ADMIN_CIDR)

# --- Data -------------------------------------------------------------------


TRUE_FALSE = ("true", "false")

DB_ENGINE = Param(
    "DbEngine",
    "String",
    "Database engine: mysql (MySQL 8.4 LTS, what the reference app needs) or "
    "postgres (PostgreSQL 16).",
    label="Database engine",
    group=GROUP_SIZE,
    default="mysql",
    allowed_values=("mysql", "postgres"),
    constraint="mysql or postgres.",
)

DB_INSTANCE_CLASS = Param(
    "DbInstanceClass",
    "String",
    "RDS instance class of the primary (and, by default, of the read replica).",
    hint="e.g. db.t4g.micro, db.m6g.large",
    label="Database instance class",
    group=GROUP_SIZE,
    default="db.t4g.micro",
    allowed_pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$",
    constraint="An RDS instance class such as db.t4g.medium or db.m6g.large.",
)

DB_NAME = Param(
    "DbName",
    "String",
    "Name of the database RDS creates for the application.",
    label="Database name",
    group=GROUP_ADVANCED_DATA,
    default="newsreadb",
    allowed_pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$",
    constraint="1 to 63 letters, digits or underscores, starting with a letter.",
)

DB_MASTER_USERNAME = Param(
    "DbMasterUsername",
    "String",
    "Master user name. Its password is generated by Secrets Manager when the "
    "stack is created; it is never a parameter.",
    label="Database master user name",
    group=GROUP_ADVANCED_DATA,
    default="dbadmin",
    allowed_pattern=r"^(?!rdsadmin$)[a-zA-Z][a-zA-Z0-9_]{0,15}$",
    constraint="1 to 16 letters, digits or underscores, starting with a letter; "
    "not the reserved name rdsadmin.",
)

DB_MULTI_AZ = Param(
    "DbMultiAz",
    "String",
    "true: a synchronous standby in a second AZ with automatic failover.",
    hint="true: standby in a second AZ with failover",
    label="Multi-AZ database",
    group=GROUP_SIZE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

DB_ALLOCATED_STORAGE = Param(
    "DbAllocatedStorage",
    "Number",
    "Initial gp3 storage of the database, in GiB.",
    label="Database storage (GiB)",
    group=GROUP_SIZE,
    default="20",
    min_value=20,
    max_value=65536,
    constraint="A whole number of GiB from 20 to 65536.",
)

DB_MAX_ALLOCATED_STORAGE = Param(
    "DbMaxAllocatedStorage",
    "Number",
    "Upper limit for storage autoscaling of the primary and the replica, in GiB (at least 10 % "
    "above the initial storage).",
    hint="At least 10 % above the initial storage",
    label="Database storage autoscaling limit (GiB)",
    group=GROUP_ADVANCED_DATA,
    default="50",
    min_value=22,
    max_value=65536,
    constraint="A whole number of GiB from 22 to 65536, at least 10 % above DbAllocatedStorage.",
)

DB_BACKUP_RETENTION_DAYS = Param(
    "DbBackupRetentionDays",
    "Number",
    "Days RDS keeps automated backups (point-in-time recovery window).",
    label="Database backup retention (days)",
    group=GROUP_ADVANCED_DATA,
    default="1",
    min_value=1,
    max_value=35,
    constraint="A whole number of days from 1 to 35.",
)

DB_DELETION_PROTECTION = Param(
    "DbDeletionProtection",
    "String",
    "true: RDS refuses to delete the database until this is turned off.",
    hint="true: a delete fails until an update turns it off",
    label="Database deletion protection",
    group=GROUP_SIZE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

DB_REPLICA_ENABLED = Param(
    "DbReplicaEnabled",
    "String",
    "true: an asynchronous read replica in another AZ.",
    label="Read replica",
    group=GROUP_SIZE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

DB_REPLICA_INSTANCE_CLASS = Param(
    "DbReplicaInstanceClass",
    "String",
    "RDS instance class of the read replica; empty means the same as the primary.",
    hint="Empty: same as the primary",
    label="Read replica instance class",
    group=GROUP_ADVANCED_DATA,
    default="",
    allowed_pattern=r"^$|^db\.[a-z0-9]+\.[a-z0-9]+$",
    constraint="Empty (same as the primary) or an RDS instance class such as db.t4g.medium.",
)

DB_MONITORING_INTERVAL = Param(
    "DbMonitoringInterval",
    "Number",
    "Enhanced monitoring interval in seconds; 0 turns enhanced monitoring off.",
    hint="0: off",
    label="Enhanced monitoring interval (s)",
    group=GROUP_ADVANCED_DATA,
    default="0",
    allowed_values=("0", "1", "5", "10", "15", "30", "60"),
    constraint="0, 1, 5, 10, 15, 30 or 60.",
)

DB_PERFORMANCE_INSIGHTS = Param(
    "DbPerformanceInsights",
    "String",
    "true: turn on Performance Insights (7 days, free tier). Not available on "
    "every instance class (e.g. db.t4g.micro).",
    hint="MySQL: not on db.t3/db.t4g micro and small",
    label="Performance Insights",
    group=GROUP_ADVANCED_DATA,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

DB_LOG_RETENTION_DAYS = log_retention(
    "DbLogRetentionDays",
    "Days to keep the database logs RDS exports to CloudWatch Logs (error and slow "
    "query logs on MySQL; the server and upgrade logs on PostgreSQL).",
    label="Database log retention (days)", group=GROUP_ADVANCED_DATA, default="7",
)

EFS_PERFORMANCE_MODE = Param(
    "EfsPerformanceMode",
    "String",
    "EFS performance mode; generalPurpose suits web content.",
    label="EFS performance mode",
    group=GROUP_ADVANCED_DATA,
    default="generalPurpose",
    allowed_values=("generalPurpose", "maxIO"),
    constraint="generalPurpose or maxIO.",
)

EFS_THROUGHPUT_MODE = Param(
    "EfsThroughputMode",
    "String",
    "EFS throughput mode: elastic scales with load and bills per use; bursting "
    "earns credits with stored size.",
    label="EFS throughput mode",
    group=GROUP_ADVANCED_DATA,
    default="bursting",
    allowed_values=("elastic", "bursting"),
    constraint="elastic or bursting.",
)

EFS_TRANSITION_TO_IA = Param(
    "EfsTransitionToIa",
    "String",
    "Move files not read for this long to the Infrequent Access class; a read moves them back.",
    label="EFS move to Infrequent Access after",
    group=GROUP_ADVANCED_DATA,
    default="AFTER_30_DAYS",
    allowed_values=("AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS",
                    "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS",
                    "AFTER_365_DAYS"),
    constraint="AFTER_1_DAY, AFTER_7_DAYS, AFTER_14_DAYS, AFTER_30_DAYS, AFTER_60_DAYS, "
    "AFTER_90_DAYS, AFTER_180_DAYS, AFTER_270_DAYS or AFTER_365_DAYS.",
)

DATABASE = (
    DB_ENGINE,
    DB_INSTANCE_CLASS,
    DB_NAME,
    DB_MASTER_USERNAME,
    DB_MULTI_AZ,
    DB_ALLOCATED_STORAGE,
    DB_MAX_ALLOCATED_STORAGE,
    DB_BACKUP_RETENTION_DAYS,
    DB_DELETION_PROTECTION,
    DB_REPLICA_ENABLED,
    DB_REPLICA_INSTANCE_CLASS,
    DB_MONITORING_INTERVAL,
    DB_PERFORMANCE_INSIGHTS,
    DB_LOG_RETENTION_DAYS,
)
FILES = (EFS_PERFORMANCE_MODE, EFS_THROUGHPUT_MODE, EFS_TRANSITION_TO_IA)

# --- Values the root stack wires from one nested stack to the next ----------
# Nested stacks declare these; users never type them.

GROUP_WIRED = "Wired by the root stack"


def _wired(name: str, type_: str, description: str) -> Param:
    return Param(name, type_, description, label=name, group=GROUP_WIRED)


VPC_ID = _wired("VpcId", "AWS::EC2::VPC::Id", "VPC of the stack (network stack output).")
VPC_CIDR = Param("VpcCidr", "String", "IPv4 CIDR block of the VPC: VpcNetworkAddress/VpcPrefixLength.",
                 label="VpcCidr", group=GROUP_WIRED, default="10.0.0.0/16")
AVAILABILITY_ZONES = _wired(
    "AvailabilityZones", "CommaDelimitedList", "AZs in use (network stack output)."
)
PUBLIC_SUBNET_IDS = _wired(
    "PublicSubnetIds", "List<AWS::EC2::Subnet::Id>", "Public subnets, one per AZ."
)
APP_SUBNET_IDS = _wired(
    "AppSubnetIds", "List<AWS::EC2::Subnet::Id>", "Private app subnets, one per AZ."
)
DATA_SUBNET_IDS = _wired(
    "DataSubnetIds", "List<AWS::EC2::Subnet::Id>", "Private data subnets, one per AZ."
)
ALB_SECURITY_GROUP_ID = _wired(
    "AlbSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the load balancer."
)
APP_SECURITY_GROUP_ID = _wired(
    "AppSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the app instances."
)
EFS_SECURITY_GROUP_ID = _wired(
    "EfsSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the EFS mount targets."
)
DB_SECURITY_GROUP_ID = _wired(
    "DbSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the database."
)

# --- Application tier -------------------------------------------------------


AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
REFERENCE_APP_REPOSITORY = "https://github.com/Kelvinskell/terra-tier.git"
# The reference app's master branch as of this writing: a commit pins what
# every instance (and every instance refresh) runs.
REFERENCE_APP_COMMIT = "dcee308c9e85f4ec5cb6b37f1c25b66e948f2455"  # pragma: allowlist secret (a public commit id)
_INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"

AMI_ID = Param(
    "AmiId",
    "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
    "SSM parameter holding the AMI id: Amazon Linux 2023 by default; for Ubuntu "
    "24.04, your own parameter naming an Ubuntu AMI with amazon-efs-utils baked in "
    "(README, Supported AMIs), with RootDeviceName /dev/sda1.",
    label="AMI (public SSM parameter path)",
    group=GROUP_ADVANCED_SERVERS,
    default=AL2023_AMI_PARAMETER,
)

# CloudFormation fetches an SSM parameter type's latest value on every stack update, even with
# "use existing value" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html#cloudformation-supplied-parameter-types-ssm),
# so a newer image published under AmiId would replace every server on any update. The
# environment keeps the resolved id here; `threetier plan` sets it when empty.
PINNED_AMI_ID = Param(
    "PinnedAmiId",
    "String",
    "AMI id the servers run, resolved once from AmiId and kept (threetier plan sets it when empty; "
    "threetier pin-ami moves it). Empty: AmiId's latest image, fetched again on every stack update.",
    label="Pinned AMI id",
    hint="set by threetier plan; empty: AmiId's latest",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    allowed_pattern=r"^(ami-[0-9a-f]{8}([0-9a-f]{9})?)?$",
    constraint="Empty, or an AMI id such as ami-0abcdef1234567890.",
)

ROOT_DEVICE_NAME = Param(
    "RootDeviceName",
    "String",
    "Root device of the AMI, so the encrypted gp3 settings apply to the root "
    "volume: /dev/xvda on Amazon Linux, /dev/sda1 on Ubuntu.",
    hint="/dev/sda1 for Ubuntu",
    label="Root device name",
    group=GROUP_ADVANCED_SERVERS,
    default="/dev/xvda",
    allowed_values=("/dev/xvda", "/dev/sda1"),
    constraint="/dev/xvda (Amazon Linux) or /dev/sda1 (Ubuntu).",
)

INSTANCE_TYPE = Param(
    "InstanceType",
    "String",
    "EC2 instance type of the app servers (x86_64 to match the default AMI).",
    hint="x86_64 with the default AMI, e.g. t3.small",
    label="App instance type",
    group=GROUP_SIZE,
    default="t3.small",
    allowed_pattern=_INSTANCE_TYPE_PATTERN,
    constraint="An EC2 instance type such as t3.small or t3.xlarge.",
)

ROOT_VOLUME_SIZE = Param(
    "RootVolumeSize",
    "Number",
    "Size of each app server's encrypted gp3 root volume, in GiB.",
    label="Root volume size (GiB)",
    group=GROUP_ADVANCED_SERVERS,
    default="20",
    min_value=8,
    max_value=1024,
    constraint="A whole number of GiB from 8 to 1024.",
)

CPU_CREDITS = Param(
    "CpuCredits",
    "String",
    "T instance types only (empty for others). unlimited: never held back, CPU above the "
    "baseline is billed; standard: no surplus charge, held at the baseline once credits run out, "
    "where CPU scaling above the baseline cannot scale out.",
    hint="T types only; empty for other types",
    label="CPU credits (T types)",
    group=GROUP_SIZE,
    default="standard",
    allowed_values=("unlimited", "standard", ""),
    constraint="unlimited or standard for a T instance type; empty for any other type.",
)

DETAILED_MONITORING = Param(
    "DetailedMonitoring",
    "String",
    "true: 1-minute EC2 metrics (billed), so CPU scaling reacts faster.",
    label="Detailed monitoring",
    group=GROUP_ADVANCED_SERVERS,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

ASG_MIN_SIZE = Param(
    "AsgMinSize",
    "Number",
    "Fewest app servers the Auto Scaling group keeps running.",
    label="Minimum app servers",
    group=GROUP_SIZE,
    default="1",
    min_value=1,
    max_value=100,
    constraint="A whole number from 1 to 100, at most AsgDesiredCapacity.",
)

ASG_DESIRED_CAPACITY = Param(
    "AsgDesiredCapacity",
    "Number",
    "App servers to start with; CPU target tracking moves it between min and max.",
    label="Desired app servers",
    group=GROUP_SIZE,
    default="1",
    min_value=1,
    max_value=100,
    constraint="A whole number from 1 to 100, between AsgMinSize and AsgMaxSize.",
)

ASG_MAX_SIZE = Param(
    "AsgMaxSize",
    "Number",
    "Most app servers the Auto Scaling group may run.",
    label="Maximum app servers",
    group=GROUP_SIZE,
    default="2",
    min_value=1,
    max_value=100,
    constraint="A whole number from 1 to 100, at least AsgDesiredCapacity.",
)

CPU_TARGET_PERCENT = Param(
    "CpuTargetPercent",
    "Number",
    "Average CPU utilisation the Auto Scaling group keeps the app servers at.",
    label="Target CPU utilisation (%)",
    group=GROUP_ADVANCED_SERVERS,
    default="50",
    min_value=10,
    max_value=90,
    constraint="A whole number of percent from 10 to 90.",
)

HEALTH_CHECK_GRACE_SECONDS = Param(
    "HealthCheckGraceSeconds",
    "Number",
    "Seconds a new server has to boot and install the app before failed load "
    "balancer health checks get it replaced.",
    label="Health check grace period (s)",
    group=GROUP_ADVANCED_SERVERS,
    default="900",
    min_value=60,
    max_value=3600,
    constraint="A whole number of seconds from 60 to 3600.",
)

HEALTH_CHECK_PATH = Param(
    "HealthCheckPath",
    "String",
    "Path the load balancer requests to check a server; it must answer 200-399 "
    "without touching the database (the reference app's / does).",
    hint="Must answer 200-399 without the database",
    label="Health check path",
    group=GROUP_APP,
    default="/",
    allowed_pattern=r"^/[A-Za-z0-9._~/-]*$",
    constraint="A URL path starting with /, e.g. / or /health.",
)

APP_REPOSITORY_URL = Param(
    "AppRepositoryUrl",
    "String",
    "HTTPS URL of the public Git repository of the app (Python WSGI, "
    "requirements.txt at its root). Default: the tutorial's Flask news app.",
    hint="Public HTTPS Git URL",
    label="App repository URL",
    group=GROUP_APP,
    default=REFERENCE_APP_REPOSITORY,
    allowed_pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._~/-]+$",
    constraint="An https:// Git URL without credentials or query string, "
    "e.g. https://github.com/owner/repo.git.",
)

APP_REPOSITORY_REF = Param(
    "AppRepositoryRef",
    "String",
    "Branch, tag or commit of the app to run; a commit pins what every server runs.",
    label="App version (branch, tag or commit)",
    group=GROUP_APP,
    default=REFERENCE_APP_COMMIT,
    allowed_pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$",
    constraint="A Git branch, tag or commit: letters, digits, '.', '_', '/' and '-'.",
)

APP_ENTRY_POINT = Param(
    "AppEntryPoint",
    "String",
    "WSGI application gunicorn serves, as module:variable (the reference app: run:app).",
    hint="module:variable",
    label="WSGI entry point",
    group=GROUP_APP,
    default="run:app",
    allowed_pattern=r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$",
    constraint="module:variable, e.g. run:app or myproject.wsgi:application.",
)

ALB_CERTIFICATE_ARN = Param(
    "AlbCertificateArn",
    "String",
    "ARN of an ACM certificate in this region for the load balancer. Given: "
    "HTTPS on 443 and HTTP redirects to it. Empty: plain HTTP on 80.",
    hint="ACM, this region; empty: HTTP only",
    label="Load balancer certificate ARN",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$",
    constraint="Empty or an ACM certificate ARN "
    "(arn:aws:acm:<region>:<account>:certificate/<id>).",
)

ALB_DELETION_PROTECTION = Param(
    "AlbDeletionProtection",
    "String",
    "true: the load balancer cannot be deleted until this is turned off.",
    hint="true: a delete fails until an update turns it off",
    label="Load balancer deletion protection",
    group=GROUP_SIZE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

ALB_IDLE_TIMEOUT_SECONDS = Param(
    "AlbIdleTimeoutSeconds",
    "Number",
    "Seconds a connection may stay idle before the load balancer closes it.",
    label="Load balancer idle timeout (s)",
    group=GROUP_ADVANCED_SERVERS,
    default="60",
    min_value=1,
    max_value=4000,
    constraint="A whole number of seconds from 1 to 4000.",
)

ALB_ACCESS_LOGS = Param(
    "AlbAccessLogs",
    "String",
    "true: write load balancer access logs to an encrypted S3 bucket the stack creates.",
    label="Load balancer access logs",
    group=GROUP_ADVANCED_SERVERS,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

ALB_ACCESS_LOG_RETENTION_DAYS = Param(
    "AlbAccessLogRetentionDays",
    "Number",
    "Days to keep load balancer access logs before S3 deletes them.",
    label="Access log retention (days)",
    group=GROUP_ADVANCED_SERVERS,
    default="90",
    min_value=1,
    max_value=3650,
    constraint="A whole number of days from 1 to 3650.",
)

BASTION_KEY_PAIR = Param(
    "BastionKeyPairName",
    "String",
    "Existing EC2 key pair for SSH to the bastion hosts; required when "
    "BastionCount is above 0.",
    hint="Existing EC2 key pair in this region",
    label="Bastion key pair",
    group=GROUP_BASTION,
    default="",
    allowed_pattern=r"^[ -~]{0,255}$",
    constraint="Empty or the name of an EC2 key pair (printable ASCII, up to 255 characters).",
)

BASTION_INSTANCE_TYPE = Param(
    "BastionInstanceType",
    "String",
    "EC2 instance type of the bastion hosts.",
    label="Bastion instance type",
    group=GROUP_BASTION,
    default="t3.micro",
    allowed_pattern=_INSTANCE_TYPE_PATTERN,
    constraint="An EC2 instance type such as t3.micro.",
)

APP_LOG_RETENTION_DAYS = log_retention(
    "AppLogRetentionDays",
    "Days to keep the app servers' logs (boot, app access and errors) in CloudWatch Logs.",
    label="App log retention (days)", group=GROUP_ADVANCED_SERVERS, default="30",
)

APP = (
    AMI_ID,
    ROOT_DEVICE_NAME,
    INSTANCE_TYPE,
    CPU_CREDITS,
    ROOT_VOLUME_SIZE,
    DETAILED_MONITORING,
    ASG_MIN_SIZE,
    ASG_DESIRED_CAPACITY,
    ASG_MAX_SIZE,
    CPU_TARGET_PERCENT,
    HEALTH_CHECK_GRACE_SECONDS,
    HEALTH_CHECK_PATH,
    APP_REPOSITORY_URL,
    APP_REPOSITORY_REF,
    APP_ENTRY_POINT,
    APP_LOG_RETENTION_DAYS,
)
LOAD_BALANCER = (
    ALB_CERTIFICATE_ARN,
    ALB_DELETION_PROTECTION,
    ALB_IDLE_TIMEOUT_SECONDS,
    ALB_ACCESS_LOGS,
    ALB_ACCESS_LOG_RETENTION_DAYS,
)
BASTION = (BASTION_KEY_PAIR, BASTION_INSTANCE_TYPE)

BASTION_SECURITY_GROUP_ID = _wired(
    "BastionSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the bastion hosts."
)
DB_ENDPOINT_ADDRESS = _wired("DbEndpointAddress", "String", "Database endpoint host name.")
DB_ENDPOINT_PORT = _wired("DbEndpointPort", "String", "Database port.")
DB_MASTER_SECRET_ARN = _wired(
    "DbMasterSecretArn", "String", "ARN of the database master user secret."
)
APP_SECRET_ARN = _wired("AppSecretArn", "String", "ARN of the application secret.")
EFS_FILE_SYSTEM_ID = _wired("EfsFileSystemId", "String", "EFS file system id.")
EFS_FILE_SYSTEM_ARN = _wired("EfsFileSystemArn", "String", "EFS file system ARN.")
EFS_ACCESS_POINT_ID = _wired("EfsAccessPointId", "String", "EFS access point the app servers mount.")
EFS_ACCESS_POINT_ARN = _wired("EfsAccessPointArn", "String", "ARN of the EFS access point the app servers mount.")

# --- Domain, certificates and CloudFront ------------------------------------

_ACM_ARN = r"arn:aws[a-z-]*:acm:{region}:[0-9]{{12}}:certificate/[0-9a-f-]{{36}}"

DOMAIN_NAME = Param(
    "DomainName",
    "String",
    "Domain of the public hosted zone the site lives in, e.g. example.com. Empty: "
    "no DNS records and no certificates (the site answers on the ALB or CloudFront name). "
    "HTTPS on this name needs HostedZoneId too.",
    hint="e.g. example.com; empty: no DNS, no HTTPS name",
    label="Domain name",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    constraint="Empty or a lower-case domain name such as example.com.",
)

SITE_SUBDOMAIN = Param(
    "SiteSubdomain",
    "String",
    "Label in front of DomainName that users visit (www gives www.example.com); "
    "empty serves the apex (example.com). Not origin: CloudFront reaches the load balancer "
    "at origin.<site>, and an apex site's is origin.<domain>.",
    hint="www: www.example.com; empty: the apex",
    label="Site subdomain",
    group=GROUP_EDGE,
    default="www",
    allowed_pattern=r"^$|^(?!origin$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
    constraint="Empty or one DNS label (lower-case letters, digits and inner hyphens), not origin.",
)

HOSTED_ZONE_ID = Param(
    "HostedZoneId",
    "String",
    "Public hosted zone of DomainName that the registrar already delegates to: the "
    "certificates, HTTPS and the site's records are made in it. Empty with a DomainName: "
    "this deploy only creates the zone; point the registrar at the NameServers output, "
    "check with `threetier delegation ENV`, then set this to the zone id and deploy again.",
    hint="Empty: this deploy creates the zone (README)",
    label="Delegated hosted zone id",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^Z[A-Z0-9]{1,31}$",
    constraint="Empty or a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ.",
)

CLOUDFRONT_ENABLED = Param(
    "CloudFrontEnabled",
    "String",
    "true: serve the site through CloudFront, and let the load balancer accept "
    "only CloudFront's requests.",
    label="CloudFront in front of the load balancer",
    group=GROUP_EDGE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

CLOUDFRONT_CERTIFICATE_ARN = Param(
    "CloudFrontCertificateArn",
    "String",
    "ACM certificate in us-east-1 for the site name, used by CloudFront. Needed "
    "when the stack is not in us-east-1 (there the stack creates it).",
    hint="Needed outside us-east-1 with a domain",
    label="CloudFront certificate ARN (us-east-1)",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^" + _ACM_ARN.format(region="us-east-1") + "$",
    constraint="Empty or an ACM certificate ARN in us-east-1 (CloudFront uses no other region's).",
)

CLOUDFRONT_PREFIX_LIST_ID = Param(
    "CloudFrontPrefixListId",
    "String",
    "Id of the AWS-managed prefix list com.amazonaws.global.cloudfront.origin-facing "
    "in this region (threetier plan/deploy look it up for you).",
    hint="VPC console, Managed prefix lists: com.amazonaws.global.cloudfront.origin-facing",
    label="CloudFront origin-facing prefix list id",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^pl-[0-9a-f]{8,17}$",
    constraint="Empty or a prefix list id such as pl-3b927c52.",
)

CLOUDFRONT_PRICE_CLASS = Param(
    "CloudFrontPriceClass",
    "String",
    "Edge locations CloudFront serves from: PriceClass_100 (North America, Europe), "
    "PriceClass_200 (adds most of Asia), PriceClass_All.",
    label="CloudFront price class",
    group=GROUP_ADVANCED_SERVERS,
    default="PriceClass_100",
    allowed_values=("PriceClass_100", "PriceClass_200", "PriceClass_All"),
    constraint="PriceClass_100, PriceClass_200 or PriceClass_All.",
)

CLOUDFRONT_LOGGING = Param(
    "CloudFrontLogging",
    "String",
    "true: CloudFront standard access logs to an encrypted S3 bucket the stack creates.",
    label="CloudFront access logs",
    group=GROUP_ADVANCED_SERVERS,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

WAF_ENABLED = Param(
    "WafEnabled",
    "String",
    "true: an AWS WAF web ACL with the AWS managed common rule set on CloudFront "
    "(CloudFront web ACLs exist only in us-east-1, so the stack must be there).",
    hint="us-east-1 with CloudFront only",
    label="AWS WAF on CloudFront",
    group=GROUP_EDGE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

_SECRET_VERSION = r"^$|^[a-zA-Z0-9-]{32,64}$"

ORIGIN_VERIFY_VERSION = Param(
    "OriginVerifySecretVersion",
    "String",
    "Version id of the origin header secret CloudFront sends and the load balancer accepts; "
    "empty: its current version. Set by `threetier rotate-origin-secret ENV`.",
    hint="Set by threetier rotate-origin-secret",
    label="Origin header secret version",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    allowed_pattern=_SECRET_VERSION,
    constraint="Empty or a Secrets Manager version id (32 to 64 letters, digits and hyphens).",
)

ORIGIN_VERIFY_PREVIOUS_VERSION = Param(
    "OriginVerifyPreviousSecretVersion",
    "String",
    "Version id of the previous origin header secret, which the load balancer still accepts "
    "while CloudFront's edges move to the current one; empty: none. Set by "
    "`threetier rotate-origin-secret ENV`.",
    hint="Set by threetier rotate-origin-secret",
    label="Previous origin header secret version",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    allowed_pattern=_SECRET_VERSION,
    constraint="Empty or a Secrets Manager version id (32 to 64 letters, digits and hyphens).",
)

EDGE = (
    DOMAIN_NAME,
    SITE_SUBDOMAIN,
    HOSTED_ZONE_ID,
    CLOUDFRONT_ENABLED,
    CLOUDFRONT_CERTIFICATE_ARN,
    CLOUDFRONT_PREFIX_LIST_ID,
    CLOUDFRONT_PRICE_CLASS,
    CLOUDFRONT_LOGGING,
    WAF_ENABLED,
    ORIGIN_VERIFY_VERSION,
    ORIGIN_VERIFY_PREVIOUS_VERSION,
)

ORIGIN_VERIFY_SECRET_ARN = _wired(
    "OriginVerifySecretArn", "String",
    "ARN of the secret holding the header value CloudFront sends to the load balancer.",
)
ZONE_ID = _wired("ZoneId", "String", "Hosted zone of the domain (dns stack output).")
ALB_DNS_NAME = _wired("AlbDnsName", "String", "Load balancer DNS name (app stack output).")
ALB_HOSTED_ZONE_ID = _wired(
    "AlbCanonicalHostedZoneId", "String", "Load balancer hosted zone id (app stack output)."
)
SITE_CERTIFICATE_ARN = _wired(
    "SiteCertificateArn", "String", "CloudFront certificate (us-east-1) for the site name."
)

# --- Monitoring -------------------------------------------------------------



def _threshold(name: str, description: str, label: str, default: str, low: int, high: int,
               unit: str) -> Param:
    return Param(
        name, "Number", description, label=label, group=GROUP_ADVANCED_ALARMS, default=default,
        min_value=low, max_value=high, constraint=f"A number of {unit} from {low} to {high}.",
    )


MONITORING_ENABLED = Param(
    "MonitoringEnabled",
    "String",
    "true: alarms on every tier, notifications to an encrypted SNS topic, and a dashboard.",
    label="Alarms and dashboard",
    group=GROUP_NOTIFICATIONS,
    default="true",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

ALARM_EMAIL = Param(
    "AlarmEmail",
    "String",
    "Email address subscribed to the alarm topic (it must confirm the subscription); "
    "empty: subscribe later yourself.",
    hint="Confirm the email AWS sends; empty: none",
    label="Alarm email",
    group=GROUP_NOTIFICATIONS,
    default="",
    allowed_pattern=r"^$|^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$",
    constraint="Empty or one email address, e.g. ops@example.com.",
)

ALB_5XX_PERCENT = _threshold(
    "Alb5xxPercent", "Alarm when more than this share of requests gets a 5xx from the load balancer itself.",
    "Load balancer 5xx (% of requests)", "5", 1, 100, "percent")
TARGET_5XX_PERCENT = _threshold(
    "Target5xxPercent", "Alarm when more than this share of requests gets a 5xx from the app servers.",
    "App 5xx (% of requests)", "5", 1, 100, "percent")
UNHEALTHY_HOST_MINUTES = _threshold(
    "UnhealthyHostMinutes", "Alarm when any app server fails health checks for this many minutes in a row.",
    "Unhealthy server (minutes)", "5", 1, 60, "minutes")
RESPONSE_TIME_P95_MS = _threshold(
    "ResponseTimeP95Ms", "Alarm when the 95th percentile app response time exceeds this.",
    "Response time p95 (ms)", "1500", 50, 60000, "milliseconds")
DB_CPU_PERCENT = _threshold(
    "DbCpuPercent", "Alarm when the database's average CPU stays above this for 15 minutes.",
    "Database CPU (%)", "80", 10, 100, "percent")
DB_FREE_STORAGE_GIB = _threshold(
    "DbFreeStorageGiB", "Alarm when the database's free storage falls below this.",
    "Database free storage (GiB)", "5", 1, 10000, "GiB")
DB_FREEABLE_MEMORY_MIB = _threshold(
    "DbFreeableMemoryMiB", "Alarm when the database's freeable memory falls below this.",
    "Database freeable memory (MiB)", "128", 16, 1000000, "MiB")
DB_CONNECTIONS_MAX = _threshold(
    "DbConnectionsMax", "Alarm when the database has more connections than this; keep it well below "
    "the instance class's max_connections (about 70 %; threetier validate checks).",
    "Database connections", "50", 1, 100000, "connections")
DB_REPLICA_LAG_SECONDS = _threshold(
    "DbReplicaLagSeconds", "Alarm when the read replica lags the primary by more than this.",
    "Replica lag (s)", "300", 1, 86400, "seconds")
EFS_BURST_CREDIT_GIB = _threshold(
    "EfsBurstCreditGiB", "Bursting mode: alarm when EFS burst credits fall below this.",
    "EFS burst credits (GiB)", "100", 1, 1000000, "GiB")
EFS_IO_LIMIT_PERCENT = _threshold(
    "EfsIoLimitPercent", "General Purpose mode: alarm when EFS uses more than this share of its I/O limit.",
    "EFS I/O limit (%)", "90", 10, 100, "percent")
NAT_PORT_ALLOCATION_ERRORS = _threshold(
    "NatPortAllocationErrors", "Alarm when a NAT gateway fails to allocate more source ports than this in 5 minutes.",
    "NAT port allocation errors", "0", 0, 100000, "errors")

THRESHOLDS = (
    ALB_5XX_PERCENT,
    TARGET_5XX_PERCENT,
    UNHEALTHY_HOST_MINUTES,
    RESPONSE_TIME_P95_MS,
    DB_CPU_PERCENT,
    DB_FREE_STORAGE_GIB,
    DB_FREEABLE_MEMORY_MIB,
    DB_CONNECTIONS_MAX,
    DB_REPLICA_LAG_SECONDS,
    EFS_BURST_CREDIT_GIB,
    EFS_IO_LIMIT_PERCENT,
    NAT_PORT_ALLOCATION_ERRORS,
)
ALARMS = (ALARM_EMAIL, *THRESHOLDS)
MONITORING = (MONITORING_ENABLED, *ALARMS)

ALB_FULL_NAME = _wired("AlbFullName", "String", "Load balancer name for CloudWatch (app/...).")
TARGET_GROUP_FULL_NAME = _wired("TargetGroupFullName", "String", "Target group name for CloudWatch.")
AUTO_SCALING_GROUP_NAME = _wired("AutoScalingGroupName", "String", "Auto Scaling group of the app servers.")
DB_INSTANCE_IDENTIFIER = _wired("DbInstanceIdentifier", "String", "Primary database instance id.")
DB_REPLICA_IDENTIFIER = _wired("DbReplicaIdentifier", "String", "Read replica instance id (empty without one).")
NAT_GATEWAY_IDS = _wired("NatGatewayIds", "CommaDelimitedList", "NAT gateway ids.")
DB_ROTATION_SECURITY_GROUP_ID = _wired(
    "DbRotationSecurityGroupId", "AWS::EC2::SecurityGroup::Id",
    "Security group of the database password rotation functions.")
DB_APP_SECRET_ARN = _wired("DbAppSecretArn", "String", "ARN of the app's own database user secret.")
LOG_KEY_ARN = _wired("LogKeyArn", "String", "KMS key that encrypts the stack's log groups (network stack output).")

# --- Locked-down accounts ---------------------------------------------------

PERMISSIONS_BOUNDARY_ARN = Param(
    "PermissionsBoundaryArn",
    "String",
    "Managed policy set as the permissions boundary of every IAM role the stacks create, for "
    "organisations that require one; empty: no boundary. The roles AWS creates for the "
    "database password rotation (the hosted rotation Lambda) cannot take one.",
    label="Permissions boundary ARN (every role)",
    group=GROUP_IAM,
    hint="Policy your organisation requires on roles; empty: none",
    default="",
    allowed_pattern=r"^$|^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[\w+=,.@/-]{1,512}$",
    constraint="Empty or an IAM policy ARN, e.g. arn:aws:iam::123456789012:policy/Boundary.",
)

IAM_ROLE_PATH = Param(
    "IamRolePath",
    "String",
    "Path of every IAM role the stacks create (e.g. /app/), for organisations whose policies "
    "or boundaries match roles by path; / is IAM's default.",
    label="IAM role path",
    group=GROUP_IAM,
    default="/",
    allowed_pattern=r"^/$|^/[!-~]{1,510}/$",
    constraint="/ or a path that starts and ends with /, e.g. /app/ (printable ASCII, no spaces).",
)

IAM = (PERMISSIONS_BOUNDARY_ARN, IAM_ROLE_PATH)
# What the root passes the network stack, besides the VPC block it joins. The
# network stack is the first nested stack, so its Rules also carry the checks
# that do not fit in the root (51,200 bytes, see threetier.parameters.rules), refused
# before any resource is created. VpcPrefixLength, and InstanceType and all
# after it, are there for those checks only.
NETWORK_STACK = (VPC_PREFIX_LENGTH, *NETWORK_SHARED, *IAM, INSTANCE_TYPE, CPU_CREDITS,
                 DB_ENGINE, DB_INSTANCE_CLASS, DB_PERFORMANCE_INSIGHTS, DB_REPLICA_ENABLED,
                 DB_REPLICA_INSTANCE_CLASS, EFS_PERFORMANCE_MODE, EFS_THROUGHPUT_MODE,
                 CLOUDFRONT_ENABLED, CLOUDFRONT_LOGGING, ALB_ACCESS_LOGS)

# Every root parameter in console order: groups show in the order their first
# parameter comes (see GROUP_PROJECT).
ROOT = (
    *PROJECT,
    NUMBER_OF_AZS, SINGLE_NAT_GATEWAY, INSTANCE_TYPE, CPU_CREDITS, ASG_MIN_SIZE, ASG_DESIRED_CAPACITY,
    ASG_MAX_SIZE, DB_ENGINE, DB_INSTANCE_CLASS, DB_MULTI_AZ, DB_ALLOCATED_STORAGE, DB_REPLICA_ENABLED,
    DB_DELETION_PROTECTION, ALB_DELETION_PROTECTION,
    DOMAIN_NAME, SITE_SUBDOMAIN, HOSTED_ZONE_ID, ALB_CERTIFICATE_ARN, CLOUDFRONT_ENABLED,
    CLOUDFRONT_CERTIFICATE_ARN, CLOUDFRONT_PREFIX_LIST_ID, WAF_ENABLED,
    MONITORING_ENABLED, ALARM_EMAIL,
    APP_REPOSITORY_URL, APP_REPOSITORY_REF, APP_ENTRY_POINT, APP_PORT, HEALTH_CHECK_PATH,
    BASTION_COUNT, ADMIN_CIDR, BASTION_KEY_PAIR, BASTION_INSTANCE_TYPE,
    *IAM,
    VPC_NETWORK_ADDRESS, VPC_PREFIX_LENGTH, SUBNET_CIDR_BITS, AVAILABILITY_ZONE_NAMES, FLOW_LOG_RETENTION_DAYS,
    AMI_ID, PINNED_AMI_ID, ROOT_DEVICE_NAME,
    ROOT_VOLUME_SIZE,
    DETAILED_MONITORING, CPU_TARGET_PERCENT, HEALTH_CHECK_GRACE_SECONDS, APP_LOG_RETENTION_DAYS,
    ALB_IDLE_TIMEOUT_SECONDS, ALB_ACCESS_LOGS, ALB_ACCESS_LOG_RETENTION_DAYS, CLOUDFRONT_PRICE_CLASS,
    CLOUDFRONT_LOGGING, ORIGIN_VERIFY_VERSION, ORIGIN_VERIFY_PREVIOUS_VERSION,
    DB_NAME, DB_MASTER_USERNAME, DB_MAX_ALLOCATED_STORAGE, DB_BACKUP_RETENTION_DAYS, DB_REPLICA_INSTANCE_CLASS,
    DB_MONITORING_INTERVAL, DB_PERFORMANCE_INSIGHTS, DB_LOG_RETENTION_DAYS,
    EFS_PERFORMANCE_MODE, EFS_THROUGHPUT_MODE, EFS_TRANSITION_TO_IA,
    *THRESHOLDS,
)
