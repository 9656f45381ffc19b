"""`threetier release ENV REF`: plans the new AppRepositoryRef as a release and writes it (nothing else) into
parameters/ENV.json only once its change set is created."""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME, app_template, root_template, write_project
from tests.deploy.test_deploy_stubbed import (  # noqa: F401 (fixture)
    BUCKET,
    CHANGE_SET,
    NESTED_CHANGE_SET,
    NESTED_ID,
    NESTED_STACK,
    STACK_ID,
    aws,
    threetier,
)
from threetier import parameters as P
from threetier.deploy.commands import common
from threetier.deploy.rollback import NO_TRIGGERS
from threetier.deploy.session import make_clients as real_make_clients

OLD, NEW = "v1.0.0", "v1.1.0"
VALUES = {"ProjectName": "shop", "EnvironmentName": ENV, "AppRepositoryRef": OLD, "AsgMinSize": "2",
          "AsgMaxSize": "4"}


@pytest.fixture
def project(tmp_path):
    root = root_template()
    for param in (P.APP_REPOSITORY_REF, P.ASG_MIN_SIZE, P.ASG_MAX_SIZE):
        root.add_parameter(param.to_parameter())
    return write_project(tmp_path, templates={"main.yaml": root, "app.yaml": app_template()}, parameters=VALUES)


def deployed_with_values_then_change_set(aws, parameters=ANY):
    """The stack runs VALUES; the change set is created (with `parameters`)."""
    response = r.stack(STACK_NAME, "UPDATE_COMPLETE")
    response["Stacks"][0]["Parameters"] = [{"ParameterKey": k, "ParameterValue": v} for k, v in VALUES.items()]
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": STACK_NAME})
    aws.templates_already_uploaded()
    aws.cfn_stub.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID}, {
        "StackName": STACK_NAME, "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "TemplateURL": ANY,
        "Parameters": parameters, "Capabilities": ANY, "IncludeNestedStacks": True, "Description": ANY,
        "RollbackConfiguration": NO_TRIGGERS})


def released(aws, app_changes, data_changes=None):
    deployed_with_values_then_change_set(aws, [
        {"ParameterKey": k, "ParameterValue": NEW if k == "AppRepositoryRef" else v} for k, v in VALUES.items()])
    rows = [r.resource_change("Modify", "AppStack", "AWS::CloudFormation::Stack", PhysicalResourceId=NESTED_ID,
                              Replacement="False", ChangeSetId=NESTED_CHANGE_SET,
                              Details=[r.property_detail("Parameters")])]
    if data_changes:
        rows.append(r.resource_change("Modify", "DataStack", "AWS::CloudFormation::Stack", Replacement="False",
                                      Details=[r.property_detail("Parameters")]))
    aws.change_set_described(r.change_set(STACK_NAME, rows))
    aws.change_set_described(r.change_set(NESTED_STACK, app_changes, change_set_id=NESTED_CHANGE_SET,
                                          stack_id=NESTED_ID), change_set_id=NESTED_CHANGE_SET)


APP_CHANGES = [
    r.resource_change("Modify", "AppLaunchTemplate", "AWS::EC2::LaunchTemplate", PhysicalResourceId="lt-1",
                      Replacement="False", Details=[r.property_detail("LaunchTemplateData")]),
    r.resource_change("Modify", "AppAutoScalingGroup", "AWS::AutoScaling::AutoScalingGroup",
                      PhysicalResourceId="asg-1", Replacement="Conditional",
                      Details=[r.property_detail("LaunchTemplate", "Conditionally")]),
]


def test_release_edits_only_the_ref_and_plans_it_as_a_release(project, aws, capsys):
    before = json.loads((project / "parameters" / "dev.json").read_text())
    released(aws, APP_CHANGES)

    assert threetier(project, "release", ENV, NEW, "--bucket", BUCKET) == 0

    after = json.loads((project / "parameters" / "dev.json").read_text())
    assert after == [{**e, "ParameterValue": NEW} if e["ParameterKey"] == "AppRepositoryRef" else e for e in before]
    captured = capsys.readouterr()
    assert f"AppRepositoryRef {OLD} -> {NEW}; commit the file" in captured.err
    out = captured.out
    assert f"Release: AppRepositoryRef {OLD} -> {NEW}" in out
    assert f"  - a new launch template version ({STACK_NAME}/AppStack/AppLaunchTemplate)" in out
    # However many target tracking runs now, from AsgMinSize to AsgMaxSize.
    assert ("  - rolling replacement of every server in service (2 to 4), one at a time, "
            "each signalling its health") in out
    assert f"  - a failed release rolls back to {OLD} by itself" in out
    assert "  - no data tier change" in out
    assert "ExecuteChangeSet" not in aws.calls


def test_a_release_that_also_changes_the_data_tier_says_so(project, aws, capsys):
    released(aws, APP_CHANGES, data_changes=True)

    assert threetier(project, "release", ENV, NEW, "--bucket", BUCKET, "--json") == 0

    found = json.loads(capsys.readouterr().out)["release"]
    assert found == {"parameter": "AppRepositoryRef", "from": OLD, "to": NEW, "servers": "2 to 4",
                     "launch_templates": [f"{STACK_NAME}/AppStack/AppLaunchTemplate"],
                     "data_tier_changes": [f"{STACK_NAME}/DataStack"]}


def test_a_ref_the_template_refuses_changes_nothing(project, aws, capsys):
    before = (project / "parameters" / "dev.json").read_text()

    assert threetier(project, "release", ENV, "-bad ref", "--bucket", BUCKET) == 2

    assert "AppRepositoryRef" in capsys.readouterr().err
    assert (project / "parameters" / "dev.json").read_text() == before
    assert aws.calls == []


def test_a_release_without_credentials_leaves_the_file_unchanged(project, aws, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(common, "make_clients", real_make_clients)  # real clients, no credentials anywhere
    before = (project / "parameters" / "dev.json").read_bytes()

    assert threetier(project, "release", ENV, NEW, "--bucket", BUCKET, "--region", "us-east-1",
                     "--endpoint-url", "http://127.0.0.1:9") == 2  # a precondition: found before any call

    err = capsys.readouterr().err
    assert "no AWS credentials found" in err and "commit the file" not in err
    assert (project / "parameters" / "dev.json").read_bytes() == before


def test_a_release_whose_change_set_aws_refuses_leaves_the_file_unchanged(project, aws, capsys):
    response = r.stack(STACK_NAME, "UPDATE_COMPLETE")
    response["Stacks"][0]["Parameters"] = [{"ParameterKey": k, "ParameterValue": v} for k, v in VALUES.items()]
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": STACK_NAME})
    aws.templates_already_uploaded()
    aws.cfn_stub.add_client_error("create_change_set", "InsufficientCapabilitiesException",
                                  "Requires capabilities : [CAPABILITY_IAM]")
    before = (project / "parameters" / "dev.json").read_bytes()

    assert threetier(project, "release", ENV, NEW, "--bucket", BUCKET) == 1

    assert "InsufficientCapabilitiesException" in capsys.readouterr().err
    assert (project / "parameters" / "dev.json").read_bytes() == before
    assert "CreateChangeSet" in aws.calls


def test_a_plain_plan_of_another_change_is_no_release(project, aws, capsys):
    deployed_with_values_then_change_set(aws)
    aws.change_set_described(r.change_set(STACK_NAME, [r.resource_change("Add", "T", "AWS::SNS::Topic")]))

    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 0
    assert "Release:" not in capsys.readouterr().out
