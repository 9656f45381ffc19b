"""Deployer role: the IAM role CloudFormation assumes to deploy these stacks, and no more.

A person who may only pass this role (iam:PassRole on it, plus the
CloudFormation calls) can deploy everything: `threetier plan/deploy
--role-arn`. Its permissions are what the resource provider schemas say
CloudFormation calls for the types in the other templates (threetier.facts.deployerpolicy),
built in the same run, so a new resource type changes this file and
`generate --check` notices.
"""

from __future__ import annotations

from pathlib import Path

from awacs import iam as iam_actions, s3 as s3_actions
from awacs.aws import Action, Allow, Condition, Principal, Statement, StringEquals, StringLike
from troposphere import Output, Parameter, Ref, Sub, Template, iam

import templates
from threetier import parameters as P
from threetier.blocks import deployeractions, naming, policies
from threetier.blocks.resultcache import folder_for
from threetier.blocks.suppressions import checkov
from threetier.facts import deployerpolicy

TEMPLATE_BUCKET = "TemplateBucket"
WHY_RESOURCE_STAR = (
    "A CloudFormation service role creates and manages the stacks' resources whatever their "
    "generated names; its actions are exactly the handler permissions of the resource types the "
    "templates use, and every call is limited to the deploy region (and us-east-1 for the global "
    "services) by aws:RequestedRegion."
)
# Roles the transforms' services use: iam:PassRole is granted for them only.
PASSED_TO = ("ec2.amazonaws.com", "monitoring.rds.amazonaws.com", "vpc-flow-logs.amazonaws.com",
             "lambda.amazonaws.com")
# Service-linked roles the stacks' services create on first use in an account.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
SERVICE_LINKED = ("autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
                  "elasticfilesystem.amazonaws.com")


def build() -> Template:
    t = naming.new_template(
        "threetier deployer role: the IAM role CloudFormation assumes to deploy the threetier stacks, "
        "with exactly the permissions their resource types' handlers need", root=True)
    P.use(t, P.IAM_ROLE_PATH, root=True)
    t.add_parameter(Parameter(
        TEMPLATE_BUCKET, Type="String", Description="S3 bucket `threetier package` uploads the templates to",
        AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        ConstraintDescription="An S3 bucket name."))

    stacks = _stack_templates()
    grantable = deployeractions.grantable_actions(stacks, _cache_folder())
    broad = [a for a in grantable if a not in deployerpolicy.NARROWED] + deployerpolicy.transform_actions(stacks)
    policies_made = [
        t.add_resource(iam.ManagedPolicy(
            f"DeployerPolicy{number}",
            Description=Sub("${ProjectName}-${EnvironmentName} deployer: what CloudFormation calls, part "
                            f"{number}"),
            Path=Ref(P.IAM_ROLE_PATH.name),
            PolicyDocument=policies.document(Statement(
                Sid="HandlerPermissions", Effect=Allow, Action=[Action(*a.split(":", 1)) for a in group],
                Resource=["*"], Condition=_in_deploy_regions())),
            Metadata=checkov(*[(check, WHY_RESOURCE_STAR) for check in
                               ("CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111")]),
        ))
        for number, group in enumerate(deployerpolicy.documents(sorted(set(broad))), start=1)
    ]
    role = t.add_resource(iam.Role(
        "DeployerRole",
        Path=Ref(P.IAM_ROLE_PATH.name),
        AssumeRolePolicyDocument=policies.document(Statement(
            Effect=Allow, Principal=Principal("Service", "cloudformation.amazonaws.com"),
            Action=[Action("sts", "AssumeRole")],
            Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))))),
        ManagedPolicyArns=[Ref(policy) for policy in policies_made],
        Policies=[policies.inline("narrow", *_narrow_statements())],
        Tags=naming.tags("deployer-role"),
    ))
    t.add_output(Output("DeployerRoleArn", Description="Pass it as --role-arn (or role_arn in threetier.toml)",
                        Value=role.GetAtt("Arn")))
    return t


def _stack_templates() -> dict[str, dict]:
    """The other generated templates, as dicts: the types this role must be able to manage."""
    return {file: templates.built_dict(module)
            for file, module in templates.STACKS.items() if module != __name__.rsplit(".", 1)[-1]}


def _cache_folder() -> Path | None:
    """The result cache of the checkout this module is in (or THREETIER_CACHE_DIR)."""
    return folder_for(Path(__file__).resolve().parents[1])


def _in_deploy_regions() -> Condition:
    # IAM, CloudFront, Route 53 and WAF for CloudFront are called in us-east-1.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
    return Condition(StringEquals("aws:RequestedRegion", [Ref("AWS::Region"), "us-east-1"]))


def _narrow_statements() -> list[Statement]:
    # CloudFormation names a role <stack>-<LogicalId>-<suffix>, and nested stacks
    # <root>-<LogicalId>-<suffix>: every role of the stacks starts with the root's
    # name, <ProjectName>-<EnvironmentName> unless stack_name says otherwise. The
    # rotation function's role (from the Serverless Application Repository) has no path.
    stack_roles = [Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role" + path + "${ProjectName}-${EnvironmentName}-*")
                   for path in ("${IamRolePath}", "/")]
    return [
        Statement(Sid="PassOnlyTheStacksRoles", Effect=Allow, Action=[iam_actions.PassRole],
                  Resource=stack_roles,
                  Condition=Condition(StringEquals("iam:PassedToService", list(PASSED_TO)))),
        Statement(Sid="CreateTheServiceLinkedRolesTheStacksNeed", Effect=Allow,
                  Action=[iam_actions.CreateServiceLinkedRole], Resource=["*"],
                  Condition=Condition(StringEquals("iam:AWSServiceName", list(SERVICE_LINKED)))),
        Statement(Sid="ReadTheNestedTemplates", Effect=Allow, Action=[s3_actions.GetObject],
                  Resource=[Sub("arn:${AWS::Partition}:s3:::${TemplateBucket}/*")]),
        Statement(Sid="SecretsManagerTransform", Effect=Allow, Action=[Action("cloudformation", "CreateChangeSet")],
                  Resource=[Sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:aws:transform/*")],
                  Condition=Condition(StringLike("aws:RequestedRegion", [Ref("AWS::Region")]))),
    ]
