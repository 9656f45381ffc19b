"""Escalation and reach probes: what someone who may pass the deployer role must not get through it.

Each probe is one request IAM would evaluate; principalmapper's evaluation of the
deployed role must deny it. The last tests show, as the README says, what the
role does allow that a careful reader should know about.
"""

import pytest

from tests.identity.deployer import ACCOUNT, BOUNDARY, PROJECT, Deployed

REGION = "us-east-1"
HERE = {"aws:RequestedRegion": REGION}
BOUNDARY_ARN = BOUNDARY.format(partition="aws", account=ACCOUNT)
PROJECT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-prod-AppStack-1A2B-InstanceRole-3C4D"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ops-admin"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}.deployer"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:DbMasterSecret-AbCdEf"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture(scope="module")
def bounded():
    return Deployed(REGION, "aws", {"PermissionsBoundaryArn": BOUNDARY_ARN})


@pytest.fixture(scope="module")
def unbounded():
    return Deployed(REGION, "aws")


PROBES = {
    "a project role created without the boundary": (
        "iam:CreateRole", PROJECT_ROLE, {}),
    "a project role created with another boundary": (
        "iam:CreateRole", PROJECT_ROLE, {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/Loose"}),
    "an inline policy on a project role without the boundary": (
        "iam:PutRolePolicy", PROJECT_ROLE, {}),
    "AdministratorAccess attached to a project role": (
        "iam:AttachRolePolicy", PROJECT_ROLE, {"iam:PolicyARN": ADMIN_POLICY, "iam:PermissionsBoundary": BOUNDARY_ARN}),
    "an inline policy on a role outside the project": (
        "iam:PutRolePolicy", OTHER_ROLE, {"iam:PermissionsBoundary": BOUNDARY_ARN}),
    "a new trust on a role outside the project": ("iam:UpdateAssumeRolePolicy", OTHER_ROLE, {}),
    "a role outside the project deleted": ("iam:DeleteRole", OTHER_ROLE, {}),
    "a project role's boundary removed": ("iam:DeleteRolePermissionsBoundary", PROJECT_ROLE, {}),
    "a role outside the project passed to EC2": (
        "iam:PassRole", OTHER_ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}),
    "a project role passed to a service the stacks never give one": (
        "iam:PassRole", PROJECT_ROLE, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}),
    "the deployer role passed to EC2": ("iam:PassRole", DEPLOYER, {"iam:PassedToService": "ec2.amazonaws.com"}),
    "the deployer role given an inline policy": (
        "iam:PutRolePolicy", DEPLOYER, {"iam:PermissionsBoundary": BOUNDARY_ARN}),
    "AdministratorAccess attached to the deployer role": (
        "iam:AttachRolePolicy", DEPLOYER, {"iam:PolicyARN": ADMIN_POLICY}),
    "the deployer role trusting someone else": ("iam:UpdateAssumeRolePolicy", DEPLOYER, {}),
    "the deployer role's boundary removed": ("iam:DeleteRolePermissionsBoundary", DEPLOYER, {}),
    "the deployer role deleted": ("iam:DeleteRole", DEPLOYER, {}),
    "a new version of the deployer's policy": (
        "iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/{PROJECT}.deployer-scoped-1", {}),
    "another project's secret read": ("secretsmanager:GetSecretValue", SECRET, {"aws:ResourceTag/Project": "other"}),
    "an untagged secret read": ("secretsmanager:GetSecretValue", SECRET, {}),
    "another project's secret overwritten": (
        "secretsmanager:PutSecretValue", SECRET, {"aws:ResourceTag/Project": "other"}),
    "another project's secret deleted": ("secretsmanager:DeleteSecret", SECRET, {"aws:ResourceTag/Project": "other"}),
    "another project's secret re-tagged into this one": (
        "secretsmanager:TagResource", SECRET, {"aws:ResourceTag/Project": "other", "aws:RequestTag/Project": PROJECT}),
    "another project's key used to decrypt": ("kms:Decrypt", KEY, {"aws:ResourceTag/Project": "other"}),
    "another project's key scheduled for deletion": (
        "kms:ScheduleKeyDeletion", KEY, {"aws:ResourceTag/Project": "other"}),
    "another project's key policy replaced": ("kms:PutKeyPolicy", KEY, {}),
    "another project's key re-tagged into this one": (
        "kms:TagResource", KEY, {"aws:ResourceTag/Project": "other", "aws:RequestTag/Project": PROJECT}),
    "a key created without the project tag": ("kms:CreateKey", "*", {}),
    "a key created for another project": ("kms:CreateKey", "*", {"aws:RequestTag/Project": "other"}),
    "a bucket outside the project deleted": ("s3:DeleteBucket", "arn:aws:s3:::company-backups", {}),
    "an object outside the project read": ("s3:GetObject", "arn:aws:s3:::company-backups/payroll.csv", {}),
    "a bucket policy outside the project replaced": ("s3:PutBucketPolicy", "arn:aws:s3:::company-backups", {}),
    "a database outside the project deleted": (
        "rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:billing-db", {}),
    "a database outside the project modified": (
        "rds:ModifyDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:billing-db", {}),
    "a log group outside the project deleted": (
        "logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/audit/trail", {}),
    "a function outside the project replaced": (
        "lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:billing", {}),
    "a topic outside the project deleted": ("sns:DeleteTopic", f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alerts", {}),
    "a stack outside the project deleted": (
        "cloudformation:DeleteStack", f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/billing/abc", {}),
    "a private SSM parameter read": (
        "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/db-password", {}),
    "a project bucket deleted in another region": (
        "s3:DeleteBucket", f"arn:aws:s3:::{PROJECT}-prod-appstack-x-accesslogbucket-y",
        {"aws:RequestedRegion": "eu-west-1"}),
}


@pytest.mark.parametrize("probe", PROBES)
def test_each_probe_is_denied(bounded, probe):
    action, resource, context = PROBES[probe]
    assert not bounded.allows(action, resource, {**HERE, **context}), probe


@pytest.mark.parametrize("probe", [name for name in PROBES if "without the boundary" not in name
                                   and "another boundary" not in name])
def test_each_probe_is_denied_without_a_boundary_too(unbounded, probe):
    action, resource, context = PROBES[probe]
    assert not unbounded.allows(action, resource, {**HERE, **context}), probe


def test_the_same_calls_on_the_projects_own_resources_are_allowed(bounded):
    """The probes fail for reach, not because the role cannot do the thing at all."""
    own = {
        "iam:CreateRole": (PROJECT_ROLE, {"iam:PermissionsBoundary": BOUNDARY_ARN}),
        "secretsmanager:GetSecretValue": (SECRET, {"aws:ResourceTag/Project": PROJECT}),
        "kms:ScheduleKeyDeletion": (KEY, {"aws:ResourceTag/Project": PROJECT}),
        "s3:DeleteBucket": (f"arn:aws:s3:::{PROJECT}-prod-appstack-x-accesslogbucket-y", {}),
        "rds:DeleteDBInstance": (f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{PROJECT}-prod-db", {}),
        "iam:PassRole": (PROJECT_ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}),
    }
    for action, (resource, context) in own.items():
        assert bounded.allows(action, resource, {**HERE, **context}), action


def test_without_a_boundary_project_roles_may_get_any_inline_policy(unbounded):
    """What the README warns about: with no boundary, a template passed to the role can create a project
    role with any inline policy (IAM cannot condition on a policy's content); set PermissionsBoundaryArn."""
    assert unbounded.allows("iam:CreateRole", PROJECT_ROLE, HERE)
    assert unbounded.allows("iam:PutRolePolicy", PROJECT_ROLE, HERE)


def test_an_untagged_key_may_be_tagged_into_the_project(bounded):
    """What the README warns about: KMS wants kms:TagResource on every key to tag one on create, so a key
    that carries no Project tag at all can be tagged into the project; keys of other projects cannot."""
    assert bounded.allows("kms:TagResource", KEY, {**HERE, "aws:RequestTag/Project": PROJECT})


def test_with_a_role_path_only_the_projects_roles_under_it_are_reachable():
    deployed = Deployed(REGION, "aws", {"IamRolePath": "/app/"})
    under_the_path = f"arn:aws:iam::{ACCOUNT}:role/app/{PROJECT}-prod-AppStack-1A2B-InstanceRole-3C4D"
    assert deployed.allows("iam:DeleteRole", under_the_path, HERE)
    assert not deployed.allows("iam:DeleteRole", PROJECT_ROLE, HERE), "the same name outside the path"


@pytest.mark.parametrize("action, allowed_in_us_east_1", [
    ("acm:RequestCertificate", True),  # the companion's certificate
    ("wafv2:CreateWebACL", True),  # the companion's web ACL
    ("route53:ChangeResourceRecordSets", True),  # a global service, called in us-east-1
    ("ec2:RunInstances", False),
    ("elasticloadbalancing:CreateLoadBalancer", False),
    ("elasticfilesystem:CreateFileSystem", False),
])
def test_a_role_deployed_elsewhere_reaches_into_us_east_1_only_for_the_companion_and_global_services(
        action, allowed_in_us_east_1):
    """An environment in eu-west-1 deploys its companion stack in us-east-1 with the same role: the
    certificate's and web ACL's handlers are allowed there, servers and databases are not."""
    elsewhere = Deployed("eu-west-1", "aws")
    resource = "*"
    in_eu = {"aws:RequestedRegion": "eu-west-1", "aws:RequestTag/Project": PROJECT}
    in_us = {**in_eu, "aws:RequestedRegion": "us-east-1"}
    assert elsewhere.allows(action, resource, in_eu), action
    assert elsewhere.allows(action, resource, in_us) is allowed_in_us_east_1, action
