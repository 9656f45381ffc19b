"""After a deploy or delete that did not end well: the state each stack is in now, and what to run next."""

from __future__ import annotations

from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from threetier.deploy.changeset import describe_stack

IN_PROGRESS = "_IN_PROGRESS"


def stack_states(cfn, stacks: dict[str, str]) -> list[tuple[str, str]]:
    """(path, status now) for each stack id in `stacks` (root first, then nested stacks as found)."""
    states = []
    for stack_id, path in stacks.items():
        try:
            stack = describe_stack(cfn, stack_id)
            status = stack["StackStatus"] if stack else "does not exist"
        except (ClientError, BotoCoreError) as error:
            status = f"unknown (DescribeStacks failed: {error})"
        states.append((path, status))
    return states


def print_stack_states(cfn, stacks: dict[str, str], env: str, region: str | None, out: TextIO) -> None:
    states = stack_states(cfn, stacks)
    width = max(len(path) for path, _ in states)
    print("Stacks now:", file=out)
    for path, status in states:
        print(f"  {path.ljust(width)}  {status}", file=out)
    print(next_command(states, env, region), file=out)


def next_command(states: list[tuple[str, str]], env: str, region: str | None) -> str:
    at = f" --region {region}" if region else ""
    busy = [path for path, status in states if status.endswith(IN_PROGRESS) and status != "REVIEW_IN_PROGRESS"]
    if busy:
        return (f"Still in progress: {', '.join(busy)}. Check again with `threetier status {env}{at}`; "
                "once it settles, that says what to do next.")
    return f"Next: `threetier status {env}{at}` shows the stack and what to do with it."
