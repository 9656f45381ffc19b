"""What a parameter change does to a deployed environment, predicted offline.

Both parameter sets are evaluated through every stack (insight.stacks: the
same evaluation the diagram and the cost estimate use), and each resource is
compared property by property. What a changed property costs comes from the
CloudFormation resource provider schemas cfn-lint ships:

- a `createOnlyProperties` change replaces the resource;
- a `conditionalCreateOnlyProperties` change may; HANDLER_BEHAVIOUR says what
  the resource's handler does for the ones these templates change, and any
  other is reported as "may replace", never as in place;
- anything else is updated in place.

A resource whose create-only property names a replaced resource (a new
physical id) is replaced too. CloudFormation's change set remains the truth;
this is what a reviewer sees before anyone asks AWS.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from threetier.facts import schemas
from threetier.facts.schemas import NoSchema
from threetier.insight import stacks
from threetier.review.danger import STATEFUL_TYPES

REPLACE, MAY_REPLACE, IN_PLACE, ADD, REMOVE = "replace", "may replace", "in place", "add", "remove"
FAILS = "fails"  # a replacement CloudFormation refuses: the resource has a custom name

# "If you specify a name, you cannot perform updates that require replacement of
# this resource": the new one would need the name the old one still holds.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html
NAME_PROPERTIES = dict((
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::CloudWatch::Alarm", "AlarmName"),
    ("AWS::CloudWatch::Dashboard", "DashboardName"),
    ("AWS::SecretsManager::Secret", "Name"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"),
    ("AWS::EC2::LaunchTemplate", "LaunchTemplateName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::EC2::SecurityGroup", "GroupName"),
))

# Conditional create-only properties: what the handler does when the value changes.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html
# ("Update requires" of each property) and the RDS handler
# (aws-cloudformation-resource-providers-rds, DBInstance update).
HANDLER_BEHAVIOUR = {
    ("AWS::RDS::DBInstance", "AvailabilityZone"): REPLACE,
    ("AWS::RDS::DBInstance", "Engine"): REPLACE,  # another engine is another database
    ("AWS::RDS::DBInstance", "SourceDBInstanceIdentifier"): REPLACE,
    ("AWS::RDS::DBInstance", "MultiAZ"): IN_PLACE,
    ("AWS::RDS::DBInstance", "BackupRetentionPeriod"): IN_PLACE,
    ("AWS::RDS::DBInstance", "DBParameterGroupName"): IN_PLACE,
    ("AWS::RDS::DBInstance", "AutoMinorVersionUpgrade"): IN_PLACE,
    ("AWS::RDS::DBInstance", "PreferredMaintenanceWindow"): IN_PLACE,
    # Replaced only under an AutoScalingReplacingUpdate policy; the app group has a
    # rolling update, which replaces the servers instead, a batch at a time.
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
    ("AWS::AutoScaling::AutoScalingGroup", "LaunchTemplate"): IN_PLACE,
    ("AWS::AutoScaling::AutoScalingGroup", "VPCZoneIdentifier"): IN_PLACE,
}

# What else an in-place change sets off, by (type, property).
CONSEQUENCES = {
    ("AWS::AutoScaling::AutoScalingGroup", "LaunchTemplate"): "servers replaced by the rolling update",
    ("AWS::AutoScaling::AutoScalingGroup", "VPCZoneIdentifier"): "servers replaced by the rolling update",
    ("AWS::RDS::DBInstance", "DBInstanceClass"): "restart (a Multi-AZ primary fails over first)",
    ("AWS::RDS::DBInstance", "EngineVersion"): "engine upgrade with downtime",
    ("AWS::RDS::DBInstance", "MultiAZ"): "standby added or removed, no downtime",
    ("AWS::RDS::DBInstance", "DBParameterGroupName"): "takes effect at the next reboot",
}

# Attributes that change when the resource is updated in place: whoever reads
# them sees a new value (a launch template update is a new version).
NEW_ON_UPDATE = {"AWS::EC2::LaunchTemplate": "LatestVersionNumber"}


@dataclass(frozen=True)
class ResourceChange:
    stack: str
    logical_id: str
    resource_type: str
    action: str  # add, remove, replace, may replace, in place
    properties: tuple[str, ...] = ()  # the top-level properties that changed
    why: str = ""  # for a replacement: which property forces it
    deletion_policy: str = "Delete"  # what a removal does with it
    replace_policy: str = "Delete"  # what a replacement does with the old one

    @property
    def consequences(self) -> tuple[str, ...]:
        if self.action != IN_PLACE:
            return ()
        return tuple(dict.fromkeys(CONSEQUENCES[(self.resource_type, prop)] for prop in self.properties
                                   if (self.resource_type, prop) in CONSEQUENCES))

    @property
    def name(self) -> str:
        return f"{self.stack}.{self.logical_id}"

    @property
    def stateful(self) -> bool:
        return self.resource_type in STATEFUL_TYPES


@dataclass
class Prediction:
    changes: list[ResourceChange] = field(default_factory=list)

    def of(self, *actions: str) -> list[ResourceChange]:
        return [change for change in self.changes if change.action in actions]

    def find(self, name: str) -> ResourceChange | None:
        return next((change for change in self.changes if change.name == name), None)


def predict(templates: stacks.Templates, before: dict[str, str], after: dict[str, str],
            region: str = "us-east-1") -> Prediction:
    """What changing the parameter values from `before` to `after` does to the stacks."""
    return compare(resources(stacks.evaluate(templates, before, region)),
                   resources(stacks.evaluate(templates, after, region)))


def compare(old: dict[str, dict], new: dict[str, dict]) -> Prediction:
    """Every resource change between two evaluations (of other values, or of other templates)."""
    prediction = Prediction()
    for name in sorted(set(old) | set(new)):
        if name not in new:
            prediction.changes.append(_change(name, old[name], REMOVE))
        elif name not in old:
            prediction.changes.append(_change(name, new[name], ADD))
        else:
            change = _compare(name, old[name], new[name])
            if change is not None:
                prediction.changes.append(change)
    _new_versions(prediction, new)
    _cascade(prediction, new)
    _named_replacements_fail(prediction, old, new)
    return prediction


def _named_replacements_fail(prediction: Prediction, old: dict[str, dict], new: dict[str, dict]) -> None:
    for index, change in enumerate(prediction.changes):
        name_property = NAME_PROPERTIES.get(change.resource_type)
        if change.action != REPLACE or name_property is None:
            continue
        before = old[change.name].get("Properties", {}).get(name_property)
        if before is not None and before == new[change.name].get("Properties", {}).get(name_property):
            prediction.changes[index] = ResourceChange(
                change.stack, change.logical_id, change.resource_type, FAILS, change.properties,
                f"{change.why} needs a replacement, and {name_property} is a custom name",
                change.deletion_policy, change.replace_policy)


def resources(evaluated: list[stacks.Stack]) -> dict[str, dict]:
    """Every resource but the nested stacks themselves (their templates are compared instead)."""
    return {stack.qualified(logical_id): resource for stack in evaluated
            for logical_id, resource in stack.resources.items() if resource["Type"] != stacks.NESTED_STACK}


def _change(name: str, resource: dict, action: str, properties=(), why="") -> ResourceChange:
    stack, logical_id = name.split(".", 1)
    return ResourceChange(stack, logical_id, resource["Type"], action, tuple(properties), why,
                          resource.get("DeletionPolicy", "Delete"), resource.get("UpdateReplacePolicy", "Delete"))


def _compare(name: str, old: dict, new: dict) -> ResourceChange | None:
    before, after = old.get("Properties", {}), new.get("Properties", {})
    changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    if not changed:
        return None
    return _judge(name, new, changed)


def _judge(name: str, resource: dict, changed) -> ResourceChange:
    """In place, may replace or replace, from the schema and the handler behaviours."""
    action, why = IN_PLACE, ""
    try:
        create_only, conditional = create_only_properties(resource["Type"])
    except NoSchema:
        return _change(name, resource, MAY_REPLACE, changed, "no provider schema to judge by")
    for prop in changed:
        if prop in create_only:
            action, why = REPLACE, prop
            break
        if prop in conditional:
            behaviour = HANDLER_BEHAVIOUR.get((resource["Type"], prop), MAY_REPLACE)
            if behaviour != IN_PLACE and action == IN_PLACE:
                action, why = behaviour, prop
            if behaviour == REPLACE:
                break
    return _change(name, resource, action, changed, why)


@functools.lru_cache(maxsize=None)
def create_only_properties(resource_type: str) -> tuple[frozenset[str], frozenset[str]]:
    """Top-level create-only and conditional create-only properties from the provider schema
    (asked once per changed property: worked out once per type)."""
    schema = schemas.resource_schema(resource_type)

    def top_level(key: str) -> frozenset[str]:
        return frozenset(pointer.split("/")[2] for pointer in schema.get(key, [])
                         if pointer.startswith("/properties/"))

    return top_level("createOnlyProperties"), top_level("conditionalCreateOnlyProperties")


def _new_versions(prediction: Prediction, resources: dict[str, dict]) -> None:
    """Who reads an attribute that an in-place update renews (a launch template's latest version) changes too."""
    renewed = [f"{change.name}.{NEW_ON_UPDATE[change.resource_type]}" for change in prediction.of(IN_PLACE)
               if change.resource_type in NEW_ON_UPDATE]
    for stand_in in renewed:
        for name, resource in resources.items():
            readers = sorted(prop for prop, value in resource.get("Properties", {}).items()
                             if _mentions(value, stand_in))
            if not readers:
                continue
            existing = prediction.find(name)
            properties = sorted(set(readers) | set(existing.properties if existing else ()))
            change = _judge(name, resource, properties)
            if existing is None:
                prediction.changes.append(change)
            else:
                prediction.changes[prediction.changes.index(existing)] = change


def _cascade(prediction: Prediction, resources: dict[str, dict]) -> None:
    """Who names a replaced resource gets its new id: replaced too where that
    property is create-only, else updated in place."""
    done: set[str] = set()
    while True:
        replaced = [change.name for change in prediction.of(REPLACE) if change.name not in done]
        if not replaced:
            return
        done.update(replaced)
        for name, resource in resources.items():
            for target in replaced:
                readers = sorted(prop for prop, value in resource.get("Properties", {}).items()
                                 if _mentions(value, target))
                if readers and name != target:
                    _renew(prediction, name, resource, readers, target)


def _renew(prediction: Prediction, name: str, resource: dict, readers: list[str], target: str) -> None:
    existing = prediction.find(name)
    if existing is not None and existing.action in (REPLACE, ADD, REMOVE):
        return
    try:
        create_only, _ = create_only_properties(resource["Type"])
    except NoSchema:
        create_only = set(readers)  # cannot tell: assume the worst
    forced = next((prop for prop in readers if prop in create_only), None)
    properties = tuple(sorted(set(readers) | set(existing.properties if existing else ())))
    if forced:
        change = _change(name, resource, REPLACE, properties, f"{forced} -> {target}")
    elif existing is None:
        change = _change(name, resource, IN_PLACE, properties)
    else:
        return
    if existing is None:
        prediction.changes.append(change)
    else:
        prediction.changes[prediction.changes.index(existing)] = change


def _mentions(value, name: str) -> bool:
    if isinstance(value, str):
        return value == name or value.startswith(name + ".")
    if isinstance(value, list):
        return any(_mentions(item, name) for item in value)
    if isinstance(value, dict):
        return any(_mentions(item, name) for item in value.values())
    return False
