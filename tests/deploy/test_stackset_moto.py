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
