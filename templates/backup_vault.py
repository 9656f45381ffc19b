"""Copy vault (output/backup-vault.yaml): where an environment's AWS Backup plan copies its recovery
points, in BackupRegion of the environment's account, or in a backup account.

Not a nested stack: a nested stack lives in its parent's region, and this vault must not. `threetier
backup-vault ENV` deploys it into BackupRegion before the environment's plan copies there (a copy to
a vault that does not exist fails, and the failure alarm says so); in a backup account, deploy it
there with SourceAccountId set to the environment's account, and give the environment its ARN
(BackupAccountVaultArn).
"""

from __future__ import annotations

from troposphere import Equals, GetAtt, Not, Output, Ref, Template

from threetier import parameters as P
from threetier.blocks import backupvault, naming
from threetier.parameters.param import Param, wired

HAS_SOURCE_ACCOUNT = "HasSourceAccount"
SOURCE_ACCOUNT_ID = wired(
    "SourceAccountId", "String",
    "Account of the environment whose copies this vault takes, when it is another account (a backup "
    "account's vault); empty: the same account.",
    default="", allowed_pattern=r"^$|^[0-9]{12}$", constraint="Empty or a 12-digit account id.",
)


def build() -> Template:
    t = naming.new_template(
        "threetier copy vault: where an environment's AWS Backup plan copies its recovery points, in a second "
        "region or a backup account; its own KMS key, deletion refused, optional vault lock", root=True,
    )
    P.use(t, _nested(P.BACKUP_RULE), _nested(P.BACKUP_VAULT_LOCK), SOURCE_ACCOUNT_ID)
    backupvault.add_lock_condition(t)
    t.add_condition(HAS_SOURCE_ACCOUNT, Not(Equals(Ref(SOURCE_ACCOUNT_ID.name), "")))
    vault = backupvault.vault(
        t, backupvault.COPY_VAULT, backupvault.rule_field(2),
        writers=backupvault.accept_copies_from(), condition=HAS_SOURCE_ACCOUNT, SourceAccount=Ref(SOURCE_ACCOUNT_ID.name),
    )
    t.add_output(Output("BackupVaultArn", Description="ARN of the copy vault (BackupAccountVaultArn, in a backup "
                        "account)", Value=GetAtt(vault, "BackupVaultArn")))
    return t


def _nested(param: Param) -> Param:
    """With its checks: this template is deployed on its own, not through the root."""
    from dataclasses import replace

    return replace(param, root_checks=True)
