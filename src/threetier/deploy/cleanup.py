"""Leave nothing behind when a command stops before executing its change set.

`plan` keeps its change set for review and `deploy` executes its own; every
other way out (no changes, a failed change set, dangerous changes refused, not
confirmed, a refused execution, a timeout, throttling, Ctrl-C) deletes it. A
CREATE change set also made an empty stack in REVIEW_IN_PROGRESS (no resources,
no cost; CreateChangeSet with ChangeSetType CREATE makes it,
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html, and
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html lists
the status): it is deleted too unless another change set still waits on it.
When AWS refuses the cleanup, the message says what is left and how to remove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from threetier.deploy.errors import aws_said


@dataclass(frozen=True)
class Created:
    """A change set this command created."""

    cfn: Any
    stack_name: str
    stack_id: str
    change_set_id: str
    change_set_type: str  # CREATE or UPDATE
    env: str
    region: str | None = None

    @property
    def at(self) -> str:
        return f" --region {self.region}" if self.region else ""


class Pending:
    """Change sets created by this command and not yet executed or kept for review."""

    def __init__(self, out: TextIO):
        self.out = out
        self.created: list[Created] = []

    def track(self, created: Created) -> None:
        self.created.append(created)

    def settle(self, change_set_id: str) -> None:
        """The change set was executed or is kept on purpose: nothing to clean up."""
        self.created = [c for c in self.created if c.change_set_id != change_set_id]

    def discard(self, change_set_id: str) -> None:
        for created in [c for c in self.created if c.change_set_id == change_set_id]:
            self.settle(change_set_id)
            discard(created, self.out)

    def discard_all(self) -> None:
        while self.created:
            discard(self.created.pop(), self.out)


def discard(created: Created, out: TextIO) -> None:
    """Delete the change set, then the empty stack a CREATE change set made."""
    try:
        created.cfn.delete_change_set(ChangeSetName=created.change_set_id)
    except (ClientError, BotoCoreError) as error:
        print(f"The change set was left behind ({_why(error)}). Remove it with:\n"
              f"  aws cloudformation delete-change-set --change-set-name {created.change_set_id}{created.at}",
              file=out)
        if created.change_set_type == "CREATE":
            print(_empty_stack_left(created), file=out)
        return
    if created.change_set_type == "CREATE":
        _remove_empty_stack(created, out)


def _remove_empty_stack(created: Created, out: TextIO) -> None:
    try:
        summaries = created.cfn.list_change_sets(StackName=created.stack_id).get("Summaries", [])
        waiting = [s for s in summaries if s.get("ChangeSetId") != created.change_set_id
                   and not s.get("Status", "").startswith("DELETE_")]
        if waiting:
            print(f"Stack {created.stack_name} stays in REVIEW_IN_PROGRESS: {len(waiting)} other change "
                  f"set(s) wait on it (see `threetier status {created.env}{created.at}`).", file=out)
            return
        created.cfn.delete_stack(StackName=created.stack_id)
    except (ClientError, BotoCoreError) as error:
        print(f"{_empty_stack_left(created)} ({_why(error)})", file=out)
        return
    print(f"Deleted the empty stack {created.stack_name} (REVIEW_IN_PROGRESS, no resources) "
          "that the change set had created.", file=out)


def _empty_stack_left(created: Created) -> str:
    return (f"Stack {created.stack_name} is left empty in REVIEW_IN_PROGRESS (no resources, no cost); "
            f"remove it with `threetier delete {created.env}{created.at}`")


def _why(error: Exception) -> str:
    return aws_said(error, operation=False) if isinstance(error, ClientError) else str(error)
