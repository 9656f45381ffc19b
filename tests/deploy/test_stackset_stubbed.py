"""`threetier stackset` where moto's StackSets API has no model: operation states that move, failed instances
with their reasons, the failure tolerance stopping (or not) an update that fails in the second region, drift
per instance, and a delete that names what survives. CloudFormation answers through botocore's Stubber
(responses checked against the service model); S3 (the packaged templates) is the local moto server."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.deploy.fixtures.project import ENV, STACK_NAME, write_project
from tests.deploy.test_deploy_moto import BUCKET  # noqa: F401 (fixture)
from tests.deploy.test_deploy_moto import aws as moto
from tests.deploy.test_deploy_stubbed import FakeTime
from tests.deploy.test_stackset_moto import ACCOUNTS, REGIONS, org_readable
from threetier import cli
from threetier.deploy.commands import common
from threetier.deploy.commands import stackset as command
from threetier.deploy.session import Clients
from threetier.review.changes import Change

SET_ID = f"{STACK_NAME}:1a2b3c4d-0000-0000-0000-000000000000"
OPERATION = "op-update-1"
REASON = "ResourceLogicalId:AppLogs, ResourceType:AWS::Logs::LogGroup, ResourceStatusReason:Resource handler returned message: \"Log group already exists\""


def settings_text(preferences: str = "", override: bool = False, protected: bool = False) -> str:
    second = '\nparameters = { RetentionDays = "30" }' if override else ""
    return (f'[{ENV}]\nregion = "us-east-1"\nbucket = "{BUCKET}"\nprotected = {str(protected).lower()}\n'
            f'[{ENV}.stackset]\npermission_model = "self-managed"\nregions = {json.dumps(list(REGIONS))}\n{preferences}'
            f'[[{ENV}.stackset.targets]]\naccounts = ["{ACCOUNTS[0]}"]\n'
            f'[[{ENV}.stackset.targets]]\naccounts = ["{ACCOUNTS[1]}"]{second}\n')


class Stubbed:
    def __init__(self, s3):
        self.cfn = boto3.client("cloudformation", region_name="us-east-1")
        self.stub = Stubber(self.cfn)
        self.s3 = s3
        self.time = FakeTime()

    def add(self, method: str, response: dict, expected: dict | None = None) -> None:
        self.stub.add_response(method, response, expected)


@pytest.fixture
def aws(moto, monkeypatch):
    org_readable(moto)
    stubbed = Stubbed(moto.s3)
    monkeypatch.setattr(common, "make_clients", lambda region, profile, endpoint_url, role=None: Clients(
        stubbed.cfn, moto.s3, "us-east-1", endpoint_url=moto.endpoint))
    monkeypatch.setattr(common, "sleep", stubbed.time.sleep)
    monkeypatch.setattr(common, "clock", stubbed.time.clock)
    # The test project is not the generated one: the offline prediction is replaced by one that says which
    # values changed (the prediction itself is tested in tests/review).
    monkeypatch.setattr(command, "_predictor", lambda project: lambda label, before, after, region: [
        Change("Modify", "AppLogs", "AWS::Logs::LogGroup", label, replacement="False",
               changed_properties=("RetentionInDays",))] if before != after else [])
    with stubbed.stub:
        yield stubbed
        stubbed.stub.assert_no_pending_responses()


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


def run(project, *argv, settings: str) -> int:
    (project / "threetier.toml").write_text(settings)
    return cli.main(["--project-dir", str(project), "stackset", *argv])


def existing(aws, overrides=()) -> None:
    """The stack set and its four instances as DescribeStackSet and ListStackInstances give them."""
    aws.add("describe_stack_set", {"StackSet": {
        "StackSetName": STACK_NAME, "StackSetId": SET_ID, "Status": "ACTIVE", "PermissionModel": "SELF_MANAGED",
        "TemplateBody": "Resources: {}\n", "Parameters": [{"ParameterKey": "ProjectName", "ParameterValue": "shop"},
                                                 {"ParameterKey": "EnvironmentName", "ParameterValue": ENV}]}},
        {"StackSetName": STACK_NAME})
    aws.add("list_stack_instances", {"Summaries": [
        {"StackSetId": SET_ID, "Account": a, "Region": r, "Status": "CURRENT"} for r in REGIONS for a in ACCOUNTS]})
    for region in REGIONS:
        for account in ACCOUNTS:
            aws.add("describe_stack_instance", {"StackInstance": {
                "StackSetId": SET_ID, "Account": account, "Region": region,
                "ParameterOverrides": list(overrides) if account == ACCOUNTS[1] else []}})


def result(account: str, region: str, status: str, reason: str = "") -> dict:
    return {"Account": account, "Region": region, "Status": status, **({"StatusReason": reason} if reason else {})}


def operation(aws, status: str, results: list[dict], action: str = "UPDATE", operation_id: str = OPERATION) -> None:
    aws.add("describe_stack_set_operation", {"StackSetOperation": {
        "OperationId": operation_id, "StackSetId": SET_ID, "Action": action, "Status": status}})
    aws.add("list_stack_set_operation_results", {"Summaries": results})


def update_failing_in_second_region(aws, final: str, second_account: str) -> dict:
    """Region 1 succeeds in both accounts; in region 2 the first account fails; the second account's end
    depends on the tolerance (CANCELLED when the operation stopped, SUCCEEDED when it went on)."""
    request = {"StackSetName": STACK_NAME, "TemplateBody": ANY, "Parameters": ANY, "Capabilities": ["CAPABILITY_IAM"],
               "OperationPreferences": ANY}
    aws.add("update_stack_set", {"OperationId": OPERATION}, request)
    ok = [result(a, REGIONS[0], "SUCCEEDED") for a in ACCOUNTS]
    operation(aws, "RUNNING", ok + [result(ACCOUNTS[0], REGIONS[1], "RUNNING"), result(ACCOUNTS[1], REGIONS[1], "PENDING")])
    operation(aws, final, ok + [result(ACCOUNTS[0], REGIONS[1], "FAILED", REASON),
                                result(ACCOUNTS[1], REGIONS[1], second_account)])
    return request


@pytest.mark.parametrize("preferences, final, second, expected", [
    # The default (and a protected environment's only choice): stop at the first failure.
    ("", "FAILED", "CANCELLED", {"FailureToleranceCount": 0, "MaxConcurrentCount": 1}),
    ("failure_tolerance = 1\nmax_concurrent = 2\n", "SUCCEEDED", "SUCCEEDED",
     {"FailureToleranceCount": 1, "MaxConcurrentCount": 2}),
    ("failure_tolerance_percentage = 50\n", "SUCCEEDED", "SUCCEEDED",
     {"FailureTolerancePercentage": 50, "MaxConcurrentCount": 1}),
])
def test_an_update_failing_in_the_second_region_under_each_failure_tolerance(project, aws, capsys, preferences,
                                                                               final, second, expected):
    existing(aws)
    request = update_failing_in_second_region(aws, final, second)
    request["OperationPreferences"] = {"RegionConcurrencyType": "SEQUENTIAL", "RegionOrder": list(REGIONS), **expected}

    assert run(project, "deploy", ENV, "--yes", settings=settings_text(preferences)) == 1

    out, err = capsys.readouterr()
    assert f"[00:10] {ACCOUNTS[0]} {REGIONS[1]}: FAILED ({REASON})" in out
    assert f"  failed: {ACCOUNTS[0]} {REGIONS[1]}: FAILED ({REASON})" in out
    assert f"{ACCOUNTS[1]} {REGIONS[1]}: {second}" in out
    if final == "FAILED":
        assert f"operation {OPERATION} (UPDATE): FAILED" in out
        assert "stopped: the later steps were not started" in err
    else:
        assert f"operation {OPERATION} (UPDATE): SUCCEEDED (the failures were within the failure tolerance)" in out
        assert "1 stack instance(s) failed within the failure tolerance" in err
    assert aws.time.sleeps == [command.OPERATION_POLL_SECONDS]


def test_a_failure_in_the_first_region_leaves_the_second_unattempted(project, aws, capsys):
    existing(aws)
    aws.add("update_stack_set", {"OperationId": OPERATION})
    operation(aws, "FAILED", [result(ACCOUNTS[0], REGIONS[0], "FAILED", REASON),
                              result(ACCOUNTS[1], REGIONS[0], "CANCELLED")]
              + [result(a, REGIONS[1], "CANCELLED") for a in ACCOUNTS])

    assert run(project, "deploy", ENV, "--yes", settings=settings_text()) == 1

    out = capsys.readouterr().out
    assert f"not attempted (the failure tolerance stopped the operation first): {REGIONS[1]}" in out


def test_the_review_shows_each_target_and_region_before_anything_runs(project, aws, capsys):
    existing(aws)

    assert run(project, "review", ENV, settings=settings_text(override=True)) == 0

    out = capsys.readouterr().out
    assert "Template: changed; nested templates changed: AppStack" in out
    assert f"{ACCOUNTS[0]} {REGIONS[0]} (target 1), account {ACCOUNTS[0]} (CURRENT): no resource change" in out
    # The second target's override changes its instances, in each region.
    for region in REGIONS:
        assert f"{ACCOUNTS[1]} {region} (target 2), account {ACCOUNTS[1]} (CURRENT): 1 resource change(s)" in out
    assert "RetentionInDays" in out


def test_an_override_is_sent_to_its_target_after_the_stack_set_update(project, aws, capsys):
    existing(aws, overrides=[{"ParameterKey": "RetentionDays", "ParameterValue": "7"}])
    aws.add("update_stack_set", {"OperationId": OPERATION})
    operation(aws, "SUCCEEDED", [result(a, r, "SUCCEEDED") for r in REGIONS for a in ACCOUNTS])
    aws.add("update_stack_instances", {"OperationId": "op-2"}, {
        "StackSetName": STACK_NAME, "Accounts": [ACCOUNTS[1]], "Regions": list(REGIONS),
        "ParameterOverrides": [{"ParameterKey": "RetentionDays", "ParameterValue": "30"}],
        "OperationPreferences": {"RegionConcurrencyType": "SEQUENTIAL", "RegionOrder": list(REGIONS),
                                 "FailureToleranceCount": 0, "MaxConcurrentCount": 1}})
    operation(aws, "SUCCEEDED", [result(ACCOUNTS[1], r, "SUCCEEDED") for r in REGIONS], operation_id="op-2")

    assert run(project, "deploy", ENV, "--yes", settings=settings_text(override=True)) == 0

    assert "operation op-2 (UPDATE): SUCCEEDED on 2 stack instance(s)" in capsys.readouterr().out


def test_drift_is_reported_per_instance(project, aws, capsys):
    aws.add("describe_stack_set", {"StackSet": {"StackSetName": STACK_NAME, "StackSetId": SET_ID}})
    aws.add("detect_stack_set_drift", {"OperationId": "drift-1"}, {
        "StackSetName": STACK_NAME, "OperationPreferences": ANY})
    operation(aws, "SUCCEEDED", [result(a, r, "SUCCEEDED") for r in REGIONS for a in ACCOUNTS],
              action="DETECT_DRIFT", operation_id="drift-1")
    aws.add("list_stack_instances", {"Summaries": [
        {"StackSetId": SET_ID, "Account": a, "Region": r, "Status": "CURRENT",
         "DriftStatus": "DRIFTED" if (a, r) == (ACCOUNTS[1], REGIONS[1]) else "IN_SYNC"}
        for r in REGIONS for a in ACCOUNTS]})

    assert run(project, "drift", ENV, settings=settings_text()) == 1

    out = capsys.readouterr().out
    assert f"  {ACCOUNTS[1]} {REGIONS[1]}: DRIFTED" in out
    assert f"  {ACCOUNTS[0]} {REGIONS[1]}: IN_SYNC" in out


def test_delete_names_what_survives_deletes_the_instances_first_then_the_stack_set(project, aws, capsys):
    aws.add("describe_stack_set", {"StackSet": {"StackSetName": STACK_NAME, "StackSetId": SET_ID}})
    aws.add("list_stack_instances", {"Summaries": [
        {"StackSetId": SET_ID, "Account": a, "Region": r, "Status": "CURRENT"} for r in REGIONS for a in ACCOUNTS]})
    aws.add("delete_stack_instances", {"OperationId": "del-1"}, {
        "StackSetName": STACK_NAME, "Accounts": list(ACCOUNTS), "Regions": list(REGIONS), "RetainStacks": False,
        "OperationPreferences": ANY})
    operation(aws, "SUCCEEDED", [result(a, r, "SUCCEEDED") for r in REGIONS for a in ACCOUNTS],
              action="DELETE", operation_id="del-1")
    aws.add("delete_stack_set", {}, {"StackSetName": STACK_NAME})

    assert run(project, "delete", ENV, "--yes", settings=settings_text()) == 0

    out = capsys.readouterr().out
    assert "AppLogs (AWS::Logs::LogGroup) in app.yaml: DeletionPolicy Retain" in out
    assert out.index("deleting the stack instances") < out.index(f"deleted stack set {STACK_NAME}")


def test_a_protected_environment_is_not_deleted_without_its_option(project, aws, capsys):
    aws.add("describe_stack_set", {"StackSet": {"StackSetName": STACK_NAME, "StackSetId": SET_ID}})

    assert run(project, "delete", ENV, "--yes", settings=settings_text(protected=True)) == 1

    assert "pass --delete-protected" in capsys.readouterr().err


def test_bootstrap_sends_the_deployer_role_to_the_ous_in_one_region_with_automatic_deployment(project, aws, capsys):
    (project / "output" / "deployer-role.yaml").write_text(
        "Parameters:\n  ProjectName:\n    Type: String\n  TemplateBucket:\n    Type: String\nResources:\n"
        "  Marker:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Type: String\n      Value: x\n")
    ou = "ou-ab12-cdef3456"
    settings = (f'[{ENV}]\nregion = "us-east-1"\nbucket = "{BUCKET}"\n[{ENV}.stackset]\n'
                f'regions = {json.dumps(list(REGIONS))}\n[[{ENV}.stackset.targets]]\norganizational_units = ["{ou}"]\n')
    name = f"{STACK_NAME}-bootstrap"
    aws.stub.add_client_error("describe_stack_set", "StackSetNotFoundException", f"StackSet {name} not found",
                              expected_params={"StackSetName": name, "CallAs": "SELF"})
    aws.add("create_stack_set", {"StackSetId": "boot:1"}, {
        "StackSetName": name, "TemplateBody": ANY, "Capabilities": ["CAPABILITY_IAM"], "CallAs": "SELF",
        "Parameters": [{"ParameterKey": "ProjectName", "ParameterValue": "shop"},
                       {"ParameterKey": "TemplateBucket", "ParameterValue": BUCKET}],
        "PermissionModel": "SERVICE_MANAGED",
        "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": True}})
    aws.add("create_stack_instances", {"OperationId": "boot-op"}, {
        "StackSetName": name, "DeploymentTargets": {"OrganizationalUnitIds": [ou]}, "Regions": [REGIONS[0]],
        "ParameterOverrides": [], "CallAs": "SELF",
        "OperationPreferences": {"RegionConcurrencyType": "SEQUENTIAL", "RegionOrder": [REGIONS[0]],
                                 "FailureToleranceCount": 0, "MaxConcurrentCount": 1}})
    operation(aws, "SUCCEEDED", [{"Account": ACCOUNTS[0], "Region": REGIONS[0], "Status": "SUCCEEDED",
                                  "OrganizationalUnitId": ou}], action="CREATE", operation_id="boot-op")

    assert run(project, "bootstrap", ENV, "--yes", settings=settings) == 0

    out = capsys.readouterr().out
    assert (f"Stack set {name}: deployer-role.yaml (role shop.deployer) in {REGIONS[0]} of {ou} "
            "(and every account that joins them)") in out


def test_following_stops_at_the_timeout_and_says_the_operation_goes_on(project, aws, capsys):
    existing(aws)
    aws.add("update_stack_set", {"OperationId": OPERATION})
    for _ in range(7):  # at 0, 10, ... 60 seconds: the seventh poll finds the minute over
        operation(aws, "RUNNING", [result(ACCOUNTS[0], REGIONS[0], "RUNNING")])

    assert run(project, "deploy", ENV, "--yes", "--timeout", "1", settings=settings_text()) == 1

    assert (f"threetier stackset deploy: operation {OPERATION} still runs after --timeout 1 minutes: stopped "
            "following; it goes on in AWS") in capsys.readouterr().err
