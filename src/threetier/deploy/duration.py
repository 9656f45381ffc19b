"""How long the change set under review should take: `threetier timeline`'s estimate, for this change.

A CREATE is the whole create's critical path; an UPDATE times the rows of the change set along the
same graph (CloudFormation's Replacement decides replace or in place). None where the templates
cannot be evaluated offline (no root stack in the templates package, or not this project's).
"""

from __future__ import annotations

from pathlib import Path

from threetier import emit
from threetier.deploy import changeset
from threetier.insight import model, stacks, timeline
from threetier.review import updates

# A change set row as the offline review's action (the inverse of templatediff.predicted_changes).
ACTIONS = {("Add", ""): updates.ADD, ("Remove", ""): updates.REMOVE, ("Modify", "True"): updates.REPLACE,
           ("Modify", "Conditional"): updates.MAY_REPLACE, ("Modify", "False"): updates.IN_PLACE,
           ("Modify", ""): updates.IN_PLACE}


def estimate(project: Path, values: dict[str, str], review: changeset.Review, region: str) -> int | None:
    """Seconds the change set should take (an estimate), or None."""
    try:
        templates = model.load_templates(project)
    except emit.ProjectNotFound:  # another project's templates package is the one imported (tests)
        return None
    if stacks.ROOT_FILE not in templates.module_of_file:
        return None
    evaluated = stacks.evaluate(templates, values, region)
    if review.change_set_type == "CREATE":
        return timeline.create(templates, evaluated).total
    module_of = {logical_id: templates.module_of_file[resource["Properties"]["TemplateURL"]]
                 for logical_id, resource in evaluated[0].resources.items()
                 if resource["Type"] == stacks.NESTED_STACK}
    changes = {}
    for change in review.changes:
        nested = change.stack_path.partition("/")[2].split("/")[0]
        if nested in module_of:
            action = ACTIONS.get((change.action, change.replacement), updates.IN_PLACE)
            changes[f"{module_of[nested]}.{change.logical_id}"] = (action, change.resource_type)
    return timeline.update(templates, evaluated, changes).total


def line(seconds: int | None, env: str) -> list[str]:
    if seconds is None:
        return []
    return [f"Expected duration: {timeline.about(seconds)}, an estimate (`threetier timeline {env}` shows "
            "the critical path and the sources)."]
