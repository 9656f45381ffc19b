"""plan/deploy with --role-arn: a deployer role that cannot serve the stack is refused before any AWS call."""

from __future__ import annotations

import pytest

from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, write_parameters
from tests.deploy.test_deploy_moto import BUCKET, aws as moto, keys, threetier as on_moto  # noqa: F401 (fixture)
from tests.deploy.test_deploy_stubbed import aws, project, threetier  # noqa: F401 (fixtures)
from threetier.deploy import deployerrole
from threetier.deploy.errors import EXIT_USAGE, InputError

ACCOUNT = "123456789012"


def role(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


# ----------------------------------------------------------------------------- the rule

@pytest.mark.parametrize(("arn", "project"), [
    (role("shop.deployer"), "shop"),
    (role("shop.deployer", "/teams/web/"), "shop"),
    (role("my-shop.deployer"), "my-shop"),
    ("arn:aws-cn:iam::123456789012:role/shop.deployer", "shop"),
])
def test_a_role_named_project_dot_deployer_is_that_projects_deployer(arn, project):
    assert deployerrole.deployer_role(arn).project == project


@pytest.mark.parametrize("arn", [
    role("shop-deployer"), role(".deployer"), role("shop.deployer.old"), role("deployer"),
    f"arn:aws:iam::{ACCOUNT}:user/shop.deployer", "shop.deployer",
])
def test_other_names_are_not_deployer_roles(arn):
    assert deployerrole.deployer_role(arn) is None


@pytest.mark.parametrize(("stack", "project", "serves"), [
    ("shop-dev", "shop", True),
    ("shop-prod-blue", "shop", True),
    ("shopping-dev", "shop", False),  # shares the letters, not the project
    ("shop", "shop", False),
    ("other-dev", "shop", False),
    ("shop-deployer", "shop", False),  # the deployer's own stack
    ("shop-dev", "other", False),  # the environment is another project's
])
def test_which_stacks_the_role_serves(stack, project, serves):
    found = deployerrole.problem(deployerrole.deployer_role(role("shop.deployer")), stack, project)
    assert (found is None) == serves, found


def test_a_role_named_otherwise_gets_a_one_line_note_and_no_refusal():
    note = deployerrole.check(role("cloudformation-deploy"), "anything", "shop")
    assert note.startswith("note: --role-arn arn:aws:iam::123456789012:role/cloudformation-deploy is not named "
                           "<ProjectName>.deployer: threetier cannot tell which stacks it serves")
    assert "\n" not in note


def test_no_role_no_check():
    assert deployerrole.check(None, "anything", "shop") is None


def test_the_refusal_names_the_role_the_stack_and_what_would_work():
    with pytest.raises(InputError) as refused:
        deployerrole.check(role("shop.deployer"), "blue-dev", "shop")
    assert str(refused.value) == (
        "--role-arn arn:aws:iam::123456789012:role/shop.deployer serves only stacks named shop-*, not stack "
        "blue-dev: leave --stack-name (and stack_name in threetier.toml) out, or name the stack shop-<something>. "
        "Nothing was uploaded or created.")


# ----------------------------------------------------------------------------- plan and deploy, no AWS call

@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_a_stack_name_outside_the_project_is_refused_with_no_aws_call(command, project, aws, capsys):
    code = threetier(project, command, ENV, "--bucket", BUCKET, "--stack-name", "blue-dev",
                     "--role-arn", role("shop.deployer", "/teams/"))

    assert code == EXIT_USAGE
    assert aws.calls == []
    err = capsys.readouterr().err
    assert err.startswith(f"threetier {command}: --role-arn arn:aws:iam::123456789012:role/teams/shop.deployer "
                          "serves only stacks named shop-*, not stack blue-dev")


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_another_projects_deployer_role_is_refused_with_no_aws_call(command, project, aws, capsys):
    code = threetier(project, command, ENV, "--bucket", BUCKET, "--role-arn", role("blog.deployer"))

    assert code == EXIT_USAGE
    assert aws.calls == []
    err = capsys.readouterr().err
    assert (f"is the deployer role of project blog, but ProjectName is {PROJECT_NAME}: its stacks would be named "
            f"{PROJECT_NAME}-*, which that role does not serve. Pass the role {PROJECT_NAME}.deployer") in err


def test_the_environment_named_deployer_is_the_deployer_stack_and_refused(project, aws, capsys):
    write_parameters(project, {"ProjectName": PROJECT_NAME, "EnvironmentName": "deployer"}, env="deployer")

    assert threetier(project, "plan", "deployer", "--bucket", BUCKET, "--role-arn", role("shop.deployer")) == 2

    assert aws.calls == []
    assert "stack shop-deployer is the deployer role's own stack" in capsys.readouterr().err


# ----------------------------------------------------------------------------- against moto

def test_a_refused_plan_uploads_and_creates_nothing(project, moto, capsys):
    code = on_moto(project, moto, "plan", ENV, "--bucket", BUCKET, "--role-arn", role("blog.deployer"))

    assert code == EXIT_USAGE
    assert keys(moto) == []
    assert moto.cfn.describe_stacks()["Stacks"] == []


def test_the_matching_deployer_role_passes_through_to_the_change_set(project, moto, capsys):
    arn = role("shop.deployer", "/teams/")

    assert on_moto(project, moto, "plan", ENV, "--bucket", BUCKET, "--role-arn", arn) == 0

    err = capsys.readouterr().err
    assert "deployer" not in err.replace(arn, "")  # neither note nor refusal
    [summary] = moto.cfn.list_change_sets(StackName=STACK_NAME)["Summaries"]
    assert summary["Status"] == "CREATE_COMPLETE"


def test_a_role_named_otherwise_is_noted_and_the_plan_goes_on(project, moto, capsys):
    assert on_moto(project, moto, "plan", ENV, "--bucket", BUCKET, "--role-arn", role("cfn-deploy")) == 0

    assert "threetier cannot tell which stacks it serves, going on with stack shop-dev" in capsys.readouterr().err
    assert moto.cfn.list_change_sets(StackName=STACK_NAME)["Summaries"]


# ----------------------------------------------------------------------------- delete

def test_delete_names_the_role_so_the_caller_policy_can_require_it():
    from threetier.deploy.commands.delete import delete_request

    assert delete_request("stack-id", role("shop.deployer")) == {
        "StackName": "stack-id", "RoleARN": "arn:aws:iam::123456789012:role/shop.deployer"}
    assert delete_request("stack-id", None) == {"StackName": "stack-id"}
