"""What a deploy command needs from local files: stack name and parameter values.

Everything here runs before any AWS call, so a typo in parameters/ENV.json (or in the pins of
parameters/ENV.pins.json, read with it) is reported with the file and parameter name instead
of a CloudFormation error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from threetier.deploy.errors import InputError
from threetier.deploy.package import ROOT_TEMPLATE, parse_template
from threetier.parameters import paramfile, sharedzone, validate
from threetier.parameters.evaluate import first_stack_file, with_first_stack_rules

STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


@dataclass(frozen=True)
class StackInputs:
    stack_name: str
    parameters: dict[str, str]
    parameter_file: Path
    notes: tuple[str, ...] = ()  # warnings and notes from validation, one line each
    written: frozenset[str] = frozenset()  # the keys parameters/ENV.json sets (not empty): a pin cannot change them


def load_stack_inputs(project: Path, env: str, template: dict | None = None,
                      stack_name: str | None = None, region: str | None = None,
                      allow_insecure: bool = False, overrides: dict[str, str] | None = None,
                      protected: bool = False) -> StackInputs:
    """Read parameters/ENV.json and its pins, with `overrides` (a release's new ref, not written yet);
    with `template`, validate the values (threetier.parameters.validate) for a plan or deploy in `region`
    of an environment that is `protected` or not: any error stops here, before any AWS call."""
    path, own = _reading(paramfile.load_user_env, project, env)
    pins = _reading(paramfile.load_pins, project, env)
    values = {**paramfile.with_pins(own, pins), **(overrides or {})}
    notes: tuple[str, ...] = ()
    if template is not None:
        problems = sharedzone.project_problems(project, env, values, template.get("Parameters") or {})
        problems += validate.validate(template, values, region=region, allow_insecure=allow_insecure,
                                      filled_later=validate.FILLED_BY_PLAN, protected=protected)
        lines = validate.report_lines(path, problems)
        if validate.errors(problems):
            raise InputError("\n".join([*lines, f"{path}: {validate.summary(problems)}: nothing was sent to AWS"]))
        notes = tuple(lines)
    return StackInputs(stack_name_for(values, path, stack_name), values, path, notes,
                       frozenset(key for key, value in own.items() if value))


def load_values(project: Path, env: str) -> tuple[Path, dict[str, str]]:
    """The path of parameters/ENV.json and the environment's {key: value} (its pins filling what the
    file leaves out); InputError names the file and the spot."""
    return _reading(paramfile.load_env, project, env)


def load_user_values(project: Path, env: str) -> tuple[Path, dict[str, str]]:
    """The path of parameters/ENV.json and its own {key: value}, without the pins."""
    return _reading(paramfile.load_user_env, project, env)


def _reading(load, project: Path, env: str):
    try:
        return load(project, env)
    except paramfile.ParameterFileError as error:
        raise InputError(str(error)) from None


def load_root_template(project: Path) -> dict:
    """output/main.yaml as data: the parameters and Rules a parameter file is checked against,
    with the Rules of the first nested stack, which refuse before any resource too (threetier.parameters.rules)."""
    root = _read_template(project / "output" / ROOT_TEMPLATE)
    first_stack = first_stack_file(root)
    if first_stack is None:
        return root
    return with_first_stack_rules(root, _read_template(project / "output" / first_stack))


def _read_template(path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"{path}: no such template; run `python generate.py` first")
    return parse_template(path.read_text(encoding="utf-8"), path)


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
    return [str(problem) for problem in validate.declared_problems(declared, values)]
