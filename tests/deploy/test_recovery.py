"""Issue 36: `threetier recovery-points` and `threetier restore` through their paths, each with its message.

moto 5.2.6 models AWS Backup's vaults and plans but not recovery points or restore jobs, so AWS Backup,
and the RDS and CloudFormation calls of the region restored into, are botocore Stubbers (which check
every request and answer against the service model). The plan a restore hands over to is plan's own
(tested in test_deploy_stubbed.py): here it records what it was asked.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from tests.deploy.fixtures.project import write_parameters
from tests.deploy.test_deploy_stubbed import aws, project, threetier  # noqa: F401 (fixtures)
from threetier import emit
from threetier.deploy import recovery
from threetier.deploy.commands import common, restore

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
ACCOUNT = "123456789012"
HOME, COPIES = "us-east-1", "us-west-2"
VALUES = {"ProjectName": "shop", "EnvironmentName": "dev", "BackupRegion": COPIES, "BackupRule": "24/7/30",
          "DomainName": "shop.example.com", "SiteSubdomain": "dev", "DbInstanceClass": "db.t4g.micro"}
DB = f"arn:aws:rds:{HOME}:{ACCOUNT}:db:shop-dev-db"
EFS = f"arn:aws:elasticfilesystem:{HOME}:{ACCOUNT}:file-system/fs-0123456789abcdef0"


def snapshot(region: str, hours_ago: float, job: str = "1") -> dict:
    return {"RecoveryPointArn": f"arn:aws:rds:{region}:{ACCOUNT}:snapshot:awsbackup:job-{job}",
            "ResourceArn": DB, "ResourceType": "RDS", "Status": "COMPLETED",
            "CreationDate": NOW - timedelta(hours=hours_ago),
            "CalculatedLifecycle": {"DeleteAt": NOW + timedelta(days=7)}}


def continuous(region: str) -> dict:
    return {"RecoveryPointArn": f"arn:aws:backup:{region}:{ACCOUNT}:recovery-point:continuous:db-abc",
            "ResourceArn": DB, "ResourceType": "RDS", "Status": "COMPLETED", "CreationDate": NOW - timedelta(days=3)}


def file_system(region: str, hours_ago: float) -> dict:
    return {"RecoveryPointArn": f"arn:aws:backup:{region}:{ACCOUNT}:recovery-point:efs-{int(hours_ago)}",
            "ResourceArn": EFS, "ResourceType": "EFS", "Status": "COMPLETED",
            "CreationDate": NOW - timedelta(hours=hours_ago)}


class Regional:
    """Stubbed clients per (service, region), handed out by common.make_client_in."""

    def __init__(self):
        self.stubs: dict[tuple[str, str], Stubber] = {}
        self.clients: dict[tuple[str, str], object] = {}

    def __call__(self, clients, profile, service, region):
        return self.client(service, region)

    def client(self, service: str, region: str):
        key = (service, region)
        if key not in self.clients:
            self.clients[key] = boto3.client(service, region_name=region)
            self.stubs[key] = Stubber(self.clients[key])
            self.stubs[key].activate()
        return self.clients[key]

    def stub(self, service: str, region: str) -> Stubber:
        self.client(service, region)
        return self.stubs[(service, region)]

    def points(self, region: str, vault: str, *rows: dict) -> None:
        self.stub("backup", region).add_response("list_recovery_points_by_backup_vault",
                                                 {"RecoveryPoints": list(rows)}, {"BackupVaultName": vault})

    def no_vault(self, region: str, vault: str) -> None:
        self.stub("backup", region).add_client_error(
            "list_recovery_points_by_backup_vault", "ResourceNotFoundException",
            f"Backup vault {vault} does not exist", expected_params={"BackupVaultName": vault})

    def names_free(self, region: str, stack: str = "shop-restored", db: str = "shop-restored-db") -> None:
        self.stub("cloudformation", region).add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {stack} does not exist",
            expected_params={"StackName": stack})
        self.stub("rds", region).add_client_error(
            "describe_db_instances", "DBInstanceNotFound", f"DBInstance {db} not found.",
            expected_params={"DBInstanceIdentifier": db})

    def verify(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def regional(monkeypatch, aws):  # noqa: F811
    found = Regional()
    monkeypatch.setattr(common, "make_client_in", found)
    monkeypatch.setattr(recovery, "now", lambda: NOW)
    yield found
    found.verify()


@pytest.fixture
def planned(monkeypatch):
    """What restore hands plan: the environment, region and stack it plans, and the file it reads."""
    asked = {}

    def fake_plan(args):
        asked.update(env=args.env, region=args.region, stack=args.stack_name,
                     values={e["ParameterKey"]: e["ParameterValue"] for e in json.loads(
                         (emit.find_project(args.project_dir) / "parameters" / f"{args.env}.json").read_text())})
        return asked.get("code", 0)

    monkeypatch.setattr(restore.plan, "run", fake_plan)
    return asked


@pytest.fixture
def env(project):  # noqa: F811
    write_parameters(project, VALUES)
    return project


def run_restore(project, *extra):  # noqa: F811
    return threetier(project, "restore", "dev", "--into", "restored", "--region", HOME, "--bucket", "b", *extra)


# ----------------------------------------------------------------------------- recovery-points

def test_recovery_points_lists_both_regions_newest_first_with_their_age(env, regional, capsys):
    regional.points(HOME, "shop-dev-backup", snapshot(HOME, 30, "old"), file_system(HOME, 6), snapshot(HOME, 6),
                    continuous(HOME))
    regional.points(COPIES, "shop-dev-backup-copy", snapshot(COPIES, 5, "copy"))
    assert threetier(env, "recovery-points", "dev", "--region", HOME) == 0
    out = capsys.readouterr().out
    assert f"{HOME} (the environment), vault shop-dev-backup, kept 7 days:" in out
    assert f"{COPIES} (BackupRegion), vault shop-dev-backup-copy, kept 30 days:" in out
    lines = [line for line in out.splitlines() if line.startswith("  2026")]
    assert [line.split()[0:2] for line in lines] == [["2026-12-07", "06:00"], ["2026-12-07", "06:00"],
                                                     ["2026-12-06", "06:00"], ["2026-12-04", "12:00"],
                                                     ["2026-12-07", "07:00"]]
    assert "1 d 6 h 0 min old" in lines[2] and "RDS  snapshot" in lines[2]
    assert "continuous (point in time)" in lines[3]


def test_recovery_points_says_which_vault_is_missing(env, regional, capsys):
    regional.points(HOME, "shop-dev-backup", snapshot(HOME, 2))
    regional.no_vault(COPIES, "shop-dev-backup-copy")
    assert threetier(env, "recovery-points", "dev", "--region", HOME) == 0
    assert ("vault shop-dev-backup-copy does not exist in us-west-2: `threetier backup-vault dev` creates it"
            in capsys.readouterr().out)


def test_without_a_backup_plan_there_is_nothing_to_list(project, regional, capsys):  # noqa: F811
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": "dev"})
    assert threetier(project, "recovery-points", "dev", "--region", HOME) == 2
    assert "dev has no AWS Backup plan (BackupRegion is empty in parameters/dev.json)" in capsys.readouterr().err


# ----------------------------------------------------------------------------- restore

def test_restore_plans_a_new_environment_from_the_newest_snapshot_and_says_how_old(env, regional, planned,
                                                                                    capsys):
    regional.points(HOME, "shop-dev-backup", continuous(HOME), snapshot(HOME, 30, "old"), snapshot(HOME, 2, "new"),
                    file_system(HOME, 3))
    regional.names_free(HOME)
    assert run_restore(env) == 0
    err = capsys.readouterr().err
    new = f"arn:aws:rds:{HOME}:{ACCOUNT}:snapshot:awsbackup:job-new"
    assert (f"database: {new} (RDS snapshot, taken 2026-12-07 10:00 UTC, 2 h 0 min old) in us-east-1 vault "
            "shop-dev-backup") in err
    assert "file system: arn:aws:backup:us-east-1:123456789012:recovery-point:efs-3 (EFS backup" in err
    assert planned["env"] == "restored" and planned["region"] == HOME and planned["stack"] == "shop-restored"
    values = planned["values"]
    assert values["EnvironmentName"] == "restored" and values["DbRestoreSnapshot"] == new
    assert values["BackupRegion"] == COPIES and values["DbInstanceClass"] == "db.t4g.micro"
    # Its own names: not the live site's domain.
    assert "DomainName" not in values and "SiteSubdomain" not in values
    assert (env / "parameters" / "restored.json").is_file(), "kept with the change set"
    assert "Next: `threetier deploy restored --region us-east-1` executes it" in err


def test_restore_from_the_backup_region_copies_back_to_the_home_region(env, regional, planned, capsys):
    regional.points(COPIES, "shop-dev-backup-copy", snapshot(COPIES, 5, "copy"))
    regional.names_free(COPIES)
    assert run_restore(env, "--from-region", COPIES) == 0
    assert planned["region"] == COPIES
    assert planned["values"]["BackupRegion"] == HOME
    assert planned["values"]["DbRestoreSnapshot"].startswith(f"arn:aws:rds:{COPIES}:")
    assert "file system: no recovery point: NEWENV starts with an empty one" in capsys.readouterr().err


def test_restore_refuses_a_region_that_holds_no_recovery_point_of_the_environment(env, regional, planned,
                                                                                  capsys):
    assert run_restore(env, "--from-region", "eu-west-1") == 2
    assert ("eu-west-1 holds no recovery points of dev: its vaults are in us-east-1 (shop-dev-backup, the "
            "environment's region) and us-west-2 (shop-dev-backup-copy, BackupRegion)") in capsys.readouterr().err
    assert not planned


def test_restore_without_a_recovery_point_says_so_and_writes_nothing(env, regional, planned, capsys):
    regional.points(HOME, "shop-dev-backup", continuous(HOME), file_system(HOME, 1))
    assert run_restore(env) == 1
    err = capsys.readouterr().err
    assert "no recovery point: no completed database snapshot recovery point in us-east-1 vault shop-dev-backup" in err
    assert not (env / "parameters" / "restored.json").exists() and not planned


def test_restore_refuses_a_time_older_than_retention_allows(env, regional, planned, capsys):
    regional.points(HOME, "shop-dev-backup", snapshot(HOME, 2))
    assert run_restore(env, "--time", "2026-11-20T00:00Z") == 2
    assert ("--time 2026-11-20T00:00Z is older than retention allows: dev keeps recovery points 7 days in "
            "us-east-1 (BackupRule), so nothing is older than 2026-11-30T12:00Z") in capsys.readouterr().err


def test_restore_at_a_time_takes_the_newest_point_before_it(env, regional, planned, capsys):
    regional.points(HOME, "shop-dev-backup", snapshot(HOME, 2, "new"), snapshot(HOME, 26, "day-before"))
    regional.names_free(HOME)
    assert run_restore(env, "--time", "2026-12-07T00:00Z") == 0
    assert planned["values"]["DbRestoreSnapshot"].endswith("job-day-before")


def test_restore_refuses_a_continuous_point_that_cloudformation_cannot_restore(env, regional, planned, capsys):
    regional.points(HOME, "shop-dev-backup", continuous(HOME), snapshot(HOME, 2))
    point = continuous(HOME)["RecoveryPointArn"]
    assert run_restore(env, "--point", point) == 2
    assert f"{point} is a RDS continuous (point in time) recovery point, not a database snapshot" in \
        capsys.readouterr().err
    assert not planned


def test_restore_of_a_named_point_older_than_retention_is_refused(env, regional, planned, capsys):
    old = snapshot(HOME, 24 * 8, "old")
    regional.points(HOME, "shop-dev-backup", old)
    assert run_restore(env, "--point", old["RecoveryPointArn"]) == 2
    assert "older than the 7 days dev keeps recovery points in us-east-1 (BackupRule)" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["file", "stack", "database"])
def test_restore_refuses_a_name_already_in_use(env, regional, planned, capsys, where):
    if where == "file":
        write_parameters(env, {"ProjectName": "shop", "EnvironmentName": "restored"}, "restored")
        assert run_restore(env) == 2
        assert "--into restored: name already in use: " in capsys.readouterr().err
        return
    regional.points(HOME, "shop-dev-backup", snapshot(HOME, 2))
    cfn, rds = regional.stub("cloudformation", HOME), regional.stub("rds", HOME)
    if where == "stack":
        cfn.add_response("describe_stacks", {"Stacks": [{"StackName": "shop-restored", "CreationTime": NOW,
                                                          "StackStatus": "CREATE_COMPLETE"}]},
                         {"StackName": "shop-restored"})
    else:
        cfn.add_client_error("describe_stacks", "ValidationError", "Stack with id shop-restored does not exist",
                             expected_params={"StackName": "shop-restored"})
        rds.add_response("describe_db_instances", {"DBInstances": [{"DBInstanceIdentifier": "shop-restored-db"}]},
                         {"DBInstanceIdentifier": "shop-restored-db"})
    assert run_restore(env) == 1
    err = capsys.readouterr().err
    thing = "stack shop-restored" if where == "stack" else "database instance shop-restored-db"
    assert f"--into restored: name already in use: {thing} exists in us-east-1" in err
    assert not (env / "parameters" / "restored.json").exists() and not planned


def test_restore_over_the_live_environment_is_refused_and_says_why(env, regional, planned, capsys):
    assert threetier(env, "restore", "dev", "--into", "dev", "--region", HOME) == 2
    err = capsys.readouterr().err
    assert "restoring over the live environment cannot work: its database and most resources are named" in err
    assert not planned


def test_a_plan_that_keeps_no_change_set_frees_the_name(env, regional, planned, capsys):
    regional.points(HOME, "shop-dev-backup", snapshot(HOME, 2))
    regional.names_free(HOME)
    planned["code"] = 1
    assert run_restore(env) == 1
    assert not (env / "parameters" / "restored.json").exists()


def test_files_restores_the_file_system_point_into_the_new_environment(env, regional, capsys):
    regional.points(HOME, "shop-dev-backup", snapshot(HOME, 2), file_system(HOME, 3))
    cfn = regional.stub("cloudformation", HOME)
    stack = {"StackName": "shop-restored", "CreationTime": NOW, "StackStatus": "CREATE_COMPLETE"}
    cfn.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "shop-restored"})
    for logical_id, output, value in (("DataStack", "EfsFileSystemId", "fs-0fedcba987654321f"),
                                      ("BackupStack", "BackupRoleArn", f"arn:aws:iam::{ACCOUNT}:role/backup")):
        nested = f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:stack/shop-restored-{logical_id}-X/1"
        cfn.add_response("describe_stack_resource", {"StackResourceDetail": {
            "LogicalResourceId": logical_id, "PhysicalResourceId": nested, "ResourceType": "AWS::CloudFormation::Stack",
            "LastUpdatedTimestamp": NOW, "ResourceStatus": "CREATE_COMPLETE"}},
            {"StackName": "shop-restored", "LogicalResourceId": logical_id})
        cfn.add_response("describe_stacks", {"Stacks": [{**stack, "StackName": nested, "Outputs": [
            {"OutputKey": output, "OutputValue": value}]}]}, {"StackName": nested})
    regional.stub("backup", HOME).add_response("start_restore_job", {"RestoreJobId": "job-42"}, {
        "RecoveryPointArn": f"arn:aws:backup:{HOME}:{ACCOUNT}:recovery-point:efs-3",
        "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/backup", "ResourceType": "EFS",
        "Metadata": {"file-system-id": "fs-0fedcba987654321f", "newFileSystem": "false", "Encrypted": "true"}})
    assert run_restore(env, "--files") == 0
    assert "restore job job-42 started into fs-0fedcba987654321f of restored" in capsys.readouterr().out


# ----------------------------------------------------------------------------- backup-vault

def test_backup_vault_creates_the_copy_vault_stack_in_the_backup_region(env, regional, monkeypatch, capsys):
    from botocore.stub import ANY

    from tests.deploy.fixtures import responses as r
    from threetier.emit import manifest

    monkeypatch.setattr(manifest, "check", lambda project, regenerate=False: None)
    (env / "output" / "backup-vault.yaml").write_text("Resources: {}\n")
    name = "shop-dev-backup-copy"
    stack_id = r.stack_arn(name)
    cfn = regional.stub("cloudformation", COPIES)
    cfn.add_client_error("describe_stacks", "ValidationError", f"Stack with id {name} does not exist",
                         expected_params={"StackName": name})
    cfn.add_response("create_stack", {"StackId": stack_id}, {
        "StackName": name, "TemplateBody": "Resources: {}\n", "EnableTerminationProtection": True,
        "Parameters": [{"ParameterKey": "ProjectName", "ParameterValue": "shop"},
                       {"ParameterKey": "EnvironmentName", "ParameterValue": "dev"},
                       {"ParameterKey": "BackupRule", "ParameterValue": "24/7/30"},
                       {"ParameterKey": "BackupVaultLock", "ParameterValue": "off"}],
        "Tags": ANY})
    cfn.add_response("describe_stack_events", r.events_page([r.stack_event(name, 30, "CREATE_COMPLETE")]),
                     {"StackName": stack_id})
    cfn.add_response("describe_stacks", r.stack(name, "CREATE_COMPLETE"), {"StackName": stack_id})
    assert threetier(env, "backup-vault", "dev", "--region", HOME) == 0
    assert f"creating stack {name} in us-west-2 (backup-vault.yaml): vault shop-dev-backup-copy" in \
        capsys.readouterr().err


def test_backup_vault_refuses_a_lock_without_the_explicit_yes_before_any_call(project, regional, monkeypatch,  # noqa: F811
                                                                             capsys):
    from threetier.emit import manifest

    monkeypatch.setattr(manifest, "check", lambda project, regenerate=False: None)
    write_parameters(project, {**VALUES, "BackupVaultLock": "yes"})
    (project / "output" / "backup-vault.yaml").write_text("Resources: {}\n")
    assert threetier(project, "backup-vault", "dev", "--region", HOME) == 2
    assert "BackupVaultLock='yes': is not an explicit yes" in capsys.readouterr().err
