"""Issue 36: the AWS Backup plan (templates/backup.py), the copy vault (templates/backup_vault.py), how the
root wires them, and the data stack's restore from a snapshot."""

import json

import pytest

from templates import backup, backup_vault, data
from threetier import parameters as P
from threetier.parameters.evaluate import Evaluation


@pytest.fixture(scope="module")
def backup_dict():
    return backup.build().to_dict()


@pytest.fixture(scope="module")
def vault_dict():
    return backup_vault.build().to_dict()


def plan_rule(template: dict, values: dict) -> dict:
    (rule,) = Evaluation(template, values).resources()["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
    return rule


def test_the_root_makes_the_backup_stack_only_with_a_backup_region_and_it_waits_for_no_stack(root_template):
    root = root_template.to_dict()
    stack = root["Resources"]["BackupStack"]
    assert stack["Condition"] == "HasBackup" and "DependsOn" not in stack
    # Nothing from another stack: it runs beside the data stack, never after it.
    assert "GetAtt" not in json.dumps(stack["Properties"]["Parameters"])
    assert "BackupStack" not in Evaluation(root, {}).resources()
    assert "BackupStack" in Evaluation(root, {"BackupRegion": "us-west-2"}).resources()


@pytest.mark.parametrize("rule, cron, days, copy_days", [
    ("24/7/7", "cron(0 5 * * ? *)", "7", "7"),
    ("1/35/90", "cron(0 * * * ? *)", "35", "90"),
    ("4/14/30", "cron(0 0/4 * * ? *)", "14", "30"),
    ("12/3/365", "cron(0 0/12 * * ? *)", "3", "365"),
])
def test_the_plan_follows_backup_rule(backup_dict, rule, cron, days, copy_days):
    rule_props = plan_rule(backup_dict, {"BackupRegion": "us-west-2", "BackupRule": rule})
    assert rule_props["ScheduleExpression"] == cron
    assert rule_props["EnableContinuousBackup"] is True, "point in time for the database"
    assert rule_props["TargetBackupVault"] == {"Ref": "BackupVault"}
    [copy] = rule_props["CopyActions"]
    resolved = Evaluation(backup_dict, {"BackupRegion": "us-west-2", "BackupRule": rule})
    assert resolved.resolve(rule_props["Lifecycle"]["DeleteAfterDays"]) == days
    assert resolved.resolve(copy["Lifecycle"]["DeleteAfterDays"]) == copy_days


def test_the_copy_goes_to_the_copy_vault_in_the_backup_region_and_optionally_the_backup_account(backup_dict):
    values = {"ProjectName": "shop", "EnvironmentName": "prod", "BackupRegion": "us-west-2"}
    evaluation = Evaluation(backup_dict, values, account_id="111122223333", partition="aws")
    [copy] = plan_rule(backup_dict, values)["CopyActions"]
    assert evaluation.resolve(copy["DestinationBackupVaultArn"]) == \
        "arn:aws:backup:us-west-2:111122223333:backup-vault:shop-prod-backup-copy"
    # The copy vault template names its vault the same, so the plan needs nothing from that stack.
    assert vault_name(backup_vault.build().to_dict(), {"ProjectName": "shop", "EnvironmentName": "prod"}) == \
        "shop-prod-backup-copy"
    account = "arn:aws:backup:eu-west-1:210987654321:backup-vault:shop-prod-backup-copy"
    copies = plan_rule(backup_dict, {**values, "BackupAccountVaultArn": account})["CopyActions"]
    assert [c["DestinationBackupVaultArn"] for c in copies][1] == account


def vault_name(template: dict, values: dict) -> str:
    vault = Evaluation(template, values).resources()["BackupVault"]["Properties"]
    return Evaluation(template, values).resolve(vault["BackupVaultName"])


def test_the_selection_takes_the_primary_database_by_name_and_the_file_system_by_tags(backup_dict):
    selection = backup_dict["Resources"]["BackupSelection"]["Properties"]["BackupSelection"]
    values = {"ProjectName": "shop", "EnvironmentName": "prod"}
    evaluation = Evaluation(backup_dict, values, account_id="111122223333", partition="aws")
    resources = [evaluation.resolve(r) for r in selection["Resources"]]
    assert resources == ["arn:aws:rds:us-east-1:111122223333:db:shop-prod-db",
                         "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/*"]
    tags = {c["ConditionKey"]: evaluation.resolve(c["ConditionValue"])
            for c in selection["Conditions"]["StringEquals"]}
    assert tags == {"aws:ResourceTag/Project": "shop", "aws:ResourceTag/Environment": "prod"}
    # Not the replica (no backups of its own): it is db-replica, not matched by the exact name.
    assert not any("db-replica" in r for r in resources)
    role = backup_dict["Resources"]["BackupRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"}]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": {"Fn::Sub": "backup.${AWS::URLSuffix}"}}


@pytest.mark.parametrize("module", [backup, backup_vault])
def test_each_vault_has_its_own_retained_rotating_key_and_refuses_early_deletion(module):
    template = module.build().to_dict()
    key, vault = template["Resources"]["BackupKey"], template["Resources"]["BackupVault"]
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert vault["DeletionPolicy"] == vault["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert vault["Properties"]["EncryptionKeyArn"] == {"Fn::GetAtt": ["BackupKey", "Arn"]}
    off = Evaluation(template, {}).resources()["BackupVault"]["Properties"]
    policy = json.loads(off["AccessPolicy"])
    [keep] = policy["Statement"]
    assert (keep["Effect"], keep["Principal"], keep["Action"]) == (
        "Deny", {"AWS": "*"}, ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"])
    assert "LockConfiguration" not in off, "off by default"


@pytest.mark.parametrize("module, retention", [(backup, "35"), (backup_vault, "90")])
def test_the_vault_lock_needs_the_explicit_yes_and_keeps_the_retention(module, retention):
    template = module.build().to_dict()
    values = {"BackupRule": "1/35/90"}
    for not_yes in ("off",):
        assert "LockConfiguration" not in Evaluation(template, {**values, "BackupVaultLock": not_yes}).resources()[
            "BackupVault"]["Properties"]
    locked = Evaluation(template, {**values, "BackupVaultLock": P.VAULT_LOCK_YES})
    lock = locked.resources()["BackupVault"]["Properties"]["LockConfiguration"]
    assert lock["ChangeableForDays"] == 3
    assert locked.resolve(lock["MinRetentionDays"]) == retention
    assert template["Parameters"]["BackupVaultLock"]["AllowedValues"] == ["off", P.VAULT_LOCK_YES]


def test_a_backup_account_vault_accepts_copies_from_the_environment_account_only(vault_dict):
    same = Evaluation(vault_dict, {}).resources()["BackupVault"]["Properties"]["AccessPolicy"]
    assert "CopyIntoBackupVault" not in json.dumps(same)
    other = Evaluation(vault_dict, {"SourceAccountId": "123456789012"}, partition="aws")
    policy = json.loads(other.resolve(other.resources()["BackupVault"]["Properties"]["AccessPolicy"]))
    accept = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert accept["Action"] == ["backup:CopyIntoBackupVault"]
    assert accept["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_the_root_declares_the_backup_settings_bare_and_the_backup_stack_checks_them(root_template, backup_dict):
    root = root_template.to_dict()["Parameters"]
    for param in (*P.BACKUP, P.DB_RESTORE_SNAPSHOT):
        assert set(root[param.name]) == {"Type", "Default"}, param.name
    assert backup_dict["Parameters"]["BackupRule"]["AllowedPattern"] == P.RULE_PATTERN


def test_the_data_stack_restores_the_database_from_a_snapshot_without_name_or_users():
    template = data.build().to_dict()
    snapshot = "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1"
    restored = Evaluation(template, {"DbRestoreSnapshot": snapshot}).resources()["DbInstance"]["Properties"]
    assert restored["DBSnapshotIdentifier"] == snapshot
    for absent in ("DBName", "MasterUsername", "MasterUserPassword"):
        assert absent not in restored, absent
    new = Evaluation(template, {}).resources()["DbInstance"]["Properties"]
    assert "DBSnapshotIdentifier" not in new and new["DBName"] == P.DB_NAME.default
    db = template["Resources"]["DbInstance"]
    assert db["Properties"]["DBInstanceIdentifier"] == {"Fn::Sub": "${ProjectName}-${EnvironmentName}-db"}
