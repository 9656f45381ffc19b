"""The CloudFront prefix list lookup against the local moto server (it ships the AWS-managed lists)."""

from __future__ import annotations

import boto3

from tests.deploy.fixtures.project import ENV, STACK_NAME, app_template, write_project
from tests.deploy.test_deploy_moto import BUCKET, aws, threetier  # noqa: F401 (fixture)
from tests.deploy.test_validate_deploy import GOOD, root_with_real_parameters


def test_plan_passes_the_region_s_cloudfront_prefix_list_id(tmp_path, aws, capsys):  # noqa: F811
    templates = {"main.yaml": root_with_real_parameters(), "app.yaml": app_template()}
    project = write_project(tmp_path, templates=templates, parameters={**GOOD, "CloudFrontEnabled": "true"})
    ec2 = boto3.client("ec2", endpoint_url=aws.endpoint, region_name="us-east-1")
    [expected] = ec2.describe_managed_prefix_lists(Filters=[
        {"Name": "prefix-list-name", "Values": ["com.amazonaws.global.cloudfront.origin-facing"]}])["PrefixLists"]

    assert threetier(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    assert f"looked up com.amazonaws.global.cloudfront.origin-facing in us-east-1: {expected['PrefixListId']}" \
        in capsys.readouterr().err
    [summary] = aws.cfn.list_change_sets(StackName=STACK_NAME)["Summaries"]
    change_set = aws.cfn.describe_change_set(ChangeSetName=summary["ChangeSetId"])
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in change_set["Parameters"]}
    assert passed["CloudFrontPrefixListId"] == expected["PrefixListId"]
