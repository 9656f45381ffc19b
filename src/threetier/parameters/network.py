"""The VPC: its address block, subnets, Availability Zones, NAT gateways and flow logs."""

from __future__ import annotations

from threetier.parameters.param import GROUP_ADVANCED_SERVERS, GROUP_SIZE, OCTET, Param, log_retention

# RFC 1918 ranges only, prefix /16 (the largest VPC) to /23 (the smallest
# that still holds nine /27 subnets).
PRIVATE_VPC_ADDRESS_PATTERN = (
    r"^(10\." + OCTET + r"|172\.(1[6-9]|2[0-9]|3[01])|192\.168)"
    r"\." + OCTET + r"\." + OCTET + r"$"
)

VPC_PREFIX_LENGTHS = tuple(str(length) for length in range(16, 24))

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
    hint="true: one NAT gateway for all AZs (cheaper)",
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
