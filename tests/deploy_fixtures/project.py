"""A small threetier-shaped project in a temporary directory.

The templates are built with troposphere and rendered like the real ones
(emit.render), but stay within what moto's CloudFormation can create: log
groups and SSM parameters, one nested stack, no Fn::Cidr, no nested GetAtt.
"""

from __future__ import annotations

import json
from pathlib import Path

from troposphere import Output, Parameter, Ref, Sub, Template, cloudformation, logs, ssm

from threetier import emit

PROJECT_NAME = "shop"
ENV = "dev"
STACK_NAME = f"{PROJECT_NAME}-{ENV}"


def root_template(nested_file: str = "app.yaml", extra_setting: bool = False,
                  setting_value: str = "one") -> Template:
    t = Template(Description="threetier test root stack")
    t.set_version("2010-09-09")
    t.add_parameter(Parameter(
        "ProjectName", Type="String", AllowedPattern="^[a-z][a-z0-9-]{1,18}[a-z0-9]$",
        ConstraintDescription="3 to 20 lower-case letters, digits and hyphens.",
    ))
    t.add_parameter(Parameter("EnvironmentName", Type="String", Default="dev"))
    t.add_parameter(Parameter("RetentionDays", Type="Number", Default="7", AllowedValues=["1", "7", "30"]))
    t.add_resource(ssm.Parameter(
        "Setting", Type="String", Name=Sub("/${ProjectName}/${EnvironmentName}/setting"), Value=setting_value,
    ))
    if extra_setting:
        t.add_resource(ssm.Parameter(
            "ExtraSetting", Type="String", Name=Sub("/${ProjectName}/${EnvironmentName}/extra"), Value="x",
        ))
    t.add_resource(cloudformation.Stack(
        "AppStack", TemplateURL=nested_file,
        Parameters={"ProjectName": Ref("ProjectName"), "EnvironmentName": Ref("EnvironmentName"),
                    "RetentionDays": Ref("RetentionDays")},
    ))
    t.add_output(Output("SettingName", Value=Ref("Setting")))
    return t


def app_template(retention_note: str = "") -> Template:
    t = Template(Description=f"threetier test nested stack{retention_note}")
    t.set_version("2010-09-09")
    for name in ("ProjectName", "EnvironmentName", "RetentionDays"):
        t.add_parameter(Parameter(name, Type="String"))
    t.add_resource(logs.LogGroup(
        "AppLogs", LogGroupName=Sub("${ProjectName}-${EnvironmentName}-app"),
        RetentionInDays=Ref("RetentionDays"), DeletionPolicy="Retain", UpdateReplacePolicy="Retain",
    ))
    return t


def write_project(root: Path, templates: dict[str, Template] | None = None,
                  parameters: dict[str, str] | None = None, env: str = ENV) -> Path:
    """setup.cfg + templates/__init__.py (so emit.find_project accepts it), output/, parameters/."""
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "__init__.py").write_text("STACKS = {}\n")
    (root / "setup.cfg").write_text("[metadata]\nname = test-project\n")
    write_templates(root, templates or {"main.yaml": root_template(), "app.yaml": app_template()})
    write_parameters(root, parameters or {"ProjectName": PROJECT_NAME, "EnvironmentName": env}, env)
    return root


def write_templates(root: Path, templates: dict[str, Template]) -> None:
    output = root / "output"
    output.mkdir(exist_ok=True)
    for file_name, template in templates.items():
        (output / file_name).write_text(emit.render(template, file_name.removesuffix(".yaml")))


def write_parameters(root: Path, values: dict[str, str], env: str = ENV) -> Path:
    path = root / "parameters" / f"{env}.json"
    path.parent.mkdir(exist_ok=True)
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
    path.write_text(json.dumps(entries, indent=2) + "\n")
    return path
