"""Deployer role: the IAM role CloudFormation assumes to deploy every environment of one project.

One stack per account and project. A person or CI that may only pass this role
(the caller policy beside it) deploys with `threetier plan/deploy --role-arn`.
Its actions are what the resource provider schemas say CloudFormation calls for
the types the other templates use (threetier.facts.deployerpolicy), built in the
same run, so a new resource type changes this file and `generate --check`
notices. Where they may act is threetier.blocks.deployerscopes: the project's
roles, buckets, databases, log groups, functions, topics and stacks by name, its
secrets and keys by the Project tag, the rest in the deploy regions only.
"""

from __future__ import annotations

from pathlib import Path

from awacs import iam as iam_actions, s3 as s3_actions
from awacs.aws import Action, Allow, Condition, Principal, Statement, StringEquals
from troposphere import If, NoValue, Output, Parameter, Ref, Sub, Template, iam

import templates
from threetier import parameters as P
from threetier.blocks import callerpolicy, deployeractions, deployerscopes as scopes, naming, policies
from threetier.blocks.resultcache import folder_for
from threetier.blocks.suppressions import cfn_lint, checkov
from threetier.facts import deployerpolicy
from threetier.parameters import conditions

TEMPLATE_BUCKET = "TemplateBucket"
WHY_RESOURCE_STAR = (
    "EC2, load balancing, Auto Scaling, CloudWatch, Route 53, CloudFront, WAF, ACM, EFS and AWS Backup create calls "
    "take ids that do not exist before the call, so these actions (the handler permissions of the "
    "schema branches the templates use) are granted on every resource, in the deploy region only, and also in "
    "the partition's home region for Route 53, CloudFront and the us-east-1 companion's ACM and WAF; IAM, secrets, keys, buckets, databases, logs, functions, topics and stacks are "
    "scoped to the project in DeployerScopedPolicy."
)
WHY_LISTING_ON_ANY_RESOURCE = (
    "Only listing and describing calls that IAM authorizes on no resource (cfn-lint's action table) are on `*`; "
    "every write names the project's resources or needs its Project tag."
)
# Roles the stacks give to services: iam:PassRole is granted for them only.
PASSED_TO = ("ec2", "monitoring.rds", "vpc-flow-logs", "lambda", "backup")
# Service-linked roles the stacks' services create on first use in an account.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
SERVICE_LINKED = ("autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
                  "elasticfilesystem.amazonaws.com")
# The companion stack's file (threetier.parameters.validate.COMPANION_TEMPLATE, deployed in us-east-1).
COMPANION_TEMPLATE = "edge-us-east-1.yaml"
# The region each partition calls IAM (and Route 53, CloudFront) in.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
HOME_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


def build() -> Template:
    t = Template(Description=(
        "threetier deployer role: the IAM role CloudFormation assumes to deploy every environment of one "
        "project, with the permissions their resource types' handlers need, on the project's resources"))
    t.set_version(naming.TEMPLATE_VERSION)
    P.use(t, P.PROJECT_NAME, P.PERMISSIONS_BOUNDARY_ARN, P.IAM_ROLE_PATH, root=True)
    conditions.add(t, conditions.HAS_PERMISSIONS_BOUNDARY)
    t.add_parameter(Parameter(
        TEMPLATE_BUCKET, Type="String", Description="S3 bucket `threetier package` uploads the templates to",
        AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        ConstraintDescription="An S3 bucket name."))
    t.add_mapping(scopes.HOME_REGIONS, {partition: {"Region": region} for partition, region in HOME_REGIONS.items()})

    stacks = _stack_templates()
    actions = deployeractions.grantable_actions(stacks, _cache_folder())
    actions = sorted({*actions, *deployerpolicy.transform_actions(stacks)} - set(deployerpolicy.NARROWED))
    home = scopes.called_in_the_home_region(actions, _companion_actions(stacks))
    made = [_broad_policy(t, number, group, home)
            for number, group in enumerate(deployerpolicy.documents(scopes.broad(actions)), start=1)]
    scoped = scopes.statements(actions, deployerpolicy.takes_resource(actions), scopes.attached_policies(stacks))
    budget = deployerpolicy.MANAGED_POLICY_CHARACTERS - len('{"Version":"2012-10-17","Statement":[]}')
    made += [_scoped_policy(t, number, group) for number, group in enumerate(scopes.packed(scoped, budget), start=1)]
    made.append(t.add_resource(iam.ManagedPolicy(
        "DeployerPassRolePolicy",
        ManagedPolicyName=Sub(scopes.POLICY_NAMES + "pass-role"),
        Description=Sub("${ProjectName} deployer: pass the project's roles to the services that use them"),
        Path=Ref(P.IAM_ROLE_PATH.name),
        PolicyDocument=policies.document(
            *scopes.pass_role_statements(PASSED_TO, SERVICE_LINKED),
            Statement(Sid="ReadTheNestedTemplates", Effect=Allow, Action=[s3_actions.GetObject],
                      Resource=[Sub("arn:${AWS::Partition}:s3:::${TemplateBucket}/*")]),
            Statement(Sid="SecretsManagerTransform", Effect=Allow, Action=[Action("cloudformation", "CreateChangeSet")],
                      Resource=[Sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:aws:transform/*")],
                      Condition=scopes.in_deploy_regions())),
    )))
    role = t.add_resource(iam.Role(
        "DeployerRole",
        RoleName=Sub(scopes.ROLE_NAME),
        Path=Ref(P.IAM_ROLE_PATH.name),
        PermissionsBoundary=If(conditions.HAS_PERMISSIONS_BOUNDARY, Ref(P.PERMISSIONS_BOUNDARY_ARN.name), NoValue),
        AssumeRolePolicyDocument=policies.document(Statement(
            Effect=Allow, Principal=Principal("Service", policies.service_principal("cloudformation")),
            Action=[Action("sts", "AssumeRole")],
            Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))))),
        ManagedPolicyArns=[Ref(policy) for policy in made],
        Tags=[{"Key": "Project", "Value": Ref(P.PROJECT_NAME.name)}, {"Key": "Name", "Value": Sub(scopes.ROLE_NAME)}],
    ))
    # A stack deployed with a service role passes that role to each nested stack it
    # creates, so the role passes itself to CloudFormation. Its own policies cannot
    # name its ARN (a circular reference): this one is attached after it exists.
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
    t.add_resource(iam.PolicyType(
        "DeployerPassesItselfToNestedStacks",
        PolicyName="pass-itself-to-nested-stacks",
        Roles=[Ref(role)],
        PolicyDocument=policies.document(Statement(
            Sid="PassItselfToNestedStacks", Effect=Allow, Action=[iam_actions.PassRole],
            Resource=[role.GetAtt("Arn")],
            Condition=Condition(StringEquals("iam:PassedToService", policies.service_principal("cloudformation"))))),
    ))
    t.add_output(Output("DeployerRoleArn", Description="Pass it as --role-arn (or role_arn in threetier.toml)",
                        Value=role.GetAtt("Arn")))
    callerpolicy.add_to(t)
    _one_region_only(t)
    return t


# The role and its policies are named, and IAM is global: `threetier stackset bootstrap` deploys this
# template to one region of each account, so lint rule E9033 (a stack set's global resource in every
# region) does not apply. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
WHY_ONE_REGION = "threetier stackset bootstrap deploys this template to one region per account (IAM is global)"


def _one_region_only(t: Template) -> None:
    for resource in t.resources.values():
        if resource.resource_type in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy"):
            resource.Metadata = {**(getattr(resource, "Metadata", None) or {}), **cfn_lint("E9033", WHY_ONE_REGION)}


def _broad_policy(t: Template, number: int, group: list[str], home: set[str]) -> iam.ManagedPolicy:
    """The group's actions on `*`: those in `home` in the deploy region and the home region, the rest in the
    deploy region only."""
    def statement(sid: str, actions: list[str], condition) -> list[Statement]:
        return [Statement(Sid=sid, Effect=Allow, Action=[Action(*a.split(":", 1)) for a in actions],
                          Resource=["*"], Condition=condition)] if actions else []

    return t.add_resource(iam.ManagedPolicy(
        f"DeployerPolicy{number}",
        ManagedPolicyName=Sub(scopes.POLICY_NAMES + str(number)),
        Description=Sub(f"${{ProjectName}} deployer: what CloudFormation calls, in the deploy regions, part {number}"),
        Path=Ref(P.IAM_ROLE_PATH.name),
        PolicyDocument=policies.document(
            *statement("HandlerPermissions", [a for a in group if a not in home], scopes.in_this_region()),
            *statement("HandlerPermissionsInTheHomeRegionToo", [a for a in group if a in home],
                       scopes.in_deploy_regions())),
        Metadata=checkov(*[(check, WHY_RESOURCE_STAR) for check in
                           ("CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111")]),
    ))


def _scoped_policy(t: Template, number: int, group: list) -> iam.ManagedPolicy:
    return t.add_resource(iam.ManagedPolicy(
        f"DeployerScopedPolicy{number}",
        ManagedPolicyName=Sub(scopes.POLICY_NAMES + f"scoped-{number}"),
        Description=Sub("${ProjectName} deployer: IAM, secrets, keys, buckets, databases, logs, functions, topics "
                        f"and stacks of the project only, part {number}"),
        Path=Ref(P.IAM_ROLE_PATH.name),
        PolicyDocument=policies.document_with_choices(*group),
        Metadata=checkov(("CKV_AWS_111", WHY_LISTING_ON_ANY_RESOURCE)),
    ))


def _companion_actions(stacks: dict[str, dict]) -> set[str]:
    """The handler actions of the us-east-1 companion stack's resources (certificate, web ACL), which
    CloudFormation calls in us-east-1 for an environment elsewhere (threetier.deploy.companion)."""
    companion = {file: template for file, template in stacks.items() if file == COMPANION_TEMPLATE}
    return set(deployerpolicy.actions_for(deployerpolicy.set_branches(companion))) if companion else set()


def _stack_templates() -> dict[str, dict]:
    """The templates this role deploys, as dicts: the types it must be able to manage."""
    return {file: templates.built_dict(module)
            for file, module in templates.STACKS.items() if module not in templates.NOT_FOR_THE_DEPLOYER}


def _cache_folder() -> Path | None:
    """The result cache of the checkout this module is in (or THREETIER_CACHE_DIR)."""
    return folder_for(Path(__file__).resolve().parents[1])
