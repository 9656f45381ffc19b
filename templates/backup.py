"""Backup stack (optional): an AWS Backup plan for the database and the file system, its vault, and
copies to a second region (and, optionally, a backup account).

Created by the root when BackupRegion is set. It waits for no other stack: the selection names the
database by its identifier (naming.DB_INSTANCE) and the file system by the environment's tags, so it
needs no output of the data stack and runs beside it; a resource is backed up from the first run of
the plan after it exists. The copy vault in BackupRegion is output/backup-vault.yaml, a stack of its
own there (`threetier backup-vault ENV`): a nested stack lives in its parent's region.
"""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Not, NoValue, Ref, Sub, Template, backup, iam

from threetier import parameters as P
from threetier.blocks import backupvault, naming, policies
from threetier.parameters import conditions

HAS_ACCOUNT_COPY = "HasAccountCopy"


def build() -> Template:
    t = naming.new_template(
        "threetier backups: an AWS Backup plan for the database (continuous, point in time) and the file "
        "system, its encrypted vault, copies to a second region and optionally to a backup account"
    )
    P.use(t, *P.BACKUP, *P.IAM)
    conditions.add(t, conditions.HAS_PERMISSIONS_BOUNDARY)
    backupvault.add_lock_condition(t)
    t.add_condition(HAS_ACCOUNT_COPY, Not(Equals(Ref(P.BACKUP_ACCOUNT_VAULT_ARN.name), "")))
    schedule = backupvault.schedule(t)

    vault = backupvault.vault(t, backupvault.LOCAL_VAULT, backupvault.rule_field(1))
    role = _role(t)
    plan = _plan(t, vault, schedule)
    _selection(t, plan, role)

    naming.add_outputs(t, {
        "BackupVaultName": ("Vault of the environment's recovery points, in its region", Ref(vault)),
        "BackupVaultArn": ("ARN of that vault", GetAtt(vault, "BackupVaultArn")),
        "BackupCopyVaultArn": ("Vault in BackupRegion the plan copies to",
                               backupvault.copy_vault_arn(Ref(P.BACKUP_REGION.name))),
        "BackupRoleArn": ("Role AWS Backup backs up and restores with", GetAtt(role, "Arn")),
        "BackupPlanId": ("The AWS Backup plan", Ref(plan)),
    })
    return t


def _role(t: Template) -> iam.Role:
    """The role AWS Backup assumes to back up and restore the environment: AWS's own managed policies
    for the two, which cover RDS, EFS and their keys.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html"""
    return t.add_resource(iam.Role(
        "BackupRole",
        AssumeRolePolicyDocument=policies.trust("backup"),
        ManagedPolicyArns=[policies.aws_managed("service-role/AWSBackupServiceRolePolicyForBackup"),
                           policies.aws_managed("service-role/AWSBackupServiceRolePolicyForRestores")],
        Tags=naming.tags("backup-role"),
        **policies.role_placement(),
    ))


def _plan(t: Template, vault: backup.BackupVault, schedule) -> backup.BackupPlan:
    """One rule (BackupRule HOURS/DAYS/COPYDAYS): every HOURS a backup of the file system, continuous
    backup of the database (point in time, to within about 5 minutes, for DAYS), and a copy of each
    recovery point to BackupRegion (and the backup account) kept COPYDAYS.
    Continuous backup is for RDS only; in the same rule EFS gets snapshot backups.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html"""
    copy_lifecycle = backup.LifecycleResourceType(DeleteAfterDays=backupvault.rule_field(2))
    return t.add_resource(backup.BackupPlan(
        "BackupPlan",
        BackupPlan=backup.BackupPlanResourceType(
            BackupPlanName=naming.name("backup"),
            BackupPlanRule=[backup.BackupRuleResourceType(
                RuleName="Scheduled",
                TargetBackupVault=Ref(vault),
                ScheduleExpression=schedule,
                # A job that has not started within the hour counts as missed (EXPIRED, an alarm).
                StartWindowMinutes=60,
                CompletionWindowMinutes=8 * 60,
                EnableContinuousBackup=True,
                Lifecycle=backup.LifecycleResourceType(DeleteAfterDays=backupvault.rule_field(1)),
                RecoveryPointTags={"Project": Ref(P.PROJECT_NAME.name), "Environment": Ref(P.ENVIRONMENT_NAME.name)},
                CopyActions=[
                    backup.CopyActionResourceType(
                        DestinationBackupVaultArn=backupvault.copy_vault_arn(Ref(P.BACKUP_REGION.name)),
                        Lifecycle=copy_lifecycle,
                    ),
                    If(HAS_ACCOUNT_COPY, backup.CopyActionResourceType(
                        DestinationBackupVaultArn=Ref(P.BACKUP_ACCOUNT_VAULT_ARN.name),
                        Lifecycle=copy_lifecycle,
                    ), NoValue),
                ],
            )],
        ),
        BackupPlanTags={"Project": Ref(P.PROJECT_NAME.name), "Environment": Ref(P.ENVIRONMENT_NAME.name)},
    ))


def _selection(t: Template, plan: backup.BackupPlan, role: iam.Role) -> backup.BackupSelection:
    """The primary database by its ARN (not the read replica, which has no backups of its own) and the
    environment's file system by its tags: resources matching the ARNs AND the conditions.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources-json.html"""
    def tag(key: str, value: object) -> backup.ConditionParameter:
        return backup.ConditionParameter(ConditionKey=f"aws:ResourceTag/{key}", ConditionValue=value)

    return t.add_resource(backup.BackupSelection(
        "BackupSelection",
        BackupPlanId=Ref(plan),
        BackupSelection=backup.BackupSelectionResourceType(
            SelectionName=naming.name("data"),
            IamRoleArn=GetAtt(role, "Arn"),
            Resources=[
                Sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:${Db}",
                    Db=naming.name(naming.DB_INSTANCE)),
                Sub("arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:file-system/*"),
            ],
            Conditions=backup.Conditions(StringEquals=[
                tag("Project", Ref(P.PROJECT_NAME.name)), tag("Environment", Ref(P.ENVIRONMENT_NAME.name)),
            ]),
        ),
    ))
