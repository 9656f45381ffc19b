"""`threetier timeline ENV`: how long a first create and typical updates take, offline, like `cost`.

Exit codes: 0 printed; 2 bad input (no such environment, values validate refuses).
"""

from __future__ import annotations

import argparse
import json
import sys

from threetier import emit
from threetier.emit import manifest
from threetier.insight import model, stacks, timeline
from threetier.insight.model import InputError
from threetier.review import updates

# The updates an operator makes most (docs/environments.md has them all): what each changes, as
# the offline review predicts it, timed along the same graph as the create.
RELEASE = "A release (AppRepositoryRef)"
DATABASE_CLASS = "A bigger database class (DbInstanceClass)"

EXIT_OK = 0
EXIT_USAGE = 2


def add_command(commands) -> None:
    parser = commands.add_parser(
        "timeline", help="estimate how long a first create and typical updates take, offline",
        description="From the generated templates and parameters/ENV.json: the stacks and what each waits "
                    "for, the expected duration of a first create with its critical path, resource by "
                    "resource, and of a release and a database class change. Estimates from a table of "
                    "typical durations, each with its source. Exit codes: 0 done; 2 bad input.",
    )
    parser.add_argument("env", metavar="ENV", help="environment: its values are in parameters/ENV.json")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    manifest.add_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stale = manifest.check(project, args.regenerate)
    if stale:
        print(f"threetier timeline: {stale}", file=sys.stderr)
        return EXIT_USAGE
    try:
        path, values = model.load_values(project, args.env)
        templates = model.load_templates(project)
        evaluated = stacks.evaluate(templates, values, model.DEFAULT_REGION)
    except InputError as error:
        print(f"threetier timeline: {error}", file=sys.stderr)
        return EXIT_USAGE
    found = timeline.Report(args.env, str(path.relative_to(project)), timeline.create(templates, evaluated),
                            typical_updates(templates, values, evaluated), timeline.rollout_of(evaluated))
    if args.json:
        print(json.dumps(timeline.as_json(found), indent=2))
    else:
        print(timeline.format_report(found), end="")
    return EXIT_OK


def typical_updates(templates: stacks.Templates, values: dict[str, str],
                    evaluated: list[stacks.Stack]) -> dict[str, timeline.Timeline]:
    """Each typical update timed over `evaluated` (the stacks for `values`), each other side evaluated once."""
    found = {}
    for title, change in ((RELEASE, {"AppRepositoryRef": _another(values.get("AppRepositoryRef", ""), "v2.0.0")}),
                          (DATABASE_CLASS, {"DbInstanceClass": _another(values.get("DbInstanceClass", ""),
                                                                        "db.r6g.large", "db.r6g.xlarge")})):
        after = stacks.evaluate(templates, {**values, **change}, model.DEFAULT_REGION)
        predicted = updates.compare(updates.resources(evaluated), updates.resources(after))
        changes = {c.name: (c.action, c.resource_type) for c in predicted.changes}
        found[title] = timeline.update(templates, after, changes)
    return found


def _another(current: str, *choices: str) -> str:
    return next(choice for choice in choices if choice != current)
