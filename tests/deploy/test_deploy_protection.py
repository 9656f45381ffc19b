"""Termination protection: on for protected environments when deploy executes, and the delete path.

moto has no UpdateTerminationProtection, so this is botocore's Stubber with responses shaped
like the real API.
"""

from __future__ import annotations

import sys

import pytest

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME
from tests.deploy.test_deploy_settings import write_settings
from tests.deploy.test_deploy_stubbed import (  # noqa: F401 (fixtures)
    CHANGE_SET,
    STACK_ID,
    Terminal,
    aws,
    deploy,
    no_terminal,
    project,
    threetier,
)


def protected(project):
    write_settings(project, "[dev]\nprotected = true\n")


def create_executed(aws):
    aws.plan([r.resource_change("Add", "Setting", "AWS::SSM::Parameter")], existing=None)
    aws.still_executable()
    aws.cfn_stub.add_response("describe_stack_events", r.events_page([]), {"StackName": STACK_ID})
    aws.cfn_stub.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET, "RetainExceptOnCreate": True})


def created(aws):
    aws.events_until([], [{STACK_ID: [
        r.stack_event(STACK_NAME, 1, "CREATE_IN_PROGRESS", "User Initiated"),
        r.event(STACK_NAME, 2, "Setting", "AWS::SSM::Parameter", "CREATE_COMPLETE", "/shop/dev/setting"),
        r.stack_event(STACK_NAME, 3, "CREATE_COMPLETE"),
    ]}], final_status="CREATE_COMPLETE")


def test_a_protected_environment_is_created_with_termination_protection(project, aws, capsys):
    protected(project)
    create_executed(aws)
    aws.cfn_stub.add_response("update_termination_protection", {"StackId": STACK_ID},
                              {"EnableTerminationProtection": True, "StackName": STACK_ID})
    created(aws)

    assert deploy(project, "--yes") == 0

    assert f"Termination protection is on for stack {STACK_NAME}" in capsys.readouterr().out
    assert aws.calls.index("UpdateTerminationProtection") == aws.calls.index("ExecuteChangeSet") + 1


def test_an_unprotected_environment_is_left_alone(project, aws):
    create_executed(aws)
    created(aws)

    assert deploy(project, "--yes") == 0
    assert "UpdateTerminationProtection" not in aws.calls


def test_a_refused_protection_is_reported_and_the_deploy_goes_on(project, aws, capsys):
    protected(project)
    create_executed(aws)
    aws.cfn_stub.add_client_error("update_termination_protection", "AccessDenied", "not allowed")
    created(aws)

    assert deploy(project, "--yes") == 0

    out = capsys.readouterr().out
    assert "Could not turn termination protection on (AWS said AccessDenied: not allowed" in out
    assert f"update-termination-protection --enable-termination-protection --stack-name {STACK_NAME}" in out


def stack_protected(aws, on=True):
    response = r.stack(STACK_NAME, "UPDATE_COMPLETE")
    response["Stacks"][0]["EnableTerminationProtection"] = on
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": STACK_NAME})


@pytest.mark.parametrize("stack_on, environment_protected", [(True, False), (False, True), (True, True)])
def test_delete_of_a_protected_stack_explains_the_deliberate_way(project, aws, capsys, stack_on,
                                                                 environment_protected):
    if environment_protected:
        protected(project)
    stack_protected(aws, stack_on)

    assert threetier(project, "delete", ENV, "--yes") == 1

    err = capsys.readouterr().err
    assert f"Not deleting stack {STACK_NAME}" in err
    assert ("its termination protection is on" in err) == stack_on
    assert ("dev is a protected environment" in err) == environment_protected
    assert f"threetier delete {ENV} --disable-termination-protection" in err
    assert aws.calls == ["DescribeStacks"]


def test_prod_is_protected_without_a_settings_file(tmp_path, capsys, aws):
    from tests.deploy.fixtures.project import write_project

    project = write_project(tmp_path, env="prod")
    aws.cfn_stub.add_response("describe_stacks", r.stack(STACK_NAME, "UPDATE_COMPLETE"),
                              {"StackName": "shop-prod"})

    assert threetier(project, "delete", "prod", "--yes") == 1
    assert "prod is a protected environment (prod is protected by default)" in capsys.readouterr().err


def test_the_option_asks_then_turns_protection_off_and_deletes(project, aws, capsys, monkeypatch):
    stack_protected(aws)
    aws.cfn_stub.add_response("update_termination_protection", {"StackId": STACK_ID},
                              {"EnableTerminationProtection": False, "StackName": STACK_ID})
    aws.cfn_stub.add_response("describe_stack_events", r.events_page([]), {"StackName": STACK_ID})
    aws.cfn_stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    aws.events_until([], [{STACK_ID: [r.stack_event(STACK_NAME, 1, "DELETE_COMPLETE")]}],
                     final_status="DELETE_COMPLETE")
    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))

    assert threetier(project, "delete", ENV, "--disable-termination-protection") == 0

    out = capsys.readouterr().out
    assert "turn its termination protection off and delete it? Only 'yes' will be accepted" in out
    assert out.index("Termination protection is off") < out.index(f"Deleting stack {STACK_NAME}; following")
    assert aws.calls.index("UpdateTerminationProtection") < aws.calls.index("DeleteStack")


def test_declining_leaves_protection_on(project, aws, capsys, monkeypatch):
    stack_protected(aws)
    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))

    assert threetier(project, "delete", ENV, "--disable-termination-protection") == 1
    assert "UpdateTerminationProtection" not in aws.calls


def test_status_says_whether_the_stack_is_protected(project, aws, capsys):
    protected(project)
    stack_protected(aws)

    assert threetier(project, "status", ENV) == 0
    assert "Protect: termination protection on (a protected environment)" in capsys.readouterr().out
