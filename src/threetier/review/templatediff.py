"""`threetier diff [REV]`: what a change to output/ will do to the stacks, before AWS is asked.

The committed templates at a git revision are compared with the working tree's,
stack by stack (nested stacks under their logical path). A modified property is
judged as CloudFormation's change set would judge it (`RequiresRecreation`),
from the resource provider schemas cfn-lint ships, through `threetier.review.updates`:

- Always: a create-only property, or a conditional one whose handler replaces;
- Conditionally: a conditional create-only property nobody has judged, or a
  property that names a resource being replaced (its id will change);
- Never: anything else;
- Unknown: a type without a provider schema. Never guessed as in place.

Changed parameter files are predicted too (`updates.predict` on the current
templates). The danger guard is `plan`'s own (`deploy.danger`).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from threetier.insight.stacks import ROOT_FILE
from threetier.parameters.evaluate import Evaluation
from threetier.review import updates
from threetier.review.changes import STACK_TYPE, Change

ROOT_PATH = "root"
# Resource attributes whose change CloudFormation applies without touching the resource itself.
ATTRIBUTES = ("Condition", "DeletionPolicy", "UpdateReplacePolicy", "DependsOn", "Metadata",
              "UpdatePolicy", "CreationPolicy")
SECTIONS = ("Parameters", "Conditions", "Rules", "Mappings", "Outputs")
ALWAYS, CONDITIONALLY, NEVER, UNKNOWN = "Always", "Conditionally", "Never", "Unknown"
REPLACEMENT = {ALWAYS: "True", CONDITIONALLY: "Conditional", UNKNOWN: "Unknown", NEVER: "False"}


class RevisionError(Exception):
    """The revision cannot be read (not a git checkout, unknown revision)."""


@dataclass(frozen=True)
class PropertyChange:
    name: str
    before: object
    after: object
    requires_recreation: str  # Always, Conditionally, Never, Unknown


@dataclass(frozen=True)
class ResourceDiff:
    change: Change
    file: str
    properties: tuple[PropertyChange, ...] = ()
    condition: str | None = None  # the resource exists only when this condition holds
    note: str = ""


@dataclass
class TemplateDiff:
    resources: list[ResourceDiff] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # "data.yaml Outputs: removed DbReplicaIdentifier"

    @property
    def changes(self) -> list[Change]:
        return [diff.change for diff in self.resources]


# --- Reading the templates ---------------------------------------------------------


def templates_now(project: Path) -> dict[str, dict]:
    return {path.name: _parse(path.read_text()) for path in sorted((project / "output").glob("*.yaml"))}


def templates_at(project: Path, revision: str) -> dict[str, dict]:
    names = _git(project, "ls-tree", "--name-only", f"{revision}:output").split()
    return {name: _parse(_git(project, "show", f"{revision}:output/{name}"))
            for name in sorted(names) if name.endswith(".yaml")}


def _git(project: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise RevisionError("git is not installed") from error
    if done.returncode != 0:
        raise RevisionError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed")
    return done.stdout


def _parse(text: str) -> dict:
    from cfn_flip import load_yaml  # reads the short forms (!Ref, !Sub) as CloudFormation does

    return json.loads(json.dumps(load_yaml(text)))


def stack_paths(files: dict[str, dict]) -> dict[str, str]:
    """{file: logical path}: main.yaml is root, a nested stack's file is root/<its logical id>."""
    paths = {ROOT_FILE: ROOT_PATH}
    for logical_id, resource in files.get(ROOT_FILE, {}).get("Resources", {}).items():
        if resource.get("Type") == STACK_TYPE:
            paths.setdefault(resource.get("Properties", {}).get("TemplateURL", ""), f"{ROOT_PATH}/{logical_id}")
    return paths


# --- Comparing ---------------------------------------------------------------------


def diff_templates(old: dict[str, dict], new: dict[str, dict]) -> TemplateDiff:
    result = TemplateDiff()
    paths = {**stack_paths(old), **stack_paths(new)}
    for file in sorted(set(old) | set(new), key=lambda name: (name != ROOT_FILE, name)):
        if file not in paths:
            continue  # not a stack of this project (deployer-role.yaml and the like)
        before, after = old.get(file, {}), new.get(file, {})
        result.resources += _resource_diffs(file, paths[file], before, after, _new_defaults(old, new))
        result.sections += _section_changes(file, before, after)
    return result


def _new_defaults(old: dict[str, dict], new: dict[str, dict]) -> set[str]:
    """Parameters whose default changed in any template: nested stacks take the root's under the same name."""
    changed = set()
    for file in set(old) & set(new):
        before, after = old[file].get("Parameters", {}), new[file].get("Parameters", {})
        changed |= {name for name in set(before) & set(after)
                    if before[name].get("Default") != after[name].get("Default")}
    return changed


def _resource_diffs(file: str, path: str, before: dict, after: dict, new_defaults: set[str]) -> list[ResourceDiff]:
    old, new = before.get("Resources", {}), after.get("Resources", {})
    parameters = set(after.get("Parameters", {})) | set(before.get("Parameters", {}))
    off = _off_for_deployed_stacks(before, after)
    diffs: dict[str, ResourceDiff] = {}
    for logical_id in sorted(set(old) | set(new)):
        if logical_id not in new:
            diffs[logical_id] = _whole(file, path, logical_id, old[logical_id], "Remove")
        elif logical_id not in old:
            diffs[logical_id] = _whole(file, path, logical_id, new[logical_id], "Add")
        else:
            diff = _modified(file, path, logical_id, old[logical_id], new[logical_id], parameters,
                             new_defaults & parameters, off)
            if diff is not None:
                diffs[logical_id] = diff
    _references_to_replaced(diffs, path, new, file)
    return list(diffs.values())


def _whole(file: str, path: str, logical_id: str, resource: dict, action: str) -> ResourceDiff:
    policy = resource.get("DeletionPolicy", "Delete") if action == "Remove" else ""
    change = Change(action, logical_id, resource.get("Type", ""), path, policy_action=policy,
                    after_context=_context(resource) if action == "Add" else "")
    return ResourceDiff(change, file, condition=resource.get("Condition"))


def _modified(file: str, path: str, logical_id: str, old: dict, new: dict, parameters: set[str],
              new_defaults: set[str], off: set[str] = frozenset()) -> ResourceDiff | None:
    resource_type = new.get("Type", "")
    if old.get("Type") != resource_type:  # another type under the same id: a new resource
        change = Change("Modify", logical_id, resource_type, path, replacement="True", changed_properties=("Type",))
        return ResourceDiff(change, file, (PropertyChange("Type", old.get("Type"), resource_type, ALWAYS),))
    before, after = old.get("Properties", {}), new.get("Properties", {})
    properties = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name) and _as_deployed(after.get(name), off) == before.get(name, NO_VALUE):
            # An !If whose condition is false for a deployed stack, and whose other branch is what it has.
            level = NEVER
        elif before.get(name) != after.get(name):
            level = _requires(resource_type, name, before.get(name), after.get(name), parameters)
        elif _refers_to(after.get(name), new_defaults):
            # Same text, but a parameter it reads has a new default: a change wherever the default is used.
            level = _uncertain(_requires(resource_type, name, None, None, parameters))
        else:
            continue
        properties.append(PropertyChange(name, before.get(name), after.get(name), level))
    properties += [PropertyChange(f"({name})", old.get(name), new.get(name), NEVER)
                   for name in ATTRIBUTES if old.get(name) != new.get(name)]
    if not properties:
        return None
    return _diff(file, path, logical_id, resource_type, properties, old, new)


def _diff(file, path, logical_id, resource_type, properties, old, new) -> ResourceDiff:
    worst = _worst(p.requires_recreation for p in properties)
    change = Change("Modify", logical_id, resource_type, path, replacement=REPLACEMENT[worst],
                    changed_properties=tuple(p.name for p in properties),
                    before_context=_context(old), after_context=_context(new))
    return ResourceDiff(change, file, tuple(properties), new.get("Condition"), _custom_name_note(worst, old, new))


def _custom_name_note(worst: str, old: dict, new: dict) -> str:
    """A replacement of a resource with a custom name fails: the new one needs the old one's name."""
    name_property = updates.NAME_PROPERTIES.get(new.get("Type", ""))
    name = new.get("Properties", {}).get(name_property) if name_property else None
    if worst not in (ALWAYS, CONDITIONALLY) or name is None or name != old.get("Properties", {}).get(name_property):
        return ""
    return f"{name_property} is a custom name: a replacement fails and the update rolls back"


def _requires(resource_type: str, name: str, before, after, parameters: set[str]) -> str:
    """RequiresRecreation of a property change; a replacement that depends on parameter
    values (the text names a parameter or a condition) is only Conditionally."""
    try:
        create_only, conditional = updates.create_only_properties(resource_type)
    except updates.NoSchema:
        return UNKNOWN
    if name in create_only:
        level = ALWAYS
    elif name in conditional:
        behaviour = updates.HANDLER_BEHAVIOUR.get((resource_type, name), updates.MAY_REPLACE)
        level = {updates.REPLACE: ALWAYS, updates.IN_PLACE: NEVER}.get(behaviour, CONDITIONALLY)
    else:
        return NEVER
    if level == ALWAYS and (_parametric(before, parameters) or _parametric(after, parameters)):
        return CONDITIONALLY
    return level


def _off_for_deployed_stacks(before: dict, after: dict) -> set[str]:
    """Conditions of `after` that are false for every stack deployed with `before`: those that read only
    parameters `before` did not have, which such a stack takes at their defaults (an update that leaves
    them out; `plan` sends what the parameter file sets, and refuses setting some: review.refusals)."""
    added = {name: spec for name, spec in after.get("Parameters", {}).items()
             if name not in before.get("Parameters", {}) and "Default" in spec}
    conditions = after.get("Conditions", {})
    # A condition kept here names only conditions kept here too (_reads_only follows them).
    decidable = {name: value for name, value in conditions.items() if _reads_only(conditions, name, set(added))}
    try:
        evaluation = Evaluation({"Parameters": added, "Conditions": decidable}, {})
    except (KeyError, TypeError, ValueError):
        return set()
    return {name for name in decidable if not evaluation.condition(name)}


def _reads_only(conditions: dict, name: str, parameters: set[str], seen: frozenset = frozenset()) -> bool:
    """Whether condition `name` (and the conditions it names) reads no parameter but `parameters`."""
    def walk(value) -> bool:
        if isinstance(value, dict):
            if "Ref" in value:
                return value["Ref"] in parameters
            if "Condition" in value and isinstance(value["Condition"], str):
                inner = value["Condition"]
                return inner not in seen and inner in conditions and _reads_only(conditions, inner, parameters,
                                                                                seen | {name})
            return all(walk(item) for item in value.values())
        if isinstance(value, list):
            return all(walk(item) for item in value)
        return True
    return walk(conditions[name])


NO_VALUE = {"Ref": "AWS::NoValue"}


def _as_deployed(value, off: set[str]):
    """A property's value for a deployed stack: `!If [C, X, Y]` with C in `off` is Y (NO_VALUE: absent)."""
    while isinstance(value, dict) and "Fn::If" in value and value["Fn::If"][0] in off:
        value = value["Fn::If"][2]
    return value


def _uncertain(level: str) -> str:
    return CONDITIONALLY if level == ALWAYS else level


def _parametric(value, parameters: set[str]) -> bool:
    """Whether the value depends on parameter values: a Ref to a parameter, a condition, a mapping."""
    if isinstance(value, dict):
        if value.get("Ref") in parameters or "Fn::If" in value or "Fn::FindInMap" in value:
            return True
        if "Fn::Sub" in value:
            return True  # ${Name} may be a parameter
        return any(_parametric(item, parameters) for item in value.values())
    if isinstance(value, list):
        return any(_parametric(item, parameters) for item in value)
    return False


def _refers_to(value, parameters: set[str]) -> bool:
    if not parameters:
        return False
    if isinstance(value, dict):
        if value.get("Ref") in parameters:
            return True
        text = value.get("Fn::Sub")
        template = text if isinstance(text, str) else (text[0] if isinstance(text, list) and text else "")
        if any(f"${{{name}}}" in template for name in parameters):
            return True
        return any(_refers_to(item, parameters) for item in value.values())
    if isinstance(value, list):
        return any(_refers_to(item, parameters) for item in value)
    return False


def _worst(levels) -> str:
    order = (NEVER, UNKNOWN, CONDITIONALLY, ALWAYS)
    return max(levels, key=order.index, default=NEVER)


def _references_to_replaced(diffs: dict[str, ResourceDiff], path: str, resources: dict, file: str) -> None:
    """A property that names a replaced resource gets a new id: CloudFormation says Conditionally."""
    replaced = {logical_id for logical_id, diff in diffs.items() if diff.change.replacement == "True"}
    for logical_id, resource in resources.items():
        if logical_id in replaced or not replaced:
            continue
        current = diffs.get(logical_id)
        if current is not None and current.change.action != "Modify":
            continue
        known = {p.name: p for p in (current.properties if current else ())}
        for name, value in resource.get("Properties", {}).items():
            if _names_any(value, replaced) and (name not in known or known[name].requires_recreation == NEVER):
                level = _uncertain(_requires(resource.get("Type", ""), name, None, None, set()))
                known[name] = PropertyChange(name, value, value, level)
        if known and (current is None or tuple(known.values()) != current.properties):
            diffs[logical_id] = _diff(file, path, logical_id, resource.get("Type", ""),
                                      sorted(known.values(), key=lambda p: p.name), resource, resource)


def _names_any(value, logical_ids: set[str]) -> bool:
    if isinstance(value, dict):
        if value.get("Ref") in logical_ids:
            return True
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and attribute[0] in logical_ids:
            return True
        return any(_names_any(item, logical_ids) for item in value.values())
    if isinstance(value, list):
        return any(_names_any(item, logical_ids) for item in value)
    return False


def _context(resource: dict) -> str:
    return json.dumps({"Properties": resource.get("Properties", {})}, sort_keys=True)


def _section_changes(file: str, before: dict, after: dict) -> list[str]:
    lines = []
    for section in SECTIONS:
        old, new = before.get(section, {}), after.get(section, {})
        for verb, names in (("added", sorted(set(new) - set(old))), ("removed", sorted(set(old) - set(new))),
                            ("changed", sorted(n for n in set(old) & set(new) if old[n] != new[n]))):
            if names:
                lines.append(f"{file} {section}: {verb} {', '.join(names)}")
    return lines


# --- Parameter files -----------------------------------------------------------------


def changed_environments(project: Path, revision: str) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """{env: (values at the revision, values now)} for every environment whose values differ: its
    parameter file with its pins (parameters/ENV.pins.json), as plan reads them."""
    from threetier.parameters import paramfile

    found = {}
    for env in paramfile.environments(project):
        file = f"{env}.json"
        try:
            text = _git(project, "show", f"{revision}:parameters/{file}")
        except RevisionError:
            continue  # a new environment: nothing deployed to compare with
        before = paramfile.with_pins(paramfile.parse(text, file), _pins_at(project, revision, env))
        after = paramfile.load_env(project, env)[1]
        if before != after:
            found[env] = (before, after)
    return found


def _pins_at(project: Path, revision: str, env: str) -> dict[str, str]:
    """The environment's pins at the revision ({} when it had none)."""
    from threetier.parameters import paramfile

    file = f"{env}{paramfile.PINS_SUFFIX}"
    try:
        return paramfile.parse_pins(_git(project, "show", f"{revision}:parameters/{file}"), file)
    except RevisionError:
        return {}


def predicted_changes(env: str, prediction: updates.Prediction) -> list[Change]:
    """A parameter-file prediction as change set rows, so the danger guard reads both alike."""
    rows = []
    for item in prediction.changes:
        action = {updates.ADD: "Add", updates.REMOVE: "Remove"}.get(item.action, "Modify")
        replacement = {updates.REPLACE: "True", updates.FAILS: "True", updates.MAY_REPLACE: "Conditional",
                       updates.IN_PLACE: "False"}.get(item.action, "")
        rows.append(Change(action, item.logical_id, item.resource_type, f"{env}:{item.stack}",
                           replacement=replacement, changed_properties=item.properties,
                           policy_action=item.deletion_policy if action == "Remove" else ""))
    return rows
