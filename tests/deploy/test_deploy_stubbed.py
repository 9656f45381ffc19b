"""plan / deploy / status / delete against botocore's Stubber.

Everything moto's CloudFormation cannot show: Replacement and Details, nested
change sets, the empty change set variants, per-resource events and failure
reasons, stuck stacks, the danger guard, the prompt, and bad input stopping
before any AWS call. Responses are shaped like the real API (the Stubber
checks them against the service model).
"""

from __future__ import annotations

import io
import json
import sys

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME, write_parameters, write_project
from threetier import cli
from threetier.deploy.commands import common
from threetier.deploy.rollback import NO_TRIGGERS
from threetier.deploy.session import Clients

STACK_ID = r.stack_arn(STACK_NAME)
CHANGE_SET = r.change_set_arn()
NESTED_CHANGE_SET = r.change_set_arn("threetier-x-AppStack", "2")
NESTED_STACK = "shop-dev-AppStack-1ABCDEF"
NESTED_ID = r.stack_arn(NESTED_STACK, "2")
BUCKET = "templates-bucket"


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class FakeTime:
    """clock() only moves when the code sleeps, so elapsed times are exact and nothing waits."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class StubbedAws:
    def __init__(self):
        self.cfn = boto3.client("cloudformation", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.calls: list[str] = []  # every API operation the code attempted, stubbed or not
        for client in (self.cfn, self.s3):
            client.meta.events.register("before-parameter-build.*.*", self._record)
        self.cfn_stub = Stubber(self.cfn)
        self.s3_stub = Stubber(self.s3)
        self.time = FakeTime()

    def _record(self, model, **_):
        self.calls.append(model.name)

    # -- building blocks of the call sequences

    def stack_missing(self):
        self.cfn_stub.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {STACK_NAME} does not exist",
            expected_params={"StackName": STACK_NAME},
        )

    def stack_is(self, status: str, **extra):
        self.cfn_stub.add_response("describe_stacks", r.stack(STACK_NAME, status, **extra),
                                   {"StackName": STACK_NAME})

    def templates_already_uploaded(self):
        # app.yaml, then the packaged main.yaml: both found, so nothing is put.
        self.s3_stub.add_response("head_object", {}, {"Bucket": BUCKET, "Key": ANY})
        self.s3_stub.add_response("head_object", {}, {"Bucket": BUCKET, "Key": ANY})

    def change_set_created(self, change_set_type: str, on_failure: str = "DELETE"):
        # A first create always says what happens when it fails (threetier.deploy.onfailure).
        on_failure = {"OnStackFailure": on_failure} if change_set_type == "CREATE" else {}
        self.cfn_stub.add_response(
            "create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID},
            {
                "StackName": STACK_NAME, "ChangeSetName": ANY, "ChangeSetType": change_set_type,
                "TemplateURL": ANY, "Parameters": [
                    {"ParameterKey": "ProjectName", "ParameterValue": "shop"},
                    {"ParameterKey": "EnvironmentName", "ParameterValue": "dev"},
                ],
                "Capabilities": ["CAPABILITY_IAM"],
                "IncludeNestedStacks": True, "Description": ANY, **on_failure,
                # An update always says which triggers guard it: none here, which clears saved ones.
                **({"RollbackConfiguration": NO_TRIGGERS} if change_set_type == "UPDATE" else {}),
            },
        )

    def change_set_described(self, response: dict, change_set_id: str = CHANGE_SET, **extra_params):
        self.cfn_stub.add_response(
            "describe_change_set", response,
            {"ChangeSetName": change_set_id, "IncludePropertyValues": True, **extra_params},
        )

    def change_set_deleted(self):
        self.cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})

    def plan(self, changes: list[dict], existing: str | None = "UPDATE_COMPLETE", nested: list[dict] | None = None,
             on_failure: str = "DELETE"):
        """Queue the calls of a plan up to the review: one pending poll, then the changes."""
        if existing is None:
            self.stack_missing()
        else:
            self.stack_is(existing)
        self.templates_already_uploaded()
        self.change_set_created("CREATE" if existing in (None, "REVIEW_IN_PROGRESS") else "UPDATE", on_failure)
        self.change_set_described(r.change_set(STACK_NAME, [], status="CREATE_IN_PROGRESS"))
        self.change_set_described(r.change_set(STACK_NAME, changes))
        if nested is not None:
            self.change_set_described(
                r.change_set(NESTED_STACK, nested, change_set_id=NESTED_CHANGE_SET, stack_id=NESTED_ID),
                change_set_id=NESTED_CHANGE_SET,
            )

    def execution(self, baseline: list[dict], polls: list[dict[str, list[dict]]], final_status: str,
                  **execute_params):
        """Baseline events, execute, then one DescribeStackEvents per known stack per poll.

        `polls` holds, per poll, the events each stack id has gained since the last poll;
        it names every stack the code reads in that poll (root first, then nested stacks in
        the order they are found). Each response lists all events so far, newest first,
        like the real API.
        """
        self.still_executable()
        self.cfn_stub.add_response("describe_stack_events", r.events_page(baseline), {"StackName": STACK_ID})
        self.cfn_stub.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET, **execute_params})
        self.events_until(baseline, polls, final_status)

    def still_executable(self, execution_status: str = "AVAILABLE", reason: str | None = None):
        """The check right before executing: DescribeChangeSet says whether it can be executed now."""
        response = r.change_set(STACK_NAME, [], reason=reason)
        response["ExecutionStatus"] = execution_status
        self.cfn_stub.add_response("describe_change_set", response, {"ChangeSetName": CHANGE_SET})

    def stacks_now(self, *stacks: tuple[str, str, str]):
        """DescribeStacks of each (stack id, name, status), as a failed deploy reports them."""
        for stack_id, name, status in stacks:
            response = r.stack(name, status)
            response["Stacks"][0]["StackId"] = stack_id
            self.cfn_stub.add_response("describe_stacks", response, {"StackName": stack_id})

    def events_until(self, baseline: list[dict], polls: list[dict[str, list[dict]]], final_status: str):
        so_far = {STACK_ID: list(baseline)}
        for poll in polls:
            for stack_id, new_events in poll.items():
                so_far.setdefault(stack_id, []).extend(new_events)
            for stack_id in so_far:
                self.cfn_stub.add_response("describe_stack_events", r.events_page(so_far[stack_id]),
                                           {"StackName": stack_id})
        self.cfn_stub.add_response("describe_stacks", r.stack(STACK_NAME, final_status), {"StackName": STACK_ID})


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    stubbed = StubbedAws()
    monkeypatch.setattr(common, "make_clients",
                        lambda region, profile, endpoint_url, role=None: Clients(stubbed.cfn, stubbed.s3, "us-east-1"))
    monkeypatch.setattr(common, "bucket_region", lambda s3, bucket: "us-east-1")  # the bucket is where the stack goes
    monkeypatch.setattr(common, "sleep", stubbed.time.sleep)
    monkeypatch.setattr(common, "clock", stubbed.time.clock)
    with stubbed.cfn_stub, stubbed.s3_stub:
        yield stubbed
        stubbed.cfn_stub.assert_no_pending_responses()
        stubbed.s3_stub.assert_no_pending_responses()


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


@pytest.fixture
def no_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def threetier(project, *argv) -> int:
    return cli.main(["--project-dir", str(project), *argv])


def plan(project, *extra) -> int:
    return threetier(project, "plan", ENV, "--bucket", BUCKET, *extra)


def deploy(project, *extra) -> int:
    return threetier(project, "deploy", ENV, "--bucket", BUCKET, *extra)


def table_rows(out: str) -> list[list[str]]:
    """The review table's rows, split on the two-space column gaps."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ACTION"))
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rows.append([cell.strip() for cell in line.split("  ") if cell.strip()])
    return rows


# ----------------------------------------------------------------------------- the review

def test_review_shows_replacement_and_the_changed_property_names(project, aws, capsys):
    aws.plan([
        r.resource_change("Modify", "Launch", "AWS::EC2::LaunchTemplate", PhysicalResourceId="lt-0123",
                          Replacement="True", Scope=["Properties", "Tags"], Details=[
                              r.property_detail("LaunchTemplateName", "Always", "Dynamic"),
                              r.property_detail("LaunchTemplateName", "Always", "Static", "ParameterReference"),
                              r.property_detail("LaunchTemplateData", "Never"),
                              r.property_detail("", "Never", attribute="Tags"),
                          ]),
        r.resource_change("Modify", "Asg", "AWS::AutoScaling::AutoScalingGroup", PhysicalResourceId="asg",
                          Replacement="Conditional", Scope=["Properties"],
                          Details=[r.property_detail("VPCZoneIdentifier", "Conditionally")]),
        r.resource_change("Modify", "Alarm", "AWS::CloudWatch::Alarm", PhysicalResourceId="alarm",
                          Replacement="False", Scope=["Properties"], Details=[{
                              # With property values, Target has a Path and no Name.
                              "Target": {"Attribute": "Properties", "RequiresRecreation": "Never",
                                         "Path": "/Properties/Threshold", "BeforeValue": "70",
                                         "AfterValue": "80", "AttributeChangeType": "Modify"},
                              "Evaluation": "Static", "ChangeSource": "DirectModification"}]),
        r.resource_change("Add", "Topic", "AWS::SNS::Topic"),
    ])

    assert plan(project) == 0

    out = capsys.readouterr().out
    assert table_rows(out) == [
        ["Modify", "Launch", "AWS::EC2::LaunchTemplate", "True", STACK_NAME,
         "LaunchTemplateData, LaunchTemplateName, Tags"],
        ["Modify", "Asg", "AWS::AutoScaling::AutoScalingGroup", "Conditional", STACK_NAME, "VPCZoneIdentifier"],
        ["Modify", "Alarm", "AWS::CloudWatch::Alarm", "False", STACK_NAME, "Threshold"],
        ["Add", "Topic", "AWS::SNS::Topic", "-", STACK_NAME, "-"],
    ]
    assert "Summary: 1 add, 1 modify, 2 replace, 0 remove" in out
    assert "DANGER" not in out  # replacing stateless resources is fine
    assert aws.time.sleeps == [common.CHANGE_SET_POLL_SECONDS]  # waited once for the pending change set


def test_nested_change_sets_are_shown_under_their_stack_path(project, aws, capsys):
    aws.plan(
        changes=[
            r.resource_change("Modify", "AppStack", "AWS::CloudFormation::Stack", PhysicalResourceId=NESTED_ID,
                              Replacement="False", ChangeSetId=NESTED_CHANGE_SET, Scope=["Properties"],
                              Details=[r.property_detail("Parameters")]),
            r.resource_change("Modify", "Setting", "AWS::SSM::Parameter", Replacement="False",
                              Details=[r.property_detail("Value")]),
        ],
        nested=[
            r.resource_change("Modify", "AppLogs", "AWS::Logs::LogGroup", PhysicalResourceId="shop-dev-app",
                              Replacement="False", Details=[r.property_detail("RetentionInDays")]),
            r.resource_change("Add", "AppAlarm", "AWS::CloudWatch::Alarm"),
        ],
    )

    assert plan(project) == 0

    out = capsys.readouterr().out
    assert table_rows(out) == [
        ["Modify", "AppStack", "AWS::CloudFormation::Stack", "False", STACK_NAME, "Parameters"],
        ["Modify", "AppLogs", "AWS::Logs::LogGroup", "False", f"{STACK_NAME}/AppStack", "RetentionInDays"],
        ["Add", "AppAlarm", "AWS::CloudWatch::Alarm", "-", f"{STACK_NAME}/AppStack", "-"],
        ["Modify", "Setting", "AWS::SSM::Parameter", "False", STACK_NAME, "Value"],
    ]
    # The nested stack row is a container: its resources are counted, not itself.
    assert "Summary: 1 add, 2 modify, 0 replace, 0 remove" in out


def test_a_change_set_with_more_than_one_page_is_read_to_the_end(project, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE")
    aws.templates_already_uploaded()
    aws.change_set_created("UPDATE")
    aws.change_set_described(r.change_set(STACK_NAME, [r.resource_change("Add", "A", "AWS::SNS::Topic")],
                                          next_token="page-2"))  # pragma: allowlist secret (a page token)
    aws.change_set_described(r.change_set(STACK_NAME, [r.resource_change("Add", "B", "AWS::SNS::Topic")]),
                             NextToken="page-2")  # pragma: allowlist secret (a page token)

    assert plan(project) == 0
    assert [row[1] for row in table_rows(capsys.readouterr().out)] == ["A", "B"]


def test_plan_json_for_ci(project, aws, capsys):
    aws.plan([r.resource_change("Modify", "Database", "AWS::RDS::DBInstance", PhysicalResourceId="db-1",
                                Replacement="True", Details=[r.property_detail("DBInstanceIdentifier", "Always")])])

    assert plan(project, "--json") == 3

    review = json.loads(capsys.readouterr().out)
    assert review["change_set"] == CHANGE_SET and review["change_set_type"] == "UPDATE"
    assert review["summary"] == {"add": 0, "modify": 0, "replace": 1, "remove": 0}
    assert review["changes"] == [{
        "action": "Modify", "logical_id": "Database", "resource_type": "AWS::RDS::DBInstance",
        "replacement": "True", "stack_path": STACK_NAME, "changed_properties": ["DBInstanceIdentifier"],
        "physical_id": "db-1", "nested_change_set": None,
    }]
    [found] = review["dangers"]
    assert found["kind"] == "replace" and found["allowed"] is False
    assert found["allow_option"] == "--allow-replacement"


def test_plan_never_executes_and_keeps_the_change_set(project, aws, capsys):
    aws.plan([r.resource_change("Add", "Topic", "AWS::SNS::Topic")])

    assert plan(project) == 0

    assert "ExecuteChangeSet" not in aws.calls and "DeleteChangeSet" not in aws.calls
    assert f"Change set kept for review (not executed): {CHANGE_SET}" in capsys.readouterr().err


# ----------------------------------------------------------------------------- no changes

@pytest.mark.parametrize("status, reason", [
    ("FAILED", "The submitted information didn't contain changes. Submit different information "
               "to create a change set."),
    ("FAILED", "No updates are to be performed."),
    ("CREATE_COMPLETE", None),
])
def test_an_empty_change_set_says_no_changes_and_is_deleted(project, aws, capsys, status, reason):
    aws.stack_is("UPDATE_COMPLETE")
    aws.templates_already_uploaded()
    aws.change_set_created("UPDATE")
    aws.change_set_described(r.change_set(STACK_NAME, [], status=status, reason=reason))
    aws.change_set_deleted()

    assert plan(project) == 0

    assert capsys.readouterr().out == "No changes.\n"
    assert aws.calls[-1] == "DeleteChangeSet"


def test_no_changes_refused_at_creation_also_says_no_changes(project, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE")
    aws.templates_already_uploaded()
    aws.cfn_stub.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.")

    assert deploy(project, "--yes") == 0

    assert capsys.readouterr().out == "No changes.\n"
    assert "DeleteChangeSet" not in aws.calls and "ExecuteChangeSet" not in aws.calls


def test_no_changes_as_json(project, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE")
    aws.templates_already_uploaded()
    aws.change_set_created("UPDATE")
    aws.change_set_described(r.change_set(STACK_NAME, [], status="FAILED",
                                          reason="No updates are to be performed."))
    aws.change_set_deleted()

    assert plan(project, "--json") == 0

    review = json.loads(capsys.readouterr().out)
    assert review["no_changes"] is True and review["changes"] == []


def test_a_change_set_that_fails_for_another_reason_is_a_failure(project, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE")
    aws.templates_already_uploaded()
    aws.change_set_created("UPDATE")
    aws.change_set_described(r.change_set(STACK_NAME, [], status="FAILED",
                                          reason="Template format error: Unresolved resource dependencies [Vpc]"))
    aws.change_set_deleted()

    assert plan(project) == 1

    assert "Unresolved resource dependencies [Vpc]" in capsys.readouterr().err


# ----------------------------------------------------------------------------- danger guard

DB_REPLACED = r.resource_change("Modify", "Database", "AWS::RDS::DBInstance", PhysicalResourceId="db-1",
                                Replacement="True", Details=[r.property_detail("Engine", "Always")])
EFS_MAYBE_REPLACED = r.resource_change("Modify", "Files", "AWS::EFS::FileSystem", PhysicalResourceId="fs-1",
                                       Replacement="Conditional",
                                       Details=[r.property_detail("Encrypted", "Conditionally")])
SECRET_REMOVED = r.resource_change("Remove", "AppSecret", "AWS::SecretsManager::Secret",
                                   PhysicalResourceId="arn:aws:secretsmanager:us-east-1:123456789012:secret:app",
                                   PolicyAction="Delete")
KEY_REPLACED = r.resource_change("Modify", "LogsKey", "AWS::KMS::Key", PhysicalResourceId="key-1",
                                 Replacement="True", Details=[r.property_detail("KeySpec", "Always")])


def open_ingress(port: int) -> dict:
    before = {"Properties": {"GroupDescription": "app", "SecurityGroupIngress": [
        {"IpProtocol": "tcp", "FromPort": "5000", "ToPort": "5000", "SourceSecurityGroupId": "sg-alb"}]}}
    after = json.loads(json.dumps(before))
    after["Properties"]["SecurityGroupIngress"].append(
        {"IpProtocol": "tcp", "FromPort": str(port), "ToPort": str(port), "CidrIp": "0.0.0.0/0"})
    return r.resource_change("Modify", "AppSg", "AWS::EC2::SecurityGroup", PhysicalResourceId="sg-app",
                             Replacement="False", Details=[r.property_detail("SecurityGroupIngress")],
                             BeforeContext=json.dumps(before), AfterContext=json.dumps(after))


@pytest.mark.parametrize("change, kind, option", [
    (DB_REPLACED, "replace", "--allow-replacement"),
    (EFS_MAYBE_REPLACED, "replace", "--allow-replacement"),
    (SECRET_REMOVED, "delete", "--allow-delete"),
    (KEY_REPLACED, "replace", "--allow-replacement"),
    (open_ingress(22), "open-ingress", "--allow-open-ingress"),
])
def test_plan_exits_3_on_a_dangerous_change(project, aws, capsys, change, kind, option):
    aws.plan([change])

    assert plan(project) == 3

    out = capsys.readouterr().out
    logical_id = change["ResourceChange"]["LogicalResourceId"]
    assert "DANGER: 1 change(s)" in out
    assert f"- {kind}: {STACK_NAME}/{logical_id}" in out and f"[needs {option}]" in out
    assert "\033[" not in out  # not a terminal: no colour


def test_the_open_port_is_named(project, aws, capsys):
    aws.plan([open_ingress(22)])
    plan(project)
    assert "opens tcp port 22 from 0.0.0.0/0 to the internet" in capsys.readouterr().out


def test_opening_https_to_the_world_is_not_dangerous(project, aws, capsys):
    aws.plan([open_ingress(443)])
    assert plan(project) == 0
    assert "DANGER" not in capsys.readouterr().out


def test_the_allow_option_accepts_that_kind_of_danger_only(project, aws, capsys):
    aws.plan([DB_REPLACED, SECRET_REMOVED])
    assert plan(project, "--allow-delete") == 3
    out = capsys.readouterr().out
    assert "[allowed by --allow-delete]" in out and "[needs --allow-replacement]" in out


def test_the_danger_warning_is_red_on_a_terminal(project, aws, monkeypatch):
    aws.plan([DB_REPLACED])
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)

    assert plan(project) == 3

    assert "\033[31mDANGER: 1 change(s)" in terminal.getvalue()


def test_deploy_refuses_dangerous_changes_without_the_option(project, aws, capsys):
    aws.plan([DB_REPLACED])
    aws.change_set_deleted()

    assert deploy(project, "--yes") == 3

    out = capsys.readouterr().out
    assert "Refusing to deploy" in out and "--allow-replacement" in out
    assert "ExecuteChangeSet" not in aws.calls


def test_deploy_proceeds_with_the_option(project, aws, capsys):
    aws.plan([DB_REPLACED])
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[{STACK_ID: [
            r.stack_event(STACK_NAME, 1, "UPDATE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 2, "Database", "AWS::RDS::DBInstance", "UPDATE_IN_PROGRESS", "db-1",
                    "Requested update requires the creation of a new physical resource; hence creating one."),
            r.event(STACK_NAME, 300, "Database", "AWS::RDS::DBInstance", "UPDATE_COMPLETE", "db-2"),
            r.stack_event(STACK_NAME, 301, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            r.event(STACK_NAME, 302, "Database", "AWS::RDS::DBInstance", "DELETE_COMPLETE", "db-1"),
            r.stack_event(STACK_NAME, 303, "UPDATE_COMPLETE"),
        ]}],
        final_status="UPDATE_COMPLETE",
    )

    assert deploy(project, "--yes", "--allow-replacement") == 0
    assert f"Stack {STACK_NAME}: UPDATE_COMPLETE" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the prompt

def quiet_update(aws):
    aws.plan([r.resource_change("Modify", "Setting", "AWS::SSM::Parameter", Replacement="False",
                                Details=[r.property_detail("Value")])])


def finished_update(aws):
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[{STACK_ID: [
            r.stack_event(STACK_NAME, 1, "UPDATE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 2, "Setting", "AWS::SSM::Parameter", "UPDATE_COMPLETE", "/shop/dev/setting"),
            r.stack_event(STACK_NAME, 3, "UPDATE_COMPLETE"),
        ]}],
        final_status="UPDATE_COMPLETE",
    )


def test_typing_yes_executes(project, aws, capsys, monkeypatch):
    quiet_update(aws)
    finished_update(aws)
    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))

    assert deploy(project) == 0

    out = capsys.readouterr().out
    assert f"Execute this change set on stack {STACK_NAME} (us-east-1)? Only 'yes' will be accepted:" in out
    assert "ExecuteChangeSet" in aws.calls


@pytest.mark.parametrize("answer", ["no\n", "y\n", "\n", ""])
def test_anything_but_yes_executes_nothing(project, aws, capsys, monkeypatch, answer):
    quiet_update(aws)
    aws.change_set_deleted()
    monkeypatch.setattr(sys, "stdin", Terminal(answer))

    assert deploy(project) == 1

    assert "Not confirmed: nothing was executed." in capsys.readouterr().err
    assert "ExecuteChangeSet" not in aws.calls


def test_without_a_terminal_deploy_needs_yes(project, aws, capsys, monkeypatch):
    quiet_update(aws)
    aws.change_set_deleted()
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))  # piped input is not an answer

    assert deploy(project) == 1

    assert "stdin is not a terminal. Pass --yes" in capsys.readouterr().err
    assert "ExecuteChangeSet" not in aws.calls


# ----------------------------------------------------------------------------- following events

def test_events_of_nested_stacks_are_followed_with_progress_and_elapsed_time(project, aws, capsys, no_terminal):
    aws.plan(
        changes=[
            r.resource_change("Modify", "AppStack", "AWS::CloudFormation::Stack", PhysicalResourceId=NESTED_ID,
                              Replacement="False", ChangeSetId=NESTED_CHANGE_SET,
                              Details=[r.property_detail("Parameters")]),
            r.resource_change("Modify", "Setting", "AWS::SSM::Parameter", Replacement="False",
                              Details=[r.property_detail("Value")]),
        ],
        nested=[r.resource_change("Modify", "AppLogs", "AWS::Logs::LogGroup", Replacement="False",
                                  Details=[r.property_detail("RetentionInDays")])],
    )
    nested = dict(stack_id=NESTED_ID)
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[
            {
                STACK_ID: [
                    r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
                    r.event(STACK_NAME, 1, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS",
                            NESTED_ID),
                    r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "UPDATE_IN_PROGRESS", "/s"),
                ],
                NESTED_ID: [
                    # From an earlier deploy: older than the baseline, never shown.
                    r.stack_event(NESTED_STACK, -120, "CREATE_COMPLETE", **nested),
                    r.stack_event(NESTED_STACK, 2, "UPDATE_IN_PROGRESS", **nested),
                    r.event(NESTED_STACK, 3, "AppLogs", "AWS::Logs::LogGroup", "UPDATE_IN_PROGRESS",
                            "shop-dev-app", **nested),
                ],
            },
            {
                STACK_ID: [
                    r.event(STACK_NAME, 4, "Setting", "AWS::SSM::Parameter", "UPDATE_COMPLETE", "/s"),
                    r.event(STACK_NAME, 8, "AppStack", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE",
                            NESTED_ID),
                    r.stack_event(STACK_NAME, 9, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
                    r.stack_event(STACK_NAME, 10, "UPDATE_COMPLETE"),
                ],
                NESTED_ID: [
                    r.event(NESTED_STACK, 5, "AppLogs", "AWS::Logs::LogGroup", "UPDATE_COMPLETE",
                            "shop-dev-app", **nested),
                    r.stack_event(NESTED_STACK, 6, "UPDATE_COMPLETE", **nested),
                ],
            },
        ],
        final_status="UPDATE_COMPLETE",
    )

    assert deploy(project, "--yes") == 0

    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.strip().startswith("0m")]
    # elapsed, done/total, status, type, path: in time order, nested resources under their stack path.
    assert [(l[0], l[1], l[2], l[4]) for l in lines] == [
        ("0m00s", "0/3", "UPDATE_IN_PROGRESS", STACK_NAME),
        ("0m00s", "0/3", "UPDATE_IN_PROGRESS", f"{STACK_NAME}/AppStack"),
        ("0m00s", "0/3", "UPDATE_IN_PROGRESS", f"{STACK_NAME}/Setting"),
        ("0m00s", "0/3", "UPDATE_IN_PROGRESS", f"{STACK_NAME}/AppStack/AppLogs"),
        ("0m05s", "1/3", "UPDATE_COMPLETE", f"{STACK_NAME}/Setting"),
        ("0m05s", "2/3", "UPDATE_COMPLETE", f"{STACK_NAME}/AppStack/AppLogs"),
        ("0m05s", "3/3", "UPDATE_COMPLETE", f"{STACK_NAME}/AppStack"),
        ("0m05s", "3/3", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", STACK_NAME),
        ("0m05s", "3/3", "UPDATE_COMPLETE", STACK_NAME),
    ]
    assert f"Stack {STACK_NAME}: UPDATE_COMPLETE after 0m05s." in out
    assert aws.time.sleeps == [common.CHANGE_SET_POLL_SECONDS, common.EVENT_POLL_SECONDS]


def test_a_failed_create_names_the_first_failure_and_says_to_delete(project, aws, capsys):
    aws.plan([r.resource_change("Add", "Setting", "AWS::SSM::Parameter"),
              r.resource_change("Add", "AppStack", "AWS::CloudFormation::Stack")], existing=None)
    nested = dict(stack_id=NESTED_ID)
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -5, "REVIEW_IN_PROGRESS", "User Initiated")],
        polls=[
            {STACK_ID: [
                r.stack_event(STACK_NAME, 0, "CREATE_IN_PROGRESS", "User Initiated"),
                r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
                r.event(STACK_NAME, 1, "AppStack", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
                r.event(STACK_NAME, 2, "AppStack", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS",
                        NESTED_ID, "Resource creation Initiated"),
            ], NESTED_ID: []},  # found in this poll and read at once: no events yet
            {
                NESTED_ID: [
                    r.stack_event(NESTED_STACK, 2, "CREATE_IN_PROGRESS", "User Initiated", **nested),
                    r.event(NESTED_STACK, 3, "AppLogs", "AWS::Logs::LogGroup", "CREATE_IN_PROGRESS", **nested),
                    r.event(NESTED_STACK, 4, "AppLogs", "AWS::Logs::LogGroup", "CREATE_FAILED",
                            reason="Resource handler returned message: \"Invalid value for RetentionInDays\"",
                            **nested),
                    r.stack_event(NESTED_STACK, 5, "ROLLBACK_IN_PROGRESS", **nested),
                ],
                STACK_ID: [
                    r.event(STACK_NAME, 6, "Setting", "AWS::SSM::Parameter", "CREATE_FAILED",
                            reason="Resource creation cancelled"),
                    r.event(STACK_NAME, 7, "AppStack", "AWS::CloudFormation::Stack", "CREATE_FAILED", NESTED_ID,
                            f"Embedded stack {NESTED_ID} was not successfully created: The following "
                            "resource(s) failed to create: [AppLogs]. "),
                    r.stack_event(STACK_NAME, 8, "ROLLBACK_IN_PROGRESS",
                                  "The following resource(s) failed to create: [Setting, AppStack]. "
                                  "Rollback requested by user."),
                ],
            },
            {STACK_ID: [
                r.event(STACK_NAME, 9, "AppStack", "AWS::CloudFormation::Stack", "DELETE_COMPLETE", NESTED_ID),
                r.stack_event(STACK_NAME, 10, "ROLLBACK_COMPLETE"),
            ]},
        ],
        final_status="ROLLBACK_COMPLETE",
        RetainExceptOnCreate=True,  # a first create's rollback deletes its Retain resources too
    )
    aws.stacks_now((STACK_ID, STACK_NAME, "ROLLBACK_COMPLETE"), (NESTED_ID, NESTED_STACK, "DELETE_COMPLETE"))

    assert deploy(project, "--yes") == 1

    out = capsys.readouterr().out
    assert f"Stack {STACK_NAME}: ROLLBACK_COMPLETE after 0m10s." in out
    assert (f"Stacks now:\n  {STACK_NAME}           ROLLBACK_COMPLETE\n"
            f"  {STACK_NAME}/AppStack  DELETE_COMPLETE\n") in out
    assert ("First failure: shop-dev/AppStack/AppLogs (AWS::Logs::LogGroup) CREATE_FAILED: Resource handler "
            "returned message: \"Invalid value for RetentionInDays\"") in out
    assert "It must be deleted before retrying:\n  threetier delete dev" in out


def test_an_update_whose_rollback_failed_says_continue_update_rollback(project, aws, capsys):
    quiet_update(aws)
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[{STACK_ID: [
            r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "UPDATE_FAILED", "/shop/dev/setting",
                    "User: arn:aws:sts::123456789012:assumed-role/deployer is not authorized to perform: "
                    "ssm:PutParameter"),
            r.stack_event(STACK_NAME, 2, "UPDATE_ROLLBACK_IN_PROGRESS"),
            r.event(STACK_NAME, 3, "Setting", "AWS::SSM::Parameter", "UPDATE_FAILED", "/shop/dev/setting",
                    "not authorized to perform: ssm:PutParameter"),
            r.stack_event(STACK_NAME, 4, "UPDATE_ROLLBACK_FAILED"),
        ]}],
        final_status="UPDATE_ROLLBACK_FAILED",
    )
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_ROLLBACK_FAILED"))

    assert deploy(project, "--yes") == 1

    out = capsys.readouterr().out
    assert "First failure: shop-dev/Setting (AWS::SSM::Parameter) UPDATE_FAILED: User: arn:aws:sts" in out
    assert f"aws cloudformation continue-update-rollback --stack-name {STACK_NAME}" in out


def test_a_rolled_back_update_is_a_failure(project, aws, capsys):
    quiet_update(aws)
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[{STACK_ID: [
            r.stack_event(STACK_NAME, 0, "UPDATE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 1, "Setting", "AWS::SSM::Parameter", "UPDATE_FAILED", "/s", "Access denied"),
            r.stack_event(STACK_NAME, 2, "UPDATE_ROLLBACK_IN_PROGRESS"),
            r.stack_event(STACK_NAME, 3, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
            r.stack_event(STACK_NAME, 4, "UPDATE_ROLLBACK_COMPLETE"),
        ]}],
        final_status="UPDATE_ROLLBACK_COMPLETE",
    )
    aws.stacks_now((STACK_ID, STACK_NAME, "UPDATE_ROLLBACK_COMPLETE"))

    assert deploy(project, "--yes") == 1
    assert "The update was rolled back" in capsys.readouterr().out


# ----------------------------------------------------------------------------- stuck stacks

@pytest.mark.parametrize("status, advice", [
    ("ROLLBACK_COMPLETE", "It must be deleted before retrying:\n  threetier delete dev --region eu-west-1"),
    ("UPDATE_ROLLBACK_FAILED", "aws cloudformation continue-update-rollback --stack-name shop-dev "
                               "--region eu-west-1"),
    ("UPDATE_IN_PROGRESS", "is busy (UPDATE_IN_PROGRESS)"),
])
@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_no_change_set_against_a_stuck_stack(project, aws, capsys, status, advice, command):
    aws.stack_is(status)

    assert threetier(project, command, ENV, "--bucket", BUCKET, "--region", "eu-west-1", "--yes"
                     if command == "deploy" else "--json") == 1

    assert advice in capsys.readouterr().err
    assert aws.calls == ["DescribeStacks"]


def test_status_of_a_stuck_stack_gives_the_advice(project, aws, capsys):
    aws.stack_is("ROLLBACK_COMPLETE", reason="The following resource(s) failed to create: [AppStack].")

    assert threetier(project, "status", ENV) == 1

    out = capsys.readouterr().out
    assert "Status:  ROLLBACK_COMPLETE" in out and "Reason:  The following resource(s)" in out
    assert "must be deleted before retrying" in out


def test_status_prints_the_outputs(project, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE", outputs=[
        {"OutputKey": "SiteUrl", "OutputValue": "https://shop.example.com", "Description": "Site URL"},
        {"OutputKey": "AlbDns", "OutputValue": "alb-1.us-east-1.elb.amazonaws.com"},
    ])

    assert threetier(project, "status", ENV) == 0

    out = capsys.readouterr().out
    assert "OUTPUT   VALUE                              DESCRIPTION" in out
    assert "SiteUrl  https://shop.example.com           Site URL" in out


ALARM_TOPIC = "arn:aws:sns:us-east-1:123456789012:shop-dev-AlarmTopic-1ABC"


def subscription(endpoint: str, arn: str) -> dict:
    return {"SubscriptionArn": arn, "Owner": "123456789012", "Protocol": "email", "Endpoint": endpoint,
            "TopicArn": ALARM_TOPIC}


@pytest.fixture
def sns(monkeypatch):
    """The SNS client status makes, stubbed; the other services are the `aws` fixture's."""
    client = boto3.client("sns", region_name="us-east-1")
    made = common.make_client
    monkeypatch.setattr(common, "make_client",
                        lambda clients, profile, service: client if service == "sns" else made(clients, profile, service))
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_status_shows_an_alarm_subscription_waiting_for_confirmation(project, aws, sns, capsys):
    aws.stack_is("UPDATE_COMPLETE", outputs=[{"OutputKey": "AlarmTopicArn", "OutputValue": ALARM_TOPIC}])
    # Two pages: the one waiting is on the second.
    sns.add_response("list_subscriptions_by_topic", {
        "Subscriptions": [subscription("lead@shop.net", f"{ALARM_TOPIC}:0b2c7a3e-1111-4a5b-9c8d-0123456789ab")],
        "NextToken": "page-2"}, {"TopicArn": ALARM_TOPIC})  # pragma: allowlist secret (a page token)
    sns.add_response("list_subscriptions_by_topic", {
        "Subscriptions": [subscription("oncall@shop.net", "PendingConfirmation")]},
        {"TopicArn": ALARM_TOPIC, "NextToken": "page-2"})  # pragma: allowlist secret (a page token)

    assert threetier(project, "status", ENV) == 0

    out = capsys.readouterr().out
    assert (f"Alarms:  email oncall@shop.net has not confirmed its subscription to {ALARM_TOPIC}: "
            "it receives no alarm\n") in out
    assert "lead@shop.net" not in out
    assert out.count("Confirm it with the link in the email from AWS Notifications") == 1


def test_status_says_nothing_of_confirmed_subscriptions_or_a_stack_without_alarms(project, aws, sns, capsys):
    aws.stack_is("UPDATE_COMPLETE", outputs=[{"OutputKey": "AlarmTopicArn", "OutputValue": ALARM_TOPIC}])
    sns.add_response("list_subscriptions_by_topic", {
        "Subscriptions": [subscription("lead@shop.net", f"{ALARM_TOPIC}:0b2c7a3e-1111-4a5b-9c8d-0123456789ab")]},
        {"TopicArn": ALARM_TOPIC})
    assert threetier(project, "status", ENV) == 0
    assert "Alarms:" not in capsys.readouterr().out

    # Monitoring off: the output is empty, and SNS is not asked.
    aws.stack_is("UPDATE_COMPLETE", outputs=[{"OutputKey": "AlarmTopicArn", "OutputValue": ""}])
    assert threetier(project, "status", ENV) == 0
    assert "Alarms:" not in capsys.readouterr().out


def test_status_goes_on_when_the_subscriptions_cannot_be_listed(project, aws, sns, capsys):
    aws.stack_is("UPDATE_COMPLETE", outputs=[{"OutputKey": "AlarmTopicArn", "OutputValue": ALARM_TOPIC}])
    sns.add_client_error("list_subscriptions_by_topic", "AuthorizationError", "not allowed",
                         expected_params={"TopicArn": ALARM_TOPIC})
    assert threetier(project, "status", ENV) == 0
    assert ("Alarms:  could not list the alarm topic's subscriptions (AuthorizationError): whether someone "
            "confirmed them is unknown") in capsys.readouterr().out


# ----------------------------------------------------------------------------- delete

def test_delete_without_a_terminal_needs_yes(project, aws, capsys, no_terminal):
    aws.stack_is("UPDATE_COMPLETE")

    assert threetier(project, "delete", ENV) == 1

    assert "Pass --yes to delete the stack" in capsys.readouterr().err
    assert aws.calls == ["DescribeStacks"]


def test_a_failed_delete_gives_the_reason_and_the_advice(project, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE")
    aws.cfn_stub.add_response("describe_stack_events",
                              r.events_page([r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")]),
                              {"StackName": STACK_ID})
    aws.cfn_stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    aws.events_until(
        [r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        [{STACK_ID: [
            r.stack_event(STACK_NAME, 0, "DELETE_IN_PROGRESS", "User Initiated"),
            r.event(STACK_NAME, 1, "Database", "AWS::RDS::DBInstance", "DELETE_FAILED", "db-1",
                    "Cannot delete protected DB Instance, please disable deletion protection and try again."),
            r.stack_event(STACK_NAME, 2, "DELETE_FAILED", "The following resource(s) failed to delete: [Database]."),
        ]}],
        final_status="DELETE_FAILED",
    )
    aws.stacks_now((STACK_ID, STACK_NAME, "DELETE_FAILED"))

    assert threetier(project, "delete", ENV, "--yes") == 1

    out = capsys.readouterr().out
    assert "AppLogs (AWS::Logs::LogGroup) in app.yaml: DeletionPolicy Retain" in out
    assert "First failure: shop-dev/Database (AWS::RDS::DBInstance) DELETE_FAILED: Cannot delete protected" in out
    assert "deletion protection on" in out


# ----------------------------------------------------------------------------- bad input: exit 2, no AWS call

@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_a_missing_parameter_file_is_named(project, aws, capsys, command):
    (project / "parameters" / "dev.json").unlink()

    assert threetier(project, command, ENV, "--bucket", BUCKET, "--yes" if command == "deploy" else "--json") == 2

    assert f"{project / 'parameters' / 'dev.json'}: no such parameter file" in capsys.readouterr().err
    assert aws.calls == []


def test_malformed_json_is_named_with_line_and_column(project, aws, capsys):
    (project / "parameters" / "dev.json").write_text('[\n  {"ParameterKey": "ProjectName",\n}\n]\n')

    assert plan(project) == 2

    assert "dev.json:3:1: not valid JSON" in capsys.readouterr().err
    assert aws.calls == []


def test_a_parameter_the_template_does_not_have_is_named(project, aws, capsys):
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": "dev", "Colour": "blue"})

    assert plan(project) == 2

    assert "dev.json: Colour: not a parameter of the template" in capsys.readouterr().err
    assert aws.calls == []


def test_a_value_the_template_would_reject_is_named_with_its_constraint(project, aws, capsys):
    write_parameters(project, {"ProjectName": "Shop!", "EnvironmentName": "dev"})

    assert plan(project) == 2

    err = capsys.readouterr().err
    assert "dev.json: ProjectName='Shop!': 3 to 20 lower-case letters, digits and hyphens." in err
    assert aws.calls == []


def test_missing_generated_templates(project, aws, capsys):
    (project / "output" / "main.yaml").unlink()

    assert plan(project) == 2

    assert "run `python generate.py` first" in capsys.readouterr().err
    assert aws.calls == []


def test_an_environment_that_is_not_a_file_name(project, aws, capsys):
    assert threetier(project, "plan", "../dev", "--bucket", BUCKET) == 2
    assert aws.calls == []


def test_plan_without_a_bucket_is_a_usage_error(project, aws, capsys):
    assert threetier(project, "plan", ENV) == 2
    assert "no template bucket: pass --bucket, or set bucket in the [dev] table of threetier.toml" in (
        capsys.readouterr().err)
    assert aws.calls == []


# ----------------------------------------------------------------------------- AWS errors

def test_expired_credentials_say_so(project, aws, capsys):
    aws.cfn_stub.add_client_error("describe_stacks", "ExpiredToken", "The security token included in the "
                                  "request is expired", http_status_code=403)

    assert plan(project) == 1

    err = capsys.readouterr().err
    assert "AWS said ExpiredToken" in err and "aws sso login" in err
