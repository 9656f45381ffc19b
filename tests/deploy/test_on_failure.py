"""What a failed operation does: OnStackFailure on a first create's CreateChangeSet, DisableRollback on an
update's ExecuteChangeSet, RetainExceptOnCreate on the ExecuteChangeSet of an operation whose rollback
deletes what it created (threetier.deploy.onfailure), checked on the exact request parameters."""

from __future__ import annotations

import pytest

from tests.deploy.fixtures import responses as r
from tests.deploy.test_deploy_stubbed import (  # noqa: F401 (fixtures)
    STACK_ID,
    STACK_NAME,
    aws,
    deploy,
    plan,
    project,
    quiet_update,
)

ADDED = [r.resource_change("Add", "Setting", "AWS::SSM::Parameter")]


@pytest.mark.parametrize("flags, sent", [
    ((), "DELETE"),  # the documented default for a first create
    (("--on-failure", "rollback"), "ROLLBACK"),
    (("--on-failure", "delete"), "DELETE"),
    (("--on-failure", "do-nothing"), "DO_NOTHING"),
    (("--disable-rollback",), "DO_NOTHING"),
    (("--disable-rollback", "--on-failure", "do-nothing"), "DO_NOTHING"),
])
def test_a_first_create_sends_what_to_do_on_failure(project, aws, capsys, flags, sent):
    aws.plan(ADDED, existing=None, on_failure=sent)  # the Stubber checks OnStackFailure exactly

    assert plan(project, *flags) == 0


def test_contradicting_flags_are_a_usage_error_before_any_aws_call(project, aws, capsys):
    assert plan(project, "--disable-rollback", "--on-failure", "delete") == 2

    assert "--disable-rollback keeps what a failed create made; --on-failure delete does not" in capsys.readouterr().err
    assert aws.calls == []


def test_an_unknown_choice_is_refused_by_the_parser(project, aws, capsys):
    with pytest.raises(SystemExit) as exit_info:
        plan(project, "--on-failure", "retain")
    assert exit_info.value.code == 2
    assert aws.calls == []


def test_on_failure_for_an_update_is_noted_and_not_sent(project, aws, capsys):
    aws.plan([r.resource_change("Modify", "Setting", "AWS::SSM::Parameter", Replacement="False",
                                Details=[r.property_detail("Value")])])  # no OnStackFailure: checked

    assert plan(project, "--on-failure", "rollback") == 0
    assert "--on-failure rollback applies to a first create only" in capsys.readouterr().err


def failed_update(aws, **execute_params):
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[{STACK_ID: [
            r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "UPDATE_FAILED", "/s", "Access denied"),
            r.stack_event(STACK_NAME, 2, "UPDATE_FAILED"),
        ]}],
        final_status="UPDATE_FAILED",
        **execute_params,
    )
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_FAILED"))


def test_disable_rollback_on_an_update_executes_with_disable_rollback_and_says_how_to_clean_up(
        project, aws, capsys):
    quiet_update(aws)
    failed_update(aws, DisableRollback=True)  # the Stubber checks ExecuteChangeSet's parameters exactly

    assert deploy(project, "--yes", "--disable-rollback") == 1

    out = capsys.readouterr().out
    assert "Rollback was disabled: the stack stays UPDATE_FAILED" in out
    assert "`threetier delete dev`, then `threetier leftovers dev`" in out


def test_an_update_without_the_flag_executes_without_disable_rollback(project, aws, capsys):
    quiet_update(aws)
    failed_update(aws)  # ExecuteChangeSet with ChangeSetName only

    assert deploy(project, "--yes") == 1
    assert "Rollback was disabled" not in capsys.readouterr().out


def failed_create(aws, on_failure: str, final_status: str, **execute_params):
    aws.plan(ADDED, existing=None, on_failure=on_failure)
    aws.execution(
        **execute_params,
        baseline=[r.stack_event(STACK_NAME, -5, "REVIEW_IN_PROGRESS", "User Initiated")],
        polls=[{STACK_ID: [
            r.stack_event(STACK_NAME, 0, "CREATE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "CREATE_FAILED", reason="Access denied"),
            r.stack_event(STACK_NAME, 2, final_status),
        ]}],
        final_status=final_status,
    )
    aws.stacks_now((STACK_ID, STACK_NAME, final_status))


def test_a_create_with_rollback_disabled_says_to_delete_then_list_the_leftovers(project, aws, capsys):
    failed_create(aws, "DO_NOTHING", "CREATE_FAILED")  # ExecuteChangeSet gets no DisableRollback: checked

    assert deploy(project, "--yes", "--disable-rollback") == 1

    out = capsys.readouterr().out
    assert "Rollback was disabled: what the create made stays." in out
    assert "`threetier delete dev`, then `threetier leftovers dev`" in out


@pytest.mark.parametrize("flags, on_failure, final_status", [
    ((), "DELETE", "DELETE_COMPLETE"),
    (("--on-failure", "rollback"), "ROLLBACK", "ROLLBACK_COMPLETE"),
    (("--retain-except-on-create",), "DELETE", "DELETE_COMPLETE"),
])
def test_a_failed_first_create_deletes_its_retained_resources_too(project, aws, capsys, flags, on_failure,
                                                                   final_status):
    failed_create(aws, on_failure, final_status, RetainExceptOnCreate=True)  # checked by the Stubber

    assert deploy(project, "--yes", *flags) == 1

    out = capsys.readouterr().out
    assert "The rollback deletes what the create made, DeletionPolicy Retain included (RetainExceptOnCreate)" in out
    assert "`threetier leftovers dev` lists it once the stack is gone" in out


def test_a_first_create_that_keeps_its_retained_resources_points_at_the_leftovers(project, aws, capsys):
    failed_create(aws, "DELETE", "DELETE_COMPLETE")  # ExecuteChangeSet with ChangeSetName only

    assert deploy(project, "--yes", "--no-retain-except-on-create") == 1
    out = capsys.readouterr().out
    assert "The first create failed and stack shop-dev was rolled back and deleted (--on-failure delete)" in out
    assert "Retain outlive a failed create (--no-retain-except-on-create): `threetier leftovers dev` lists them" in out


def test_an_update_deletes_what_it_created_only_when_asked(project, aws, capsys):
    quiet_update(aws)
    failed_update(aws, RetainExceptOnCreate=True)

    assert deploy(project, "--yes", "--retain-except-on-create") == 1
    assert "The rollback deletes what the update created" in capsys.readouterr().out


@pytest.mark.parametrize("flags, keeping", [
    (("--disable-rollback",), "--disable-rollback"),
    (("--on-failure", "do-nothing"), "--on-failure do-nothing"),
])
def test_retain_except_on_create_without_a_rollback_is_a_usage_error(project, aws, capsys, flags, keeping):
    assert deploy(project, "--yes", "--retain-except-on-create", *flags) == 2

    err = capsys.readouterr().err
    assert f"--retain-except-on-create deletes what a failed operation created when it rolls back; {keeping}" in err
    assert aws.calls == []


def test_a_create_kept_with_on_failure_do_nothing_says_how_to_clean_up(project, aws, capsys):
    failed_create(aws, "DO_NOTHING", "CREATE_FAILED")

    assert deploy(project, "--yes", "--on-failure", "do-nothing") == 1
    assert "`threetier delete dev`, then `threetier leftovers dev`" in capsys.readouterr().out
