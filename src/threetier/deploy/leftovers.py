"""What a failed or deleted environment left behind, and how each kind of thing is deleted.

CloudFormation keeps a resource with DeletionPolicy Retain (and takes a final snapshot of a
database with Snapshot) when it deletes the stack, also when a failed first create rolls back
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
Nothing lists them afterwards; this finds them:
- by the tags every resource of the templates carries (Project and Environment), with the
  Resource Groups Tagging API, which answers for all services at once
  (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html);
- by name, for what tags may miss: log groups CloudFormation named after the (nested) stack,
  the database's final snapshots (named after the stack too), and the hosted zone of the domain
  (checked against its tags, so a zone someone else made is never listed).

Each leftover is looked up in its own service before it is listed: the tagging API can still
answer for a resource that was deleted a moment ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from botocore.exceptions import ClientError

# Kinds, in the order they are deleted: the KMS key last, since the log groups it encrypts become
# unreadable once it is gone.
LOG_GROUP = "log group"
BUCKET = "bucket"
SECRET = "secret"  # pragma: allowlist secret (the kind's name, not a value)
FILE_SYSTEM = "file system"
SNAPSHOT = "snapshot"
HOSTED_ZONE = "hosted zone"
KMS_KEY = "KMS key"
ORDER = (LOG_GROUP, BUCKET, SECRET, FILE_SYSTEM, SNAPSHOT, HOSTED_ZONE, KMS_KEY)

# Kinds that hold data nobody can get back once deleted (or, for a hosted zone, a delegation that
# the registrar points at): each needs its own --delete-data choice, like the danger guard's
# --allow-... options. An empty bucket holds nothing, so it needs none.
DATA_CHOICES = {"buckets": BUCKET, "secrets": SECRET, "file-systems": FILE_SYSTEM, "snapshots": SNAPSHOT,
                "hosted-zones": HOSTED_ZONE}

# Secrets Manager's shortest recovery window, and KMS's shortest waiting period: both 7 days,
# during which the deletion can be undone (RestoreSecret, CancelKeyDeletion).
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html (RecoveryWindowInDays)
# https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html (PendingWindowInDays)
RECOVERY_DAYS = 7


@dataclass(frozen=True)
class Leftover:
    kind: str
    name: str  # what the console shows: bucket name, key id, secret name, fs-..., snapshot id, zone id
    arn: str
    data: str = ""  # what it holds that a delete destroys ("3 objects or versions"); "" for nothing
    blocked: str = ""  # why it cannot be deleted now (e.g. a zone with records), or ""
    done: str = ""  # already on its way out (a key or secret scheduled for deletion), or ""

    @property
    def holds_data(self) -> bool:
        """Whether deleting it needs the kind's --delete-data choice."""
        return self.kind in (SECRET, FILE_SYSTEM, SNAPSHOT, HOSTED_ZONE) or bool(self.kind == BUCKET and self.data)

    def line(self) -> str:
        extra = "; ".join(part for part in (self.data, self.done, self.blocked) if part)
        return f"{self.kind:<12} {self.name}{f'  ({extra})' if extra else ''}"


@dataclass(frozen=True)
class Environment:
    project: str
    env: str
    stack_name: str
    domain: str = ""  # the domain whose hosted zone the stack created ("" when it used an existing zone)


class Finder:
    """Looks leftovers up; `client(service)` makes a client with the command's credentials and endpoint."""

    def __init__(self, client: Callable[[str], object]):
        self.client = client

    def find(self, where: Environment) -> list[Leftover]:
        arns = dict.fromkeys(self._tagged(where))
        arns.update(dict.fromkeys(self._log_groups_named(where)))
        arns.update(dict.fromkeys(self._snapshots_named(where)))
        found = [leftover for leftover in (self._look_up(arn) for arn in arns) if leftover]
        zone = self._hosted_zone(where)
        if zone and zone.arn not in arns:
            found.append(zone)
        return sorted(found, key=lambda left: (ORDER.index(left.kind), left.name))

    # -- finding

    def _tagged(self, where: Environment) -> list[str]:
        tagging = self.client("resourcegroupstaggingapi")
        filters = [{"Key": "Project", "Values": [where.project]}, {"Key": "Environment", "Values": [where.env]}]
        arns = []
        for page in tagging.get_paginator("get_resources").paginate(TagFilters=filters):
            arns += [mapping["ResourceARN"] for mapping in page.get("ResourceTagMappingList", [])]
        return [arn for arn in arns if kind_of(arn)]

    def _log_groups_named(self, where: Environment) -> list[str]:
        # CloudFormation names a log group without LogGroupName <stack name>-<LogicalId>-<suffix>,
        # where the stack name is the nested stack's, which starts with the root's.
        logs = self.client("logs")
        arns = []
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"{where.stack_name}-"):
            for group in page.get("logGroups", []):
                tags = logs.list_tags_log_group(logGroupName=group["logGroupName"]).get("tags", {})
                if _ours(tags, where):
                    arns.append(_log_group_arn(group["arn"]))
        return arns

    def _snapshots_named(self, where: Environment) -> list[str]:
        # The final snapshot of a DeletionPolicy Snapshot database is a manual snapshot whose id starts
        # with the (nested) stack's name, lowercased as RDS keeps identifiers.
        rds = self.client("rds")
        prefix = f"{where.stack_name.lower()}-"
        arns = []
        for page in rds.get_paginator("describe_db_snapshots").paginate(SnapshotType="manual"):
            arns += [snap["DBSnapshotArn"] for snap in page.get("DBSnapshots", [])
                     if snap["DBSnapshotIdentifier"].startswith(prefix)
                     and _ours({tag["Key"]: tag["Value"] for tag in snap.get("TagList", [])}, where)]
        return arns

    def _hosted_zone(self, where: Environment) -> Leftover | None:
        if not where.domain:
            return None
        route53 = self.client("route53")
        name = where.domain.rstrip(".") + "."
        zones = route53.list_hosted_zones_by_name(DNSName=name).get("HostedZones", [])
        for zone in zones:
            zone_id = zone["Id"].rsplit("/", 1)[-1]
            if zone["Name"] != name or zone.get("Config", {}).get("PrivateZone"):
                continue
            tags = route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
            tag_map = {tag["Key"]: tag["Value"] for tag in tags["ResourceTagSet"].get("Tags", [])}
            if tag_map.get("Project") == where.project and tag_map.get("Environment") == where.env:
                return self._zone(zone_id, zone)
        return None

    # -- looking each one up in its service

    def _look_up(self, arn: str) -> Leftover | None:
        try:
            return LOOK_UP[kind_of(arn)](self, arn)
        except ClientError as error:
            if _gone(error):
                return None
            raise

    def _log_group(self, arn: str) -> Leftover | None:
        name = arn.split(":log-group:", 1)[1]
        groups = self.client("logs").describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
        group = next((g for g in groups if g["logGroupName"] == name), None)
        if group is None:
            return None
        stored = group.get("storedBytes", 0)
        return Leftover(LOG_GROUP, name, arn, data=f"{stored} bytes stored" if stored else "")

    def _bucket(self, arn: str) -> Leftover | None:
        name = arn.rsplit(":", 1)[-1]
        s3 = self.client("s3")
        s3.head_bucket(Bucket=name)
        listing = s3.list_object_versions(Bucket=name, MaxKeys=1000)
        count = len(listing.get("Versions", [])) + len(listing.get("DeleteMarkers", []))
        more = "+" if listing.get("IsTruncated") else ""
        return Leftover(BUCKET, name, arn, data=f"{count}{more} objects or versions" if count else "")

    def _secret(self, arn: str) -> Leftover | None:
        secret = self.client("secretsmanager").describe_secret(SecretId=arn)
        done = f"deletion scheduled for {secret['DeletedDate']:%Y-%m-%d}" if secret.get("DeletedDate") else ""
        return Leftover(SECRET, secret["Name"], arn, data="a secret value", done=done)

    def _file_system(self, arn: str) -> Leftover | None:
        fs_id = arn.rsplit("/", 1)[-1]
        [fs] = self.client("efs").describe_file_systems(FileSystemId=fs_id)["FileSystems"]
        size = fs.get("SizeInBytes", {}).get("Value", 0)
        targets = fs.get("NumberOfMountTargets", 0)
        # https://docs.aws.amazon.com/efs/latest/ug/API_DeleteFileSystem.html: mount targets go first.
        blocked = f"{targets} mount targets: delete them first" if targets else ""
        return Leftover(FILE_SYSTEM, fs_id, arn, data=f"{size} bytes", blocked=blocked)

    def _snapshot(self, arn: str) -> Leftover | None:
        snap_id = arn.rsplit(":", 1)[-1]
        [snap] = self.client("rds").describe_db_snapshots(DBSnapshotIdentifier=snap_id)["DBSnapshots"]
        size = snap.get("AllocatedStorage")
        return Leftover(SNAPSHOT, snap_id, arn, data=f"database snapshot, {size} GiB" if size else "database snapshot")

    def _key(self, arn: str) -> Leftover | None:
        meta = self.client("kms").describe_key(KeyId=arn)["KeyMetadata"]
        if meta.get("KeyManager") == "AWS":
            return None
        done = ""
        if meta.get("KeyState") == "PendingDeletion":
            when = meta.get("DeletionDate")
            done = f"deletion scheduled for {when:%Y-%m-%d}" if when else "deletion scheduled"
        return Leftover(KMS_KEY, meta["KeyId"], arn, done=done)

    def _zone_by_arn(self, arn: str) -> Leftover | None:
        zone_id = arn.rsplit("/", 1)[-1]
        return self._zone(zone_id, self.client("route53").get_hosted_zone(Id=zone_id)["HostedZone"])

    def _zone(self, zone_id: str, zone: dict) -> Leftover:
        records = zone.get("ResourceRecordSetCount", 2)
        # Only the SOA and NS records may be left: https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html
        blocked = f"{records - 2} records besides SOA and NS: delete them first" if records > 2 else ""
        return Leftover(HOSTED_ZONE, f"{zone_id} {zone['Name']}", f"arn:aws:route53:::hostedzone/{zone_id}",
                        data="DNS zone (the registrar's delegation points at its name servers)", blocked=blocked)


LOOK_UP = {
    LOG_GROUP: Finder._log_group, BUCKET: Finder._bucket, SECRET: Finder._secret,
    FILE_SYSTEM: Finder._file_system, SNAPSHOT: Finder._snapshot, KMS_KEY: Finder._key,
    HOSTED_ZONE: Finder._zone_by_arn,
}


# (service, how the resource part of the ARN starts, kind); a bucket's ARN has no resource type.
ARN_KINDS = (
    ("kms", "key/", KMS_KEY), ("logs", "log-group:", LOG_GROUP), ("secretsmanager", "secret:", SECRET),
    ("elasticfilesystem", "file-system/", FILE_SYSTEM), ("rds", "snapshot:", SNAPSHOT),
    ("route53", "hostedzone/", HOSTED_ZONE),
)


def kind_of(arn: str) -> str:
    """The kind of leftover an ARN names, or "" for one this command does not handle."""
    parts = arn.split(":", 6)
    if len(parts) < 6:
        return ""
    service, resource = parts[2], ":".join(parts[5:])
    if service == "s3":
        return BUCKET if "/" not in resource else ""
    return next((kind for named, start, kind in ARN_KINDS if named == service and resource.startswith(start)), "")


def _ours(tags: dict[str, str], where: Environment) -> bool:
    """Whether a resource found by its name may be this environment's: not when its tags name another one.
    Names alone are not enough: stack shop-dev's prefix "shop-dev-" also starts stack shop-dev-eu's names."""
    return tags.get("Project", where.project) == where.project and tags.get("Environment", where.env) == where.env


def _log_group_arn(arn: str) -> str:
    """DescribeLogGroups' arn ends in :* (all streams); the tagging API's does not."""
    return arn.removesuffix(":*")


def _gone(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in ("NoSuchBucket", "404", "NotFound", "ResourceNotFoundException", "FileSystemNotFound",
                    "DBSnapshotNotFound", "DBSnapshotNotFoundFault", "NoSuchHostedZone", "NotFoundException")


class Deleter:
    """Deletes one leftover as its service's delete call defines it."""

    def __init__(self, client: Callable[[str], object]):
        self.client = client

    def delete(self, leftover: Leftover) -> str:
        """What was done, as a phrase for the report."""
        return DELETE[leftover.kind](self, leftover)

    def _log_group(self, left: Leftover) -> str:
        # Deletes the group and permanently deletes its archived log events:
        # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html
        self.client("logs").delete_log_group(logGroupName=left.name)
        return "deleted with its log events"

    def _bucket(self, left: Leftover) -> str:
        # Every object version and delete marker must be gone before the bucket can be:
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
        s3 = self.client("s3")
        removed = 0
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=left.name):
            batch = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if batch:  # a page holds at most 1000 keys, DeleteObjects' limit
                s3.delete_objects(Bucket=left.name, Delete={"Objects": batch, "Quiet": True})
                removed += len(batch)
        s3.delete_bucket(Bucket=left.name)
        return f"deleted with {removed} objects or versions" if removed else "deleted (it was empty)"

    def _secret(self, left: Leftover) -> str:
        # With a recovery window the secret can be restored until the window ends (RestoreSecret):
        # https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
        answer = self.client("secretsmanager").delete_secret(SecretId=left.arn, RecoveryWindowInDays=RECOVERY_DAYS)
        return f"scheduled for deletion on {answer['DeletionDate']:%Y-%m-%d} (restore-secret undoes it until then)"

    def _file_system(self, left: Leftover) -> str:
        # Deleting a file system permanently deletes its data:
        # https://docs.aws.amazon.com/efs/latest/ug/API_DeleteFileSystem.html
        self.client("efs").delete_file_system(FileSystemId=left.name)
        return "deleted with its data"

    def _snapshot(self, left: Leftover) -> str:
        # https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSnapshot.html
        self.client("rds").delete_db_snapshot(DBSnapshotIdentifier=left.name)
        return "deleted"

    def _zone(self, left: Leftover) -> str:
        # https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html
        self.client("route53").delete_hosted_zone(Id=left.arn.rsplit("/", 1)[-1])
        return "deleted (a new zone gets new name servers: update the registrar when you create it again)"

    def _key(self, left: Leftover) -> str:
        # A KMS key is never deleted at once: it waits 7 to 30 days in PendingDeletion, and
        # CancelKeyDeletion undoes it: https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html
        answer = self.client("kms").schedule_key_deletion(KeyId=left.name, PendingWindowInDays=RECOVERY_DAYS)
        return f"scheduled for deletion on {answer['DeletionDate']:%Y-%m-%d} (cancel-key-deletion undoes it until then)"


DELETE = {
    LOG_GROUP: Deleter._log_group, BUCKET: Deleter._bucket, SECRET: Deleter._secret,
    FILE_SYSTEM: Deleter._file_system, SNAPSHOT: Deleter._snapshot, HOSTED_ZONE: Deleter._zone,
    KMS_KEY: Deleter._key,
}
