"""`threetier pipeline-policy`: the pipeline roles' policies (threetier.blocks.githuboidc) printed for
`aws iam create-role` / `put-role-policy`, and bad input as one line, exit 2."""

from __future__ import annotations

import json

import pytest

from threetier import cli
from threetier.blocks import githuboidc


def run(*argv: str) -> int:
    return cli.main(["pipeline-policy", *argv])


@pytest.mark.parametrize("argv, expected", [
    (("plan", "--repository", "octo-org/shop", "--account-id", "111111111111"),
     githuboidc.trust_policy("111111111111", "repo:octo-org/shop:pull_request")),
    (("deploy", "--repository", "octo-org/shop", "--account-id", "222222222222", "--environment", "prod"),
     githuboidc.trust_policy("222222222222", "repo:octo-org/shop:environment:prod")),
    (("guard",), githuboidc.plan_guard()),
])
def test_prints_the_policy_iam_takes(capsys, argv, expected):
    assert run(*argv) == 0
    assert json.loads(capsys.readouterr().out) == expected


@pytest.mark.parametrize("argv, says", [
    (("plan", "--account-id", "111111111111"), "--repository: the plan role's trust names the repository"),
    (("deploy", "--repository", "octo-org/shop"), "--account-id: the deploy role's trust names"),
    (("deploy", "--repository", "octo-org/shop", "--account-id", "222222222222"),
     "--environment: a deploy role trusts the jobs of one GitHub environment"),
    (("plan", "--repository", "shop", "--account-id", "111111111111"), "repository 'shop': give OWNER/REPO"),
    (("deploy", "--repository", "octo-org/shop", "--account-id", "2222", "--environment", "prod"),
     "account_id '2222': give the 12 digits"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, says):
    assert run(*argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("threetier pipeline-policy: ") and says in captured.err
    assert len(captured.err.strip().splitlines()) == 1
