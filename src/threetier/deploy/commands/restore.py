"""`threetier restore ENV --into NEWENV`: a new environment from ENV's recovery points, through the
normal reviewed change set.

It picks the newest database snapshot (or the one --point names, or the newest at or before --time) in
ENV's region or, with --from-region, in BackupRegion, and says which and how old; writes
parameters/NEWENV.json (ENV's values, its own EnvironmentName, DbRestoreSnapshot set) and plans NEWENV in
that region, as `threetier plan NEWENV` would. `threetier deploy NEWENV` then executes it. Once NEWENV
exists, `--files` restores the file system's recovery point into NEWENV's file system (AWS Backup
restores into a new directory at its root).

Never into ENV itself: the database and most resources are named <project>-<env>-..., so a second
database cannot be made beside the live one under its name, and a new DbRestoreSnapshot on the live
stack would replace (delete) its database.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from threetier import emit, parameters as P
from threetier.blocks import naming
from threetier.deploy import changeset, recovery, settings
from threetier.deploy.commands import common, plan
from threetier.deploy.errors import EXIT_DANGER, EXIT_OK, AwsError, InputError
from threetier.deploy.inputs import load_user_values, load_values
from threetier.parameters import paramfile

# Left out of the restored environment's file: its site names would be the live one's (the records and
# certificates exist); it answers on its own address until the domain is pointed at it.
SITE_KEYS = (P.DOMAIN_NAME.name, P.HOSTED_ZONE_ID.name, P.SITE_SUBDOMAIN.name, P.ALB_CERTIFICATE_ARN.name,
             P.CLOUDFRONT_CERTIFICATE_ARN.name)
# Pinned for ENV's region: plan pins the restored environment's own.
REGIONAL_KEYS = (P.AVAILABILITY_ZONE_NAMES.name, P.CLOUDFRONT_PREFIX_LIST_ID.name)


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--into", required=True, metavar="NEWENV",
                        help="the new environment's name (parameters/NEWENV.json must not exist yet)")
    parser.add_argument("--from-region", metavar="REGION",
                        help="restore from the vault in this region: ENV's (default) or its BackupRegion; "
                             "NEWENV is made there")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--time", metavar="UTC", help="the newest recovery point at or before this time, "
                                                      "e.g. 2026-12-06T05:00Z")
    choice.add_argument("--point", metavar="ARN", help="this database recovery point (recovery-points lists them)")
    parser.add_argument("--files", action="store_true",
                        help="once NEWENV exists: restore the file system's recovery point into NEWENV's file system")


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    env, new = args.env, args.into
    _check_new_name(project, env, new)
    at = recovery.parse_time(args.time) if args.time else None
    _, values = load_values(project, env)
    clients = common.connect(args)
    backups = recovery.Backups.of(values, clients.region)
    region = args.from_region or clients.region
    backups.check_region(region)

    points = recovery.list_points(common.make_client_in(clients, args.profile, "backup", region), backups, region)
    if args.files:
        return _restore_files(args, clients, backups, region, points, at)
    database = recovery.choose(points, backups, region, "RDS", at=at, arn=args.point)
    # The file system as of the same time: the one --time names, or the database point's.
    files = _file_system_point(points, backups, region, at or (database.created if args.point else None))
    stack_name = f"{backups.project}-{new}"
    _check_name_free(common.make_client_in(clients, args.profile, "cloudformation", region),
                     common.make_client_in(clients, args.profile, "rds", region), backups.project, new, stack_name,
                     region)
    print(f"database: {database.describe()}", file=sys.stderr)
    print(f"file system: {files.describe() if files else 'no recovery point: NEWENV starts with an empty one'}",
          file=sys.stderr)

    written = _write_environment(project, env, new, database, backups, region)
    print(f"{written}: {env}'s values for {new} in {region}, DbRestoreSnapshot {database.arn}", file=sys.stderr)
    args.env, args.region, args.stack_name = new, region, stack_name
    settings.apply(args, settings.load(project, new, args.settings.source if args.settings.source else None))
    code = None
    try:
        code = plan.run(args)
    finally:
        if code not in (EXIT_OK, EXIT_DANGER):
            written.unlink()  # nothing to deploy: the name stays free
            print(f"{written}: removed, as no change set was kept", file=sys.stderr)
    if code in (EXIT_OK, EXIT_DANGER):
        print(f"Next: `threetier deploy {new} --region {region}` executes it; then `threetier restore {env} --into "
              f"{new}{' --from-region ' + region if region != clients.region else ''} --files` brings the file "
              "system back (docs/recovery.md).", file=sys.stderr)
    return code


def _check_new_name(project, env: str, new: str) -> None:
    if new == env:
        raise InputError(
            f"--into {new}: restoring over the live environment cannot work: its database and most resources are "
            f"named <project>-{env}-... (e.g. {naming.DB_INSTANCE}), so a restored database cannot be made beside "
            "the live one under the same names, and a new DbRestoreSnapshot on the live stack would replace its "
            "database. Restore into a new name (e.g. --into restored), check it, then move the domain to it")
    if not re.fullmatch(P.ENVIRONMENT_NAME.allowed_pattern, new):
        raise InputError(f"--into {new}: {P.ENVIRONMENT_NAME.constraint}")
    path = paramfile.path_for(project, new)
    if path.exists():
        raise InputError(f"--into {new}: name already in use: {path} exists (an environment of that name); "
                         "choose another name, or remove the file if it is a restore that never ran")


def _check_name_free(cfn, rds, project: str, new: str, stack_name: str, region: str) -> None:
    """AwsError when a stack or a database instance of the new environment's names exists in `region`."""
    if changeset.describe_stack(cfn, stack_name) is not None:
        raise AwsError(f"--into {new}: name already in use: stack {stack_name} exists in {region}; choose another "
                       "name")
    identifier = f"{project}-{new}-{naming.DB_INSTANCE}"
    try:
        rds.describe_db_instances(DBInstanceIdentifier=identifier)
    except rds.exceptions.DBInstanceNotFoundFault:
        return
    raise AwsError(f"--into {new}: name already in use: database instance {identifier} exists in {region} (left by "
                   f"an earlier {new}?); choose another name, or delete it (`threetier leftovers {new}`)")


def _file_system_point(points, backups, region, at):
    """The file system's recovery point for the same time, or None (NEWENV then starts with an empty one)."""
    try:
        return recovery.choose(points, backups, region, "EFS", at=at)
    except AwsError:
        return None


def _write_environment(project, env: str, new: str, database: recovery.Point, backups: recovery.Backups,
                       region: str):
    """parameters/NEWENV.json: ENV's own values (not its pins), renamed, restoring `database`."""
    _, own = load_user_values(project, env)
    values = {key: value for key, value in own.items() if key not in SITE_KEYS}
    if region != backups.region:
        values = {key: value for key, value in values.items() if key not in REGIONAL_KEYS}
        # Restored in BackupRegion: its copies go back to ENV's region.
        values[P.BACKUP_REGION.name] = backups.region
    values[P.ENVIRONMENT_NAME.name] = new
    values[P.DB_RESTORE_SNAPSHOT.name] = database.arn
    path = paramfile.path_for(project, new)
    entries = [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]
    path.write_text(json.dumps(entries, indent=2) + "\n")
    return path


def _restore_files(args, clients, backups, region, points, at) -> int:
    """Start AWS Backup's restore of the file system's recovery point into NEWENV's file system."""
    point = recovery.choose(points, backups, region, "EFS", at=at)
    cfn = common.make_client_in(clients, args.profile, "cloudformation", region)
    stack_name = f"{backups.project}-{args.into}"
    if changeset.describe_stack(cfn, stack_name) is None:
        raise AwsError(f"stack {stack_name} does not exist in {region}: run `threetier restore {args.env} --into "
                       f"{args.into}` and deploy it first")
    file_system = _nested_output(cfn, stack_name, "DataStack", "EfsFileSystemId")
    role = _nested_output(cfn, stack_name, "BackupStack", "BackupRoleArn")
    backup = common.make_client_in(clients, args.profile, "backup", region)
    # Into an existing file system: AWS Backup never overwrites, it restores into a new directory
    # aws-backup-restore_<time> at the root.
    # https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-efs.html
    job = backup.start_restore_job(
        RecoveryPointArn=point.arn, IamRoleArn=role, ResourceType="EFS",
        Metadata={"file-system-id": file_system, "newFileSystem": "false", "Encrypted": "true"},
    )
    print(f"file system: {point.describe()}")
    print(f"restore job {job['RestoreJobId']} started into {file_system} of {args.into}: the files land in "
          "aws-backup-restore_<time>/ at the file system's root; move them into the app's directory "
          "(docs/recovery.md, step 5).")
    return EXIT_OK


def _nested_output(cfn, stack_name: str, logical_id: str, output: str) -> str:
    nested = cfn.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)
    stack = changeset.describe_stack(cfn, nested["StackResourceDetail"]["PhysicalResourceId"])
    value = changeset.outputs(stack or {}).get(output)
    if not value:
        raise AwsError(f"{stack_name} {logical_id} has no output {output}: is {stack_name} deployed completely?")
    return value
