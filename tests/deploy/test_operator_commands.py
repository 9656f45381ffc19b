"""Issue 32: watch, cancel and continue-rollback against botocore's Stubber.

moto neither keeps an operation running nor cancels or continues a rollback, so the
sequences of DescribeStacks / DescribeStackEvents / ListStackResources an operator meets
are stubbed, shaped like the real API (the Stubber checks them against the service model).
"""

from __future__ import annotations

import sys

import pytest

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME
from tests.deploy.test_deploy_stubbed import (  # noqa: F401 (fixtures)
    NESTED_ID,
    NESTED_STACK,
    STACK_ID,
    Terminal,
    aws,
    no_terminal,
    project,
    threetier,
)
from threetier.deploy.commands.cancel import CANCEL_PAGE
from threetier.deploy.commands.continuerollback import CONTINUE_PAGE

ROLE = "arn:aws:iam::123456789012:role/shop.deployer"
NESTED = dict(stack_id=NESTED_ID)
SETTLED_UPDATE = r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")


def stack_now(aws, status: str, by: str = STACK_NAME, **extra):
    response = r.stack(STACK_NAME, status)
    response["Stacks"][0].update(extra)
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": by})


def events_read(aws, stack_id: str, events: list[dict], next_token: str | None = None, page_token: str | None = None):
    """One DescribeStackEvents answer: `events`, newest first (one page, with NextToken when more follow)."""
    page = r.events_page(events)
    if next_token:
        page["NextToken"] = next_token
    aws.cfn_stub.add_response("describe_stack_events", page,
                              {"StackName": stack_id, **({"NextToken": page_token} if page_token else {})})


def resources_listed(aws, stack_id: str, *resources: dict):
    aws.cfn_stub.add_response("list_stack_resources", {"StackResourceSummaries": list(resources)},
                              {"StackName": stack_id})


def summary(logical_id: str, resource_type: str, status: str, physical_id: str = "x", reason: str = "") -> dict:
    """A resource as ListStackResources lists it."""
    found = {"LogicalResourceId": logical_id, "PhysicalResourceId": physical_id, "ResourceType": resource_type,
             "LastUpdatedTimestamp": r.T0, "ResourceStatus": status}
    if reason:
        found["ResourceStatusReason"] = reason
    return found


def no_traceback(capsys) -> tuple[str, str]:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return captured.out, captured.err


# ----------------------------------------------------------------------------- watch

UPDATE_STARTED = [
    r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
    r.event(STACK_NAME, 1, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", NESTED_ID),
]


def test_watch_during_an_update_shows_the_operation_from_its_start_and_follows_it(project, aws, capsys):
    stack_now(aws, "UPDATE_IN_PROGRESS")
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *UPDATE_STARTED])  # where the operation began
    aws.events_until([SETTLED_UPDATE], [
        {STACK_ID: UPDATE_STARTED,
         NESTED_ID: [r.stack_event(NESTED_STACK, -120, "CREATE_COMPLETE", **NESTED),  # before it: not shown
                     r.stack_event(NESTED_STACK, 2, "UPDATE_IN_PROGRESS", **NESTED),
                     r.event(NESTED_STACK, 3, "AppLogs", "AWS::Logs::LogGroup", "UPDATE_COMPLETE", "shop-dev-app",
                             **NESTED)]},
        {STACK_ID: [r.event(STACK_NAME, 5, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", NESTED_ID),
                    r.stack_event(STACK_NAME, 6, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
                    r.stack_event(STACK_NAME, 7, "UPDATE_COMPLETE")],
         NESTED_ID: [r.stack_event(NESTED_STACK, 4, "UPDATE_COMPLETE", **NESTED)]},
    ], final_status="UPDATE_COMPLETE")

    assert threetier(project, "watch", ENV) == 0

    out, _ = no_traceback(capsys)
    assert (f"Stack {STACK_NAME} is UPDATE_IN_PROGRESS (since 2024-05-01 12:00:00 UTC: UPDATE_IN_PROGRESS, "
            "User Initiated); following the operation from its start") in out
    lines = [line.split() for line in out.splitlines() if line.startswith("  0m")]
    # elapsed, resources done, status, type, stack path: the same view deploy prints.
    assert [(line[2], line[-1]) for line in lines if "User" not in line] == [
        ("UPDATE_IN_PROGRESS", f"{STACK_NAME}/AppStack"),
        ("UPDATE_COMPLETE", f"{STACK_NAME}/AppStack/AppLogs"),
        ("UPDATE_COMPLETE", f"{STACK_NAME}/AppStack"),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", STACK_NAME),
        ("UPDATE_COMPLETE", STACK_NAME),
    ]
    assert "CREATE_COMPLETE" not in out
    assert f"Stack {STACK_NAME}: UPDATE_COMPLETE after 0m05s." in out


def test_watch_during_a_first_create_starts_after_the_review(project, aws, capsys):
    review = r.stack_event(STACK_NAME, -30, "REVIEW_IN_PROGRESS", "User Initiated")
    started = [r.stack_event(STACK_NAME, 0, "CREATE_IN_PROGRESS", "User Initiated"),
               r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS")]
    stack_now(aws, "CREATE_IN_PROGRESS")
    events_read(aws, STACK_ID, [review, *started])
    aws.events_until([review], [
        {STACK_ID: started},
        {STACK_ID: [r.event(STACK_NAME, 2, "Setting", "AWS::SSM::Parameter", "CREATE_COMPLETE", "/s"),
                    r.stack_event(STACK_NAME, 3, "CREATE_COMPLETE")]},
    ], final_status="CREATE_COMPLETE")

    assert threetier(project, "watch", ENV) == 0

    out, _ = no_traceback(capsys)
    assert "(since 2024-05-01 12:00:00 UTC: CREATE_IN_PROGRESS, User Initiated)" in out
    assert "REVIEW_IN_PROGRESS" not in out
    done = [line.split() for line in out.splitlines() if line.endswith(f"{STACK_NAME}/Setting")]
    assert [(line[0], line[1], line[2]) for line in done] == [("0m00s", "0", "CREATE_IN_PROGRESS"),
                                                               ("0m05s", "1", "CREATE_COMPLETE")]
    assert f"Stack {STACK_NAME}: CREATE_COMPLETE after 0m05s." in out


def test_watch_during_a_rollback_ends_like_deploy_with_the_first_failure(project, aws, capsys):
    started = [r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
               r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "UPDATE_FAILED", "/s", "Access denied"),
               r.stack_event(STACK_NAME, 2, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed")]
    stack_now(aws, "UPDATE_ROLLBACK_IN_PROGRESS")
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started])
    aws.events_until([SETTLED_UPDATE], [
        {STACK_ID: started},
        {STACK_ID: [r.event(STACK_NAME, 3, "Setting", "AWS::SSM::Parameter", "UPDATE_COMPLETE", "/s"),
                    r.stack_event(STACK_NAME, 4, "UPDATE_ROLLBACK_COMPLETE")]},
    ], final_status="UPDATE_ROLLBACK_COMPLETE")
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_ROLLBACK_COMPLETE"))

    assert threetier(project, "watch", ENV) == 1

    out, _ = no_traceback(capsys)
    assert "(since 2024-05-01 12:00:00 UTC: UPDATE_IN_PROGRESS, User Initiated)" in out
    assert f"First failure: {STACK_NAME}/Setting (AWS::SSM::Parameter) UPDATE_FAILED: Access denied" in out
    assert "The update was rolled back" in out


def test_watch_of_a_continued_rollback_succeeds_when_it_completes(project, aws, capsys):
    stuck = r.stack_event(STACK_NAME, -60, "UPDATE_ROLLBACK_FAILED")
    started = [r.stack_event(STACK_NAME, 0, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")]
    stack_now(aws, "UPDATE_ROLLBACK_IN_PROGRESS")
    events_read(aws, STACK_ID, [stuck, *started])
    aws.events_until([stuck], [{STACK_ID: started}, {STACK_ID: [
        r.stack_event(STACK_NAME, 1, "UPDATE_ROLLBACK_COMPLETE")]}], final_status="UPDATE_ROLLBACK_COMPLETE")

    assert threetier(project, "watch", ENV) == 0
    assert f"Stack {STACK_NAME}: UPDATE_ROLLBACK_COMPLETE after 0m05s." in no_traceback(capsys)[0]


def test_watch_reads_back_through_pages_to_where_the_operation_began(project, aws, capsys):
    """An operation of more than a page of events: its start is on a later page, and so is the end of the replay."""
    newest = [r.event(STACK_NAME, 10 + i, f"Setting{i}", "AWS::SSM::Parameter", "UPDATE_COMPLETE", "/s")
              for i in range(3)]
    older = [SETTLED_UPDATE, r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated")]
    stack_now(aws, "UPDATE_IN_PROGRESS")
    events_read(aws, STACK_ID, newest, next_token="page2")
    events_read(aws, STACK_ID, older, page_token="page2")
    # Following: the first poll reads both pages (page 1 is all new), and stops at the settled event.
    events_read(aws, STACK_ID, newest, next_token="page2")
    events_read(aws, STACK_ID, older, page_token="page2")
    events_read(aws, STACK_ID, [*older, *newest, r.stack_event(STACK_NAME, 20, "UPDATE_COMPLETE")])
    stack_now(aws, "UPDATE_COMPLETE", by=STACK_ID)

    assert threetier(project, "watch", ENV) == 0

    out, _ = no_traceback(capsys)
    assert "(since 2024-05-01 12:00:00 UTC: UPDATE_IN_PROGRESS, User Initiated)" in out
    assert [line.split()[-1] for line in out.splitlines() if "Setting" in line] == [
        f"{STACK_NAME}/Setting0", f"{STACK_NAME}/Setting1", f"{STACK_NAME}/Setting2"]


def test_watch_with_nothing_running_says_so_and_shows_the_last_status(project, aws, capsys):
    stack_now(aws, "UPDATE_COMPLETE", LastUpdatedTime=r.at(3600))

    assert threetier(project, "watch", ENV) == 0

    out, _ = no_traceback(capsys)
    assert out == (f"Nothing is running on stack {STACK_NAME}: its last status is UPDATE_COMPLETE "
                   "since 2024-05-01 13:00:00 UTC.\n")
    assert aws.calls == ["DescribeStacks"]


def test_watch_of_a_stuck_stack_says_nothing_runs_and_what_to_do(project, aws, capsys):
    stack_now(aws, "UPDATE_ROLLBACK_FAILED", StackStatusReason="The following resource(s) failed to update: [Asg].")

    assert threetier(project, "watch", ENV) == 0

    out, _ = no_traceback(capsys)
    assert "its last status is UPDATE_ROLLBACK_FAILED" in out
    assert "Reason:  The following resource(s) failed to update: [Asg]." in out
    assert "threetier continue-rollback dev" in out


def test_watch_of_a_stack_under_review_says_nothing_runs(project, aws, capsys):
    stack_now(aws, "REVIEW_IN_PROGRESS")
    assert threetier(project, "watch", ENV) == 0
    assert "Nothing is running on stack shop-dev: its last status is REVIEW_IN_PROGRESS" in no_traceback(capsys)[0]


def test_watch_of_a_stack_that_does_not_exist_says_nothing_runs(project, aws, capsys):
    aws.stack_missing()
    assert threetier(project, "watch", ENV) == 0
    assert no_traceback(capsys)[0] == f"Nothing is running: stack {STACK_NAME} does not exist in us-east-1.\n"


# ----------------------------------------------------------------------------- cancel

def test_cancel_cancels_the_update_and_follows_the_rollback(project, aws, capsys):
    running = [SETTLED_UPDATE, *UPDATE_STARTED]
    stack_now(aws, "UPDATE_IN_PROGRESS")
    events_read(aws, STACK_ID, running)  # the baseline: only what comes after the cancel is shown
    aws.cfn_stub.add_response("cancel_update_stack", {}, {"StackName": STACK_ID})
    aws.events_until(running, [{STACK_ID: [
        r.stack_event(STACK_NAME, 10, "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled"),
        r.event(STACK_NAME, 11, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", NESTED_ID),
        r.stack_event(STACK_NAME, 12, "UPDATE_ROLLBACK_COMPLETE"),
    ], NESTED_ID: [r.stack_event(NESTED_STACK, 11, "UPDATE_ROLLBACK_COMPLETE", **NESTED)]}],
        final_status="UPDATE_ROLLBACK_COMPLETE")

    assert threetier(project, "cancel", ENV, "--yes") == 0

    out, _ = no_traceback(capsys)
    assert f"Cancelled the update of stack {STACK_NAME}; following its rollback" in out
    assert "UPDATE_ROLLBACK_IN_PROGRESS" in out and "Stack update cancelled" in out
    assert "User Initiated" not in out  # the update's own start came before the cancel
    assert f"Stack {STACK_NAME}: UPDATE_ROLLBACK_COMPLETE after 0m00s." in out


@pytest.mark.parametrize("status, instead", [
    ("UPDATE_COMPLETE", "Nothing is running on it"),
    ("CREATE_IN_PROGRESS", "A create cannot be cancelled: follow it with `threetier watch dev`"),
    ("UPDATE_ROLLBACK_IN_PROGRESS", "It is already rolling back: follow it with `threetier watch dev`."),
    ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "The update is done"),
    ("DELETE_IN_PROGRESS", "Follow it with `threetier watch dev`."),
])
def test_only_an_update_in_progress_can_be_cancelled(project, aws, capsys, status, instead):
    stack_now(aws, status)

    assert threetier(project, "cancel", ENV, "--yes") == 1

    _, err = no_traceback(capsys)
    assert err.startswith(f"threetier cancel: stack {STACK_NAME} is {status}: only an update in progress "
                          f"(UPDATE_IN_PROGRESS) can be cancelled ({CANCEL_PAGE}). {instead}")
    assert err.count("\n") == 1
    assert aws.calls == ["DescribeStacks"]


def test_cancel_of_a_missing_stack_is_one_line(project, aws, capsys):
    aws.stack_missing()
    assert threetier(project, "cancel", ENV, "--yes") == 1
    assert no_traceback(capsys)[1] == (f"threetier cancel: stack {STACK_NAME} does not exist in us-east-1: "
                                       "nothing to cancel.\n")


def test_cancel_asks_and_needs_a_terminal_or_yes(project, aws, capsys, no_terminal):
    stack_now(aws, "UPDATE_IN_PROGRESS")
    assert threetier(project, "cancel", ENV) == 1
    assert "Pass --yes to cancel the update." in no_traceback(capsys)[1]
    assert "CancelUpdateStack" not in aws.calls


def test_cancel_declined_at_the_prompt_changes_nothing(project, aws, capsys, monkeypatch):
    stack_now(aws, "UPDATE_IN_PROGRESS")
    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))
    assert threetier(project, "cancel", ENV) == 1
    assert "Not confirmed: the update goes on." in no_traceback(capsys)[1]
    assert "CancelUpdateStack" not in aws.calls


def test_an_update_that_ended_before_the_cancel_is_said_in_one_line(project, aws, capsys):
    stack_now(aws, "UPDATE_IN_PROGRESS")
    events_read(aws, STACK_ID, [SETTLED_UPDATE])
    aws.cfn_stub.add_client_error("cancel_update_stack", "ValidationError",
                                  "CancelUpdateStack cannot be called from current stack status")
    stack_now(aws, "UPDATE_COMPLETE", by=STACK_ID)

    assert threetier(project, "cancel", ENV, "--yes") == 1

    _, err = no_traceback(capsys)
    assert err == ("threetier cancel: AWS refused to cancel the update: ValidationError: CancelUpdateStack cannot "
                   f"be called from current stack status (CancelUpdateStack). Stack {STACK_NAME} is now "
                   "UPDATE_COMPLETE; `threetier watch dev` follows what runs on it.\n")


# ----------------------------------------------------------------------------- continue-rollback

ASG_REASON = "Resource handler returned message: \"AutoScalingGroup shop-asg not found\""


def failed_rollback(aws):
    """A root in UPDATE_ROLLBACK_FAILED: its AppStack failed to roll back because of the Asg in it."""
    stack_now(aws, "UPDATE_ROLLBACK_FAILED")
    resources_listed(aws, STACK_ID,
                     summary("AppStack", "AWS::CloudFormation::Stack", "UPDATE_FAILED", NESTED_ID,
                             "Embedded stack was not successfully updated"),
                     summary("Setting", "AWS::SSM::Parameter", "UPDATE_COMPLETE", "/s"))
    resources_listed(aws, NESTED_ID,
                     summary("AppLogs", "AWS::Logs::LogGroup", "UPDATE_COMPLETE", "shop-dev-app"),
                     summary("Asg", "AWS::AutoScaling::AutoScalingGroup", "UPDATE_FAILED", "shop-asg", ASG_REASON))


def rollback_continues(aws, request: dict, final: str = "UPDATE_ROLLBACK_COMPLETE"):
    stuck = [SETTLED_UPDATE, r.stack_event(STACK_NAME, 0, "UPDATE_ROLLBACK_FAILED")]
    events_read(aws, STACK_ID, stuck)
    aws.cfn_stub.add_response("continue_update_rollback", {}, request)
    aws.events_until(stuck, [{STACK_ID: [
        r.stack_event(STACK_NAME, 10, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated"),
        r.event(STACK_NAME, 11, "AppStack", "AWS::CloudFormation::Stack", final.replace("ROLLBACK_", ""), NESTED_ID),
        r.stack_event(STACK_NAME, 12, final),
    ], NESTED_ID: [r.stack_event(NESTED_STACK, 11, final, **NESTED)]}], final_status=final)


def test_continue_rollback_lists_what_failed_and_sends_the_nested_skip(project, aws, capsys):
    failed_rollback(aws)
    rollback_continues(aws, {"StackName": STACK_ID, "RoleARN": ROLE, "ResourcesToSkip": ["AppStack.Asg"]})

    assert threetier(project, "continue-rollback", ENV, "--skip", "AppStack.Asg", "--role-arn", ROLE, "--yes") == 0

    out, _ = no_traceback(capsys)
    assert "Resources that failed to roll back (fix what blocks them, or skip them with --skip NAME):" in out
    assert (f"  AppStack      AWS::CloudFormation::Stack          {STACK_NAME}/AppStack: Embedded stack was not "
            "successfully updated (a nested stack: skip the resources in it that failed") in out
    assert f"  AppStack.Asg  AWS::AutoScaling::AutoScalingGroup  {STACK_NAME}/AppStack/Asg: {ASG_REASON}" in out
    assert "Skipping AppStack.Asg: CloudFormation marks them rolled back without changing them" in out
    assert f"Stack {STACK_NAME}: UPDATE_ROLLBACK_COMPLETE after 0m00s." in out
    assert "Setting" not in out and "AppLogs" not in out


def test_continue_rollback_takes_the_role_from_threetier_toml_and_skips_nothing_unasked(project, aws, capsys):
    (project / "threetier.toml").write_text(f'[{ENV}]\nrole_arn = "{ROLE}"\n')
    failed_rollback(aws)
    rollback_continues(aws, {"StackName": STACK_ID, "RoleARN": ROLE})

    assert threetier(project, "continue-rollback", ENV, "--yes") == 0
    assert "Skipping" not in no_traceback(capsys)[0]


def test_a_skip_not_in_the_nested_form_names_the_form(project, aws, capsys):
    failed_rollback(aws)

    assert threetier(project, "continue-rollback", ENV, "--skip", "Asg", "Db", "--yes") == 1

    _, err = no_traceback(capsys)
    assert err == ("threetier continue-rollback: Asg: not a resource that failed to roll back (in a nested stack "
                   "it is named AppStack.Asg); Db: not a resource that failed to roll back. Nothing was changed; "
                   "--skip takes the names listed above.\n")
    assert "ContinueUpdateRollback" not in aws.calls


@pytest.mark.parametrize("status, more", [
    ("UPDATE_COMPLETE", ""),
    ("UPDATE_ROLLBACK_IN_PROGRESS", " Follow it with `threetier watch dev`."),
])
def test_continue_rollback_needs_update_rollback_failed(project, aws, capsys, status, more):
    stack_now(aws, status)

    assert threetier(project, "continue-rollback", ENV, "--yes") == 1

    assert no_traceback(capsys)[1] == (f"threetier continue-rollback: stack {STACK_NAME} is {status}: only a stack "
                                       f"in UPDATE_ROLLBACK_FAILED can continue its rollback ({CONTINUE_PAGE}).{more}\n")
    assert aws.calls == ["DescribeStacks"]


def test_a_rollback_that_fails_again_gives_the_advice_with_the_nested_form(project, aws, capsys):
    failed_rollback(aws)
    rollback_continues(aws, {"StackName": STACK_ID}, final="UPDATE_ROLLBACK_FAILED")
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_ROLLBACK_FAILED"), (NESTED_ID, NESTED_STACK, "UPDATE_ROLLBACK_FAILED"))

    assert threetier(project, "continue-rollback", ENV, "--yes") == 1

    out, _ = no_traceback(capsys)
    assert "threetier continue-rollback dev\n" in out
    assert "a resource in a nested stack as NestedStackLogicalId.ResourceLogicalId, e.g. AppStack.Asg" in out
    assert (f"aws cloudformation continue-update-rollback --stack-name {STACK_NAME} --resources-to-skip "
            "NestedStackLogicalId.ResourceLogicalId ...") in out


def test_continue_rollback_asks(project, aws, capsys, no_terminal):
    failed_rollback(aws)
    assert threetier(project, "continue-rollback", ENV) == 1
    assert "Pass --yes" in no_traceback(capsys)[1]
    assert "ContinueUpdateRollback" not in aws.calls


@pytest.mark.parametrize("status, says", [
    ("UPDATE_IN_PROGRESS", "An operation is running: follow it with `threetier watch dev`, or cancel the update "
                           "with `threetier cancel dev`."),
    ("DELETE_IN_PROGRESS", "An operation is running: follow it with `threetier watch dev`."),
])
def test_status_of_a_running_stack_names_watch_and_cancel(project, aws, capsys, status, says):
    stack_now(aws, status)
    assert threetier(project, "status", ENV) == 0
    assert says in no_traceback(capsys)[0]


def test_a_stack_with_no_settled_event_yet_is_in_its_first_create_and_all_of_it_is_shown(aws):
    from threetier.deploy import events

    events_read(aws, STACK_ID, [r.stack_event(STACK_NAME, 0, "CREATE_IN_PROGRESS", "User Initiated"),
                                r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS")])

    running = events.running_operation(aws.cfn, STACK_ID)

    assert running.baseline == events.Baseline(frozenset(), None)
    assert (running.began["ResourceStatus"], running.began["Timestamp"]) == ("CREATE_IN_PROGRESS", r.at(0))
