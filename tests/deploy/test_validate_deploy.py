"""plan/deploy validate first (exit 2 before any AWS call), then look up the CloudFront prefix list.

The small deploy-test project gets a root with a few of the real parameter
definitions, so the cross-field checks that need them apply and the others
stay silent. AWS is botocore's Stubber: an unexpected call fails the test.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import (
    ENV,
    STACK_NAME,
    app_template,
    root_template,
    write_parameters,
    write_project,
)
from tests.deploy.test_deploy_stubbed import BUCKET, CHANGE_SET, STACK_ID, StubbedAws
from threetier import cli, parameters as P
from threetier.deploy.commands import common
from threetier.deploy.session import Clients

PREFIX_LIST = "pl-3b927c52"
FILTERS = [{"Name": "prefix-list-name", "Values": ["com.amazonaws.global.cloudfront.origin-facing"]}]
EXTRA = (P.NUMBER_OF_AZS, P.ASG_MIN_SIZE, P.ASG_MAX_SIZE, P.DB_MULTI_AZ,
         P.DB_DELETION_PROTECTION, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_PREFIX_LIST_ID)
GOOD = {"ProjectName": "shop", "EnvironmentName": ENV}


def root_with_real_parameters():
    t = root_template()
    for param in EXTRA:
        t.add_parameter(param.to_parameter())
    return t


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path, templates={"main.yaml": root_with_real_parameters(), "app.yaml": app_template()})


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                        "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    stubbed = StubbedAws()
    stubbed.ec2 = boto3.client("ec2", region_name="us-east-1")
    stubbed.ec2.meta.events.register("before-parameter-build.*.*", stubbed._record)
    stubbed.ec2_stub = Stubber(stubbed.ec2)
    regions = []

    def make_clients(region, profile, endpoint_url, role=None):
        regions.append(region or "us-east-1")
        return Clients(stubbed.cfn, stubbed.s3, regions[-1])

    monkeypatch.setattr(common, "make_clients", make_clients)
    monkeypatch.setattr(common, "bucket_region", lambda s3, bucket: regions[-1])  # where the stack goes
    monkeypatch.setattr(common, "make_ec2", lambda clients, profile: stubbed.ec2)
    monkeypatch.setattr(common, "sleep", stubbed.time.sleep)
    with stubbed.cfn_stub, stubbed.s3_stub, stubbed.ec2_stub:
        yield stubbed
        for stub in (stubbed.cfn_stub, stubbed.s3_stub, stubbed.ec2_stub):
            stub.assert_no_pending_responses()


def threetier(project, *argv) -> int:
    return cli.main(["--project-dir", str(project), *argv])


def new_stack_planned(aws, parameters: dict[str, str]) -> None:
    """A CREATE change set for a new stack with exactly `parameters`, computed on the first poll."""
    aws.stack_missing()
    aws.templates_already_uploaded()
    aws.cfn_stub.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID}, {
        "StackName": STACK_NAME, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "TemplateURL": ANY,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ANY, "IncludeNestedStacks": True, "Description": ANY, "OnStackFailure": "DELETE",
    })
    aws.change_set_described(r.change_set(STACK_NAME, [r.resource_change("Add", "Setting", "AWS::SSM::Parameter")]))


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_a_bad_combination_stops_plan_and_deploy_before_any_aws_call(project, aws, capsys, command):
    write_parameters(project, {**GOOD, "AsgMinSize": "5", "AsgMaxSize": "3", "Colour": "blue",
                               "CloudFrontEnabled": "true"})

    assert threetier(project, command, ENV, "--bucket", BUCKET, "--yes" if command == "deploy" else "--json") == 2

    err = capsys.readouterr().err
    assert "dev.json: Colour: not a parameter of the template" in err
    assert "dev.json: AsgMinSize='5': must be at most AsgMaxSize=3" in err
    assert "2 errors: nothing was sent to AWS" in err
    assert aws.calls == []  # not even the prefix list lookup


def test_a_file_that_still_sets_a_desired_capacity_stops_plan_before_any_aws_call(project, aws, capsys):
    write_parameters(project, {**GOOD, "AsgMinSize": "2", "AsgDesiredCapacity": "4", "AsgMaxSize": "6"})

    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 2

    err = capsys.readouterr().err
    assert "dev.json: AsgDesiredCapacity: no longer a parameter: CPU target tracking sets the number" in err
    assert "set AsgMinSize to the servers to start with and never go below" in err
    assert aws.calls == []


def test_plan_validates_for_the_region_it_deploys_to(project, aws, capsys):
    write_parameters(project, {**GOOD, "NumberOfAzs": "3"})

    assert threetier(project, "plan", ENV, "--bucket", BUCKET, "--region", "us-west-1") == 2

    assert "NumberOfAzs='3': us-west-1 has only 2 Availability Zones" in capsys.readouterr().err
    assert aws.calls == []


def test_prod_without_multi_az_needs_allow_insecure_then_plans_with_a_warning(project, aws, capsys):
    values = {**GOOD, "EnvironmentName": "prod", "DbMultiAz": "false"}
    write_parameters(project, values)

    assert threetier(project, "plan", ENV, "--bucket", BUCKET, "--stack-name", STACK_NAME) == 2
    assert "DbMultiAz='false': prod keeps a standby database in a second AZ: set it to true, or pass " \
           "--allow-insecure" in capsys.readouterr().err
    assert aws.calls == []

    new_stack_planned(aws, values)
    assert threetier(project, "plan", ENV, "--bucket", BUCKET, "--stack-name", STACK_NAME, "--allow-insecure") == 0
    assert "dev.json: warning: DbMultiAz='false'" in capsys.readouterr().err


def test_plan_looks_up_the_cloudfront_prefix_list_and_passes_it(project, aws, capsys):
    write_parameters(project, {**GOOD, "CloudFrontEnabled": "true"})
    aws.ec2_stub.add_response("describe_managed_prefix_lists", {"PrefixLists": [{
        "PrefixListId": PREFIX_LIST, "PrefixListName": "com.amazonaws.global.cloudfront.origin-facing",
        "AddressFamily": "IPv4", "State": "create-complete", "OwnerId": "AWS",
    }]}, {"Filters": FILTERS})
    new_stack_planned(aws, {**GOOD, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST})

    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 0

    err = capsys.readouterr().err
    assert (f"CloudFrontPrefixListId: looked up com.amazonaws.global.cloudfront.origin-facing in us-east-1: "
            f"{PREFIX_LIST}") in err
    assert aws.calls[:2] == ["DescribeManagedPrefixLists", "DescribeStacks"]


def test_an_empty_prefix_list_id_in_the_file_is_filled_in_too(project, aws, capsys):
    write_parameters(project, {**GOOD, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": ""})
    aws.ec2_stub.add_response("describe_managed_prefix_lists", {"PrefixLists": [{"PrefixListId": PREFIX_LIST}]},
                              {"Filters": FILTERS})
    new_stack_planned(aws, {**GOOD, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST})

    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 0


def test_a_prefix_list_id_in_the_file_is_used_as_given(project, aws):
    values = {**GOOD, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-0123456789abcdef0"}
    write_parameters(project, values)
    new_stack_planned(aws, values)

    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 0
    assert "DescribeManagedPrefixLists" not in aws.calls


def test_without_cloudfront_nothing_is_looked_up(project, aws):
    new_stack_planned(aws, GOOD)
    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 0
    assert "DescribeManagedPrefixLists" not in aws.calls


def test_a_region_without_the_prefix_list_is_a_failure(project, aws, capsys):
    write_parameters(project, {**GOOD, "CloudFrontEnabled": "true"})
    aws.ec2_stub.add_response("describe_managed_prefix_lists", {"PrefixLists": []}, {"Filters": FILTERS})

    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 1

    assert "no managed prefix list com.amazonaws.global.cloudfront.origin-facing in us-east-1: set " \
           "CloudFrontPrefixListId in dev.json yourself" in capsys.readouterr().err
    assert aws.calls == ["DescribeManagedPrefixLists"]


def test_a_refused_lookup_is_reported_like_any_aws_error(project, aws, capsys):
    write_parameters(project, {**GOOD, "CloudFrontEnabled": "true"})
    aws.ec2_stub.add_client_error("describe_managed_prefix_lists", "UnauthorizedOperation",
                                  "You are not authorized to perform this operation.")

    assert threetier(project, "plan", ENV, "--bucket", BUCKET) == 1

    assert "AWS said UnauthorizedOperation" in capsys.readouterr().err
