"""`threetier leftovers ENV` against a local moto server: a deployed then deleted environment leaves its
retained log group behind; what a failed first create leaves (a KMS key, a bucket with objects, a secret,
a file system, a final snapshot, the hosted zone) is made directly with the environment's tags, because
moto cannot fail a create the way CloudFormation does (it has no failure states, and a tagged
AWS::KMS::Key in a template is an HTTP 500 in moto 5.2.5)."""

from __future__ import annotations

import io
import sys

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, write_parameters, write_project
from tests.deploy.test_deploy_moto import BUCKET, fresh_moto, threetier
from threetier.deploy import leftovers

TAGS = {"Project": PROJECT_NAME, "Environment": ENV}
DOMAIN = "shop.example.com"
SNAPSHOT = f"{STACK_NAME}-datastack-1abc-dbinstance-final"


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    moto = fresh_moto(moto_endpoint, monkeypatch)
    for service in ("kms", "secretsmanager", "efs", "rds", "route53"):
        setattr(moto, service, boto3.client(service, endpoint_url=moto_endpoint, region_name="us-east-1"))
    return moto


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


def deployed_then_deleted(project, aws, capsys):
    """The test project's stack, created and deleted: its Retain log group shop-dev-app stays."""
    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0
    assert threetier(project, aws, "delete", ENV, "--yes") == 0
    capsys.readouterr()


def failed_create_leftovers(aws) -> dict[str, str]:
    """What the real templates retain, tagged as they tag it; returns their names."""
    tag_list = [{"Key": k, "Value": v} for k, v in TAGS.items()]
    key = aws.kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])["KeyMetadata"]["KeyId"]
    aws.s3.create_bucket(Bucket="shop-dev-alb-logs")
    aws.s3.put_bucket_tagging(Bucket="shop-dev-alb-logs", Tagging={"TagSet": tag_list})
    aws.s3.put_object(Bucket="shop-dev-alb-logs", Key="AWSLogs/1.gz", Body=b"log")
    aws.s3.create_bucket(Bucket="shop-dev-cf-logs")
    aws.s3.put_bucket_tagging(Bucket="shop-dev-cf-logs", Tagging={"TagSet": tag_list})
    secret = aws.secretsmanager.create_secret(Name="shop-dev-db-master", SecretString="x", Tags=tag_list)["Name"]
    fs = aws.efs.create_file_system(CreationToken="t", Tags=tag_list)["FileSystemId"]
    aws.rds.create_db_instance(DBInstanceIdentifier="shop-dev-db", DBInstanceClass="db.t3.micro", Engine="mysql",
                               MasterUsername="admin", MasterUserPassword="password1",  # pragma: allowlist secret
                               AllocatedStorage=20)
    aws.rds.create_db_snapshot(DBInstanceIdentifier="shop-dev-db", DBSnapshotIdentifier=SNAPSHOT)
    aws.rds.delete_db_instance(DBInstanceIdentifier="shop-dev-db", SkipFinalSnapshot=True)
    zone = aws.route53.create_hosted_zone(Name=DOMAIN, CallerReference="r")["HostedZone"]["Id"].rsplit("/", 1)[-1]
    aws.route53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone, AddTags=tag_list)
    aws.route53.create_hosted_zone(Name="other.example.com", CallerReference="o")  # someone else's
    return {"key": key, "secret": secret, "fs": fs, "zone": zone}


def with_domain(project):
    """parameters/dev.json as the real project's, with the domain whose zone the dns stack creates."""
    write_parameters(project, {"ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "DomainName": DOMAIN})


def listed(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Left by"))
    return [line.split()[0:2] for line in lines[start + 1:] if line.startswith("  ")]


def test_a_deleted_environment_lists_its_retained_log_group_and_deletes_nothing(project, aws, capsys):
    deployed_then_deleted(project, aws, capsys)

    assert threetier(project, aws, "leftovers", ENV) == 0

    out = capsys.readouterr().out
    assert f"Left by {STACK_NAME} in us-east-1 (1):\n  log group    {STACK_NAME}-app\n" in out
    assert "Nothing was deleted." in out
    assert [g["logGroupName"] for g in aws.logs.describe_log_groups()["logGroups"]] == [f"{STACK_NAME}-app"]


def test_what_is_named_like_the_stack_but_tagged_for_another_environment_is_not_listed(project, aws, capsys):
    deployed_then_deleted(project, aws, capsys)
    # Environment dev-eu's stack shop-dev-eu names its log groups and snapshots with shop-dev- too.
    aws.logs.create_log_group(logGroupName=f"{STACK_NAME}-eu-AppLogGroup-1",
                              tags={"Project": PROJECT_NAME, "Environment": "dev-eu"})
    aws.rds.create_db_instance(DBInstanceIdentifier="shop-dev-eu-db", DBInstanceClass="db.t3.micro", Engine="mysql",
                               MasterUsername="admin", MasterUserPassword="password1",  # pragma: allowlist secret
                               AllocatedStorage=20)
    aws.rds.create_db_snapshot(DBInstanceIdentifier="shop-dev-eu-db", DBSnapshotIdentifier="shop-dev-eu-final",
                               Tags=[{"Key": "Environment", "Value": "dev-eu"}])

    assert threetier(project, aws, "leftovers", ENV, "--delete", "--yes") == 0

    out = capsys.readouterr().out
    assert f"Left by {STACK_NAME} in us-east-1 (1):\n  log group    {STACK_NAME}-app\n" in out
    assert "dev-eu" not in out
    assert [g["logGroupName"] for g in aws.logs.describe_log_groups()["logGroups"]] == [
        f"{STACK_NAME}-eu-AppLogGroup-1"]
    assert aws.rds.describe_db_snapshots(DBSnapshotIdentifier="shop-dev-eu-final")["DBSnapshots"]


def test_refused_while_the_stack_exists(project, aws, capsys):
    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0
    capsys.readouterr()

    assert threetier(project, aws, "leftovers", ENV, "--delete", "--yes") == 1

    err = capsys.readouterr().err
    assert f"stack {STACK_NAME} still exists (CREATE_COMPLETE)" in err
    assert f"`threetier delete {ENV}`; nothing was listed or deleted." in err
    assert [g["logGroupName"] for g in aws.logs.describe_log_groups()["logGroups"]] == [f"{STACK_NAME}-app"]


def test_everything_a_failed_create_leaves_is_listed_by_tags_and_names(project, aws, capsys):
    names = failed_create_leftovers(aws)
    with_domain(project)

    assert threetier(project, aws, "leftovers", ENV) == 0

    out = capsys.readouterr().out
    assert listed(out) == [
        ["bucket", "shop-dev-alb-logs"], ["bucket", "shop-dev-cf-logs"], ["secret", names["secret"]],
        ["file", "system"], ["snapshot", SNAPSHOT], ["hosted", "zone"], ["KMS", "key"],
    ]
    assert "shop-dev-alb-logs  (1 objects or versions)" in out
    assert f"{names['zone']} {DOMAIN}." in out and "other.example.com" not in out
    assert names["key"] in out and names["fs"] in out


def test_delete_without_data_choices_deletes_only_what_holds_no_data(project, aws, capsys):
    names = failed_create_leftovers(aws)
    with_domain(project)

    assert threetier(project, aws, "leftovers", ENV, "--delete", "--yes") == 3

    captured = capsys.readouterr()
    assert "  bucket shop-dev-cf-logs: deleted (it was empty)" in captured.out
    assert f"  KMS key {names['key']}: scheduled for deletion on " in captured.out
    assert ("kept 5 that hold data; pass --delete-data buckets file-systems hosted-zones secrets snapshots"
            in captured.err)
    assert aws.kms.describe_key(KeyId=names["key"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert [b["Name"] for b in aws.s3.list_buckets()["Buckets"]] == [BUCKET, "shop-dev-alb-logs"]
    assert "DeletedDate" not in aws.secretsmanager.describe_secret(SecretId=names["secret"])
    assert aws.efs.describe_file_systems()["FileSystems"]
    assert aws.rds.describe_db_snapshots(DBSnapshotIdentifier=SNAPSHOT)["DBSnapshots"]


def test_delete_with_every_data_choice_deletes_each_named(project, aws, capsys):
    names = failed_create_leftovers(aws)
    with_domain(project)

    assert threetier(project, aws, "leftovers", ENV, "--delete", "--yes", "--delete-data", "buckets", "secrets",
                     "file-systems", "snapshots", "hosted-zones") == 0

    out = capsys.readouterr().out
    assert "  bucket shop-dev-alb-logs: deleted with 1 objects or versions" in out
    assert f"  secret {names['secret']}: scheduled for deletion on " in out
    assert f"  file system {names['fs']}: deleted with its data" in out
    assert f"  snapshot {SNAPSHOT}: deleted" in out
    assert [b["Name"] for b in aws.s3.list_buckets()["Buckets"]] == [BUCKET]
    assert aws.secretsmanager.describe_secret(SecretId=names["secret"])["DeletedDate"]
    assert aws.efs.describe_file_systems()["FileSystems"] == []
    assert aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
    assert [z["Name"] for z in aws.route53.list_hosted_zones()["HostedZones"]] == ["other.example.com."]

    # What is scheduled is listed as such, and a second run deletes nothing more.
    assert threetier(project, aws, "leftovers", ENV, "--delete", "--yes") == 0
    out = capsys.readouterr().out
    assert "deletion scheduled for" in out and ": deleted" not in out


def test_nothing_is_deleted_without_confirmation(project, aws, capsys, monkeypatch):
    failed_create_leftovers(aws)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    assert threetier(project, aws, "leftovers", ENV, "--delete", "--delete-data", "buckets") == 1

    assert "Pass --yes to delete them." in capsys.readouterr().err
    assert len(aws.s3.list_buckets()["Buckets"]) == 3


def test_delete_data_without_delete_is_a_usage_error(project, aws, capsys):
    assert threetier(project, aws, "leftovers", ENV, "--delete-data", "buckets") == 2
    assert "pass --delete too" in capsys.readouterr().err


def test_nothing_left(project, aws, capsys):
    assert threetier(project, aws, "leftovers", ENV) == 0
    assert f"Nothing left by {STACK_NAME}" in capsys.readouterr().out


def test_a_file_system_with_mount_targets_is_named_and_not_deleted(project, aws, capsys):
    names = failed_create_leftovers(aws)
    ec2 = boto3.client("ec2", endpoint_url=aws.endpoint, region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    aws.efs.create_mount_target(FileSystemId=names["fs"], SubnetId=subnet)

    assert threetier(project, aws, "leftovers", ENV, "--delete", "--yes", "--delete-data", "file-systems") == 1

    captured = capsys.readouterr()
    assert f"Not deleted: file system {names['fs']}: 1 mount targets: delete them first." in captured.out
    assert "1 could not be deleted" in captured.err
    assert aws.efs.describe_file_systems(FileSystemId=names["fs"])["FileSystems"]


def test_a_deletion_aws_refuses_is_named_with_its_reason_and_the_others_go_on(project, aws, capsys, monkeypatch):
    names = failed_create_leftovers(aws)
    real_delete = leftovers.Deleter.delete

    def refuse_the_key(deleter, left):
        if left.kind == leftovers.KMS_KEY:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
                              "ScheduleKeyDeletion")
        return real_delete(deleter, left)

    monkeypatch.setattr(leftovers.Deleter, "delete", refuse_the_key)

    assert threetier(project, aws, "leftovers", ENV, "--delete", "--yes", "--delete-data", "buckets") == 1

    captured = capsys.readouterr()
    assert (f"  KMS key {names['key']}: not deleted: AWS said AccessDeniedException: not allowed "
            "(ScheduleKeyDeletion)") in captured.out
    assert "  bucket shop-dev-alb-logs: deleted with 1 objects or versions" in captured.out
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("arn, kind", [
    ("arn:aws:s3:::shop-dev-alb-logs", "bucket"),
    ("arn:aws:s3:::shop-dev-alb-logs/key", ""),
    ("arn:aws:kms:us-east-1:1:key/abc", "KMS key"),
    ("arn:aws:kms:us-east-1:1:alias/abc", ""),
    ("arn:aws:logs:us-east-1:1:log-group:shop-dev-Flow-1", "log group"),
    ("arn:aws:secretsmanager:us-east-1:1:secret:shop-dev-x-AbCdEf", "secret"),
    ("arn:aws:elasticfilesystem:us-east-1:1:file-system/fs-1", "file system"),
    ("arn:aws:rds:us-east-1:1:snapshot:shop-dev-final", "snapshot"),
    ("arn:aws:rds:us-east-1:1:db:shop-dev-db", ""),
    ("arn:aws:route53:::hostedzone/Z1", "hosted zone"),
    ("arn:aws:ec2:us-east-1:1:vpc/vpc-1", ""),
])
def test_kind_of_an_arn(arn, kind):
    assert leftovers.kind_of(arn) == kind
