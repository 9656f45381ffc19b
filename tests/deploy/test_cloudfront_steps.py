"""plan/deploy turn CloudFront on for a deployed stack in two deploys (threetier.review.cloudfrontsteps).

The deployed stack's parameters say where it stands: CloudFront off, so this deploy is step 1
and sends CloudFrontOnly=false whatever the file says; CloudFront on with CloudFrontOnly false,
so this one is step 2 and sends true. A new stack, or one already closed, is no step.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY
from troposphere import Parameter

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, app_template, root_template, write_project
from tests.deploy.test_deploy_stubbed import (  # noqa: F401 (aws is a fixture)
    CHANGE_SET,
    STACK_ID,
    aws,
    deploy,
    plan,
    threetier,
)
from threetier.deploy.rollback import NO_TRIGGERS

PREFIX_LIST = "pl-3b927c52"
FILE = {"ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "CloudFrontEnabled": "true",
        "CloudFrontPrefixListId": PREFIX_LIST}


def project_with_cloudfront(tmp_path, values: dict[str, str] = FILE):
    root = root_template()
    root.add_parameter(Parameter("CloudFrontEnabled", Type="String", Default="false", AllowedValues=["true", "false"]))
    root.add_parameter(Parameter("CloudFrontOnly", Type="String", Default="true", AllowedValues=["true", "false"]))
    root.add_parameter(Parameter("CloudFrontPrefixListId", Type="String", Default=""))
    return write_project(tmp_path, {"main.yaml": root, "app.yaml": app_template()}, values)


def deployed_with(aws, **values: str):  # noqa: F811
    response = r.stack(STACK_NAME, "UPDATE_COMPLETE")
    response["Stacks"][0]["Parameters"] = [{"ParameterKey": key, "ParameterValue": value} for key, value in
                                           {"ProjectName": PROJECT_NAME, "EnvironmentName": ENV, **values}.items()]
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": STACK_NAME})


def change_set_sends(aws, parameters: dict[str, str], changes: list[dict]):  # noqa: F811
    """The rest of a plan over a deployed stack: the upload check, the change set with exactly
    `parameters`, one pending poll and the changes."""
    aws.templates_already_uploaded()
    aws.cfn_stub.add_response(
        "create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID},
        {"StackName": STACK_NAME, "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "TemplateURL": ANY,
         "Parameters": [{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
         "Capabilities": ["CAPABILITY_IAM"], "IncludeNestedStacks": True,
         "Description": ANY, "RollbackConfiguration": NO_TRIGGERS},
    )
    aws.change_set_described(r.change_set(STACK_NAME, [], status="CREATE_IN_PROGRESS"))
    aws.change_set_described(r.change_set(STACK_NAME, changes))


# What CloudFormation's change sets say in each step (the nested stacks' rows, shortened).
STEP_1_CHANGES = [
    r.resource_change("Add", "Distribution", "AWS::CloudFront::Distribution"),
    r.resource_change("Add", "AlbCloudFrontSecurityGroup", "AWS::EC2::SecurityGroup"),
    r.resource_change("Modify", "SiteAliasRecord", "AWS::Route53::RecordSet", Replacement="False",
                      Details=[r.property_detail("AliasTarget")]),
]
STEP_2_CHANGES = [
    r.resource_change("Remove", "AlbHttpIngress", "AWS::EC2::SecurityGroupIngress", PhysicalResourceId="sgr-1"),
    r.resource_change("Remove", "AlbHttpsIngress", "AWS::EC2::SecurityGroupIngress", PhysicalResourceId="sgr-2"),
    r.resource_change("Modify", "HttpsListener", "AWS::ElasticLoadBalancingV2::Listener", Replacement="False",
                      Details=[r.property_detail("DefaultActions")]),
]


def test_step_1_keeps_the_load_balancer_open_and_says_the_next_deploy_finishes(tmp_path, aws, capsys):  # noqa: F811
    project = project_with_cloudfront(tmp_path)
    deployed_with(aws, CloudFrontEnabled="false", CloudFrontPrefixListId="")
    change_set_sends(aws, {**FILE, "CloudFrontOnly": "false"}, STEP_1_CHANGES)

    assert plan(project) == 0

    out = capsys.readouterr().out
    assert "CloudFront on, step 1 of 2: this deploy sends CloudFrontOnly=false." in out
    assert "the load balancer still answers everyone directly" in out
    assert f"Step 2: run `threetier deploy {ENV}` again once this one is complete" in out
    # The file keeps the goal: CloudFrontOnly is not written into it.
    written = json.loads((project / "parameters" / f"{ENV}.json").read_text())
    assert "CloudFrontOnly" not in {entry["ParameterKey"] for entry in written}


def test_step_2_is_the_next_deploy_and_closes_the_load_balancer(tmp_path, aws, capsys):  # noqa: F811
    project = project_with_cloudfront(tmp_path)
    deployed_with(aws, CloudFrontEnabled="true", CloudFrontPrefixListId=PREFIX_LIST, CloudFrontOnly="false")
    change_set_sends(aws, {**FILE, "CloudFrontOnly": "true"}, STEP_2_CHANGES)

    assert plan(project) == 0

    out = capsys.readouterr().out
    assert "CloudFront on, step 2 of 2: this deploy sends CloudFrontOnly=true" in out
    assert "403 without the origin header" in out
    assert "step 1 of 2" not in out


def test_deploy_of_step_1_says_to_deploy_again(tmp_path, aws, capsys):  # noqa: F811
    project = project_with_cloudfront(tmp_path)
    deployed_with(aws, CloudFrontEnabled="false")
    change_set_sends(aws, {**FILE, "CloudFrontOnly": "false"}, STEP_1_CHANGES)
    finished_update(aws)

    assert deploy(project, "--yes") == 0

    out = capsys.readouterr().out
    assert "CloudFront step 1 of 2 is done" in out
    assert f"Run `threetier deploy {ENV}` again to finish" in out


def test_plan_json_names_the_step(tmp_path, aws, capsys):  # noqa: F811
    project = project_with_cloudfront(tmp_path)
    deployed_with(aws, CloudFrontEnabled="false")
    change_set_sends(aws, {**FILE, "CloudFrontOnly": "false"}, STEP_1_CHANGES)

    assert plan(project, "--json") == 0

    review = json.loads(capsys.readouterr().out)
    assert review["cloudfront_step"] == {"step": 1, "of": 2, "CloudFrontOnly": "false"}


@pytest.mark.parametrize("deployed", [
    {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST},  # already closed (the default)
    {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST, "CloudFrontOnly": "true"},
])
def test_a_stack_already_behind_cloudfront_is_no_step(tmp_path, aws, capsys, deployed):  # noqa: F811
    project = project_with_cloudfront(tmp_path)
    deployed_with(aws, **deployed)
    change_set_sends(aws, FILE, [r.resource_change("Modify", "Setting", "AWS::SSM::Parameter", Replacement="False",
                                                   Details=[r.property_detail("Value")])])

    assert plan(project) == 0
    assert "CloudFront on, step" not in capsys.readouterr().out


def test_a_new_stack_starts_closed(tmp_path, aws, capsys):  # noqa: F811
    project = project_with_cloudfront(tmp_path)
    aws.stack_missing()
    aws.templates_already_uploaded()
    aws.cfn_stub.add_response(
        "create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID},
        {"StackName": STACK_NAME, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "TemplateURL": ANY,
         "Parameters": [{"ParameterKey": key, "ParameterValue": value} for key, value in FILE.items()],
         "Capabilities": ["CAPABILITY_IAM"], "IncludeNestedStacks": True,
         "Description": ANY, "OnStackFailure": "DELETE"},
    )
    aws.change_set_described(r.change_set(STACK_NAME, [], status="CREATE_IN_PROGRESS"))
    aws.change_set_described(r.change_set(STACK_NAME, STEP_1_CHANGES))

    assert plan(project) == 0
    assert "CloudFront on, step" not in capsys.readouterr().out


def test_turning_cloudfront_off_is_one_deploy(tmp_path, aws, capsys):  # noqa: F811
    values = {**FILE, "CloudFrontEnabled": "false"}
    project = project_with_cloudfront(tmp_path, values)
    deployed_with(aws, CloudFrontEnabled="true", CloudFrontPrefixListId=PREFIX_LIST)
    change_set_sends(aws, values, STEP_2_CHANGES)

    assert plan(project) == 0
    assert "CloudFront on, step" not in capsys.readouterr().out


def test_the_deploy_after_step_1_reads_what_step_1_sent_and_is_step_2(tmp_path, aws, capsys):  # noqa: F811
    """Two deploys of the same file: the second reads the deployed stack as the first left it. (moto
    cannot show this: its change sets see no change in a parameter-only update.)"""
    project = project_with_cloudfront(tmp_path)
    sent: list[list[dict]] = []
    aws.cfn.meta.events.register("before-parameter-build.cloudformation.CreateChangeSet",
                                 lambda params, **_: sent.append(params["Parameters"]))

    deployed_with(aws, CloudFrontEnabled="false")
    change_set_sends(aws, {**FILE, "CloudFrontOnly": "false"}, STEP_1_CHANGES)
    finished_update(aws)
    assert deploy(project, "--yes") == 0
    assert "CloudFront step 1 of 2 is done" in capsys.readouterr().out

    deployed_with(aws, **{p["ParameterKey"]: p["ParameterValue"] for p in sent[-1]})
    change_set_sends(aws, {**FILE, "CloudFrontOnly": "true"}, STEP_2_CHANGES)
    finished_update(aws)
    assert deploy(project, "--yes") == 0
    out = capsys.readouterr().out
    assert "CloudFront on, step 2 of 2" in out and "CloudFront step 2 of 2 is done" in out


def finished_update(aws):  # noqa: F811
    aws.execution(
        baseline=[r.stack_event(STACK_NAME, -60, "UPDATE_COMPLETE")],
        polls=[{STACK_ID: [r.stack_event(STACK_NAME, 1, "UPDATE_IN_PROGRESS", "User Initiated"),
                           r.stack_event(STACK_NAME, 600, "UPDATE_COMPLETE")]}],
        final_status="UPDATE_COMPLETE",
    )


@pytest.mark.parametrize("values,halfway", [
    ({"CloudFrontEnabled": "true", "CloudFrontOnly": "false"}, True),
    ({"CloudFrontEnabled": "true", "CloudFrontOnly": "true"}, False),
    ({"CloudFrontEnabled": "true"}, False),  # a stack from before CloudFrontOnly: closed
    ({"CloudFrontEnabled": "false"}, False),
])
def test_status_says_when_step_1_left_the_load_balancer_open(tmp_path, aws, capsys, values, halfway):  # noqa: F811
    project = project_with_cloudfront(tmp_path)
    deployed_with(aws, **values)

    assert threetier(project, "status", ENV) == 0

    out = capsys.readouterr().out
    assert ("CDN:     CloudFront step 1 of 2: the load balancer still answers everyone directly" in out) is halfway
    assert (f"`threetier deploy {ENV}` finishes it" in out) is halfway
