"""Parameter files in the AWS CLI format: [{"ParameterKey": ..., "ParameterValue": ...}].

Each environment has two, read together wherever its values are loaded:
- parameters/ENV.json, the user's: no command rewrites it on its own (`release` writes the ref
  it is asked for, once its change set was created);
- parameters/ENV.pins.json, the pins commands resolve once and the environment keeps (the
  AZ names and the AMI id `plan` resolves, the AMI `pin-ami` moves, the origin header secret's
  versions `rotate-origin-secret` makes). Committed like the other.
A value the user wrote wins over a pin: the pin only fills what ENV.json leaves out or leaves
empty, so writing AvailabilityZoneNames or PinnedAmiId in ENV.json takes the pin's place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
PINS_SUFFIX = ".pins.json"
# What a pins file may hold: the values commands resolve and keep for the environment.
PINNED_KEYS = ("AvailabilityZoneNames", "PinnedAmiId", "OriginVerifySecretVersion", "OriginVerifyPreviousSecretVersion")


class ParameterFileError(ValueError):
    pass


def path_for(project: Path, env: str) -> Path:
    return project / "parameters" / f"{env}.json"


def pins_path_for(project: Path, env: str) -> Path:
    return project / "parameters" / f"{env}{PINS_SUFFIX}"


def environments(project: Path) -> list[str]:
    """The environments that have a parameter file, e.g. ["dev", "prod"] (pins files are not environments)."""
    return sorted(path.stem for path in (project / "parameters").glob("*.json") if ENV_NAME.match(path.stem))


def load_env(project: Path, env: str) -> tuple[Path, dict[str, str]]:
    """parameters/ENV.json and the environment's values: the user's, with the pins filling what they
    leave out; a ParameterFileError names the file, the spot, and for an unknown environment the known ones."""
    path, values = load_user_env(project, env)
    return path, with_pins(values, load_pins(project, env))


def load_user_env(project: Path, env: str) -> tuple[Path, dict[str, str]]:
    """parameters/ENV.json and its own values, without the pins."""
    if not ENV_NAME.match(env or ""):
        raise ParameterFileError(f"environment {env!r}: use the name of a file in parameters/, e.g. dev")
    path = path_for(project, env)
    if not path.is_file():
        known = ", ".join(environments(project)) or "none yet"
        raise ParameterFileError(f"{path}: no such parameter file (environments: {known})")
    return path, load(path)


def load(path: Path) -> dict[str, str]:
    """{key: value} from a CLI-format parameter file; a clear error names the file and the spot."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterFileError(f"{path}: no such parameter file") from None
    return parse(text, path)


def load_pins(project: Path, env: str) -> dict[str, str]:
    """The values of parameters/ENV.pins.json ({} when the environment has no pins yet)."""
    path = pins_path_for(project, env)
    if not path.is_file():
        return {}
    return parse_pins(path.read_text(encoding="utf-8"), path)


def parse_pins(text: str, path: Path | str) -> dict[str, str]:
    """The values of a pins file's text; a ParameterFileError for a key that is not a pin."""
    values = parse(text, path)
    strangers = [key for key in values if key not in PINNED_KEYS]
    if strangers:
        own_file = Path(path).name.replace(PINS_SUFFIX, ".json")
        raise ParameterFileError(f"{path}: {', '.join(strangers)} is not a pin (a pins file holds only "
                                 f"{', '.join(PINNED_KEYS)}): move it to {own_file}")
    return values


def with_pins(values: dict[str, str], pins: dict[str, str]) -> dict[str, str]:
    """The user's values with the pins filling what they leave out or leave empty (the user's value wins)."""
    return {**values, **{key: pin for key, pin in pins.items() if not values.get(key)}}


def save_pins(project: Path, env: str, changes: dict[str, str]) -> Path:
    """Write `changes` into parameters/ENV.pins.json (created when missing); its path."""
    path = pins_path_for(project, env)
    if not path.is_file():
        path.write_text("[]\n", encoding="utf-8")
    update(path, changes)
    return path


def parse(text: str, path: Path | str) -> dict[str, str]:
    """{key: value} from the text of a parameter file (`path` names it in errors)."""
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParameterFileError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"
        ) from None
    if not isinstance(entries, list):
        raise ParameterFileError(f"{path}: expected a JSON list of {{ParameterKey, ParameterValue}}")
    values: dict[str, str] = {}
    # Every entry's fault at once (one line each), as validate reports the values' faults.
    problems = []
    for index, entry in enumerate(entries):
        problem = _entry_problem(index, entry, values)
        if problem:
            problems.append(f"{path}: {problem}")
        else:
            values[entry["ParameterKey"]] = entry["ParameterValue"]
    if problems:
        raise ParameterFileError("\n".join(problems))
    return values


def _entry_problem(index: int, entry: object, earlier: dict[str, str]) -> str | None:
    """What is wrong with one entry of a parameter file (`earlier`: the entries before it), or None."""
    if not isinstance(entry, dict) or set(entry) != {"ParameterKey", "ParameterValue"}:
        return f"entry {index} must have exactly ParameterKey and ParameterValue"
    key, value = entry["ParameterKey"], entry["ParameterValue"]
    if not isinstance(key, str):
        return f"entry {index}: ParameterKey {json.dumps(key)} must be a string"
    if not isinstance(value, str):
        return f"{key}: {_not_a_string(value)}"
    if key in earlier:
        return f"{key} is given twice"
    return None


def _not_a_string(value: object) -> str:
    """Why a non-string ParameterValue is refused, quoting it as the file has it.

    The AWS CLI takes only strings there ("Invalid type for parameter Parameters[N].ParameterValue"),
    and a JSON null or false read as Python would become the text "None" or "False".
    """
    written = json.dumps(value)
    kind = {bool: "a boolean", type(None): "null", int: "a number", float: "a number"}.get(
        type(value), "not a string")
    if value is None:
        fix = 'write "" for an empty value, or leave the entry out to take the default'
    elif isinstance(value, (bool, int, float)):
        fix = f"write it as a string: {json.dumps(written)}"
    else:
        fix = "write the value as one string"
    return f"ParameterValue {written} is {kind}; the AWS CLI accepts only strings: {fix}"


def update(path: Path, changes: dict[str, str]) -> None:
    """Set some values in a parameter file, keeping its order; new keys go at the end."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    for entry in entries:
        if entry["ParameterKey"] in changes:
            entry["ParameterValue"] = changes[entry["ParameterKey"]]
    known = {entry["ParameterKey"] for entry in entries}
    entries += [{"ParameterKey": k, "ParameterValue": v} for k, v in changes.items() if k not in known]
    Path(path).write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
