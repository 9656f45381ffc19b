"""Every template parameter, defined once.

The root stack and the nested stacks add the same definitions with `use`, so a
parameter has one type, default, constraint and label wherever it appears, and
the CLI validation and the docs read the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter, Template

INTERFACE = "AWS::CloudFormation::Interface"

# Groups in the order the CloudFormation console shows them.
GROUP_PROJECT = "Project"
GROUP_NETWORK = "Network"


@dataclass(frozen=True)
class Param:
    """One CloudFormation parameter with its console label and group."""

    name: str
    type: str
    description: str
    label: str
    group: str
    default: str | None = None
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    constraint: str | None = None

    def to_parameter(self) -> Parameter:
        props = {"Type": self.type, "Description": self.description}
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
        if self.constraint is not None:
            props["ConstraintDescription"] = self.constraint
        return Parameter(self.name, **props)


def use(t: Template, *params: Param) -> None:
    """Add parameters to a template and record their group and label."""
    interface = t.metadata.setdefault(
        INTERFACE, {"ParameterGroups": [], "ParameterLabels": {}}
    )
    for param in params:
        t.add_parameter(param.to_parameter())
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
PRIVATE_VPC_CIDR_PATTERN = (
    r"^(10\." + _OCTET + r"|172\.(1[6-9]|2[0-9]|3[01])|192\.168)"
    r"\." + _OCTET + r"\." + _OCTET + r"/(1[6-9]|2[0-3])$"
)

# Values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS = (
    "1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365",
    "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653",
)

PROJECT_NAME = Param(
    "ProjectName",
    "String",
    "Short project name, used as the first part of every resource Name tag "
    "(<project>-<environment>-<thing>).",
    label="Project name",
    group=GROUP_PROJECT,
    default="project-x",
    allowed_pattern=r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$",
    constraint="3 to 20 characters: lower-case letters, digits and hyphens, "
    "starting with a letter and not ending with a hyphen.",
)

ENVIRONMENT_NAME = Param(
    "EnvironmentName",
    "String",
    "Environment this stack serves (e.g. dev, staging, prod); tagged on every "
    "resource and part of every Name tag.",
    label="Environment name",
    group=GROUP_PROJECT,
    default="dev",
    allowed_pattern=r"^[a-z][a-z0-9]{1,9}$",
    constraint="2 to 10 characters: lower-case letters and digits, starting "
    "with a letter (e.g. dev, staging, prod).",
)

VPC_CIDR = Param(
    "VpcCidr",
    "String",
    "IPv4 CIDR block of the VPC; the subnets are carved from it with Fn::Cidr.",
    label="VPC CIDR block",
    group=GROUP_NETWORK,
    default="10.0.0.0/16",
    allowed_pattern=PRIVATE_VPC_CIDR_PATTERN,
    constraint="A private (RFC 1918) IPv4 CIDR block with a prefix from /16 "
    "to /23, e.g. 10.0.0.0/16.",
)

SUBNET_CIDR_BITS = Param(
    "SubnetCidrBits",
    "Number",
    "Host bits of each subnet, as Fn::Cidr counts them: 12 gives /20 subnets "
    "(4,091 usable addresses), 8 gives /24 (251). Nine subnets of this size "
    "must fit in the VPC CIDR block.",
    label="Subnet size (host bits)",
    group=GROUP_NETWORK,
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
    group=GROUP_NETWORK,
    default="3",
    allowed_values=("2", "3"),
    constraint="2 or 3.",
)

SINGLE_NAT_GATEWAY = Param(
    "SingleNatGateway",
    "String",
    "true: one NAT gateway shared by all AZs (cheaper; outbound traffic stops "
    "if its AZ fails). false: one NAT gateway per AZ (highly available).",
    label="Single shared NAT gateway",
    group=GROUP_NETWORK,
    default="false",
    allowed_values=("true", "false"),
    constraint="true or false.",
)

FLOW_LOG_RETENTION_DAYS = Param(
    "FlowLogRetentionDays",
    "Number",
    "Days to keep VPC flow logs in CloudWatch Logs.",
    label="Flow log retention (days)",
    group=GROUP_NETWORK,
    default="90",
    allowed_values=LOG_RETENTION_DAYS,
    constraint="One of the CloudWatch Logs retention periods: "
    + ", ".join(LOG_RETENTION_DAYS)
    + ".",
)

PROJECT = (PROJECT_NAME, ENVIRONMENT_NAME)
NETWORK = (
    VPC_CIDR,
    SUBNET_CIDR_BITS,
    NUMBER_OF_AZS,
    SINGLE_NAT_GATEWAY,
    FLOW_LOG_RETENTION_DAYS,
)
