"""What an environment can be restored from: the recovery points of its AWS Backup vaults, in its region
and in BackupRegion, and the choice `threetier restore` makes among them.

The vaults are named after the environment (threetier.blocks.backupvault): <project>-<env>-backup in its
region, <project>-<env>-backup-copy in BackupRegion. A database recovery point of the snapshot kind is an
RDS snapshot, which the restored environment's DbRestoreSnapshot names; a continuous one (point in
time) restores only through AWS Backup itself (docs/recovery.md).
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByBackupVault.html
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError

from threetier import parameters as P
from threetier.blocks import backupvault
from threetier.deploy.errors import AwsError, InputError

# Tests replace it: the ages printed and the retention window are measured from it.
now = lambda: datetime.now(timezone.utc)  # noqa: E731

USABLE = ("COMPLETED", "AVAILABLE")


@dataclass(frozen=True)
class Backups:
    """An environment's backup settings, from its parameter file (with the parameters' defaults)."""

    project: str
    env: str
    region: str             # the environment's own region
    backup_region: str      # BackupRegion; empty: no AWS Backup plan
    days: int               # kept in the region (BackupRule DAYS)
    copy_days: int          # kept in BackupRegion (BackupRule COPYDAYS)

    @classmethod
    def of(cls, values: dict[str, str], region: str) -> "Backups":
        rule = values.get(P.BACKUP_RULE.name) or P.BACKUP_RULE.default
        _, days, copy_days = rule.split("/")
        return cls(values.get(P.PROJECT_NAME.name) or P.PROJECT_NAME.default,
                   values.get(P.ENVIRONMENT_NAME.name) or P.ENVIRONMENT_NAME.default, region,
                   values.get(P.BACKUP_REGION.name) or "", int(days), int(copy_days))

    def vault(self, region: str) -> str:
        thing = backupvault.LOCAL_VAULT if region == self.region else backupvault.COPY_VAULT
        return f"{self.project}-{self.env}-{thing}"

    def retention_days(self, region: str) -> int:
        return self.days if region == self.region else self.copy_days

    def regions(self) -> tuple[str, ...]:
        return (self.region, self.backup_region) if self.backup_region else (self.region,)

    def check_region(self, region: str) -> None:
        """InputError unless `region` holds the environment's recovery points."""
        if not self.backup_region:
            raise InputError(f"{self.env} has no AWS Backup plan ({P.BACKUP_REGION.name} is empty in "
                             f"parameters/{self.env}.json): there are no recovery points to restore from")
        if region not in self.regions():
            raise InputError(f"{region} holds no recovery points of {self.env}: its vaults are in {self.region} "
                             f"({self.vault(self.region)}, the environment's region) and {self.backup_region} "
                             f"({self.vault(self.backup_region)}, {P.BACKUP_REGION.name}); pass --from-region "
                             "with one of them")


@dataclass(frozen=True)
class Point:
    region: str
    vault: str
    arn: str
    resource_type: str      # RDS, EFS
    resource_arn: str
    created: datetime
    status: str
    delete_at: datetime | None = None

    @property
    def is_db_snapshot(self) -> bool:
        """An RDS snapshot, which CloudFormation restores (DBSnapshotIdentifier takes its ARN)."""
        return self.resource_type == "RDS" and self.arn.split(":")[2:3] == ["rds"] and ":snapshot:" in self.arn

    @property
    def kind(self) -> str:
        if self.resource_type == "RDS":
            return "snapshot" if self.is_db_snapshot else "continuous (point in time)"
        return "backup"

    def age(self) -> timedelta:
        return now() - self.created

    def describe(self) -> str:
        return (f"{self.arn} ({self.resource_type} {self.kind}, taken {self.created:%Y-%m-%d %H:%M} UTC, "
                f"{format_age(self.age())} old) in {self.region} vault {self.vault}")


def format_age(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return " ".join(part for part in (f"{days} d" if days else "", f"{hours} h" if hours or days else "",
                                      f"{minutes} min") if part)


def list_points(backup, backups: Backups, region: str) -> list[Point]:
    """Every recovery point of the environment's vault in `region`, newest first; AwsError when the vault
    does not exist."""
    vault = backups.vault(region)
    points, token = [], None
    while True:
        try:
            page = backup.list_recovery_points_by_backup_vault(
                BackupVaultName=vault, **({"NextToken": token} if token else {}))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise AwsError(_no_vault(backups, region)) from None
            raise
        points += [_point(region, vault, row) for row in page.get("RecoveryPoints", [])]
        token = page.get("NextToken")
        if not token:
            return sorted(points, key=lambda point: point.created, reverse=True)


def _no_vault(backups: Backups, region: str) -> str:
    if region == backups.region:
        how = f"the backup stack creates it (`threetier deploy {backups.env}` with {P.BACKUP_REGION.name} set)"
    else:
        how = f"`threetier backup-vault {backups.env}` creates it"
    return f"vault {backups.vault(region)} does not exist in {region}: {how}; no recovery point there yet"


def _point(region: str, vault: str, row: dict) -> Point:
    return Point(region, vault, row["RecoveryPointArn"], row.get("ResourceType", ""), row.get("ResourceArn", ""),
                 row["CreationDate"], row.get("Status", ""), (row.get("CalculatedLifecycle") or {}).get("DeleteAt"))


def choose(points: list[Point], backups: Backups, region: str, resource_type: str, at: datetime | None = None,
           arn: str | None = None) -> Point:
    """The recovery point of `resource_type` to restore: `arn` if given, else the newest usable one taken at
    or before `at` (default: now). InputError for a time outside the retention window, AwsError for no point."""
    vault = backups.vault(region)
    kept = backups.retention_days(region)
    if arn:
        found = [point for point in points if point.arn == arn]
        if not found:
            raise AwsError(f"no recovery point {arn} in {region} vault {vault}: `threetier recovery-points "
                           f"{backups.env}` lists them")
        point = found[0]
        if point.resource_type != resource_type or (resource_type == "RDS" and not point.is_db_snapshot):
            raise InputError(f"{arn} is a {point.resource_type} {point.kind} recovery point, not a database snapshot: "
                             "CloudFormation restores a database from a snapshot only. For a point in time, restore "
                             "the continuous recovery point in the AWS Backup console, snapshot the database it makes, "
                             "and pass that snapshot's ARN (docs/recovery.md, Data corrupted)")
        if point.age() > timedelta(days=kept):
            raise InputError(f"{arn} is {format_age(point.age())} old, older than the {kept} days {backups.env} keeps "
                             f"recovery points in {region} ({P.BACKUP_RULE.name}): its lifecycle deletes it any "
                             "moment now; choose a newer one")
        return point
    if at is not None:
        if at > now():
            raise InputError(f"--time {at:%Y-%m-%dT%H:%M}Z is in the future")
        if now() - at > timedelta(days=kept):
            raise InputError(f"--time {at:%Y-%m-%dT%H:%M}Z is older than retention allows: {backups.env} keeps "
                             f"recovery points {kept} days in {region} ({P.BACKUP_RULE.name}), so nothing is "
                             f"older than {now() - timedelta(days=kept):%Y-%m-%dT%H:%M}Z")
    wanted = [point for point in points if point.resource_type == resource_type and point.status in USABLE
              and (point.is_db_snapshot or resource_type != "RDS") and (at is None or point.created <= at)]
    if not wanted:
        when = f" taken at or before {at:%Y-%m-%dT%H:%M}Z" if at else ""
        what = "database snapshot" if resource_type == "RDS" else "file system"
        raise AwsError(f"no recovery point: no completed {what} recovery point{when} in {region} vault {vault} "
                       f"({len(points)} point(s) in it). The plan's first backup runs within "
                       f"{P.BACKUP_RULE.name}'s HOURS of its deploy, its copy to {backups.backup_region or 'BackupRegion'}"
                       f" after it; `threetier recovery-points {backups.env}` lists what there is")
    return wanted[0]


def parse_time(text: str) -> datetime:
    """--time: an ISO 8601 UTC time, e.g. 2026-12-06T05:00Z."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--time {text!r}: give a UTC time like 2026-12-06T05:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
