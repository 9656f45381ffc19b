"""`threetier backup-vault ENV`: create or update the copy vault (output/backup-vault.yaml) in the
environment's BackupRegion, where its AWS Backup plan copies every recovery point.

A stack of its own there, <stack>-backup-copy: a nested stack lives in its parent's region. Run it
before the first deploy with BackupRegion set (until it exists, every copy fails and the failure
reaches the alarm topic), and again when BackupRule or BackupVaultLock change.
"""

from __future__ import annotations

import argparse
import sys
from botocore.exceptions import ClientError

from threetier import emit, parameters as P
from threetier.deploy import changeset, events, recovery
from threetier.deploy.commands import common
from threetier.deploy.errors import EXIT_FAILURE, EXIT_OK, InputError
from threetier.deploy.inputs import load_values
from threetier.emit import manifest
from threetier.parameters import validate

TEMPLATE = "backup-vault.yaml"
TAKES = (P.PROJECT_NAME, P.ENVIRONMENT_NAME, P.BACKUP_RULE, P.BACKUP_VAULT_LOCK)


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stale = manifest.check(project, getattr(args, "regenerate", False))
    if stale:
        raise InputError(stale)
    path, values = load_values(project, args.env)
    body = (project / "output" / TEMPLATE).read_text()
    clients = common.connect(args)
    # As the root declares them, so that validate's own checks explain (the vault lock's explicit yes).
    taken = (*TAKES, P.BACKUP_REGION)
    problems = validate.errors(validate.validate({"Parameters": {p.name: p.to_parameter(root=True).to_dict()
                                                                 for p in taken}},
                                                 {p.name: values[p.name] for p in taken if p.name in values},
                                                 region=clients.region))
    if problems:
        raise InputError("\n".join(f"{path}: {problem}" for problem in problems))
    backups = recovery.Backups.of(values, clients.region)
    backups.check_region(backups.backup_region or clients.region)
    region = backups.backup_region
    cfn = common.make_client_in(clients, args.profile, "cloudformation", region)
    stack_name = f"{backups.project}-{backups.env}-backup-copy"
    parameters = [{"ParameterKey": p.name, "ParameterValue": values.get(p.name) or p.default or ""} for p in TAKES]
    existing = changeset.describe_stack(cfn, stack_name)
    start = events.Baseline(seen_ids=frozenset(), since=None) if existing is None else events.baseline(cfn, stack_name)
    try:
        if existing is None:
            stack_id = cfn.create_stack(StackName=stack_name, TemplateBody=body, Parameters=parameters,
                                        EnableTerminationProtection=True,
                                        Tags=[{"Key": "Project", "Value": backups.project},
                                              {"Key": "Environment", "Value": backups.env}])["StackId"]
        else:
            stack_id = cfn.update_stack(StackName=stack_name, TemplateBody=body, Parameters=parameters)["StackId"]
    except ClientError as error:
        if "No updates are to be performed" in str(error):
            print(f"Stack {stack_name} in {region} already matches {TEMPLATE} and {path.name}: no changes.")
            return EXIT_OK
        raise
    print(f"{'creating' if existing is None else 'updating'} stack {stack_name} in {region} ({TEMPLATE}): vault "
          f"{backups.vault(region)}", file=sys.stderr)
    outcome = common.follow(cfn, stack_id, stack_name, start, args, color=False)
    return EXIT_OK if outcome.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") else EXIT_FAILURE
