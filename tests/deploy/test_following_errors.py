"""Issue 32: following an operation survives throttling, and stops with exit 4 and the re-attach command
when it cannot go on (credentials expired, an error that waiting does not cure, too many failed polls).

botocore's Stubber answers a call with the error as if the client's own retries were spent (it
answers before retrying is considered), so these prove the follower's backoff between polls. The
last test proves the client's adaptive retries themselves against a local endpoint on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import re
import threading

import pytest
from botocore.exceptions import EndpointConnectionError, ParamValidationError

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME
from tests.deploy.test_deploy_stubbed import (  # noqa: F401 (fixtures)
    CHANGE_SET,
    NESTED_ID,
    NESTED_STACK,
    STACK_ID,
    aws,
    deploy,
    project,
    quiet_update,
    threetier,
)
from tests.deploy.test_operator_commands import SETTLED_UPDATE, events_read, no_traceback, stack_now
from threetier.deploy import patience as patience_module
from threetier.deploy.commands import common
from threetier.deploy.errors import EXIT_DETACHED
from threetier.deploy.patience import Detached, Patience
from threetier.deploy.session import make_clients as real_make_clients

NESTED = dict(stack_id=NESTED_ID)
EXPIRED = ("ExpiredToken", "The security token included in the request is expired")


def throttled(aws, operation: str, stack: str):
    aws.cfn_stub.add_client_error(operation, "ThrottlingException", "Rate exceeded", http_status_code=400,
                                  expected_params={"StackName": stack})


def test_throttling_on_every_call_the_follower_makes_is_waited_out(project, aws, capsys):
    """watch: DescribeStacks and the paged DescribeStackEvents that find the operation, DescribeStackEvents of
    the root and of a nested stack while following, and DescribeStacks confirming the end: each throttled
    once, then answered. Nothing is shown twice or lost."""
    started = [r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
               r.event(STACK_NAME, 1, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", NESTED_ID)]
    nested = [r.stack_event(NESTED_STACK, 2, "UPDATE_IN_PROGRESS", **NESTED),
              r.event(NESTED_STACK, 3, "AppLogs", "AWS::Logs::LogGroup", "UPDATE_COMPLETE", "app", **NESTED)]
    ended = [r.event(STACK_NAME, 5, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", NESTED_ID),
             r.stack_event(STACK_NAME, 6, "UPDATE_COMPLETE")]
    nested_ended = [r.stack_event(NESTED_STACK, 4, "UPDATE_COMPLETE", **NESTED)]

    aws.cfn_stub.add_client_error("describe_stacks", "Throttling", "Rate exceeded", expected_params={
        "StackName": STACK_NAME})
    stack_now(aws, "UPDATE_IN_PROGRESS")
    # Finding where the operation began: its second page is throttled, then both pages are read again.
    events_read(aws, STACK_ID, started, next_token="page2")
    aws.cfn_stub.add_client_error("describe_stack_events", "ThrottlingException", "Rate exceeded",
                                  expected_params={"StackName": STACK_ID, "NextToken": "page2"})
    events_read(aws, STACK_ID, started, next_token="page2")
    events_read(aws, STACK_ID, [SETTLED_UPDATE], page_token="page2")
    # Poll 1: the root is throttled; poll 2: the root answers, the nested stack it names is throttled.
    throttled(aws, "describe_stack_events", STACK_ID)
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started])
    throttled(aws, "describe_stack_events", NESTED_ID)
    # Poll 3: the root has nothing new, the nested stack is read whole.
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started])
    events_read(aws, NESTED_ID, nested)
    # Poll 4: both end; DescribeStacks, confirming it, is throttled. Poll 5: nothing new, DescribeStacks answers.
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started, *ended])
    events_read(aws, NESTED_ID, nested + nested_ended)
    aws.cfn_stub.add_client_error("describe_stacks", "Throttling", "Rate exceeded", expected_params={
        "StackName": STACK_ID})
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started, *ended])
    events_read(aws, NESTED_ID, nested + nested_ended)
    stack_now(aws, "UPDATE_COMPLETE", by=STACK_ID)

    assert threetier(project, "watch", ENV) == 0

    out, err = no_traceback(capsys)
    assert f"Stack {STACK_NAME}: UPDATE_COMPLETE after" in out
    shown = [" ".join(line.split()[2:]) for line in out.splitlines() if re.match(r"\s*\d+m\d\ds ", line)]
    assert shown == [
        f"UPDATE_IN_PROGRESS AWS::CloudFormation::Stack {STACK_NAME} User Initiated",
        f"UPDATE_IN_PROGRESS AWS::CloudFormation::Stack {STACK_NAME}/AppStack",
        f"UPDATE_COMPLETE AWS::Logs::LogGroup {STACK_NAME}/AppStack/AppLogs",
        f"UPDATE_COMPLETE AWS::CloudFormation::Stack {STACK_NAME}/AppStack",
        f"UPDATE_COMPLETE AWS::CloudFormation::Stack {STACK_NAME}",
    ]
    said = "(a poll throttled: AWS said {}: Rate exceeded ({}); polling again in {} s)"
    # Finding the operation: on stderr, so stdout stays the operation's view.
    assert err.count(said.format("Throttling", "DescribeStacks", 10)) == 1
    assert err.count(said.format("ThrottlingException", "DescribeStackEvents", 10)) == 1
    # Following: a poll is every stack's events; two failed polls in a row wait twice as long the second time.
    assert out.count(said.format("ThrottlingException", "DescribeStackEvents", 10)) == 1
    assert out.count(said.format("ThrottlingException", "DescribeStackEvents", 20)) == 1
    assert out.count(said.format("Throttling", "DescribeStacks", 10)) == 1
    assert aws.time.sleeps == [10, 10, 10, 20, 5, 10]
    assert f"Stack {STACK_NAME}: UPDATE_COMPLETE after 0m45s." in out


def test_throttling_that_goes_on_backs_off_further_then_completes(project, aws, capsys):
    stack_now(aws, "UPDATE_IN_PROGRESS")
    started = [r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated")]
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started])
    for _ in range(5):
        throttled(aws, "describe_stack_events", STACK_ID)
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started, r.stack_event(STACK_NAME, 9, "UPDATE_COMPLETE")])
    stack_now(aws, "UPDATE_COMPLETE", by=STACK_ID)

    assert threetier(project, "watch", ENV) == 0

    assert "UPDATE_COMPLETE after 4m30s" in no_traceback(capsys)[0]
    # Twice as long each time, at most MAX_WAIT_SECONDS.
    assert aws.time.sleeps == [10, 20, 40, 80, patience_module.MAX_WAIT_SECONDS] == [10, 20, 40, 80, 120]


def deploy_running(aws):
    """A deploy executed, its first poll answered: the update is under way."""
    quiet_update(aws)
    aws.still_executable()
    aws.cfn_stub.add_response("describe_stack_events", r.events_page([SETTLED_UPDATE]), {"StackName": STACK_ID})
    aws.cfn_stub.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    events_read(aws, STACK_ID, [SETTLED_UPDATE, r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated")])


def test_credentials_that_expire_mid_follow_end_with_exit_4_and_the_reattach_command(project, aws, capsys):
    deploy_running(aws)
    aws.cfn_stub.add_client_error("describe_stack_events", *EXPIRED, http_status_code=403)

    assert deploy(project, "--yes", "--region", "us-east-1") == EXIT_DETACHED == 4

    out, err = no_traceback(capsys)
    assert (f"Stopped following stack {STACK_NAME} after 0m05s: the credentials expired or are no longer valid "
            "(AWS said ExpiredToken: The security token included in the request is expired (DescribeStackEvents)). "
            "The operation goes on in AWS (last seen: UPDATE_IN_PROGRESS).\n"
            "Refresh your credentials (e.g. `aws sso login`), then re-attach with "
            "`threetier watch dev --region us-east-1`; `threetier status dev` shows where it is.\n") in out
    assert aws.calls[-1] == "DescribeStackEvents"  # nothing more is asked with credentials that no longer work
    assert aws.time.sleeps == [common.CHANGE_SET_POLL_SECONDS, common.EVENT_POLL_SECONDS]


def test_credentials_that_expire_while_the_end_is_confirmed_end_the_same_way(project, aws, capsys):
    deploy_running(aws)
    events_read(aws, STACK_ID, [SETTLED_UPDATE, r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
                                r.stack_event(STACK_NAME, 3, "UPDATE_COMPLETE")])
    aws.cfn_stub.add_client_error("describe_stacks", "ExpiredTokenException", "expired", http_status_code=400)

    assert deploy(project, "--yes") == 4

    out, _ = no_traceback(capsys)
    assert "(last seen: UPDATE_COMPLETE)" in out and "re-attach with `threetier watch dev`;" in out


def test_an_error_that_waiting_does_not_cure_stops_at_once(project, aws, capsys):
    deploy_running(aws)
    aws.cfn_stub.add_client_error("describe_stack_events", "AccessDenied",
                                  "User: arn:aws:sts::123456789012:assumed-role/ci is not authorized", 403)

    assert deploy(project, "--yes") == 4

    out, _ = no_traceback(capsys)
    assert ("after 0m05s: AWS said AccessDenied: User: arn:aws:sts::123456789012:assumed-role/ci is not authorized "
            "(DescribeStackEvents). The operation goes on in AWS") in out
    assert "Re-attach with `threetier watch dev`" in out


def test_too_many_failed_polls_in_a_row_stop_following(project, aws, capsys):
    deploy_running(aws)
    for _ in range(patience_module.MAX_FAILED_POLLS):
        aws.cfn_stub.add_client_error("describe_stack_events", "InternalFailure", "try later", http_status_code=500)

    assert deploy(project, "--yes") == 4

    out, _ = no_traceback(capsys)
    assert ("8 polls in a row failed, the last with AWS said InternalFailure: try later (DescribeStackEvents). "
            "The operation goes on in AWS (last seen: UPDATE_IN_PROGRESS).") in out
    assert out.count("(a poll failed: AWS said InternalFailure") == 7


def test_expired_credentials_before_watch_finds_the_operation_are_exit_4_in_one_line(project, aws, capsys):
    aws.cfn_stub.add_client_error("describe_stacks", *EXPIRED, http_status_code=403)

    assert threetier(project, "watch", ENV) == 4

    assert no_traceback(capsys)[1] == ("threetier watch: stopped: the credentials expired or are no longer valid (AWS said ExpiredToken: "
                   "The security token included in the request is expired (DescribeStacks)). Whatever runs on the "
                   "stack goes on in AWS; refresh your credentials (e.g. `aws sso login`), then re-attach with "
                   "`threetier watch dev`.\n")


def test_access_denied_before_watch_finds_the_operation_is_exit_1_in_one_line(project, aws, capsys):
    aws.cfn_stub.add_client_error("describe_stacks", "AccessDenied", "not authorized to perform: "
                                  "cloudformation:DescribeStacks", http_status_code=403)

    assert threetier(project, "watch", ENV) == 1

    assert no_traceback(capsys)[1] == ("threetier watch: AWS said AccessDenied: not authorized to perform: "
                                       "cloudformation:DescribeStacks (DescribeStacks)\n")


def test_a_timeout_names_the_reattach_command(project, aws, capsys):
    stack_now(aws, "UPDATE_IN_PROGRESS")
    started = [r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated")]
    events_read(aws, STACK_ID, [SETTLED_UPDATE, *started])
    for _ in range(13):  # --timeout 1 with 5 s polls: at 0 s, 5 s, ... 60 s
        events_read(aws, STACK_ID, [SETTLED_UPDATE, *started])
    stack_now(aws, "UPDATE_IN_PROGRESS", by=STACK_ID)
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_IN_PROGRESS"))

    assert threetier(project, "watch", ENV, "--timeout", "1") == 1

    assert "the operation goes on in AWS. Re-attach with `threetier watch dev`." in no_traceback(capsys)[0]


# ----------------------------------------------------------------------------- Patience on its own

class Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_the_network_failing_is_waited_out_like_throttling():
    waits = []
    patience = Patience(5, Out(), waits.append)
    patience.failed(EndpointConnectionError(endpoint_url="https://cloudformation.us-east-1.amazonaws.com"))
    patience.failed(EndpointConnectionError(endpoint_url="https://cloudformation.us-east-1.amazonaws.com"))
    assert waits == [10, 20]
    patience.answered()
    patience.failed(EndpointConnectionError(endpoint_url="https://cloudformation.us-east-1.amazonaws.com"))
    assert waits == [10, 20, 10]


def test_a_bug_is_not_taken_for_aws_going_away():
    with pytest.raises(KeyError):
        Patience(5, Out(), lambda _: None).failed(KeyError("StackStatus"))


def test_an_invalid_request_stops_following():
    with pytest.raises(Detached, match="Parameter validation failed"):
        Patience(5, Out(), lambda _: None).failed(ParamValidationError(report="Missing StackName"))


# ----------------------------------------------------------------------------- the client's own retries

class _Throttling(http.server.BaseHTTPRequestHandler):
    """Answers CloudFormation's query API: Throttling to the first `throttle` requests, then DescribeStacks."""

    throttle = 1  # botocore waits up to 1 s before its first retry, 2 s before the second
    requests = 0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests += 1
        if type(self).requests <= self.throttle:
            status, body = 400, ("<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">"
                                 "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
                                 "</Error><RequestId>r</RequestId></ErrorResponse>")
        else:
            status, body = 200, (
                "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">"
                "<DescribeStacksResult><Stacks><member>"
                f"<StackName>{STACK_NAME}</StackName><StackId>{STACK_ID}</StackId>"
                "<CreationTime>2024-05-01T12:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus>"
                "</member></Stacks></DescribeStacksResult>"
                "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>")
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_):
        pass


def test_the_clients_adaptive_retries_answer_throttling_before_the_follower_sees_it(project, capsys, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(common, "make_clients", real_make_clients)
    handler = type("Throttling", (_Throttling,), {"requests": 0})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        code = threetier(project, "watch", ENV, "--region", "us-east-1",
                         "--endpoint-url", f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()

    assert code == 0
    out, err = no_traceback(capsys)
    assert "its last status is UPDATE_COMPLETE" in out
    assert "throttled" not in err  # botocore retried it: the follower never saw the throttling
    assert handler.requests == 2


# ----------------------------------------------------------------------------- the re-attach command

@pytest.mark.parametrize("settings_file, region, stack_name, expected", [
    ("threetier.toml", "eu-west-1", None, "threetier watch dev"),  # the project's file pins the region
    ("ci.toml", "eu-west-1", None, "threetier watch dev --settings {project}/ci.toml"),
    (None, "eu-west-1", "shop-blue", "threetier watch dev --stack-name shop-blue --region eu-west-1"),
])
def test_the_reattach_command_names_what_the_settings_do_not(project, settings_file, region, stack_name, expected):
    import argparse

    from threetier.deploy.commands.outcome import reattach
    from threetier.deploy.settings import Settings

    pinned = Settings(env=ENV, source=project / settings_file, region=region) if settings_file else Settings(env=ENV)
    args = argparse.Namespace(env=ENV, project_dir=project, settings=pinned, region=region, stack_name=stack_name,
                              profile=None)
    assert reattach(args) == expected.format(project=project)
