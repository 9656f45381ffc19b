"""`threetier drift ENV`: root and nested stacks, progress, property differences, --json, exit codes.

moto does not run drift detection, so this is botocore's Stubber with responses shaped like
the real API (the Stubber checks them against the service model).
"""

from __future__ import annotations

import json

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME
from tests.deploy.test_deploy_stubbed import STACK_ID, aws, project, threetier  # noqa: F401 (fixtures)
from threetier.deploy.commands import common

NETWORK_ID = r.stack_arn(f"{STACK_NAME}-NetworkStack-1AAA", "4")
APP_ID = r.stack_arn(f"{STACK_NAME}-AppStack-1BBB", "5")
LOGS_ID = r.stack_arn(f"{STACK_NAME}-AppStack-1BBB-LogsStack-1CCC", "6")


def summary(logical_id: str, resource_type: str, physical_id: str, status: str = "UPDATE_COMPLETE") -> dict:
    return {"LogicalResourceId": logical_id, "PhysicalResourceId": physical_id, "ResourceType": resource_type,
            "LastUpdatedTimestamp": r.T0, "ResourceStatus": status}


def tree(aws):
    """root -> NetworkStack, AppStack -> LogsStack (and a nested stack deleted long ago)."""
    aws.stack_is("UPDATE_COMPLETE")
    listed = {
        STACK_ID: [summary("NetworkStack", "AWS::CloudFormation::Stack", NETWORK_ID),
                   summary("AppStack", "AWS::CloudFormation::Stack", APP_ID),
                   summary("OldStack", "AWS::CloudFormation::Stack", r.stack_arn("old", "9"), "DELETE_COMPLETE"),
                   summary("Setting", "AWS::SSM::Parameter", "/shop/dev/setting")],
        NETWORK_ID: [summary("Vpc", "AWS::EC2::VPC", "vpc-1")],
        APP_ID: [summary("LogsStack", "AWS::CloudFormation::Stack", LOGS_ID)],
        LOGS_ID: [summary("AppLogs", "AWS::Logs::LogGroup", "shop-dev-app")],
    }
    for stack_id in (STACK_ID, NETWORK_ID, APP_ID, LOGS_ID):  # depth first, as the paths are built
        aws.cfn_stub.add_response("list_stack_resources", {"StackResourceSummaries": listed[stack_id]},
                                  {"StackName": stack_id})
    for stack_id in (STACK_ID, NETWORK_ID, APP_ID, LOGS_ID):
        aws.cfn_stub.add_response("detect_stack_drift", {"StackDriftDetectionId": f"d-{stack_id[-40:-36]}"},
                                  {"StackName": stack_id})


def status(aws, stack_id: str, detection: str, drift: str | None = None, reason: str | None = None):
    response = {"StackId": stack_id, "StackDriftDetectionId": f"d-{stack_id[-40:-36]}",
                "DetectionStatus": detection, "Timestamp": r.T0}
    if drift:
        response["StackDriftStatus"] = drift
    if reason:
        response["DetectionStatusReason"] = reason
    aws.cfn_stub.add_response("describe_stack_drift_detection_status", response,
                              {"StackDriftDetectionId": f"d-{stack_id[-40:-36]}"})


def drifts(aws, stack_id: str, *resources: dict):
    aws.cfn_stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": list(resources)},
                              {"StackName": stack_id, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]})


def resource_drift(stack_id, logical_id, resource_type, physical_id, status, *differences) -> dict:
    return {"StackId": stack_id, "LogicalResourceId": logical_id, "PhysicalResourceId": physical_id,
            "ResourceType": resource_type, "StackResourceDriftStatus": status, "Timestamp": r.T0,
            "PropertyDifferences": [{"PropertyPath": path, "ExpectedValue": expected, "ActualValue": actual,
                                     "DifferenceType": kind} for path, expected, actual, kind in differences]}


def network_and_logs_drifted(aws):
    tree(aws)
    # First poll: the app stack is still being checked.
    status(aws, STACK_ID, "DETECTION_COMPLETE", "IN_SYNC")
    status(aws, NETWORK_ID, "DETECTION_COMPLETE", "DRIFTED")
    status(aws, APP_ID, "DETECTION_IN_PROGRESS")
    status(aws, LOGS_ID, "DETECTION_COMPLETE", "DRIFTED")
    status(aws, APP_ID, "DETECTION_COMPLETE", "IN_SYNC")
    drifts(aws, STACK_ID)
    drifts(aws, NETWORK_ID, resource_drift(
        NETWORK_ID, "Vpc", "AWS::EC2::VPC", "vpc-1", "MODIFIED",
        ("/EnableDnsHostnames", "true", "false", "NOT_EQUAL"),
        ("/Tags/2", "", '{"Key":"Owner","Value":"bob"}', "ADD")))
    drifts(aws, APP_ID)
    drifts(aws, LOGS_ID, resource_drift(LOGS_ID, "AppLogs", "AWS::Logs::LogGroup", "shop-dev-app", "DELETED"))


def test_drift_prints_each_drifted_resource_under_its_stack_path(project, aws, capsys):
    network_and_logs_drifted(aws)

    assert threetier(project, "drift", ENV) == 1

    captured = capsys.readouterr()
    out = captured.out
    assert f"Drift of stack {STACK_NAME} (us-east-1): 2 drifted resource(s) in 4 stack(s)" in out
    assert f"\n{STACK_NAME}/NetworkStack\n  MODIFIED  Vpc (AWS::EC2::VPC) vpc-1\n" in out
    assert "    /EnableDnsHostnames: true -> false  (NOT_EQUAL)" in out
    assert f"\n{STACK_NAME}/AppStack/LogsStack\n  DELETED   AppLogs (AWS::Logs::LogGroup) shop-dev-app" in out
    assert f"deploy again (`threetier deploy {ENV}`)" in out
    assert "old" not in out
    assert "  0m00s  3/4 stacks checked" in captured.err and "  0m05s  4/4 stacks checked" in captured.err
    assert aws.time.sleeps == [common.DRIFT_POLL_SECONDS]


def test_drift_json_for_automation(project, aws, capsys):
    network_and_logs_drifted(aws)

    assert threetier(project, "drift", ENV, "--json") == 1

    result = json.loads(capsys.readouterr().out)
    assert result["drifted"] is True
    assert [(s["path"], s["drift_status"]) for s in result["stacks"]] == [
        (STACK_NAME, "IN_SYNC"), (f"{STACK_NAME}/NetworkStack", "DRIFTED"), (f"{STACK_NAME}/AppStack", "IN_SYNC"),
        (f"{STACK_NAME}/AppStack/LogsStack", "DRIFTED")]
    vpc = result["resources"][0]
    assert vpc["stack_path"] == f"{STACK_NAME}/NetworkStack" and vpc["status"] == "MODIFIED"
    assert vpc["differences"][1] == {"path": "/Tags/2", "expected": "",
                                     "actual": '{"Key":"Owner","Value":"bob"}', "type": "ADD"}


def test_in_sync_exits_0(project, aws, capsys):
    tree(aws)
    for stack_id in (STACK_ID, NETWORK_ID, APP_ID, LOGS_ID):
        status(aws, stack_id, "DETECTION_COMPLETE", "IN_SYNC")
    for stack_id in (STACK_ID, NETWORK_ID, APP_ID, LOGS_ID):
        drifts(aws, stack_id)

    assert threetier(project, "drift", ENV) == 0
    assert "Every stack is IN_SYNC with its template." in capsys.readouterr().out


def test_a_failed_detection_is_named_and_exits_1(project, aws, capsys):
    tree(aws)
    status(aws, STACK_ID, "DETECTION_COMPLETE", "IN_SYNC")
    status(aws, NETWORK_ID, "DETECTION_FAILED", "UNKNOWN", "Failed to detect drift on resource [FlowLog]")
    status(aws, APP_ID, "DETECTION_COMPLETE", "IN_SYNC")
    status(aws, LOGS_ID, "DETECTION_COMPLETE", "IN_SYNC")
    for stack_id in (STACK_ID, NETWORK_ID, APP_ID, LOGS_ID):
        drifts(aws, stack_id)

    assert threetier(project, "drift", ENV) == 1
    assert (f"  {STACK_NAME}/NetworkStack: detection failed: Failed to detect drift on resource [FlowLog]"
            in capsys.readouterr().out)


def test_drift_stops_waiting_at_the_timeout(project, aws, capsys):
    tree(aws)
    for _ in range(13):  # polls at 0, 5, ... 60 s
        for stack_id in (STACK_ID, NETWORK_ID, APP_ID, LOGS_ID):
            status(aws, stack_id, "DETECTION_IN_PROGRESS")

    assert threetier(project, "drift", ENV, "--timeout", "1") == 1

    err = capsys.readouterr().err
    assert "drift detection was still running on " + STACK_NAME in err and "(--timeout 1)" in err


def test_drift_of_a_missing_stack(project, aws, capsys):
    aws.stack_missing()

    assert threetier(project, "drift", ENV) == 1
    assert f"Stack {STACK_NAME} does not exist in us-east-1." in capsys.readouterr().err
