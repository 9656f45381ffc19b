"""Who may assume the roles of the GitHub Actions pipeline (.github/workflows/deploy.yml, docs/pipeline.md):
the trust policies of the plan role and the deploy roles, and the guard that keeps the plan role from
changing anything deployed.

GitHub's OIDC provider issues each job a token whose `aud` is sts.amazonaws.com (what
aws-actions/configure-aws-credentials asks for) and whose `sub` names the repository and what the job
runs for: `repo:OWNER/REPO:pull_request` for a pull request's job, `repo:OWNER/REPO:environment:NAME`
for a job that names an environment (the environment then takes the place of the branch)
(https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#example-subject-claims).
Checking both with StringEquals, no wildcard, lets only those jobs of that repository assume the role
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub).
"""

from __future__ import annotations

import json
import re

from awacs import cloudformation as cfn, sts
from awacs.aws import Allow, Condition, Deny, Principal, Statement, StringEquals

from threetier.blocks import callerpolicy, policies

PROVIDER_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# GitHub owner names: letters, digits and hyphens, up to 39; repository names: letters, digits, '.', '_', '-'.
REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# GitHub environment names: up to 255 characters; these are the ones that also read well in a `sub`.
ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

# What a plan may do on the stacks: create a change set, and delete its own when nothing would
# change or it fails. Every other stack write of the caller policy is denied to the plan role, so a
# pull request's code, which runs with it, can review but never execute, cancel, delete or unprotect.
PLAN_MAY = (cfn.CreateChangeSet, cfn.DeleteChangeSet)
PLAN_DENIED = tuple(action for action in callerpolicy.STACK_WRITES if action not in PLAN_MAY)


def pull_request_subject(repository: str) -> str:
    """The `sub` of a job that runs for a pull request of `repository` (the plan job)."""
    return f"repo:{_repository(repository)}:pull_request"


def environment_subject(repository: str, environment: str) -> str:
    """The `sub` of a job of `repository` that names `environment` (a deploy job)."""
    if not ENVIRONMENT.match(environment or ""):
        raise ValueError(f"environment {environment!r}: give a GitHub environment name of letters, digits, "
                         "'.', '_' and '-', e.g. prod")
    return f"repo:{_repository(repository)}:environment:{environment}"


def provider_arn(account_id: str, partition: str = "aws") -> str:
    """The ARN of the account's IAM OIDC provider for GitHub Actions."""
    if not ACCOUNT_ID.match(account_id or ""):
        raise ValueError(f"account_id {account_id!r}: give the 12 digits of the AWS account, e.g. 123456789012")
    if partition not in PARTITIONS:
        raise ValueError(f"partition {partition!r}: one of {', '.join(PARTITIONS)}")
    return f"arn:{partition}:iam::{account_id}:oidc-provider/{PROVIDER_HOST}"


def trust_policy(account_id: str, subject: str, partition: str = "aws") -> dict:
    """The role's trust policy: GitHub's tokens for sts.amazonaws.com whose `sub` is exactly `subject`."""
    return _plain(policies.document(Statement(
        Sid="GitHubActionsOidc", Effect=Allow, Principal=Principal("Federated", provider_arn(account_id, partition)),
        Action=[sts.AssumeRoleWithWebIdentity],
        Condition=Condition(StringEquals({f"{PROVIDER_HOST}:aud": AUDIENCE, f"{PROVIDER_HOST}:sub": subject})),
    )))


def plan_guard() -> dict:
    """The plan role's inline policy beside the caller policy: an explicit deny of every stack write
    but creating and deleting change sets, which no allow can undo."""
    return _plain(policies.document(Statement(
        Sid="PlanNeverChangesAStack", Effect=Deny, Action=list(PLAN_DENIED), Resource=["*"],
    )))


def _repository(repository: str) -> str:
    if not REPOSITORY.match(repository or ""):
        raise ValueError(f"repository {repository!r}: give OWNER/REPO as GitHub spells it, e.g. octo-org/shop")
    return repository


def _plain(document) -> dict:
    """The document as IAM takes it (JSON types only)."""
    return json.loads(document.to_json())
