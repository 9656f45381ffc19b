"""plan and deploy list every missing precondition in one run (exit 2), against the local moto server."""

from __future__ import annotations

import pytest

from tests.deploy.fixtures.project import ENV, write_project
from tests.deploy.test_deploy_moto import BUCKET, aws  # noqa: F401 (fixture)
from threetier import cli

MOTO_ACCOUNT = "123456789012"  # the account moto's STS answers with
OTHER_ACCOUNT = "111122223333"


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


def run(project, aws, *argv) -> int:  # noqa: F811
    return cli.main(["--project-dir", str(project), *argv, "--endpoint-url", aws.endpoint])


def listed(err: str) -> list[str]:
    return [line.removeprefix("  - ") for line in err.splitlines() if line.startswith("  - ")]


def stacks(aws) -> list[str]:  # noqa: F811
    return [s["StackName"] for s in aws.cfn.describe_stacks()["Stacks"]]


@pytest.mark.parametrize("command", [["plan", ENV], ["deploy", ENV, "--yes"]])
def test_with_nothing_set_up_bucket_region_and_credentials_are_listed_in_one_run(project, aws, monkeypatch,  # noqa: F811
                                                                                   capsys, command):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)

    assert run(project, aws, *command) == 2

    err = capsys.readouterr().err
    assert f"threetier {command[0]}: 3 things to fix before {command[0]} dev can run (nothing was changed):" in err
    problems = listed(err)
    assert [problem.split(":")[0] for problem in problems] == [
        "no template bucket", "no AWS region", "no AWS credentials found"]
    assert "aws s3 mb s3://NAME --region REGION" in problems[0]
    assert "pass --region, set AWS_REGION" in problems[1]
    assert "aws configure" in problems[2]
    assert stacks(aws) == []


def test_a_wrong_account_and_no_bucket_are_listed_together(project, aws, capsys):  # noqa: F811
    (project / "threetier.toml").write_text(f'[dev]\naccount_id = "{OTHER_ACCOUNT}"\nregion = "us-east-1"\n')

    assert run(project, aws, "plan", ENV) == 2

    problems = listed(capsys.readouterr().err)
    assert len(problems) == 2
    assert problems[0].startswith("no template bucket: pass --bucket, or set bucket in the [dev] table")
    assert "aws s3 mb s3://NAME --region us-east-1" in problems[0]
    assert problems[1].startswith(f"these credentials are for account {MOTO_ACCOUNT}, but dev is pinned to "
                                  f"account {OTHER_ACCOUNT}")


def test_a_bucket_that_does_not_exist_is_named_before_anything_is_resolved(project, aws, capsys):  # noqa: F811
    assert run(project, aws, "plan", ENV, "--region", "us-east-1", "--bucket", "no-such-bucket") == 2

    err = capsys.readouterr().err
    assert "threetier plan: bucket no-such-bucket: AWS said NoSuchBucket" in err
    assert "create it in the deploy region" in err
    assert not (project / "parameters" / "dev.pins.json").exists()
    assert stacks(aws) == []


def test_a_bucket_in_another_region_is_refused_before_any_upload(project, aws, capsys):  # noqa: F811
    aws.s3.create_bucket(Bucket="far-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    assert run(project, aws, "plan", ENV, "--region", "us-east-1", "--bucket", "far-bucket") == 2

    assert ("bucket far-bucket is in eu-west-1, the stack would be in us-east-1: use a bucket in us-east-1"
            in capsys.readouterr().err)
    assert not aws.s3.list_objects_v2(Bucket="far-bucket").get("Contents")


def test_with_everything_set_up_the_plan_goes_on(project, aws, capsys):  # noqa: F811
    assert run(project, aws, "plan", ENV, "--region", "us-east-1", "--bucket", BUCKET) == 0


def test_a_bad_parameter_file_is_reported_before_any_aws_call(project, aws, monkeypatch, capsys):  # noqa: F811
    """Bad input first: with the account pinned wrong and the bucket missing, a parameter file validate
    refuses is listed beside the missing bucket, and neither STS nor S3 is asked."""
    from tests.deploy.fixtures.project import write_parameters
    from threetier.deploy.commands import common
    write_parameters(project, {"ProjectName": "Shop!", "EnvironmentName": ENV})
    (project / "threetier.toml").write_text(f'[dev]\naccount_id = "{OTHER_ACCOUNT}"\nregion = "us-east-1"\n')
    asked = []
    monkeypatch.setattr(common, "check_pinned_account", lambda args, clients: asked.append("sts"))
    monkeypatch.setattr(common, "bucket_region", lambda s3, bucket: asked.append("s3"))

    assert run(project, aws, "plan", ENV) == 2

    problems = listed(capsys.readouterr().err)
    assert problems[0].startswith("no template bucket")
    assert any("ProjectName" in problem for problem in problems[1:]), problems
    assert not any(problem.startswith("these credentials are for account") for problem in problems)
    assert asked == [] and stacks(aws) == []
