"""Issue 18: every way a plan or deploy can stop says what happened, what is left and what to do.

botocore's Stubber, with the fixtures of test_deploy_stubbed: change sets left behind,
waits without end, nested change set failures, empty stacks in REVIEW_IN_PROGRESS,
S3 403s and S3 errors, refused executions, and stacks left in progress.
"""

from __future__ import annotations

import http.server
import sys
import threading

import pytest
from botocore.stub import ANY

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME
from tests.deploy.test_deploy_stubbed import (  # noqa: F401 (fixtures)
    BUCKET,
    CHANGE_SET,
    NESTED_CHANGE_SET,
    NESTED_ID,
    NESTED_STACK,
    STACK_ID,
    Terminal,
    aws,
    deploy,
    no_terminal,
    plan,
    project,
    quiet_update,
    threetier,
)
from threetier.deploy.commands import common
from threetier.deploy.session import make_clients as real_make_clients

SETTING = r.resource_change("Add", "Setting", "AWS::SSM::Parameter")


def update_change_set_created(aws):
    """An existing stack, templates already uploaded, an UPDATE change set created."""
    aws.stack_is("UPDATE_COMPLETE")
    aws.templates_already_uploaded()
    aws.change_set_created("UPDATE")


def new_stack_plan(aws):
    aws.plan([SETTING], existing=None)


def change_sets_listed(aws, *summaries: dict):
    aws.cfn_stub.add_response("list_change_sets", {"Summaries": list(summaries)}, {"StackName": STACK_ID})


def summary(name: str, status: str = "CREATE_COMPLETE") -> dict:
    return {"StackId": STACK_ID, "StackName": STACK_NAME, "ChangeSetId": r.change_set_arn(name),
            "ChangeSetName": name, "Status": status, "ExecutionStatus": "AVAILABLE"}


def empty_stack_deleted(aws):
    aws.cfn_stub.add_response("delete_stack", {}, {"StackName": STACK_ID})


# ----------------------------------------------------------------------------- REVIEW_IN_PROGRESS

def test_declining_a_new_stack_removes_its_change_set_and_the_empty_stack(project, aws, capsys, monkeypatch):
    new_stack_plan(aws)
    aws.change_set_deleted()
    change_sets_listed(aws, summary("threetier-x", "DELETE_PENDING"))  # ours, on its way out
    empty_stack_deleted(aws)
    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))

    assert deploy(project) == 1

    err = capsys.readouterr().err
    assert "Not confirmed: nothing was executed." in err
    assert f"Deleted the empty stack {STACK_NAME} (REVIEW_IN_PROGRESS, no resources)" in err
    assert aws.calls[-3:] == ["DeleteChangeSet", "ListChangeSets", "DeleteStack"]


def test_an_empty_stack_another_change_set_waits_on_is_kept(project, aws, capsys, no_terminal):
    new_stack_plan(aws)
    aws.change_set_deleted()
    change_sets_listed(aws, summary("threetier-from-plan"))

    assert deploy(project) == 1

    assert f"Stack {STACK_NAME} stays in REVIEW_IN_PROGRESS: 1 other change set(s) wait on it" in \
        capsys.readouterr().err
    assert "DeleteStack" not in aws.calls


def test_an_empty_stack_that_cannot_be_deleted_is_named_with_the_command(project, aws, capsys, no_terminal):
    new_stack_plan(aws)
    aws.change_set_deleted()
    change_sets_listed(aws)
    aws.cfn_stub.add_client_error("delete_stack", "AccessDenied", "not allowed: cloudformation:DeleteStack")

    assert deploy(project) == 1

    err = capsys.readouterr().err
    assert f"Stack {STACK_NAME} is left empty in REVIEW_IN_PROGRESS" in err
    assert "remove it with `threetier delete dev`" in err


def test_status_of_an_empty_review_stack_says_no_change_set_waits(project, aws, capsys):
    aws.stack_is("REVIEW_IN_PROGRESS")
    change_sets_listed(aws)

    assert threetier(project, "status", ENV) == 0

    out = capsys.readouterr().out
    assert "no change set waits on it: an empty stack" in out and "threetier delete dev" in out
    assert "only a change set exists" not in out


def test_status_of_a_planned_stack_names_its_change_sets(project, aws, capsys):
    aws.stack_is("REVIEW_IN_PROGRESS")
    change_sets_listed(aws, summary("threetier-20240501-120000-abcd1234"))

    assert threetier(project, "status", ENV) == 0

    assert ("Not deployed yet: 1 change set(s) wait for review: threetier-20240501-120000-abcd1234 "
            "(CREATE_COMPLETE)") in capsys.readouterr().out


# ----------------------------------------------------------------------------- change sets left behind

def test_persistent_throttling_after_the_change_set_exists_deletes_it(project, aws, capsys):
    update_change_set_created(aws)
    aws.cfn_stub.add_client_error("describe_change_set", "Throttling", "Rate exceeded")
    aws.change_set_deleted()

    assert deploy(project, "--yes") == 1

    err = capsys.readouterr().err
    assert "AWS said Throttling: Rate exceeded (DescribeChangeSet)" in err
    assert aws.calls[-1] == "DeleteChangeSet"


def test_a_change_set_that_cannot_be_deleted_is_named_with_the_command(project, aws, capsys):
    update_change_set_created(aws)
    aws.cfn_stub.add_client_error("describe_change_set", "Throttling", "Rate exceeded")
    aws.cfn_stub.add_client_error("delete_change_set", "Throttling", "Rate exceeded")

    assert deploy(project, "--yes", "--region", "eu-west-1") == 1

    err = capsys.readouterr().err
    assert "The change set was left behind (AWS said Throttling: Rate exceeded). Remove it with:\n" in err
    assert f"  aws cloudformation delete-change-set --change-set-name {CHANGE_SET} --region eu-west-1" in err


def test_ctrl_c_at_the_prompt_deletes_the_change_set(project, aws, capsys, monkeypatch):
    quiet_update(aws)
    aws.change_set_deleted()

    class Interrupting(Terminal):
        def readline(self, *_):
            raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", Interrupting())

    assert deploy(project) == common.EXIT_INTERRUPTED

    assert "interrupted" in capsys.readouterr().err
    assert aws.calls[-1] == "DeleteChangeSet" and "ExecuteChangeSet" not in aws.calls


# ----------------------------------------------------------------------------- waiting has a limit

def test_a_change_set_stuck_in_create_pending_stops_at_the_timeout(project, aws, capsys):
    update_change_set_created(aws)
    polls = int(60 / common.CHANGE_SET_POLL_SECONDS) + 1  # --timeout 1: polls at 0 s, 2 s, ... 60 s
    for _ in range(polls):
        aws.change_set_described(r.change_set(STACK_NAME, [], status="CREATE_PENDING"))
    aws.change_set_deleted()

    assert deploy(project, "--yes", "--timeout", "1") == 1

    err = capsys.readouterr().err
    assert "the change set was still CREATE_PENDING after 1m00s (--timeout 1): stopped waiting" in err
    assert aws.calls[-1] == "DeleteChangeSet"
    assert sum(aws.time.sleeps) == 60


@pytest.mark.parametrize("value", ["0", "-5", "soon", "2000"])
def test_timeout_must_be_a_number_of_minutes(project, aws, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        deploy(project, "--timeout", value)
    assert exit_info.value.code == 2
    assert "give minutes from 1 to 1440" in capsys.readouterr().err
    assert aws.calls == []


def test_events_go_on_being_read_while_describe_stacks_lags(project, aws, capsys):
    quiet_update(aws)
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[{STACK_ID: [
            r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "UPDATE_COMPLETE", "/s"),
            r.stack_event(STACK_NAME, 2, "UPDATE_COMPLETE"),
        ]}],
        final_status="UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",  # DescribeStacks is behind the events
    )
    aws.cfn_stub.add_response("describe_stack_events", r.events_page([]), {"StackName": STACK_ID})
    aws.cfn_stub.add_response("describe_stacks", r.stack(STACK_NAME, "UPDATE_COMPLETE"), {"StackName": STACK_ID})

    assert deploy(project, "--yes") == 0

    assert f"Stack {STACK_NAME}: UPDATE_COMPLETE" in capsys.readouterr().out


def test_following_stops_at_the_timeout_and_names_each_stack_state(project, aws, capsys):
    quiet_update(aws)
    nested = dict(stack_id=NESTED_ID)
    baseline = [r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")]
    started = [
        r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
        r.event(STACK_NAME, 1, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", NESTED_ID),
    ]
    aws.still_executable()
    aws.cfn_stub.add_response("describe_stack_events", r.events_page(baseline), {"StackName": STACK_ID})
    aws.cfn_stub.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    aws.cfn_stub.add_response("describe_stack_events", r.events_page(baseline + started), {"StackName": STACK_ID})
    aws.cfn_stub.add_response("describe_stack_events", r.events_page(
        [r.stack_event(NESTED_STACK, 2, "UPDATE_IN_PROGRESS", **nested)]), {"StackName": NESTED_ID})
    # --timeout 1 with 5 s polls: the first poll above at 0 s, quiet ones at 5 s ... 60 s, then it gives up.
    for _ in range(12):
        aws.cfn_stub.add_response("describe_stack_events", r.events_page([]), {"StackName": STACK_ID})
        aws.cfn_stub.add_response("describe_stack_events", r.events_page([]), {"StackName": NESTED_ID})
    aws.cfn_stub.add_response("describe_stacks", r.stack(STACK_NAME, "UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_IN_PROGRESS"), (NESTED_ID, NESTED_STACK, "UPDATE_IN_PROGRESS"))

    assert deploy(project, "--yes", "--timeout", "1") == 1

    out = capsys.readouterr().out
    assert (f"Stopped following stack {STACK_NAME} after 1m00s (--timeout 1): it is still UPDATE_IN_PROGRESS; "
            "the operation goes on in AWS.") in out
    assert f"  {STACK_NAME}/AppStack  UPDATE_IN_PROGRESS" in out
    assert "Check again with `threetier status dev`" in out


# ----------------------------------------------------------------------------- executing

def test_a_change_set_that_is_no_longer_available_is_not_executed(project, aws, capsys):
    quiet_update(aws)
    aws.still_executable("OBSOLETE")
    aws.change_set_deleted()
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_COMPLETE"))

    assert deploy(project, "--yes") == 1

    err = capsys.readouterr().err
    assert "its ExecutionStatus is OBSOLETE, not AVAILABLE" in err
    assert f"Stacks now:\n  {STACK_NAME}  UPDATE_COMPLETE\nNext: `threetier status dev`" in err
    assert "ExecuteChangeSet" not in aws.calls


def test_a_refused_execution_names_the_state_and_the_next_command(project, aws, capsys):
    quiet_update(aws)
    aws.still_executable()
    aws.cfn_stub.add_response("describe_stack_events", r.events_page([]), {"StackName": STACK_ID})
    aws.cfn_stub.add_client_error("execute_change_set", "InvalidChangeSetStatus",
                                  "ChangeSet [threetier-x] cannot be executed in its current status of [OBSOLETE]")
    aws.change_set_deleted()
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_IN_PROGRESS"))

    assert deploy(project, "--yes") == 1

    err = capsys.readouterr().err
    assert "AWS refused to execute the change set: InvalidChangeSetStatus: ChangeSet [threetier-x]" in err
    assert f"  {STACK_NAME}  UPDATE_IN_PROGRESS\nStill in progress: {STACK_NAME}." in err


# ----------------------------------------------------------------------------- nested change sets

def test_a_failed_nested_change_set_gives_its_own_reason_under_its_stack_path(project, aws, capsys):
    update_change_set_created(aws)
    aws.change_set_described(r.change_set(
        STACK_NAME,
        [r.resource_change("Modify", "AppStack", "AWS::CloudFormation::Stack", PhysicalResourceId=NESTED_ID,
                           Replacement="False", ChangeSetId=NESTED_CHANGE_SET)],
        status="FAILED",
        reason=f"Nested change set {NESTED_CHANGE_SET} was not successfully created: Currently in FAILED.",
    ))
    aws.change_set_described(
        r.change_set(NESTED_STACK, [], status="FAILED", change_set_id=NESTED_CHANGE_SET, stack_id=NESTED_ID,
                     reason="Parameters: [AppPort] must have values"),
        change_set_id=NESTED_CHANGE_SET,
    )
    aws.change_set_deleted()

    assert plan(project) == 1

    err = capsys.readouterr().err
    assert f"The change set for stack {STACK_NAME} failed: Nested change set" in err
    assert f"  {STACK_NAME}/AppStack: Parameters: [AppPort] must have values" in err


def test_a_nested_change_set_named_only_in_the_reason_is_described_too(project, aws, capsys):
    update_change_set_created(aws)
    aws.change_set_described(r.change_set(
        STACK_NAME, [], status="FAILED",
        reason=f"Nested change set {NESTED_CHANGE_SET} was not successfully created: Currently in FAILED.",
    ))
    aws.cfn_stub.add_response(
        "describe_change_set",
        r.change_set(NESTED_STACK, [], status="FAILED", change_set_id=NESTED_CHANGE_SET, stack_id=NESTED_ID,
                     reason="Template error: instance of Fn::GetAtt references undefined resource Db"),
        {"ChangeSetName": NESTED_CHANGE_SET},
    )
    aws.change_set_deleted()

    assert plan(project) == 1

    assert f"  {NESTED_STACK}: Template error: instance of Fn::GetAtt references undefined resource Db" in \
        capsys.readouterr().err


# ----------------------------------------------------------------------------- S3

def test_head_object_403_means_unknown_so_it_uploads_and_says_why(project, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE")
    for _ in range(2):  # app.yaml, then the packaged main.yaml
        aws.s3_stub.add_client_error("head_object", "403", "Forbidden", http_status_code=403)
        aws.s3_stub.add_response("put_object", {}, {"Bucket": BUCKET, "Key": ANY, "Body": ANY,
                                                    "ContentType": "application/x-yaml"})
    aws.change_set_created("UPDATE")
    aws.change_set_described(r.change_set(STACK_NAME, [SETTING]))

    assert plan(project) == 0

    err = capsys.readouterr().err
    assert err.count(f"note: S3 answered 403 to HeadObject in bucket {BUCKET}") == 1
    assert "no s3:ListBucket" in err and "uploaded  app.yaml" in err


@pytest.mark.parametrize("code, status, remedy", [
    ("NoSuchBucket", 404, f"bucket {BUCKET} does not exist (AWS said NoSuchBucket: The specified bucket does "
                          f"not exist (PutObject)): create it in us-east-1, e.g. `aws s3 mb s3://{BUCKET} "
                          "--region us-east-1`, or pass yours with --bucket"),
    ("AccessDenied", 403, f"access to bucket {BUCKET} denied"),
    ("PermanentRedirect", 301, f"bucket {BUCKET} is not in us-east-1"),
])
def test_s3_errors_name_the_bucket_and_the_remedy(project, aws, capsys, code, status, remedy):
    aws.s3_stub.add_client_error("head_object", "404", "Not Found", http_status_code=404)
    aws.s3_stub.add_client_error("put_object", code, "The specified bucket does not exist", http_status_code=status)

    assert threetier(project, "package", "--bucket", BUCKET) == 1

    assert f"threetier package: {remedy}" in capsys.readouterr().err


# ----------------------------------------------------------------------------- no tracebacks

def test_an_endpoint_url_that_is_not_a_url_is_a_usage_error(project, capsys, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert threetier(project, "status", ENV, "--endpoint-url", "not-a-url") == 2
    err = capsys.readouterr().err
    assert "threetier status: --endpoint-url 'not-a-url' is not a URL: give the scheme and host" in err
    assert "Traceback" not in err


class _Answer(http.server.BaseHTTPRequestHandler):
    """Answers every request with the class's status and body, whatever was asked."""

    status = 200
    body = b""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_):
        pass


@pytest.fixture
def not_aws(monkeypatch):
    """A local endpoint on 127.0.0.1 that answers like no AWS API does; yields a function setting its answer."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        monkeypatch.setenv(name, value)
    handler = type("Answer", (_Answer,), {})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    # A short poll: shutdown() waits for the serving loop to look (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()

    def answer(status: int, body: bytes) -> str:
        handler.status, handler.body = status, body
        return f"http://127.0.0.1:{server.server_port}"

    yield answer
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("body", [b"not xml at all {", b"<html><body>a proxy page</body></html>"])
def test_an_answer_that_is_not_an_aws_response_is_one_line(project, not_aws, capsys, body):
    endpoint = not_aws(200, body)

    assert threetier(project, "status", ENV, "--region", "us-east-1", "--endpoint-url", endpoint) == 1

    err = capsys.readouterr().err
    assert err == (f"threetier status: the answer from {endpoint} is not an AWS API response (unreadable or a "
                   "server error): check --endpoint-url and --region, then try again\n")


@pytest.mark.parametrize("command", [("status", ENV), ("plan", ENV, "--bucket", BUCKET), ("package", "--bucket", BUCKET)])
def test_an_unknown_region_stops_before_any_aws_call(project, aws, capsys, monkeypatch, command):
    monkeypatch.setattr(common, "make_clients", real_make_clients)

    assert threetier(project, *command, "--region", "us-east-9") == 2

    err = capsys.readouterr().err
    assert "region 'us-east-9': not an AWS region botocore knows: did you mean us-east-2?" in err
    assert aws.calls == []
