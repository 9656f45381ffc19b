"""AWS Backup: the plan's schedule and retention, the second region and account it copies to, the vault lock.

The root declares these bare (type and default: its 40,000 bytes, see Param.root_checks); the
backup stack declares them with their constraints, and `threetier validate` checks them first.
"""

from __future__ import annotations

from threetier.parameters.param import GROUP_ADVANCED_DATA, Param

# Values of BackupVaultLock. The lock is AWS Backup Vault Lock in compliance mode: once its grace
# time (ChangeableForDays) is over, nobody (the root user, AWS) can remove it or shorten retention.
# https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html
VAULT_LOCK_OFF = "off"
VAULT_LOCK_GRACE_DAYS = 3  # the least AWS Backup accepts for ChangeableForDays
VAULT_LOCK_YES = f"yes-cannot-be-undone-after-{VAULT_LOCK_GRACE_DAYS}-days"

# Continuous (point-in-time) backups of RDS are kept at most 35 days.
# https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html
CONTINUOUS_MAX_DAYS = 35

# How often the plan runs: {HOURS of BackupRule: its schedule (UTC)}.
# https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html#backup-plan-cron
SCHEDULES = {
    "1": "cron(0 * * * ? *)",
    "4": "cron(0 0/4 * * ? *)",
    "12": "cron(0 0/12 * * ? *)",
    "24": "cron(0 5 * * ? *)",
}

BACKUP_REGION = Param(
    "BackupRegion",
    "String",
    "Second region AWS Backup copies every recovery point to (e.g. eu-west-1); empty: no AWS Backup "
    "plan. Not the stack's own region. `threetier backup-vault ENV` creates the vault there first.",
    label="Backup copy region",
    group=GROUP_ADVANCED_DATA,
    default="",
    allowed_pattern=r"^$|^[a-z]{2}(-[a-z]+)+-[0-9]$",
    constraint="Empty, or a region name such as eu-west-1.",
    root_checks=False,
)

# BackupRule is HOURS/DAYS/COPYDAYS in one value: three parameters would cost the root ~300 bytes.
RULE_FIELDS = ("hours between backups", "days kept in the region", "days kept in BackupRegion")
RULE_PATTERN = r"^(1|4|12|24)/([1-9]|[12][0-9]|3[0-5])/([1-9][0-9]{0,4})$"

BACKUP_RULE = Param(
    "BackupRule",
    "String",
    "HOURS/DAYS/COPYDAYS: back up the file system and copy to BackupRegion every HOURS (1, 4, 12 or 24); "
    f"keep recovery points DAYS (1 to {CONTINUOUS_MAX_DAYS}: the database restores to any point in them, "
    "continuous backup) in the region, and COPYDAYS (1 to 99999) in BackupRegion and the backup account. "
    "e.g. 24/7/7, or 1/35/365.",
    label="Backup every/keep/keep copies",
    group=GROUP_ADVANCED_DATA,
    default="24/7/7",
    allowed_pattern=RULE_PATTERN,
    constraint=f"HOURS/DAYS/COPYDAYS: HOURS 1, 4, 12 or 24; DAYS 1 to {CONTINUOUS_MAX_DAYS}; COPYDAYS 1 to 99999, "
    "e.g. 24/7/7.",
    root_checks=False,
)

BACKUP_ACCOUNT_VAULT_ARN = Param(
    "BackupAccountVaultArn",
    "String",
    "ARN of a vault in another account (a backup account) that gets a copy too; its vault policy "
    "must accept it (output/backup-vault.yaml makes one). Empty: no copy to another account.",
    label="Backup account vault ARN",
    group=GROUP_ADVANCED_DATA,
    default="",
    allowed_pattern=r"^$|^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$",
    constraint="Empty, or a backup vault ARN: arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME.",
    root_checks=False,
)

BACKUP_VAULT_LOCK = Param(
    "BackupVaultLock",
    "String",
    f"{VAULT_LOCK_OFF}, or {VAULT_LOCK_YES}: lock both vaults in compliance mode, so that no one deletes a "
    f"recovery point before the DAYS of BackupRule (its COPYDAYS in BackupRegion). After "
    f"{VAULT_LOCK_GRACE_DAYS} days the lock cannot be removed, not even by AWS.",
    label="Backup vault lock",
    group=GROUP_ADVANCED_DATA,
    default=VAULT_LOCK_OFF,
    allowed_values=(VAULT_LOCK_OFF, VAULT_LOCK_YES),
    constraint=f"{VAULT_LOCK_OFF} or {VAULT_LOCK_YES}.",
    root_checks=False,
)

BACKUP = (BACKUP_REGION, BACKUP_RULE, BACKUP_ACCOUNT_VAULT_ARN, BACKUP_VAULT_LOCK)
