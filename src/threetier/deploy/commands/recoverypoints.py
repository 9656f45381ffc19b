"""`threetier recovery-points ENV`: what the environment can be restored from, in its region and in
BackupRegion, newest first, with each point's age and when its lifecycle deletes it."""

from __future__ import annotations

import argparse

from threetier import emit
from threetier.deploy import recovery
from threetier.deploy.commands import common
from threetier.deploy.errors import EXIT_FAILURE, EXIT_OK, AwsError
from threetier.deploy.inputs import load_values


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    _, values = load_values(project, args.env)
    clients = common.connect(args)
    backups = recovery.Backups.of(values, clients.region)
    backups.check_region(clients.region)
    missing = 0
    for region in backups.regions():
        backup = common.make_client_in(clients, args.profile, "backup", region)
        print(f"{region} ({'the environment' if region == backups.region else 'BackupRegion'}), vault "
              f"{backups.vault(region)}, kept {backups.retention_days(region)} days:")
        try:
            points = recovery.list_points(backup, backups, region)
        except AwsError as error:
            print(f"  {error}")
            missing += 1
            continue
        if not points:
            print("  no recovery point yet")
        for point in points:
            expires = f", deleted {point.delete_at:%Y-%m-%d}" if point.delete_at else ""
            print(f"  {point.created:%Y-%m-%d %H:%M} UTC  {recovery.format_age(point.age()):>14} old  "
                  f"{point.resource_type:<4} {point.kind:<26} {point.status:<10} {point.arn}{expires}")
    print(f"Restore with `threetier restore {args.env} --into NEWENV` (the newest database snapshot and file "
          "system backup; --time or --point to choose, --from-region for the other region).")
    return EXIT_FAILURE if missing == len(backups.regions()) else EXIT_OK
