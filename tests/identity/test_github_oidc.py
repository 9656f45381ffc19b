"""The pipeline's roles (docs/pipeline.md): which GitHub Actions jobs may assume each, and what the plan
role may do, decided by IAM's evaluation (tests/identity/evaluator.py) of the policies
threetier.blocks.githuboidc emits."""

from __future__ import annotations

import json
import re

import pytest

from tests.identity import evaluator
from tests.identity.test_caller_policy import ACCOUNT, DEPLOYER_ROLE, REGION, caller_policy, project_root  # noqa: F401
from tests.deploy.fixtures.project import PROJECT_NAME
from threetier.blocks import githuboidc

REPOSITORY = "octo-org/shop"
PROVIDER = githuboidc.provider_arn(ACCOUNT)
ASSUME = "sts:AssumeRoleWithWebIdentity"

PLAN = githuboidc.trust_policy(ACCOUNT, githuboidc.pull_request_subject(REPOSITORY))
DEV = githuboidc.trust_policy(ACCOUNT, githuboidc.environment_subject(REPOSITORY, "dev"))
PROD = githuboidc.trust_policy(ACCOUNT, githuboidc.environment_subject(REPOSITORY, "prod"))


def token(sub: str, aud: str = githuboidc.AUDIENCE) -> dict[str, str]:
    """A GitHub job's OIDC token as the condition keys STS evaluates."""
    return {f"{githuboidc.PROVIDER_HOST}:sub": sub, f"{githuboidc.PROVIDER_HOST}:aud": aud}


JOBS = {
    "a pull request's job (the plan job)": ("repo:octo-org/shop:pull_request", {"plan"}),
    "a job of the dev environment": ("repo:octo-org/shop:environment:dev", {"dev"}),
    "a job of the prod environment, after its reviewers approved": ("repo:octo-org/shop:environment:prod", {"prod"}),
    "a job on main that names no environment": ("repo:octo-org/shop:ref:refs/heads/main", set()),
    "another repository's pull request": ("repo:octo-org/shop-fork:pull_request", set()),
    "an environment whose name starts with prod": ("repo:octo-org/shop:environment:prod-preview", set()),
    "another owner's repository of the same name": ("repo:evil-org/shop:environment:prod", set()),
}


@pytest.mark.parametrize("job", JOBS)
def test_each_role_is_assumed_only_by_its_jobs(job):
    sub, roles = JOBS[job]
    trusted = {name for name, trust in (("plan", PLAN), ("dev", DEV), ("prod", PROD))
               if evaluator.trusts(trust, PROVIDER, ASSUME, token(sub))}
    assert trusted == roles


def test_a_token_for_another_audience_is_refused():
    assert not evaluator.trusts(PROD, PROVIDER, ASSUME, token("repo:octo-org/shop:environment:prod", "sigstore"))


def test_another_accounts_provider_is_refused():
    other = githuboidc.provider_arn("111122223333")
    assert not evaluator.trusts(PROD, other, ASSUME, token("repo:octo-org/shop:environment:prod"))


def test_the_trust_allows_web_identity_only():
    assert not evaluator.trusts(PROD, PROVIDER, "sts:AssumeRole", token("repo:octo-org/shop:environment:prod"))


# ----------------------------------------------------------------------------- what the plan role may do

STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{PROJECT_NAME}-dev/0123"


@pytest.fixture(scope="module")
def plan_role(caller_policy):  # noqa: F811 (fixture)
    return evaluator.principal(f"arn:aws:iam::{ACCOUNT}:role/{PROJECT_NAME}-github-plan",
                               {"caller": caller_policy, "plan-guard": githuboidc.plan_guard()})


@pytest.fixture(scope="module")
def deploy_role(caller_policy):  # noqa: F811 (fixture)
    return evaluator.principal(f"arn:aws:iam::{ACCOUNT}:role/{PROJECT_NAME}-github-deploy",
                               {"caller": caller_policy})


@pytest.mark.parametrize("action, context", [
    ("cloudformation:CreateChangeSet", {"cloudformation:RoleArn": DEPLOYER_ROLE}),
    ("cloudformation:DescribeChangeSet", {}),
    ("cloudformation:DeleteChangeSet", {}),
    ("cloudformation:DescribeStacks", {}),
])
def test_the_plan_role_can_plan(plan_role, action, context):
    assert evaluator.allowed(plan_role, action, STACK, context)


@pytest.mark.parametrize("action, context", [
    ("cloudformation:ExecuteChangeSet", {}),
    ("cloudformation:DeleteStack", {"cloudformation:RoleArn": DEPLOYER_ROLE}),
    ("cloudformation:CancelUpdateStack", {}),
    ("cloudformation:ContinueUpdateRollback", {"cloudformation:RoleArn": DEPLOYER_ROLE}),
    ("cloudformation:UpdateTerminationProtection", {}),
])
def test_the_plan_role_changes_nothing_deployed_which_the_deploy_role_may(plan_role, deploy_role, action, context):
    assert not evaluator.allowed(plan_role, action, STACK, context)
    assert evaluator.allowed(deploy_role, action, STACK, context), "the guard, not the caller policy, refuses it"


# ----------------------------------------------------------------------------- bad input, and the docs

@pytest.mark.parametrize("call, says", [
    (lambda: githuboidc.pull_request_subject("shop"), "repository 'shop': give OWNER/REPO"),
    (lambda: githuboidc.pull_request_subject("octo-org/shop:*"), "repository 'octo-org/shop:*'"),
    (lambda: githuboidc.environment_subject(REPOSITORY, "prod*"), "environment 'prod*': give a GitHub environment"),
    (lambda: githuboidc.provider_arn("12345"), "account_id '12345': give the 12 digits"),
    (lambda: githuboidc.provider_arn(ACCOUNT, "aws-mars"), "partition 'aws-mars': one of aws, aws-cn"),
])
def test_bad_input_names_the_parameter_and_what_is_allowed(call, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        call()


def test_the_trust_policy_in_the_docs_is_the_one_the_code_emits(project_root):  # noqa: F811 (fixture)
    text = (project_root / "docs" / "pipeline.md").read_text()
    documented = json.loads(text.split("<!-- trust-policy:prod -->", 1)[1].split("```json", 1)[1].split("```", 1)[0])
    assert documented == githuboidc.trust_policy("123456789012", githuboidc.environment_subject("OWNER/REPO", "prod"))
