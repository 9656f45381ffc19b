"""What CloudFormation calls to deploy these stacks, from the resource provider schemas.

Each registry resource type's schema lists, per handler (create, read, update,
delete, list), the IAM actions CloudFormation makes for it. The deployer role's
policy is their union for exactly the types the generated templates use, plus
what the transforms expand into; `iam:PassRole` and
`iam:CreateServiceLinkedRole` are taken out and granted narrowly.
https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers
"""

from __future__ import annotations

from threetier.facts import schemas

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
