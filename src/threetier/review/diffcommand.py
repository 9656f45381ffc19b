"""The `threetier diff` command: the offline review of a change, as text, Markdown or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from threetier.emit import manifest
from threetier.parameters.evaluate import with_defaults
from threetier.review import cloudfrontsteps, danger, refusals, table as review, templatediff, updates
from threetier.review.changes import Change

EXIT_OK, EXIT_USAGE, EXIT_DANGER = 0, 2, 3
SHORT = 60
STEP_1 = f" (step 1 of 2: this deploy sends {cloudfrontsteps.ONLY}=false)"
STEP_2 = f", step 2 of 2 (the next deploy sends {cloudfrontsteps.ONLY}=true):"


@dataclass
class Report:
    revision: str
    templates: templatediff.TemplateDiff
    environments: dict[str, list[Change]]  # env -> predicted rows of its parameter-file change
    parameter_changes: dict[str, dict[str, tuple[str | None, str | None]]]
    dangers: list[danger.Danger]
    allowed: set[str]
    notes: list[str]
    # env -> the predicted rows of the deploy after this one, when the change takes two
    # (CloudFront on for a deployed environment: threetier.review.cloudfrontsteps)
    next_deploys: dict[str, list[Change]] = field(default_factory=dict)


def add_command(commands) -> None:
    diff = commands.add_parser(
        "diff", help="what a change to output/ and parameters/ will do, offline, before AWS is asked",
        description="Compare output/*.yaml and parameters/*.json at REV with the working tree. Every "
                    "changed property is judged from the CloudFormation resource provider schemas "
                    "(create-only: replacement). Exit codes: 0 no danger, 2 bad input, "
                    "3 dangerous changes not allowed by an --allow-... option.",
    )
    diff.add_argument("revision", nargs="?", default="HEAD", metavar="REV",
                      help="git revision to compare with (default: HEAD; on a pull request, the base branch)")
    output = diff.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable report")
    output.add_argument("--markdown", action="store_true", help="a report for a pull request comment")
    danger.add_allow_options(diff.add_argument_group("danger guard"))
    manifest.add_option(diff)
    diff.set_defaults(run=run)


class Refused(Exception):
    """A parameter-file change AWS would refuse in the middle of the update."""

    def __init__(self, env: str, found: list[refusals.Refusal]):
        super().__init__(env)
        self.env = env
        self.found = found


class InvalidValues(Exception):
    """A changed parameter file that `threetier validate` refuses: nothing can be predicted from it."""

    def __init__(self, env: str, lines: list[str]):
        super().__init__(env)
        self.env = env
        self.lines = lines


def run(args: argparse.Namespace) -> int:
    from threetier import emit

    project = emit.find_project(args.project_dir)
    stale = manifest.check(project, args.regenerate)
    if stale:
        print(f"threetier diff: {stale}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = build(project, args.revision, danger.allowed_kinds(args))
    except templatediff.RevisionError as error:
        print(f"threetier diff: {args.revision}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Refused as error:
        for refusal in error.found:
            print(f"parameters/{error.env}.json: {refusal}", file=sys.stderr)
        print(f"threetier diff: AWS would refuse this change to parameters/{error.env}.json in the middle of "
              "the update; nothing to predict", file=sys.stderr)
        return EXIT_USAGE
    except InvalidValues as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        print(f"threetier diff: parameters/{error.env}.json is refused as `threetier validate {error.env}` "
              "refuses it: nothing to predict until it is fixed", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        sys.stdout.write(json.dumps(as_dict(report), indent=2, sort_keys=True) + "\n")
    elif args.markdown:
        sys.stdout.write(markdown(report))
    else:
        sys.stdout.write(text(report))
    return EXIT_DANGER if danger.blocking(report.dangers, report.allowed) else EXIT_OK


def build(project: Path, revision: str, allowed: set[str]) -> Report:
    from threetier.insight import model

    old = templatediff.templates_at(project, revision)
    diff = templatediff.diff_templates(old, templatediff.templates_now(project))
    environments, parameter_changes, notes, next_deploys = {}, {}, [], {}
    changed = templatediff.changed_environments(project, revision)
    if changed:
        templates = model.load_templates(project)
        root = templates.by_module[templates.module_of_file[model.ROOT_FILE]]
        declared = root.get("Parameters", {})
        for env, (before, after) in changed.items():
            notes += _refuse_what_validate_refuses(project, templates, root, env, after)
            parameter_changes[env] = {key: (before.get(key), after.get(key))
                                      for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}
            # Values of parameters the templates no longer have cannot change anything now.
            kept = {key: value for key, value in before.items() if key in declared}
            found = refusals.refusals(with_defaults(kept, declared), with_defaults(after, declared))
            if found:
                raise Refused(env, found)
            step = cloudfrontsteps.step(with_defaults(kept, declared), with_defaults(after, declared))
            if step is not None and step.number == 1:
                # What plan/deploy send: step 1 now, the file's values in the next deploy.
                notes += [f"parameters/{env}.json: {line}" for line in step.lines(env)]
                next_deploys[env] = templatediff.predicted_changes(
                    env, updates.predict(templates, step.values, after))
                after = step.values
            prediction = updates.predict(templates, kept, after)
            environments[env] = templatediff.predicted_changes(env, prediction)
    rows = diff.changes + [row for rows in (*environments.values(), *next_deploys.values()) for row in rows]
    return Report(revision, diff, environments, parameter_changes, danger.find_dangers(rows), allowed, notes,
                  next_deploys)


def _refuse_what_validate_refuses(project: Path, templates, root: dict, env: str,
                                  values: dict[str, str]) -> list[str]:
    """InvalidValues with validate's report when the new values break a constraint or a Rule: the
    prediction would evaluate what CloudFormation refuses (Fn::Cidr of a block too small, ...).
    A production safeguard that `plan` lifts with --allow-insecure is reviewed, and returned as a note."""
    from threetier.parameters import evaluate, sharedzone, validate

    first_stack = evaluate.first_stack_file(root)
    checked = root if first_stack is None else evaluate.with_first_stack_rules(
        root, templates.by_module[templates.module_of_file[first_stack]])
    problems = validate.validate(checked, values, region=validate.region_from(None), allow_insecure=True)
    problems = sharedzone.project_problems(project, env, values, root.get("Parameters") or {}) + problems
    path = project / "parameters" / f"{env}.json"
    if validate.errors(problems):
        raise InvalidValues(env, [*validate.report_lines(path, problems), f"{path}: {validate.summary(problems)}"])
    return [f"parameters/{env}.json: {problem}" for problem in problems if problem.severity == validate.WARNING]


def in_full(name: str, before, after) -> list[tuple[str, object, object]]:
    """(name, before, after) per changed key when both sides are mappings (a nested stack's Parameters,
    a Tags map, a policy document), recursively: what changed, not two cut-off blobs."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [row for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)
                for row in in_full(f"{name}.{key}", before.get(key), after.get(key))]
    return [(name, before, after)]


def short(value) -> str:
    if value is None:
        return "(none)"
    if value == "":
        return "''"
    shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return shown if len(shown) <= SHORT else shown[:SHORT - 1] + "…"


def text(report: Report) -> str:
    diff = report.templates
    lines = [f"threetier diff: {report.revision} -> working tree: "
             f"{review.summary_line(review.counts(diff.changes))} in the templates"]
    for resource in diff.resources:
        change = resource.change
        when = f"  (only when {resource.condition})" if resource.condition else ""
        replacement = f"  Replacement: {change.replacement}" if change.replacement else ""
        lines.append(f"  {change.action:<7} {change.path}  {change.resource_type}{replacement}{when}")
        if resource.note:
            lines.append(f"      note: {resource.note}")
        for prop in resource.properties:
            lines += [f"      {name}: {short(before)} -> {short(after)}  [{prop.requires_recreation}]"
                      for name, before, after in in_full(prop.name, prop.before, prop.after)]
    lines += [f"  {line}" for line in diff.sections]
    for env, rows in report.environments.items():
        changed = ", ".join(f"{k} {short(a)} -> {short(b)}" for k, (a, b) in report.parameter_changes[env].items())
        lines += ["", f"parameters/{env}.json: {changed}" + (STEP_1 if env in report.next_deploys else ""),
                  review.table(rows) if rows else "  no resource changes"]
        if env in report.next_deploys:
            lines += ["", f"parameters/{env}.json{STEP_2}", review.table(report.next_deploys[env])]
    lines += report.notes
    lines += review.danger_lines(report.dangers, report.allowed, color=False)
    if not diff.resources and not diff.sections and not report.environments:
        lines.append("  no changes")
    return "\n".join(lines) + "\n"


def markdown(report: Report) -> str:
    diff = report.templates
    lines = [f"### threetier diff against `{report.revision}`", "",
             f"Templates: {review.summary_line(review.counts(diff.changes))}.", ""]
    if diff.resources:
        lines += ["| Action | Resource | Type | Replacement | Changed properties |", "|---|---|---|---|---|"]
        for resource in diff.resources:
            change = resource.change
            props = "<br>".join(f"`{name}` {p.requires_recreation}" for p in resource.properties
                                for name, _, _ in in_full(p.name, p.before, p.after)) or "-"
            when = f" (only when `{resource.condition}`)" if resource.condition else ""
            note = f"<br>{resource.note}" if resource.note else ""
            lines.append(f"| {change.action} | `{change.path}`{when} | {change.resource_type} | "
                         f"{change.replacement or '-'}{note} | {props} |")
        lines.append("")
    lines += [f"- {line}" for line in diff.sections]
    for env, rows in report.environments.items():
        lines += ["", f"**parameters/{env}.json**: " + ", ".join(
            f"`{k}` {short(a)} → {short(b)}" for k, (a, b) in report.parameter_changes[env].items())
            + (STEP_1 if env in report.next_deploys else ""), ""]
        lines += _markdown_rows(rows)
        if env in report.next_deploys:
            lines += ["", f"**parameters/{env}.json**{STEP_2}", ""] + _markdown_rows(report.next_deploys[env])
    lines += [f"- {note}" for note in report.notes]
    if report.dangers:
        lines += ["", "**Danger**:"] + [
            f"- {d.kind}: `{d.change.path}` ({d.change.resource_type}) {d.message}"
            + (f" (allowed by {d.allow_option})" if d.kind in report.allowed else f" (needs {d.allow_option})")
            for d in report.dangers]
    return "\n".join(lines) + "\n"


def _markdown_rows(rows: list[Change]) -> list[str]:
    return [f"- {row.action} `{row.path}` {row.resource_type} (Replacement: {row.replacement or '-'})"
            for row in rows]


def as_dict(report: Report) -> dict:
    def row(resource: templatediff.ResourceDiff) -> dict:
        change = resource.change
        return {"action": change.action, "stack": change.stack_path, "logical_id": change.logical_id,
                "type": change.resource_type, "replacement": change.replacement, "condition": resource.condition,
                "file": resource.file, "note": resource.note,
                "properties": [{"name": p.name, "before": p.before, "after": p.after,
                                "requires_recreation": p.requires_recreation} for p in resource.properties]}

    def _rows_as_dicts(rows: list[Change]) -> list[dict]:
        return [{"action": c.action, "resource": c.path, "type": c.resource_type, "replacement": c.replacement}
                for c in rows]

    return {
        "revision": report.revision,
        "resources": [row(resource) for resource in report.templates.resources],
        "sections": report.templates.sections,
        "environments": {env: {"parameters": {k: {"before": a, "after": b} for k, (a, b) in
                                              report.parameter_changes[env].items()},
                               "changes": _rows_as_dicts(rows),
                               "next_deploy": _rows_as_dicts(report.next_deploys[env])
                               if env in report.next_deploys else None}
                         for env, rows in report.environments.items()},
        "notes": report.notes,
        "dangers": [{"kind": d.kind, "resource": d.change.path, "type": d.change.resource_type,
                     "message": d.message, "allowed": d.kind in report.allowed} for d in report.dangers],
    }
