"""An AWS Backup vault with its own KMS key, a policy that keeps recovery points from being deleted
early, and the optional vault lock: the environment's vault (templates/backup.py) and the copy vault in
the second region or the backup account (templates/backup_vault.py) are made alike."""

from __future__ import annotations

import json

from awacs.aws import Action, Allow, Deny, Principal, Statement
from troposphere import Equals, GetAtt, If, NoValue, Ref, Select, Split, Sub, Template, backup, kms

from threetier import parameters as P
from threetier.blocks import naming, policies

LOCKS_VAULT = "LocksVault"
# The vault every environment's plan copies to, in BackupRegion (and the name a backup account's
# vault takes by default): the same in both templates, so the plan needs no output of the other.
COPY_VAULT = "backup-copy"
LOCAL_VAULT = "backup"


def add_lock_condition(t: Template) -> None:
    t.add_condition(LOCKS_VAULT, Equals(Ref(P.BACKUP_VAULT_LOCK.name), P.VAULT_LOCK_YES))


def rule_field(index: int) -> Select:
    """Field `index` of BackupRule HOURS/DAYS/COPYDAYS (threetier.parameters.backup)."""
    return Select(index, Split("/", Ref(P.BACKUP_RULE.name)))


def schedule(t: Template) -> If:
    """The plan's schedule for the HOURS of BackupRule, one condition per value but the last
    (FindInMap takes no Select, so a Mapping cannot be keyed by the field).
    https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html"""
    *firsts, (_, last) = P.SCHEDULES.items()
    expression: object = last
    for hours, cron in reversed(firsts):
        name = f"Every{hours}Hours"
        t.add_condition(name, Equals(rule_field(0), hours))
        expression = If(name, cron, expression)
    return expression


def copy_vault_arn(region: object) -> Sub:
    """The ARN of the environment's copy vault in `region` of this account."""
    return Sub("arn:${AWS::Partition}:backup:${Region}:${AWS::AccountId}:backup-vault:${Name}",
               Region=region, Name=naming.name(COPY_VAULT))


def vault(t: Template, thing: str, min_retention_days: object, *, writers: Statement | None = None,
          condition: str | None = None, **variables: object) -> backup.BackupVault:
    """A vault named <project>-<env>-<thing>, encrypted with its own key, locked when BackupVaultLock says yes.

    Kept when the stack goes (Retain): the recovery points are what a lost environment is
    restored from, and AWS Backup refuses to delete a vault that still holds any.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/create-a-vault.html
    """
    key = t.add_resource(kms.Key(
        "BackupKey",
        # The recovery points it encrypts are readable only while it exists.
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        Description=Sub("${ProjectName}-${EnvironmentName} AWS Backup vault encryption"),
        EnableKeyRotation=True,
        # The account's IAM decides who uses it: AWS Backup acts with the backup role's
        # permissions and the grants it creates for the backed-up service.
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html
        KeyPolicy=policies.document(policies.key_administration()),
        Tags=naming.tags(f"{thing}-key"),
    ))
    kept = _policy(_keep_recovery_points())
    # `writers` join the policy when `condition` holds.
    policy = kept if writers is None else If(condition, _policy(_keep_recovery_points(), writers, **variables), kept)
    return t.add_resource(backup.BackupVault(
        "BackupVault",
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        BackupVaultName=naming.name(thing),
        EncryptionKeyArn=GetAtt(key, "Arn"),
        AccessPolicy=policy,
        # Compliance mode: with ChangeableForDays, the lock becomes permanent once that grace time
        # is over; until then it can be removed. MinRetentionDays refuses any recovery point kept
        # for less, and refuses deleting one before its time.
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html
        LockConfiguration=If(LOCKS_VAULT, backup.LockConfigurationType(
            MinRetentionDays=min_retention_days, ChangeableForDays=P.VAULT_LOCK_GRACE_DAYS), NoValue),
        BackupVaultTags={"Project": Ref(P.PROJECT_NAME.name), "Environment": Ref(P.ENVIRONMENT_NAME.name)},
    ))


def _policy(*statements: Statement, **variables: object) -> Sub | str:
    """troposphere takes a vault policy as JSON text: Sub fills in its ${...} (`variables`), if any."""
    text = policies.document(*statements).to_json(indent=None, sort_keys=True)
    return Sub(text, **variables) if "${" in text else text


def _keep_recovery_points() -> Statement:
    """No one deletes a recovery point or shortens its life by hand; the lifecycle still expires them.
    The vault policy example AWS gives for it.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/create-a-vault-access-policy.html"""
    return Statement(
        Sid="KeepRecoveryPoints",
        Effect=Deny,
        Principal=Principal("AWS", "*"),
        Action=[Action("backup", "DeleteRecoveryPoint"), Action("backup", "UpdateRecoveryPointLifecycle")],
        Resource=["*"],
    )


def accept_copies_from() -> Statement:
    """A backup account's vault takes copies from the environment's account (`${SourceAccount}`, a
    variable of the policy's Sub).
    https://docs.aws.amazon.com/aws-backup/latest/devguide/create-cross-account-backup.html"""
    return Statement(
        Sid="AcceptCopiesFromTheEnvironmentAccount",
        Effect=Allow,
        Principal=Principal("AWS", "arn:${AWS::Partition}:iam::${SourceAccount}:root"),
        Action=[Action("backup", "CopyIntoBackupVault")],
        Resource=["*"],
    )

