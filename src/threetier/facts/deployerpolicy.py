"""What CloudFormation calls to deploy these stacks, from the resource provider schemas.

Each registry resource type's schema lists, per handler (create, read, update,
delete, list), the IAM actions CloudFormation makes for it. The deployer role's
policy is their union for exactly the types the generated templates use, plus
what the transforms expand into, less the actions of schema branches the templates
never set (threetier.facts.schemabranches: `acm-pca:*` only for a private certificate)
and with wildcards such as `ec2:Get*` replaced by the actions they stand for;
`iam:PassRole` and `iam:CreateServiceLinkedRole` are taken out and granted narrowly.
https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers
"""

from __future__ import annotations

from threetier.facts import schemabranches, schemas

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-secretsmanager.html",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length",
    "cfn-lint's table of IAM actions (the release pinned in setup.cfg), read at run time",
)
CHECKED = "2026-11-30"

HANDLERS = ("create", "read", "update", "delete", "list")
NARROWED = ("iam:PassRole", "iam:CreateServiceLinkedRole")

# The AWS::SecretsManager transform turns a HostedRotationLambda into an
# AWS::Serverless::Application: a nested stack from the AWS Serverless
# Application Repository holding the rotation function, its role and the
# permission for Secrets Manager to invoke it.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-secretsmanager.html
# https://docs.aws.amazon.com/serverlessrepo/latest/devguide/serverlessrepo-how-to-consume.html
TRANSFORM_TYPES = {
    "AWS::SecretsManager-2020-07-23": (
        "AWS::CloudFormation::Stack", "AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::IAM::Role",
    ),
}
TRANSFORM_ACTIONS = {
    "AWS::SecretsManager-2020-07-23": (
        "serverlessrepo:CreateCloudFormationTemplate", "serverlessrepo:GetCloudFormationTemplate",
        "serverlessrepo:GetApplication",
    ),
}

# The AWS managed policies the rotation functions' roles attach: SAM gives a
# function AWSLambdaBasicExecutionRole, and the VPC access policy when the
# function runs in a VPC (the hosted rotation does, to reach the database).
# https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html#sam-function-policies
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
TRANSFORM_POLICIES = {
    "AWS::SecretsManager-2020-07-23": ("service-role/AWSLambdaBasicExecutionRole",
                                       "service-role/AWSLambdaVPCAccessExecutionRole"),
}

# A managed policy document may hold 6,144 characters, whitespace not counted.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
MANAGED_POLICY_CHARACTERS = 6144
# Room in each document for the statement around the actions (effect, resource, condition).
STATEMENT_OVERHEAD = 400


def resource_types(templates: dict[str, dict]) -> list[str]:
    """Every resource type the templates create, with those their transforms expand into."""
    found = set()
    for template in templates.values():
        found |= {resource["Type"] for resource in template.get("Resources", {}).values()}
        for transform in _transforms(template):
            found |= set(TRANSFORM_TYPES.get(transform, ()))
    return sorted(found)


def transform_actions(templates: dict[str, dict]) -> list[str]:
    return sorted({action for template in templates.values() for transform in _transforms(template)
                   for action in TRANSFORM_ACTIONS.get(transform, ())})


def transform_policies(template: dict) -> list[str]:
    """The AWS managed policy names (path/name) the roles `template`'s transforms make attach."""
    return sorted({name for transform in _transforms(template) for name in TRANSFORM_POLICIES.get(transform, ())})


def _transforms(template: dict) -> list[str]:
    transform = template.get("Transform", [])
    return [transform] if isinstance(transform, str) else list(transform)


def set_branches(templates: dict[str, dict]) -> dict[str, list[str]]:
    """Per resource type the templates use, the `when` entries of its schema branches
    (schemabranches.BRANCHES) that some resource sets: all that decides used_actions.
    A type a transform brings in counts as setting all of them: its resources are in a
    template the transform fetches, which these templates do not show."""
    properties = _properties_by_type(templates)
    transformed = {resource_type for template in templates.values() for transform in _transforms(template)
                   for resource_type in TRANSFORM_TYPES.get(transform, ())}
    decided = {}
    for resource_type in resource_types(templates):
        entries = sorted({when for branch in schemabranches.branches_of(resource_type) for when in branch.when})
        decided[resource_type] = entries if resource_type in transformed else [
            when for when in entries if _is_set(properties, *schemabranches.split_when(resource_type, when))]
    return decided


def used_actions(templates: dict[str, dict]) -> list[str]:
    """What CloudFormation calls for the templates' resources: per type its handler actions,
    wildcards replaced, less the branch actions of properties no resource of it sets."""
    return actions_for(set_branches(templates))


def actions_for(decided: dict[str, list[str]]) -> list[str]:
    """The union of type_actions over `decided` (set_branches' answer), sorted."""
    actions = set()
    for resource_type, set_whens in decided.items():
        actions |= type_actions(resource_type, set_whens)
    return sorted(actions)


def type_actions(resource_type: str, set_whens: list[str]) -> set[str]:
    """`resource_type`'s handler actions, wildcards replaced, less the actions of its branches
    whose `when` entries are not among `set_whens`."""
    handler = set(handler_actions([resource_type]))
    unused = schemabranches.unused_actions(resource_type, set(set_whens).__contains__)
    return schemabranches.concrete(resource_type, handler) - unused


def _properties_by_type(templates: dict[str, dict]) -> dict[str, list]:
    found: dict[str, list] = {}
    for template in templates.values():
        for resource in template.get("Resources", {}).values():
            found.setdefault(resource["Type"], []).append(resource.get("Properties", {}))
    return found


def _is_set(properties: dict[str, list], resource_type: str, keys: list[str], value: str | None) -> bool:
    return any(_path_set(node, keys, value) for node in properties.get(resource_type, []))


def _path_set(node, keys: list[str], value: str | None) -> bool:
    """Whether `keys` lead to something in `node` (equal to `value`, if given). Lists are looked
    through and both branches of an Fn::If; what another intrinsic (Ref, Fn::GetAtt, ...)
    returns cannot be seen here, so it may be anything: set."""
    if isinstance(node, list):
        return any(_path_set(item, keys, value) for item in node)
    if isinstance(node, dict) and len(node) == 1:
        ((name, argument),) = node.items()
        if name == "Fn::If":
            return isinstance(argument, list) and any(_path_set(item, keys, value) for item in argument[1:])
        if name == "Ref" and argument == "AWS::NoValue":
            return False
        if name == "Ref" or name.startswith("Fn::"):
            return True
    if not keys:
        return value is None or node == value
    return isinstance(node, dict) and keys[0] in node and _path_set(node[keys[0]], keys[1:], value)


class MissingHandlers(LookupError):
    """A type whose schema lists no handler permissions: what it needs cannot be known."""


def handler_actions(types: list[str]) -> list[str]:
    """The union of the handlers' permissions of `types`, sorted; every type must have them."""
    actions = set()
    for resource_type in types:
        handlers = schemas.resource_schema(resource_type).get("handlers")
        if not handlers:
            raise MissingHandlers(f"{resource_type}: its provider schema lists no handler permissions")
        for handler in HANDLERS:
            actions |= set(handlers.get(handler, {}).get("permissions", []))
    return sorted(actions)


def known_to_iam(actions: list[str]) -> tuple[list[str], list[str]]:
    """(actions IAM knows, actions it does not). Some schemas list names no IAM policy can grant
    (`s3:PutBucketReplication` for PutReplicationConfiguration, `rest.put.object`, a retired
    `managed-fleets` prefix); cfn-lint's table of IAM actions (its rule W3037) sorts them out."""
    services = schemas.iam_action_names({action.partition(":")[0].lower() for action in actions})
    known, unknown = [], []
    for action in actions:
        service, _, name = action.partition(":")
        listed = services.get(service.lower(), set())
        pattern = name.lower().replace("*", "")
        ok = name.lower() in listed or ("*" in name and any(a.startswith(pattern) for a in listed))
        (known if ok else unknown).append(action)
    return known, unknown


def takes_resource(actions: list[str]) -> dict[str, bool]:
    """Per action, whether IAM authorizes it against a resource ARN (so a policy can scope it), from
    cfn-lint's table of IAM actions (the service authorization reference as data)."""
    table = schemas.iam_actions()
    found = {}
    for action in actions:
        service, _, name = action.partition(":")
        entry = table.get(service.lower(), {}).get("Actions", {}).get(name.lower(), {})
        found[action] = bool(entry.get("Resources"))
    return found


def documents(actions: list[str]) -> list[list[str]]:
    """`actions` split by service into lists that each fit one managed policy document."""
    budget = MANAGED_POLICY_CHARACTERS - STATEMENT_OVERHEAD
    by_service: dict[str, list[str]] = {}
    for action in actions:
        by_service.setdefault(action.split(":")[0], []).append(action)
    groups: list[list[str]] = [[]]
    used = 0
    for service in sorted(by_service):
        mine = by_service[service]
        size = sum(len(action) + 3 for action in mine)  # quotes and comma
        if groups[-1] and used + size > budget:
            groups.append([])
            used = 0
        groups[-1].extend(mine)
        used += size
    return [group for group in groups if group]
