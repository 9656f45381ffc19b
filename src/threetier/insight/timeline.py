"""How long an environment takes to create, and a typical update: offline, from the templates.

CloudFormation starts a resource once everything it references (Ref, Fn::GetAtt, Fn::Sub) and
everything in its DependsOn is complete, and runs the rest in parallel; a nested stack is a
resource of its parent like any other, complete when all of its resources are
([DependsOn attribute](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html):
"CloudFormation creates resources in parallel ... when a resource has a dependency, it's created
after"). So the time of a create is the longest chain of typical durations through that graph,
across the stacks: the critical path. The durations are `threetier.facts.durations`' estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from threetier.emit.references import SUB_VARIABLE
from threetier.facts import durations
from threetier.insight import stacks

NESTED_STACK = stacks.NESTED_STACK
# The step of a nested stack's own work after its last resource: its completion.
STACK_STEP = "(stack)"
AUTO_SCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"
DB_INSTANCE = "AWS::RDS::DBInstance"
# An app server's boot to its cfn-signal, measured by the boot test on 2026-12-06 (docs/boot-test.md):
# 119 s at a t3.small's CPU baseline (a T type in standard mode gets no launch credits), 31 s
# unthrottled. Its packages came from a local mirror, so a real boot, which downloads them, is slower.
BOOT_AT_BASELINE_SECONDS = 119
BOOT_UNTHROTTLED_SECONDS = 31
# The target group keeps a server it deregisters this long, so a rolling update's old server goes
# only after it (templates/app.py sets deregistration_delay.timeout_seconds).
DEREGISTRATION_SECONDS = 30
# Nested stacks no user's request waits for: the app reads and writes the primary database only
# (DbEndpointAddress), the alarms watch, the bastions are for operators.
NOT_SERVING = ("replica", "monitoring", "admin")


@dataclass(frozen=True)
class Step:
    """One resource (or a nested stack's own work) on the timeline, in seconds from the start."""

    stack: str
    logical_id: str
    resource_type: str
    start: int
    seconds: int
    source: str

    @property
    def end(self) -> int:
        return self.start + self.seconds

    @property
    def name(self) -> str:
        return f"{self.stack}.{self.logical_id}"


@dataclass
class Timeline:
    stack_waits_for: dict[str, list[str]]  # nested stack -> the stacks it waits for
    steps: dict[str, Step] = field(default_factory=dict)  # name -> step
    critical_path: list[Step] = field(default_factory=list)

    @property
    def total(self) -> int:
        return max((step.end for step in self.steps.values()), default=0)

    @property
    def serving(self) -> int:
        """When every stack a request goes through is complete: the site answers."""
        return max((step.end for step in self.steps.values()
                    if step.logical_id == STACK_STEP and step.stack not in NOT_SERVING), default=self.total)


def create(templates: stacks.Templates, evaluated: list[stacks.Stack]) -> Timeline:
    """The first create of every stack that exists for these values."""
    graph = _Graph(templates, evaluated)
    return _walk(graph, graph.create_seconds)


def update(templates: stacks.Templates, evaluated: list[stacks.Stack],
           changes: dict[str, tuple[str, str]]) -> Timeline:
    """An update that changes the resources named in `changes` ("stack.LogicalId" -> (action, type):
    add, remove, replace or in place, as `threetier.review.updates` predicts them), over the stacks as
    `evaluated` after it. Unchanged resources take no time; a nested stack with a change takes its own update;
    removals and the old copies of replaced resources go last, in the cleanup phase
    ([stack updates](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html)).
    An Auto Scaling group whose launch template changes rolls its servers (its UpdatePolicy)."""
    graph = _Graph(templates, evaluated)
    timeline = _walk(graph, lambda node: graph.update_seconds(node, changes))
    cleanup = max((durations.TYPICAL.get(kind, durations.FALLBACK).delete for action, kind in changes.values()
                   if action in ("remove", "replace", "may replace", "fails")), default=0)
    if cleanup:
        timeline.steps["(cleanup)"] = Step("(root)", "(cleanup)", "", timeline.total, cleanup,
                                           "the longest delete of what the update removes or replaces")
        timeline.critical_path.append(timeline.steps["(cleanup)"])
    return timeline


def _walk(graph: "_Graph", seconds_of) -> Timeline:
    timeline = Timeline(stack_waits_for=graph.stack_waits_for)
    finished: dict[str, int] = {}
    before: dict[str, str | None] = {}
    for name in graph.order():
        waits = graph.waits_for[name]
        start = max((finished[other] for other in waits), default=0)
        before[name] = max(waits, key=lambda other: finished[other]) if waits else None
        stack, logical_id, resource_type = graph.nodes[name]
        seconds, source = seconds_of(name)
        timeline.steps[name] = Step(stack, logical_id, resource_type, start, seconds, source)
        finished[name] = start + seconds
    last = max(finished, key=finished.get, default=None)
    while last is not None:
        if timeline.steps[last].seconds:  # a stack's start, or what an update leaves alone, takes none
            timeline.critical_path.insert(0, timeline.steps[last])
        last = before[last]
    return timeline


@dataclass(frozen=True)
class Rollout:
    """A rolling replacement of the app servers: how many batches, each how long."""

    servers: int
    batch_size: int
    batch_seconds: int

    @property
    def batches(self) -> int:
        return math.ceil(self.servers / self.batch_size)

    @property
    def seconds(self) -> int:
        return self.batches * self.batch_seconds


def rollout_of(evaluated: list[stacks.Stack]) -> Rollout | None:
    """How the app servers roll when their launch template changes (None: no group)."""
    for stack in evaluated:
        group_id = _group(stack)
        if group_id is not None:
            return _rollout(stack, group_id)
    return None


def _group(stack: stacks.Stack) -> str | None:
    return next((logical_id for logical_id, resource in stack.resources.items()
                 if resource["Type"] == AUTO_SCALING_GROUP), None)


def _rollout(stack: stacks.Stack, group_id: str) -> Rollout:
    group = stack.resources[group_id]
    policy = group.get("UpdatePolicy", {}).get("AutoScalingRollingUpdate", {})
    servers = int(group["Properties"].get("MinSize", 1))
    boot = durations.app_server_boot(_boot_seconds(stack, group_id)).create
    return Rollout(servers, int(policy.get("MaxBatchSize", 1)), boot + DEREGISTRATION_SECONDS)


def _boot_seconds(stack: stacks.Stack, group_id: str) -> int:
    """A burstable type (T) boots at its CPU baseline: standard mode gives no launch credits
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-performance-instances-standard-mode-concepts.html)."""
    instance_types = [stack.resources[name]["Properties"].get("LaunchTemplateData", {}).get("InstanceType", "")
                      for name in _references(stack, group_id)
                      if stack.resources[name]["Type"] == "AWS::EC2::LaunchTemplate"]
    burstable = any(str(kind).startswith("t") for kind in instance_types)
    return BOOT_AT_BASELINE_SECONDS if burstable or not instance_types else BOOT_UNTHROTTLED_SECONDS


def _database(properties: dict) -> durations.Typical:
    storage = int(properties.get("AllocatedStorage", 20))
    if properties.get("SourceDBInstanceIdentifier"):
        return durations.db_replica(storage)
    return durations.db_instance(str(properties.get("MultiAZ", "false")).lower() == "true", storage)


class _Graph:
    """Every resource of every nested stack, and what each waits for; a nested stack is two nodes:
    its start (after the stacks it references) and its end (after all its resources)."""

    def __init__(self, templates: stacks.Templates, evaluated: list[stacks.Stack]):
        root, *nested = evaluated
        self.stacks = {stack.name: stack for stack in nested}
        self.nodes: dict[str, tuple[str, str, str]] = {}
        self.waits_for: dict[str, list[str]] = {}
        module_of = {logical_id: templates.module_of_file[resource["Properties"]["TemplateURL"]]
                     for logical_id, resource in root.resources.items() if resource["Type"] == NESTED_STACK}
        self.stack_waits_for = {
            module_of[logical_id]: sorted(module_of[other] for other in _references(root, logical_id)
                                          if other in module_of)
            for logical_id in module_of
        }
        for name, stack in self.stacks.items():
            start, end = f"{name}.(start)", f"{name}.(stack)"
            self.nodes[start] = (name, "(start)", NESTED_STACK)
            self.waits_for[start] = [f"{other}.(stack)" for other in self.stack_waits_for.get(name, [])]
            for logical_id, resource in stack.resources.items():
                node = f"{name}.{logical_id}"
                self.nodes[node] = (name, logical_id, resource["Type"])
                self.waits_for[node] = [start] + [f"{name}.{other}" for other in _references(stack, logical_id)]
            self.nodes[end] = (name, STACK_STEP, NESTED_STACK)
            self.waits_for[end] = [f"{name}.{logical_id}" for logical_id in stack.resources] or [start]

    def order(self) -> list[str]:
        """Every node after the nodes it waits for (the graph has no cycle: CloudFormation refuses one)."""
        done: dict[str, None] = {}

        def visit(node: str) -> None:
            if node in done:
                return
            for other in self.waits_for[node]:
                visit(other)
            done[node] = None

        for node in self.nodes:
            visit(node)
        return list(done)

    def create_seconds(self, node: str) -> tuple[int, str]:
        stack, logical_id, resource_type = self.nodes[node]
        if logical_id == "(start)":
            return 0, ""
        if logical_id == STACK_STEP:
            typical = durations.TYPICAL[NESTED_STACK]
            return typical.create, typical.source
        resource = self.stacks[stack].resources[logical_id]
        if resource_type == DB_INSTANCE:
            typical = _database(resource.get("Properties", {}))
            return typical.create, typical.source
        typical = durations.TYPICAL.get(resource_type, durations.FALLBACK)
        if resource_type == AUTO_SCALING_GROUP:
            boot = durations.app_server_boot(_boot_seconds(self.stacks[stack], logical_id))
            return typical.create + boot.create, f"{typical.source}; {boot.source}"
        return typical.create, typical.source

    def update_seconds(self, node: str, changes: dict[str, tuple[str, str]]) -> tuple[int, str]:
        stack, logical_id, resource_type = self.nodes[node]
        if logical_id == "(start)":
            return 0, ""
        if logical_id == STACK_STEP:
            changed = any(name.startswith(f"{stack}.") for name in changes)
            typical = durations.TYPICAL[NESTED_STACK]
            return (typical.update, typical.source) if changed else (0, "")
        action, _ = changes.get(node, (None, ""))
        if action is None or action == "remove":
            return 0, ""
        if action != "in place":
            return self.create_seconds(node)
        resource = self.stacks[stack].resources[logical_id]
        if resource_type == AUTO_SCALING_GROUP and any(
                f"{stack}.{other}" in changes for other in _references(self.stacks[stack], logical_id)
                if self.stacks[stack].resources[other]["Type"] == "AWS::EC2::LaunchTemplate"):
            rollout = _rollout(self.stacks[stack], logical_id)
            return rollout.seconds, "the group's rolling update: " + durations.app_server_boot(0).source
        typical = _database(resource.get("Properties", {})) if resource_type == DB_INSTANCE else \
            durations.TYPICAL.get(resource_type, durations.FALLBACK)
        return typical.update, typical.source


def _references(stack: stacks.Stack, logical_id: str) -> list[str]:
    """The resources of `stack` that `logical_id` waits for: DependsOn, and every Ref, Fn::GetAtt and
    Fn::Sub variable in the branches of Fn::If its values take."""
    resource = stack.template["Resources"][logical_id]
    active = stack.resources
    found: dict[str, None] = {}
    depends = resource.get("DependsOn", [])
    for other in [depends] if isinstance(depends, str) else depends:
        found[other] = None
    for name in _names_in(resource.get("Properties", {}), stack):
        found[name] = None
    return [name for name in found if name in active and name != logical_id]


def _names_in(expr, stack: stacks.Stack):
    if isinstance(expr, list):
        for item in expr:
            yield from _names_in(item, stack)
    elif isinstance(expr, dict):
        if list(expr) == ["Fn::If"]:
            condition, when_true, when_false = expr["Fn::If"]
            yield from _names_in(when_true if stack.evaluation.condition(condition) else when_false, stack)
            return
        for key, value in expr.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".", 1)[0]
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                yield from (name.split(".", 1)[0] for name in SUB_VARIABLE.findall(text))
                if isinstance(value, list):
                    yield from _names_in(value[1], stack)
            else:
                yield from _names_in(value, stack)


# --- report ---------------------------------------------------------------------------------------

ESTIMATE_NOTE = ("Estimates, not measurements: typical durations from threetier.facts.durations (checked "
                 f"{durations.CHECKED}, each with its source), along the graph of what waits for what.")


@dataclass(frozen=True)
class Report:
    env: str
    parameter_file: str
    create: Timeline
    updates: dict[str, Timeline]  # what an operator changes -> its timeline
    rollout: Rollout | None


def minutes(seconds: int) -> str:
    return f"{seconds // 60}m{seconds % 60:02d}s"


def about(seconds: int) -> str:
    return f"about {max(1, round(seconds / 60))} minute{'s' if round(seconds / 60) > 1 else ''}"


def format_report(found: Report) -> str:
    lines = [f"Timeline for {found.env} ({found.parameter_file})", ESTIMATE_NOTE, "", "Stacks, and what each waits for:"]
    for stack, waits in found.create.stack_waits_for.items():
        lines.append(f"  {stack:<12} {', '.join(waits) or '-'}")
    create = found.create
    lines += ["", f"First create: {about(create.total)} ({minutes(create.total)}).", *_serving(create), *_path(create)]
    lines += ["", "Typical updates:"]
    for title, update in found.updates.items():
        lines += [f"  {title}: {about(update.total)} ({minutes(update.total)}).", *_path(update, indent="  ")]
    if found.rollout is not None:
        rollout = found.rollout
        lines += ["", f"A release replaces {rollout.servers} server(s) {rollout.batch_size} at a time: "
                      f"{rollout.batches} batch(es) of {minutes(rollout.batch_seconds)} (launch, boot and signal, "
                      "then the old server's deregistration delay)."]
    return "\n".join(lines) + "\n"


def _serving(found: Timeline) -> list[str]:
    if found.serving >= found.total:
        return []
    return [f"The site answers after {about(found.serving)} ({minutes(found.serving)}), when the stacks requests "
            f"go through are complete; {', '.join(NOT_SERVING)} finish on their own."]


def _path(found: Timeline, indent: str = "") -> list[str]:
    lines = [f"{indent}Critical path (start, duration, what):"]
    for step in found.critical_path:
        if step.logical_id == STACK_STEP:
            what = f"{step.stack} stack complete"
        elif step.logical_id == "(cleanup)":
            what = "cleanup: what the update removes or replaces is deleted"
        else:
            what = f"{step.name}  {step.resource_type}"
        lines.append(f"{indent}  {minutes(step.start):>7}  {minutes(step.seconds):>7}  {what}")
    return lines


def as_json(found: Report) -> dict:
    def steps(timeline: Timeline) -> list[dict]:
        return [{"stack": step.stack, "resource": step.logical_id, "type": step.resource_type,
                 "start": step.start, "seconds": step.seconds, "source": step.source}
                for step in timeline.critical_path]

    return {
        "env": found.env, "estimate": True, "checked": durations.CHECKED,
        "stacks": found.create.stack_waits_for,
        "create": {"seconds": found.create.total, "serving_seconds": found.create.serving,
                   "critical_path": steps(found.create)},
        "updates": {title: {"seconds": update.total, "critical_path": steps(update)}
                    for title, update in found.updates.items()},
    }
