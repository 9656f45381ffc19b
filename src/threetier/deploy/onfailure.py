"""What CloudFormation does when a stack operation fails: `--on-failure` and `--disable-rollback`.

A first create is told at CreateChangeSet time, with OnStackFailure (ROLLBACK | DELETE |
DO_NOTHING); an update is told at ExecuteChangeSet time, with DisableRollback. ExecuteChangeSet
refuses DisableRollback for a change set that was created with OnStackFailure, so each goes
only where it belongs.
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html (OnStackFailure)
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html (DisableRollback)

The default for a first create is DELETE. With ROLLBACK (AWS's default) a failed create leaves a
stack in ROLLBACK_COMPLETE that can neither be updated nor created again under its name: the next
deploy has to delete it first, so an operator retrying a first create expects it gone. Its events
stay readable by stack id after the delete, and `deploy` has printed the first failure already
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html, and
ROLLBACK_COMPLETE in https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-resource-configuration-complete.html). 
RetainExceptOnCreate (ExecuteChangeSet): "when set to true, newly created resources are deleted when the
operation rolls back. This includes newly created resources marked with a deletion policy of Retain"
(default false; https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html).
Sent for a first create by default: everything it made is new and the environment never held data,
so a failed create no longer leaves the Retain resources (KMS key, secrets, buckets, file system,
hosted zone) behind. Not for an update unless asked: what a failed update created may already hold
data (a replacement database the servers wrote to before a later resource failed), which is what
Retain is there to keep. It only matters when the operation rolls back, so it contradicts
--disable-rollback and --on-failure do-nothing. What AWS makes on the way (log groups a service
creates itself, a database's final snapshot) is no stack resource: `threetier leftovers ENV` lists it.
"""

from __future__ import annotations

import argparse

from threetier.deploy.errors import InputError

CHOICES = {"rollback": "ROLLBACK", "delete": "DELETE", "do-nothing": "DO_NOTHING"}
DEFAULT = "delete"


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("when the stack operation fails")
    group.add_argument("--on-failure", choices=sorted(CHOICES), default=None,
                       help=f"a first create that fails: roll back and keep the stack in ROLLBACK_COMPLETE "
                            f"(rollback), roll back and delete the stack (delete), or keep what was created "
                            f"(do-nothing). Default: {DEFAULT}. Updates always roll back unless "
                            "--disable-rollback")
    group.add_argument("--disable-rollback", action="store_true",
                       help="for debugging: a failed operation keeps what it created or changed (a create as "
                            "with --on-failure do-nothing; an update stays UPDATE_FAILED). Clean up with "
                            "`threetier delete ENV`, then `threetier leftovers ENV`")
    group.add_argument("--retain-except-on-create", action=argparse.BooleanOptionalAction, default=None,
                       help="when the operation rolls back, delete what it created, DeletionPolicy Retain "
                            "included (RetainExceptOnCreate). Default: on for a first create (the environment "
                            "held no data yet), off for an update (what it created may already hold data)")


def on_stack_failure(args: argparse.Namespace) -> str:
    """OnStackFailure for a CREATE change set. InputError (exit 2) for contradicting flags."""
    chosen = getattr(args, "on_failure", None)
    if getattr(args, "retain_except_on_create", None):
        keeping = "--disable-rollback" if getattr(args, "disable_rollback", False) else (
            "--on-failure do-nothing" if chosen == "do-nothing" else "")
        if keeping:
            raise InputError(f"--retain-except-on-create deletes what a failed operation created when it rolls "
                             f"back; {keeping} keeps it, with no rollback: pass one of them")
    if getattr(args, "disable_rollback", False):
        if chosen not in (None, "do-nothing"):
            raise InputError(f"--disable-rollback keeps what a failed create made; --on-failure {chosen} "
                             "does not: pass one of them")
        return CHOICES["do-nothing"]
    return CHOICES[chosen or DEFAULT]


def update_note(args: argparse.Namespace) -> str:
    """A note for --on-failure on an update (CloudFormation takes OnStackFailure for creates only), or ""."""
    chosen = getattr(args, "on_failure", None)
    if chosen is None:
        return ""
    return (f"note: --on-failure {chosen} applies to a first create only; this is an update, which rolls "
            "back when it fails (pass --disable-rollback to keep a failed update's changes)")


def execute_options(args: argparse.Namespace, change_set_type: str) -> dict:
    """ExecuteChangeSet arguments beyond the change set: DisableRollback for an update with --disable-rollback,
    RetainExceptOnCreate when the operation deletes what it created on rollback."""
    if change_set_type == "UPDATE" and getattr(args, "disable_rollback", False):
        return {"DisableRollback": True}
    return {"RetainExceptOnCreate": True} if deletes_created(args, change_set_type) else {}


def deletes_created(args: argparse.Namespace, change_set_type: str) -> bool:
    """Whether a rollback of this operation deletes what it created, Retain resources included."""
    if getattr(args, "disable_rollback", False):
        return False
    if change_set_type == "CREATE" and on_stack_failure(args) == CHOICES["do-nothing"]:
        return False
    chosen = getattr(args, "retain_except_on_create", None)
    return change_set_type == "CREATE" if chosen is None else chosen


def cleanup_advice(env: str, change_set_type: str) -> str:
    """What to do after a failed operation that did not roll back."""
    if change_set_type == "CREATE":
        return (f"Rollback was disabled: what the create made stays. Once you have looked, remove it with "
                f"`threetier delete {env}`, then `threetier leftovers {env}` for the retained resources.")
    return (f"Rollback was disabled: the stack stays UPDATE_FAILED with the update's changes. Fix and run "
            f"`threetier deploy {env}` again, or roll back with `aws cloudformation rollback-stack`; to remove "
            f"the environment, `threetier delete {env}`, then `threetier leftovers {env}`.")
