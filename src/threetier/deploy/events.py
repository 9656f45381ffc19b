"""Follow a stack operation through its events, nested stacks included, until it settles.

CloudFormation lists events newest first, per stack. A nested stack shows up in
its parent's events as an AWS::CloudFormation::Stack resource whose
PhysicalResourceId is the nested stack's id; from then on its own events are
read too. Only events of the current operation are shown: those not present
before it started (the baseline) and not older than the newest of those.

A poll that fails is not the operation failing: threetier.deploy.patience waits longer and
polls again, or stops following (the outcome is then `detached`) when it cannot go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, TextIO

from threetier.deploy.patience import Detached, Patience
from threetier.review.console import paint

STACK_TYPE = "AWS::CloudFormation::Stack"
IN_PROGRESS = "_IN_PROGRESS"
REVIEW = "REVIEW_IN_PROGRESS"


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
    detached: Detached | None = None  # stopped following (status is the last one seen): why


def baseline(cfn, stack_id: str) -> Baseline:
    events = cfn.describe_stack_events(StackName=stack_id).get("StackEvents", [])
    return Baseline(
        seen_ids=frozenset(event["EventId"] for event in events),
        since=max((event["Timestamp"] for event in events), default=None),
    )


def is_running(status: str) -> bool:
    """An operation runs on a stack in this status. REVIEW_IN_PROGRESS is a stack created for a change
    set and waiting for it to be executed: nothing runs."""
    return status.endswith(IN_PROGRESS) and status != REVIEW


@dataclass(frozen=True)
class Running:
    """The operation running on a stack, found from its events after it started."""

    baseline: Baseline  # the events before it: following from here shows all of its events
    began: dict | None  # the stack's own first event of the operation (e.g. UPDATE_IN_PROGRESS, User Initiated)


def running_operation(cfn, stack_id: str) -> Running:
    """The operation running on the stack: everything after the stack's own latest event with a settled
    status (an operation's last event; REVIEW_IN_PROGRESS ends a stack's creation for a change set).
    A stack with no such event is in its first create: all of its events belong to the operation."""
    own: list[dict] = []  # the stack's own events, newest first, back to the settled one
    older: list[dict] = []  # every event read from the settled one back
    next_token = None
    while True:
        page = cfn.describe_stack_events(StackName=stack_id, **({"NextToken": next_token} if next_token else {}))
        for event in page.get("StackEvents", []):
            own_event = is_self_event(event) and event["StackId"] == stack_id
            if older or (own_event and not is_running(event["ResourceStatus"])):
                older.append(event)
            elif own_event:
                own.append(event)
        next_token = page.get("NextToken")
        if older or not next_token:
            break
    began = own[-1] if own else None
    if not older:
        return Running(Baseline(frozenset(), None), began)
    # Reading stops at the settled event's page: the events on it are all that old or older.
    return Running(Baseline(frozenset(event["EventId"] for event in older), older[0]["Timestamp"]), began)


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
        self._read: list[dict] = []  # events read by a poll that failed on a later stack

    def poll(self) -> list[dict]:
        """Events not returned before, oldest first. When a call fails, what the stacks before it
        gave is kept for the next poll, and that stack is read again whole."""
        queue = list(self.paths)
        while queue:
            stack_id = queue.pop(0)
            for event in self._unseen(stack_id):
                self._read.append(event)
                nested_id = self._nested_stack_id(event)
                if nested_id and nested_id not in self.paths:
                    self.paths[nested_id] = f"{self.paths[stack_id]}/{event['LogicalResourceId']}"
                    queue.append(nested_id)
        new, self._read = self._read, []
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
                found.append(event)
            next_token = page.get("NextToken")
            if reached_old or not next_token:
                # Seen only once every page is read: a failed page leaves them to be read again.
                self.seen.update(event["EventId"] for event in found)
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
    (then the outcome is `timed_out` with the status the stack has at that moment), or until
    polling cannot go on (then it is `detached`, with the status its events showed last)."""
    following = _Following(cfn, stack_id, EventTail(cfn, stack_id, stack_name, start), Progress(total),
                           out, clock, color)
    patience = Patience(poll_seconds, out, sleep)
    while True:
        try:
            outcome = following.poll(lambda: limit_seconds is not None
                                     and following.elapsed() + poll_seconds > limit_seconds)
        except Exception as error:  # noqa: BLE001 (patience raises again what is not an AWS error)
            try:
                patience.failed(error)
            except Detached as detached:
                return following.outcome({"StackStatus": following.last_status}, detached=detached)
            continue
        if outcome:
            return outcome
        patience.answered()
        sleep(poll_seconds)


class _Following:
    """One poll of a follow: print the new events, and once the stack settled (or time is up) its outcome."""

    def __init__(self, cfn, stack_id: str, tail: EventTail, progress: Progress, out: TextIO,
                 clock: Callable[[], float], color: bool):
        self.cfn, self.stack_id, self.tail, self.progress = cfn, stack_id, tail, progress
        self.out, self.clock, self.color = out, clock, color
        self.started = clock()
        self.events: list[dict] = []
        self.settled = False  # the stack's own latest event is a final status
        self.last_status = "unknown"  # the stack's own latest event's status

    def elapsed(self) -> float:
        return self.clock() - self.started

    def poll(self, time_is_up: Callable[[], bool]) -> Outcome | None:
        for event in self.tail.poll():
            self.events.append(event)
            self.progress.record(event)
            own_event = event["StackId"] == self.stack_id and is_self_event(event)
            if own_event:
                self.last_status = event["ResourceStatus"]
                self.settled = not self.last_status.endswith(IN_PROGRESS)
            if is_self_event(event) and not own_event:
                continue  # a nested stack's own events repeat its row in the parent's events
            self.out.write(format_event(event, self.tail.path_of(event), self.elapsed(), self.progress.text(),
                                        self.color) + "\n")
            self.out.flush()
        out_of_time = time_is_up()
        if not (self.settled or out_of_time):
            return None
        # The events say the stack settled; DescribeStacks confirms it (a failed create moves on
        # to ROLLBACK_IN_PROGRESS, for instance, and DescribeStacks can lag the events: then
        # it is asked again at the next poll, new events or not).
        stack = self.cfn.describe_stacks(StackName=self.stack_id)["Stacks"][0]
        busy = stack["StackStatus"].endswith(IN_PROGRESS)
        return self.outcome(stack, timed_out=busy) if out_of_time or not busy else None

    def outcome(self, stack: dict, timed_out: bool = False, detached: Detached | None = None) -> Outcome:
        failure = first_failure(self.events)
        return Outcome(
            status=stack["StackStatus"],
            elapsed=self.elapsed(),
            first_failure=failure,
            first_failure_path=self.tail.path_of(failure) if failure else "",
            stack=None if detached else stack,
            timed_out=timed_out,
            stacks=dict(self.tail.paths),
            detached=detached,
        )
