"""Releasing a new app version: a change of AppRepositoryRef, reviewed as what it is.

A new ref changes the launch template's user data, so CloudFormation makes a new launch
template version, and the Auto Scaling group's rolling update (templates/app.py) replaces
the servers one at a time, each signalling its health with cfn-signal; a server that does
not signal fails the update, which CloudFormation rolls back to the previous ref, as it does
when a rollback trigger (rollback.py) goes to ALARM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threetier import parameters as P
from threetier.deploy.errors import InputError
from threetier.parameters import paramfile, validate
from threetier.review.changes import STACK_TYPE, Change, Review

REF = P.APP_REPOSITORY_REF.name
DATA_STACK = "DataStack"
LAUNCH_TEMPLATE_TYPE = "AWS::EC2::LaunchTemplate"


@dataclass(frozen=True)
class Release:
    previous: str
    ref: str
    servers: str  # how many servers the rolling update replaces: every one in service, which target
    # tracking keeps from AsgMinSize to AsgMaxSize (e.g. '2 to 6'; one number when they are equal)
    launch_templates: tuple[str, ...]  # paths of the launch templates the change set modifies
    data_tier_changes: tuple[str, ...]  # paths of data stack resources the change set touches

    def lines(self) -> list[str]:
        templates = ", ".join(self.launch_templates) or "the app stack's launch template"
        servers = f" ({self.servers})" if self.servers else ""
        lines = [f"Release: {REF} {self.previous} -> {self.ref}",
                 f"  - a new launch template version ({templates})",
                 f"  - rolling replacement of every server in service{servers}, one at a time, "
                 "each signalling its health",
                 f"  - a failed release rolls back to {self.previous} by itself"]
        if self.data_tier_changes:
            lines.append(f"  - the data tier changes too: {', '.join(self.data_tier_changes)}: review those rows")
        else:
            lines.append("  - no data tier change")
        return lines

    def as_dict(self) -> dict:
        return {"parameter": REF, "from": self.previous, "to": self.ref, "servers": self.servers,
                "launch_templates": list(self.launch_templates),
                "data_tier_changes": list(self.data_tier_changes)}


def previous_value(stack: dict | None, key: str) -> str | None:
    """A parameter's value in the deployed stack (DescribeStacks), or None."""
    for parameter in (stack or {}).get("Parameters") or []:
        if parameter.get("ParameterKey") == key:
            return parameter.get("ParameterValue")
    return None


def describe(stack: dict | None, values: dict[str, str], template: dict, review: Review) -> Release | None:
    """The release this change set makes, when it changes the deployed AppRepositoryRef."""
    previous, ref = previous_value(stack, REF), values.get(REF)
    if previous is None or ref is None or previous == ref:
        return None
    rows = [change for change in review.changes if not change.nested_change_set_id]
    return Release(
        previous=previous, ref=ref, servers=_servers(values, template.get("Parameters") or {}),
        launch_templates=tuple(change.path for change in rows if change.resource_type == LAUNCH_TEMPLATE_TYPE),
        data_tier_changes=tuple(change.path for change in rows if _in_data_stack(change)),
    )


def _servers(values: dict[str, str], declared: dict) -> str:
    """'2 to 6': the group's bounds from the file or the template defaults ('' if neither has them);
    how many run between them is the group's to say (target tracking), not the file's."""
    low, high = (values.get(param.name) or str((declared.get(param.name) or {}).get("Default", ""))
                 for param in (P.ASG_MIN_SIZE, P.ASG_MAX_SIZE))
    if not (low and high):
        return ""
    return low if low == high else f"{low} to {high}"


def _in_data_stack(change: Change) -> bool:
    return (change.stack_path.split("/")[-1] == DATA_STACK
            or (change.logical_id == DATA_STACK and change.resource_type == STACK_TYPE))


def check_ref(values: dict[str, str], template: dict, ref: str) -> None:
    """InputError when the template refuses `ref` as AppRepositoryRef."""
    problems = validate.errors(validate.declared_problems(template.get("Parameters") or {}, {**values, REF: ref}))
    mine = [problem for problem in problems if REF in str(problem)]
    if mine:
        raise InputError("; ".join(str(problem) for problem in mine))


def write_ref(parameter_file: Path, ref: str) -> str | None:
    """Write `ref` as AppRepositoryRef into the user's parameter file (nothing else); the previous value."""
    previous = paramfile.load(parameter_file).get(REF)
    paramfile.update(parameter_file, {REF: ref})
    return previous
