"""CLI subcommands of the deploy wrapper: package, plan, deploy, status, watch, cancel, continue-rollback,
delete, leftovers, release, pin-ami, drift, stackset, backup-vault, recovery-points, restore.

Each command's flow is one module here; what they share (settings, clients, error
reporting) is in common.py, the mechanics in threetier.deploy. Each command reads and
checks its local inputs first (exit 2 on bad input, before any AWS call), then talks to
CloudFormation and S3. Reviews and results go to stdout; progress chatter goes to stderr,
so `plan --json` prints pure JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from threetier.emit import manifest

from threetier.deploy import onfailure, settings
from threetier.deploy.commands import (
    backupvault,
    cancel,
    common,
    continuerollback,
    delete,
    deploy,
    drift,
    leftovers,
    package,
    plan,
    recoverypoints,
    release,
    restore,
    stackset,
    status,
    watch,
)
from threetier.deploy.session import add_aws_options
from threetier.review import danger

# How long a command waits for a change set to be computed, or for a stack operation
# to settle, before it stops waiting (--timeout). A first prod create with a Multi-AZ
# database, a replica and CloudFront takes about an hour.
DEFAULT_TIMEOUT_MINUTES = 120


def add_commands(commands) -> None:
    """Add the deploy subcommands to the `threetier` argparse subparsers."""
    aws = argparse.ArgumentParser(add_help=False)
    add_aws_options(aws)

    bucket = argparse.ArgumentParser(add_help=False)
    bucket.add_argument("--bucket",
                        help="S3 bucket for the templates, in the region you deploy to "
                             "(default: bucket in threetier.toml)")
    bucket.add_argument("--prefix", help="key prefix in the bucket (default: prefix in threetier.toml, "
                                         f"else {settings.DEFAULT_PREFIX})")

    stack = argparse.ArgumentParser(add_help=False)
    stack.add_argument("env", metavar="ENV", help="environment: its values are in parameters/ENV.json")
    stack.add_argument("--stack-name",
                       help="default: stack_name in threetier.toml, else <ProjectName>-<EnvironmentName> "
                            "from parameters/ENV.json")
    stack.add_argument("--settings", type=Path, metavar="FILE",
                       help="settings file pinning the environment's account, region, bucket, ... "
                            "(default: threetier.toml in the project, if there is one)")

    role = argparse.ArgumentParser(add_help=False)
    role.add_argument("--role-arn", help="IAM role CloudFormation uses for the stack operation "
                                         "(default: role_arn in threetier.toml)")

    wait = argparse.ArgumentParser(add_help=False)
    wait.add_argument("--timeout", type=_minutes, default=DEFAULT_TIMEOUT_MINUTES, metavar="MINUTES",
                      help="stop waiting for the change set or the stack after this many minutes "
                           "(default: %(default)s); the stack operation itself goes on")

    guard = argparse.ArgumentParser(add_help=False)
    allow = guard.add_argument_group("danger guard")
    danger.add_allow_options(allow)
    allow.add_argument("--allow-insecure", action="store_true",
                       help="accept prod parameters without Multi-AZ or deletion protection (warns instead)")

    fresh = argparse.ArgumentParser(add_help=False)
    manifest.add_option(fresh)

    package_cmd = commands.add_parser(
        "package", parents=[bucket, fresh, aws],
        help="upload the templates to S3; with ENV, print a console quick-create link with its values",
        description="Upload every nested template of output/main.yaml to S3 under a content-hashed "
                    "key and write output/packaged/main.yaml, which points at them (upload that file "
                    "in the CloudFormation console). With ENV: validate parameters/ENV.json first, check "
                    "the bucket is in the deploy region, upload the root too, fill in what a console "
                    "user cannot easily find (the CloudFront prefix list id), and print a quick-create "
                    "link that opens the console with ENV's values.",
    )
    package_cmd.add_argument("env", metavar="ENV", nargs="?",
                             help="environment whose values the quick-create link carries")
    package_cmd.set_defaults(run=run_package)

    plan_cmd = commands.add_parser(
        "plan", parents=[stack, bucket, role, guard, wait, fresh, aws],
        help="package, create a change set and print its review; never executes",
        description="Exit codes: 0 reviewed (or no changes), 1 AWS or change set failure, "
                    "2 bad input, 3 dangerous changes not allowed by an --allow-... option.",
    )
    onfailure.add_options(plan_cmd)
    plan_cmd.add_argument("--json", action="store_true", help="print the review as JSON (for CI bots)")
    plan_cmd.set_defaults(run=run_plan)

    deploy_cmd = commands.add_parser(
        "deploy", parents=[stack, bucket, role, guard, wait, fresh, aws],
        help="plan, ask, execute the change set and follow the stack events",
        description="Exit codes: 0 CREATE_COMPLETE/UPDATE_COMPLETE (or no changes), 1 failure or not "
                    "confirmed, 2 bad input, 3 refused because of dangerous changes.",
    )
    deploy_cmd.add_argument("--yes", action="store_true", help="execute without asking")
    onfailure.add_options(deploy_cmd)
    deploy_cmd.set_defaults(run=run_deploy)

    rotate = commands.add_parser(
        "rotate-origin-secret", parents=[stack, bucket, role, guard, wait, fresh, aws],
        help="a new value for the header CloudFront sends the load balancer, deployed as a reviewed change set",
        description="Secrets Manager generates a new version of the origin header secret; the change set carries "
                    "it (CloudFront sends it) and the version the deployed distribution sends now (the load "
                    "balancer still accepts it while CloudFront's edges switch), and parameters/ENV.pins.json pins "
                    "both once CloudFormation has the change set; an unfinished earlier rotation is resumed. Then "
                    "the same review, prompt and exit codes as deploy.",
    )
    rotate.add_argument("--yes", action="store_true", help="execute without asking")
    rotate.set_defaults(run=run_rotate_origin_secret)

    status_cmd = commands.add_parser("status", parents=[stack, aws], help="stack status and outputs")
    status_cmd.set_defaults(run=run_status)

    watch_cmd = commands.add_parser(
        "watch", parents=[stack, wait, aws],
        help="re-attach to the operation running on the stack (or say that nothing runs)",
        description="Shows the running operation's events from its start, root and nested stacks, and follows "
                    "them until the stack settles. Exit codes: 0 nothing running, or the operation completed; "
                    "1 it failed or rolled back (or --timeout); 4 following stopped (credentials expired, too "
                    "many errors): the operation goes on in AWS.",
    )
    watch_cmd.set_defaults(run=lambda args: common.guarded(watch.run, args))

    cancel_cmd = commands.add_parser(
        "cancel", parents=[stack, wait, aws],
        help="cancel the update in progress (CancelUpdateStack) and follow its rollback",
        description="Only a stack in UPDATE_IN_PROGRESS can be cancelled; it rolls back to its previous "
                    "configuration. Exit codes: 0 UPDATE_ROLLBACK_COMPLETE, 1 not cancellable, refused or "
                    "failed, 4 following stopped (the rollback goes on in AWS).",
    )
    cancel_cmd.add_argument("--yes", action="store_true", help="cancel without asking")
    cancel_cmd.set_defaults(run=lambda args: common.guarded(cancel.run, args))

    continue_cmd = commands.add_parser(
        "continue-rollback", parents=[stack, role, wait, aws],
        help="on UPDATE_ROLLBACK_FAILED: list what failed to roll back, continue the rollback and follow it",
        description="Lists the resources in UPDATE_FAILED, root and nested stacks, under the names "
                    "ResourcesToSkip takes (NestedStackLogicalId.ResourceLogicalId), then runs "
                    "ContinueUpdateRollback. Exit codes: 0 UPDATE_ROLLBACK_COMPLETE, 1 not in "
                    "UPDATE_ROLLBACK_FAILED, an unknown --skip, refused or failed, 4 following stopped.",
    )
    continue_cmd.add_argument("--skip", nargs="+", action="extend", metavar="NAME",
                              help="a resource to skip, as listed: LogicalId in the root stack, "
                                   "NestedStackLogicalId.ResourceLogicalId in a nested one (e.g. AppStack.Asg)")
    continue_cmd.add_argument("--yes", action="store_true", help="continue without asking")
    continue_cmd.set_defaults(run=lambda args: common.guarded(continuerollback.run, args))

    delete_cmd = commands.add_parser("delete", parents=[stack, role, wait, aws],
                                 help="delete the stack (resources with DeletionPolicy Retain/Snapshot stay)")
    delete_cmd.add_argument("--yes", action="store_true", help="delete without asking")
    delete_cmd.add_argument("--disable-termination-protection", action="store_true",
                        help="needed to delete a protected environment: turns the stack's termination "
                             "protection off (after the confirmation), then deletes")
    delete_cmd.set_defaults(run=run_delete)

    release_cmd = commands.add_parser(
        "release", parents=[stack, bucket, role, guard, wait, fresh, aws],
        help="set AppRepositoryRef in parameters/ENV.json (nothing else) and plan it",
        description="A release is a parameter change: a new launch template version and a rolling "
                    "replacement of the servers. Does what `plan` does with REF, and writes REF into "
                    "parameters/ENV.json once the change set is created (deploy it with `threetier deploy "
                    "ENV`). Exit codes as plan.",
    )
    release_cmd.add_argument("ref", metavar="REF", help="branch, tag or commit of the app to release")
    release_cmd.add_argument("--json", action="store_true", help="print the review as JSON")
    release_cmd.set_defaults(run=lambda args: common.guarded(release.run_release, args))

    pin_ami = commands.add_parser(
        "pin-ami", parents=[stack, aws],
        help="move PinnedAmiId in parameters/ENV.pins.json to AmiId's latest image (or --ami-id); then plan",
        description="Servers run the image the environment pins; this moves the pin deliberately. "
                    "Writes parameters/ENV.pins.json only: review and apply it with plan/deploy.",
    )
    pin_ami.add_argument("--ami-id", help="pin this image id instead of AmiId's latest")
    pin_ami.set_defaults(run=lambda args: common.guarded(release.run_pin_ami, args))

    leftovers_cmd = commands.add_parser(
        "leftovers", parents=[stack, aws],
        help="list what a failed or deleted environment left (retained resources, final snapshots); "
             "delete them only with --delete",
        description="Finds the resources tagged Project/Environment for ENV, log groups and database snapshots "
                    "named after its stack, and the hosted zone of its domain. Refuses while the stack exists. "
                    "Exit codes: 0 listed (or nothing left, or all deleted); 1 the stack exists, AWS refused a "
                    "deletion, or not confirmed; 2 bad input; 3 deleted all but the kinds that hold data, which "
                    "need --delete-data.",
    )
    leftovers.add_options(leftovers_cmd)
    leftovers_cmd.set_defaults(run=lambda args: common.guarded(leftovers.run, args))

    drift_cmd = commands.add_parser(
        "drift", parents=[stack, wait, aws],
        help="drift detection on the root and every nested stack",
        description="Exit codes: 0 every stack in sync, 1 drifted (or detection failed), 2 bad input.",
    )
    drift_cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    drift_cmd.set_defaults(run=lambda args: common.guarded(drift.run, args))

    stackset_cmd = commands.add_parser(
        "stackset", parents=[bucket, guard, wait, fresh, aws],
        help="roll ENV out to many accounts and regions as a CloudFormation stack set ([ENV.stackset] in threetier.toml)",
        description="ACTION review: the per-target review, never runs; deploy: review, ask, create or update the "
                    "stack set and its instances, following each operation per instance; drift: drift per stack "
                    "instance; delete: name what survives, ask, delete the instances, then the stack set; bootstrap: "
                    "the deployer role to every target account (OUs: automatically to accounts that join). Exit "
                    "codes: 0 done (or reviewed), 1 an operation failed, drift found or not confirmed, 2 bad input or "
                    "bad targets (nothing sent to AWS), 3 dangerous changes not allowed by an --allow-... option.",
    )
    stackset.add_options(stackset_cmd)
    stackset_cmd.add_argument("env", metavar="ENV", help="environment: its values are in parameters/ENV.json")
    stackset_cmd.add_argument("--settings", type=Path, metavar="FILE",
                              help="settings file (default: threetier.toml in the project)")
    stackset_cmd.set_defaults(run=lambda args: common.guarded(stackset.run, args))


    _add_backup_commands(commands, stack, bucket, role, guard, wait, fresh, aws)


def _add_backup_commands(commands, stack, bucket, role, guard, wait, fresh, aws) -> None:
    """Issue 36: the copy vault, what can be restored, and a restore (docs/recovery.md)."""
    vault_cmd = commands.add_parser(
        "backup-vault", parents=[stack, wait, fresh, aws],
        help="create or update the copy vault (output/backup-vault.yaml) in the environment's BackupRegion",
        description="Stack <stack>-backup-copy in BackupRegion holds the vault the AWS Backup plan copies to; "
                    "run it before the first deploy with BackupRegion set. Exit codes: 0 done (or no changes), "
                    "1 AWS refused or the stack failed, 2 bad input.",
    )
    vault_cmd.set_defaults(run=lambda args: common.guarded(backupvault.run, args))

    points_cmd = commands.add_parser(
        "recovery-points", parents=[stack, aws],
        help="list the environment's recovery points in its region and in BackupRegion, with their age",
        description="Exit codes: 0 listed, 1 neither vault exists, 2 bad input (or no AWS Backup plan).",
    )
    points_cmd.set_defaults(run=lambda args: common.guarded(recoverypoints.run, args))

    restore_cmd = commands.add_parser(
        "restore", parents=[stack, bucket, role, guard, wait, fresh, aws],
        help="a new environment NEWENV from ENV's recovery points, planned as a reviewed change set",
        description="Picks the newest database snapshot (or --time, --point), says which and how old, writes "
                    "parameters/NEWENV.json and plans NEWENV as `threetier plan NEWENV` does; deploy it with "
                    "`threetier deploy NEWENV`, then run again with --files. Exit codes as plan; 1 also for no "
                    "recovery point or a stack or database of NEWENV's names in the region; 2 for "
                    "parameters/NEWENV.json existing, NEWENV equal to ENV, a point older than retention allows, "
                    "or a region without ENV's vaults.",
    )
    onfailure.add_options(restore_cmd)
    restore_cmd.add_argument("--json", action="store_true", help="print the review as JSON")
    restore.add_options(restore_cmd)
    restore_cmd.set_defaults(run=lambda args: common.guarded(restore.run, args))


def _minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = 0
    if not 0 < minutes <= 24 * 60:
        raise argparse.ArgumentTypeError(f"{text!r}: give minutes from 1 to 1440, e.g. 120")
    return minutes


def run_package(args: argparse.Namespace) -> int:
    return common.guarded(package.run, args)


def run_plan(args: argparse.Namespace) -> int:
    return common.guarded(plan.run, args)


def run_deploy(args: argparse.Namespace) -> int:
    return common.guarded(deploy.run, args)


def run_rotate_origin_secret(args: argparse.Namespace) -> int:
    from threetier.deploy import origin

    return common.guarded(lambda arguments: origin.rotate(arguments, deploy.run), args)


def run_status(args: argparse.Namespace) -> int:
    return common.guarded(status.run, args)


def run_delete(args: argparse.Namespace) -> int:
    return common.guarded(delete.run, args)

