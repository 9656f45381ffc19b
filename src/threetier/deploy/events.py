"""Follow a stack operation through its events, nested stacks included, until it settles.

CloudFormation lists events newest first, per stack. A nested stack shows up in
its parent's events as an AWS::CloudFormation::Stack resource whose
PhysicalResourceId is the nested stack's id; from then on its own events are
read too. Only events of the current operation are shown: those not present
before it started (the baseline) and not older than the newest of those.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, TextIO

from threetier.review.console import paint

STACK_TYPE = "AWS::CloudFormation::Stack"
IN_PROGRESS = "_IN_PROGRESS"


@dataclass(frozen=True)
class Baseline:
    """The events that existed before the operation started."""

    seen_ids: frozenset[str]
    since: datetime | None


@dataclass(frozen=True)
class Outcome:
    status: str  # the stack's final status
    elapsed: float
    first_failure: dict | None  # the event that explains the failure, if any
    first_failure_path: str = ""
    stack: dict | None = None  # DescribeStacks' view of the settled stack
    timed_out: bool = False  # stopped following before the stack settled (status is still *_IN_PROGRESS)
    stacks: dict[str, str] = field(default_factory=dict)  # stack id -> path, nested stacks included


def baseline(cfn, stack_id: str) -> Baseline:
    events = cfn.describe_stack_events(StackName=stack_id).get("StackEvents", [])
    return Baseline(
        seen_ids=frozenset(event["EventId"] for event in events),
        since=max((event["Timestamp"] for event in events), default=None),
    )


def is_self_event(event: dict) -> bool:
    """An event about the stack itself rather than one of its resources."""
    return event.get("PhysicalResourceId") == event.get("StackId")


def is_failure(event: dict) -> bool:
    return event.get("ResourceStatus", "").endswith("_FAILED")


def first_failure(events: list[dict]) -> dict | None:
    """The earliest failed event, skipping the "Resource creation cancelled" echoes of it."""
    failed = sorted((e for e in events if is_failure(e)), key=lambda e: e["Timestamp"])
    causes = [e for e in failed if "cancelled" not in (e.get("ResourceStatusReason") or "").lower()]
    return (causes or failed or [None])[0]


class EventTail:
    """New events of a stack and of every nested stack found so far."""

    def __init__(self, cfn, stack_id: str, stack_name: str, start: Baseline):
        self.cfn = cfn
        self.root_id = stack_id
        self.paths = {stack_id: stack_name}  # stack id -> path such as "app-dev/NetworkStack"
        self.seen = set(start.seen_ids)
        self.since = start.since

    def poll(self) -> list[dict]:
        """Events not returned before, oldest first."""
        new = []
        queue = list(self.paths)
        while queue:
            stack_id = queue.pop(0)
            for event in self._unseen(stack_id):
                new.append(event)
                nested_id = self._nested_stack_id(event)
                if nested_id and nested_id not in self.paths:
                    self.paths[nested_id] = f"{self.paths[stack_id]}/{event['LogicalResourceId']}"
                    queue.append(nested_id)
        new.sort(key=lambda event: event["Timestamp"])
        return new

    def path_of(self, event: dict) -> str:
        stack_path = self.paths.get(event["StackId"], event.get("StackName", ""))
        return stack_path if is_self_event(event) else f"{stack_path}/{event['LogicalResourceId']}"

    def _unseen(self, stack_id: str) -> list[dict]:
        found = []
        next_token = None
        while True:
            request = {"StackName": stack_id}
            if next_token:
                request["NextToken"] = next_token
            page = self.cfn.describe_stack_events(**request)
            reached_old = False
            for event in page.get("StackEvents", []):
                if event["EventId"] in self.seen or (self.since and event["Timestamp"] < self.since):
                    reached_old = True
                    continue
                self.seen.add(event["EventId"])
                found.append(event)
            next_token = page.get("NextToken")
            if reached_old or not next_token:
                return found

    @staticmethod
    def _nested_stack_id(event: dict) -> str | None:
        physical_id = event.get("PhysicalResourceId") or ""
        if (event.get("ResourceType") == STACK_TYPE and physical_id.startswith("arn:")
                and physical_id != event.get("StackId")):
            return physical_id
        return None


class Progress:
    """Resources done (reached a final status) out of the resources the change set touches."""

    def __init__(self, total: int | None):
        self.total = total
        self.done: set[tuple[str, str]] = set()

    def record(self, event: dict) -> None:
        if is_self_event(event):
            return
        status = event.get("ResourceStatus", "")
        if status.endswith("_COMPLETE") or status.endswith("_FAILED") or status.endswith("_SKIPPED"):
            self.done.add((event["StackId"], event["LogicalResourceId"]))

    def text(self) -> str:
        if self.total is None:
            return str(len(self.done))
        # A first create of a nested stack has more resources than the change set lists.
        return f"{len(self.done)}/{max(self.total, len(self.done))}"


def format_elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"


def format_event(event: dict, path: str, elapsed: float, progress: str, color: bool = False) -> str:
    status = event.get("ResourceStatus", "")
    line = f"{format_elapsed(elapsed):>7}  {progress:>7}  {status:<36} {event.get('ResourceType', ''):<36} {path}"
    reason = event.get("ResourceStatusReason")
    if reason:
        line += f"  {reason}"
    if is_failure(event):
        return paint(line, "red", color)
    return line


def follow(cfn, stack_id: str, stack_name: str, start: Baseline, out: TextIO, *,
           total: int | None = None, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep, poll_seconds: float = 5.0,
           color: bool = False, limit_seconds: float | None = None) -> Outcome:
    """Print events as they come until the stack settles, or until `limit_seconds` have passed
    (then the outcome is `timed_out` with the status the stack has at that moment)."""
    tail = EventTail(cfn, stack_id, stack_name, start)
    progress = Progress(total)
    started = clock()
    events_so_far: list[dict] = []
    settled = False  # the stack's own latest event is a final status
    while True:
        for event in tail.poll():
            events_so_far.append(event)
            progress.record(event)
            own_event = event["StackId"] == stack_id and is_self_event(event)
            if own_event:
                settled = not event["ResourceStatus"].endswith(IN_PROGRESS)
            if is_self_event(event) and not own_event:
                continue  # a nested stack's own events repeat its row in the parent's events
            out.write(format_event(event, tail.path_of(event), clock() - started, progress.text(), color) + "\n")
            out.flush()
        out_of_time = limit_seconds is not None and clock() - started + poll_seconds > limit_seconds
        if settled or out_of_time:
            # The events say the stack settled; DescribeStacks confirms it (a failed create moves on
            # to ROLLBACK_IN_PROGRESS, for instance, and DescribeStacks can lag the events: then
            # it is asked again at the next poll, new events or not).
            stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
            if out_of_time or not stack["StackStatus"].endswith(IN_PROGRESS):
                return _outcome(stack, clock() - started, events_so_far, tail,
                                timed_out=stack["StackStatus"].endswith(IN_PROGRESS))
        sleep(poll_seconds)


def _outcome(stack: dict, elapsed: float, events_so_far: list[dict], tail: EventTail,
             timed_out: bool) -> Outcome:
    failure = first_failure(events_so_far)
    return Outcome(
        status=stack["StackStatus"],
        elapsed=elapsed,
        first_failure=failure,
        first_failure_path=tail.path_of(failure) if failure else "",
        stack=stack,
        timed_out=timed_out,
        stacks=dict(tail.paths),
    )
