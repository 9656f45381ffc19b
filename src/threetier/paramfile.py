"""Parameter files in the AWS CLI format: [{"ParameterKey": ..., "ParameterValue": ...}]."""

from __future__ import annotations

import json
from pathlib import Path


class ParameterFileError(ValueError):
    pass


def path_for(project: Path, env: str) -> Path:
    return project / "parameters" / f"{env}.json"


def load(path: Path) -> dict[str, str]:
    """{key: value} from a CLI-format parameter file; a clear error names the file and the spot."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterFileError(f"{path}: no such parameter file") from None
    except json.JSONDecodeError as error:
        raise ParameterFileError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"
        ) from None
    if not isinstance(entries, list):
        raise ParameterFileError(f"{path}: expected a JSON list of {{ParameterKey, ParameterValue}}")
    values: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"ParameterKey", "ParameterValue"}:
            raise ParameterFileError(
                f"{path}: entry {index} must have exactly ParameterKey and ParameterValue"
            )
        key = entry["ParameterKey"]
        if key in values:
            raise ParameterFileError(f"{path}: {key} is given twice")
        values[key] = str(entry["ParameterValue"])
    return values


def update(path: Path, changes: dict[str, str]) -> None:
    """Set some values in a parameter file, keeping its order; new keys go at the end."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    for entry in entries:
        if entry["ParameterKey"] in changes:
            entry["ParameterValue"] = changes[entry["ParameterKey"]]
    known = {entry["ParameterKey"] for entry in entries}
    entries += [{"ParameterKey": k, "ParameterValue": v} for k, v in changes.items() if k not in known]
    Path(path).write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
