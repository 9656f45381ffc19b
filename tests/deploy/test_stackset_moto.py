"""`threetier stackset` against moto's StackSets API: a two-account, two-region rollout, its review, drift
refused for lack of a model (Stubber tests cover it), delete with retained data named."""

from __future__ import annotations

import json

import pytest

from tests.deploy.fixtures.project import ENV, STACK_NAME, write_project
from tests.deploy.test_deploy_moto import BUCKET, aws  # noqa: F401 (fixture)
from threetier import cli

ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("eu-west-1", "eu-central-1")


def settings(extra: str = "", tolerance: str = "") -> str:
    return (f'[{ENV}]\nregion = "us-east-1"\nbucket = "{BUCKET}"\n'
            f'[{ENV}.stackset]\npermission_model = "self-managed"\nregions = {json.dumps(list(REGIONS))}\n{tolerance}'
            f'[[{ENV}.stackset.targets]]\naccounts = ["{ACCOUNTS[0]}"]\n'
            f'[[{ENV}.stackset.targets]]\naccounts = ["{ACCOUNTS[1]}"]\n'
            + extra)


@pytest.fixture
def project(tmp_path):
    root = write_project(tmp_path)
    (root / "threetier.toml").write_text(settings())
    return root


def org_readable(aws, bucket=BUCKET):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "OrganizationReadsTemplates", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}}]}
    aws.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def stackset(project, aws, *argv) -> int:
    return cli.main(["--project-dir", str(project), "stackset", *argv, "--endpoint-url", aws.endpoint])


def test_a_two_account_two_region_rollout_creates_four_instances_region_by_region(project, aws, capsys):
    org_readable(aws)

    assert stackset(project, aws, "deploy", ENV, "--yes") == 0

    out = capsys.readouterr().out
    assert f"Stack set {STACK_NAME} (self-managed, administered from us-east-1): create" in out
    assert "regions eu-west-1 > eu-central-1 (sequential), 1 account(s) at a time, failure tolerance 0" in out
    for account in ACCOUNTS:
        for region in REGIONS:
            assert f"{account} {region} (target {ACCOUNTS.index(account) + 1}): new stack instance" in out
            assert f"{account} {region}: SUCCEEDED" in out
    listed = aws.cfn.list_stack_instances(StackSetName=STACK_NAME)["Summaries"]
    assert sorted((i["Account"], i["Region"]) for i in listed) == sorted(
        (a, r) for a in ACCOUNTS for r in REGIONS)
    # One operation per target, each in the settings' region order.
    operations = aws.cfn.list_stack_set_operations(StackSetName=STACK_NAME)["Summaries"]
    assert [o["Action"] for o in operations] == ["CREATE", "CREATE"]
    assert out.index(f"{ACCOUNTS[0]} eu-west-1: SUCCEEDED") < out.index(f"{ACCOUNTS[0]} eu-central-1: SUCCEEDED")


def test_the_rotation_code_is_copied_to_each_regions_bucket_and_passed_by_fn_sub(aws, capsys):
    from threetier.deploy import stacksetcode
    from threetier.deploy.package import parse_template
    from threetier.deploy.stacksettargets import parse

    targets = parse({"permission_model": "self-managed", "regions": list(REGIONS), "code_bucket": "shop-code-${AWS::Region}",
                     "targets": [{"accounts": [ACCOUNTS[0]]}]})
    for region in REGIONS:
        aws.s3.create_bucket(Bucket=f"shop-code-{region}", CreateBucketConfiguration={"LocationConstraint": region})
    aws.s3.put_object(Bucket=BUCKET, Key="threetier/rotation-3f9a.zip", Body=b"zip bytes")
    root = ("Resources:\n  AppStack:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
            "      TemplateURL: https://templates-bucket.s3.us-east-1.amazonaws.com/threetier/app-1.yaml\n"
            "      Parameters:\n        RotationCodeBucket: 'templates-bucket'\n"
            "        RotationCodeKey: 'threetier/rotation-3f9a.zip'\n")

    class Clients:
        s3 = aws.s3

    text = stacksetcode.copy_to_each_region(Clients, targets, root, BUCKET)

    parameters = parse_template(text, "root")["Resources"]["AppStack"]["Properties"]["Parameters"]
    assert parameters["RotationCodeBucket"] == {"Fn::Sub": "shop-code-${AWS::Region}"}
    for region in REGIONS:
        body = aws.s3.get_object(Bucket=f"shop-code-{region}", Key="threetier/rotation-3f9a.zip")["Body"].read()
        assert body == b"zip bytes"


def test_a_second_deploy_updates_the_stack_set_and_changes_no_instance_list(project, aws, capsys):
    org_readable(aws)
    assert stackset(project, aws, "deploy", ENV, "--yes") == 0
    capsys.readouterr()

    assert stackset(project, aws, "deploy", ENV, "--yes") == 0

    out = capsys.readouterr().out
    assert f"Stack set {STACK_NAME} (self-managed, administered from us-east-1): update" in out
    assert "Template: unchanged" in out
    assert f"{ACCOUNTS[1]} {REGIONS[1]} (target 2), account {ACCOUNTS[1]} (CURRENT)" in out
    operations = aws.cfn.list_stack_set_operations(StackSetName=STACK_NAME)["Summaries"]
    assert [o["Action"] for o in operations] == ["CREATE", "CREATE", "UPDATE"]
    assert len(aws.cfn.list_stack_instances(StackSetName=STACK_NAME)["Summaries"]) == 4


def test_a_bucket_the_organization_cannot_read_stops_before_anything_is_created(project, aws, capsys):
    assert stackset(project, aws, "deploy", ENV, "--yes") == 2

    err = capsys.readouterr().err
    assert f"bucket {BUCKET}: it has no bucket policy, so other accounts of the organization cannot read" in err
    assert '"aws:PrincipalOrgID": "o-your-org-id"' in err
    assert aws.cfn.list_stack_sets()["Summaries"] == []
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=BUCKET)


def test_delete_removes_the_instances_then_the_stack_set(project, aws, capsys):
    org_readable(aws)
    assert stackset(project, aws, "deploy", ENV, "--yes") == 0

    assert stackset(project, aws, "delete", ENV, "--yes") == 0

    # moto refuses DeleteStackSet while instances remain (StackSetNotEmptyException), as AWS does.
    assert [s["Status"] for s in aws.cfn.list_stack_sets()["Summaries"]] == ["DELETED"]
    assert "deleting the stack instances: operation" in capsys.readouterr().out


def test_a_bucket_anyone_can_read_is_refused_too(project, aws, capsys):
    org_readable(aws)
    policy = json.loads(aws.s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    policy["Statement"].append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    aws.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))

    assert stackset(project, aws, "review", ENV) == 2

    assert (f"bucket {BUCKET}: its policy lets anyone read its objects (statement PublicRead): the organization "
            "only, with aws:PrincipalOrgID") in capsys.readouterr().err
