"""The environment keeps its Availability Zones (AvailabilityZoneNames, pinned in parameters/ENV.pins.json).

Fn::GetAZs returns only the AZs with a default subnet when any has one, and its order "isn't
guaranteed" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getavailabilityzones.html);
the network stack places subnets by position, so a changed list would replace subnets. `plan`
resolves the names once and pins them (parameters/ENV.pins.json, written once the change set is
created; a list the user writes in parameters/ENV.json wins): for a stack that exists,
the AZs its network stack uses (its AvailabilityZones output), so nothing moves; otherwise
the region's available AZs that need no opt-in (EC2 DescribeAvailabilityZones), sorted. When
NumberOfAzs grows, the next AZ is appended and the first ones stay.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from threetier import parameters as P
from threetier.deploy.changeset import describe_stack, outputs

NAMES = P.AVAILABILITY_ZONE_NAMES.name
NETWORK_STACK = "NetworkStack"


def applies(template: dict) -> bool:
    return NAMES in (template.get("Parameters") or {})


def wanted(template: dict, values: dict[str, str]) -> int:
    declared = (template.get("Parameters") or {}).get(P.NUMBER_OF_AZS.name, {})
    return int(values.get(P.NUMBER_OF_AZS.name) or declared.get("Default") or 2)


def region_azs(ec2) -> list[str]:
    """Available AZs of the region that need no opt-in, sorted by name."""
    zones = ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])
    return sorted(zone["ZoneName"] for zone in zones["AvailabilityZones"]
                  if zone.get("OptInStatus", "opt-in-not-required") == "opt-in-not-required"
                  and zone.get("ZoneType", "availability-zone") == "availability-zone")


def deployed_azs(cfn, stack: dict | None) -> list[str]:
    """The AZs the deployed network stack uses, or [] (no stack, or no network stack yet)."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return []
    try:
        resource = cfn.describe_stack_resource(StackName=stack["StackId"], LogicalResourceId=NETWORK_STACK)
    except ClientError:
        return []
    network = describe_stack(cfn, resource["StackResourceDetail"].get("PhysicalResourceId") or NETWORK_STACK)
    text = outputs(network).get("AvailabilityZones", "") if network else ""
    return [name for name in text.split(",") if name]


def resolve(cfn, ec2, stack: dict | None, template: dict, values: dict[str, str]) -> tuple[str, str] | None:
    """(before, after) when the names need completing (the caller pins `after`), else None."""
    before = values.get(NAMES) or ""
    names = [name for name in before.split(",") if name]
    count = wanted(template, values)
    if len(names) >= count:
        return None
    if not names:
        names = deployed_azs(cfn, stack)[:count]
    if len(names) < count:
        names += [az for az in region_azs(ec2) if az not in names][:count - len(names)]
    return before, ",".join(names)
