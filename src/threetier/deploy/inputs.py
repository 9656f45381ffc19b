"""What a deploy command needs from local files: stack name and parameter values.

Everything here runs before any AWS call, so a typo in parameters/ENV.json is
reported with the file and parameter name instead of a CloudFormation error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from threetier import paramfile
from threetier.deploy.errors import InputError

STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class StackInputs:
    stack_name: str
    parameters: dict[str, str]
    parameter_file: Path


def load_stack_inputs(project: Path, env: str, template: dict | None = None,
                      stack_name: str | None = None) -> StackInputs:
    """Read parameters/ENV.json; with `template`, check the values against its Parameters."""
    if not ENV_NAME.match(env):
        raise InputError(f"environment {env!r}: use the name of a file in parameters/, e.g. dev")
    path = paramfile.path_for(project, env)
    try:
        values = paramfile.load(path)
    except paramfile.ParameterFileError as error:
        raise InputError(str(error)) from None
    if template is not None:
        problems = check_parameters(template.get("Parameters") or {}, values)
        if problems:
            raise InputError("\n".join(f"{path}: {problem}" for problem in problems))
    return StackInputs(stack_name_for(values, path, stack_name), values, path)


def stack_name_for(values: dict[str, str], path: Path, override: str | None = None) -> str:
    """`<ProjectName>-<EnvironmentName>` from the parameter file, unless --stack-name is given."""
    if override:
        name = override
    else:
        missing = [key for key in ("ProjectName", "EnvironmentName") if not values.get(key)]
        if missing:
            raise InputError(f"{path}: needs {' and '.join(missing)} to name the stack (or pass --stack-name)")
        name = f"{values['ProjectName']}-{values['EnvironmentName']}"
    if not STACK_NAME.match(name):
        raise InputError(
            f"stack name {name!r}: must start with a letter and hold only letters, digits and hyphens"
            " (at most 128 characters)"
        )
    return name


def check_parameters(declared: dict, values: dict[str, str]) -> list[str]:
    """Every way `values` would be rejected by the template's Parameters section."""
    problems = []
    for key in values:
        if key not in declared:
            problems.append(f"{key}: not a parameter of the template (known: {', '.join(sorted(declared))})")
    for key, spec in declared.items():
        spec = spec or {}
        if key not in values:
            if "Default" not in spec:
                problems.append(f"{key}: required (the template gives it no default)")
            continue
        problem = _check_value(spec, values[key])
        if problem:
            problems.append(f"{key}={values[key]!r}: {problem}")
    return problems


def _check_value(spec: dict, value: str) -> str | None:
    explain = spec.get("ConstraintDescription")
    allowed = [str(v) for v in spec.get("AllowedValues") or []]
    if allowed and value not in allowed:
        return explain or f"must be one of {', '.join(allowed)}"
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, value):
        return explain or f"must match {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return explain or f"must be at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return explain or f"must be at most {spec['MaxLength']} characters"
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "must be a number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return explain or f"must be at least {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return explain or f"must be at most {spec['MaxValue']}"
    return None
