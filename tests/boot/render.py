"""The app stack's user data as CloudFormation renders it for an instance.

It is read from the generated launch template (Fn::Base64 of Fn::Sub with the
variables the template passes) and substituted the way Fn::Sub does: `${Name}`
from parameters, pseudo parameters and the variables (a Ref variable becomes the
resource's physical id), `${!Text}` as a literal `${Text}`. A name Fn::Sub could
not resolve raises, as CloudFormation would refuse the template.
"""

from __future__ import annotations

import re

from templates import app

ASG = app.ASG
LAUNCH_TEMPLATE = app.LAUNCH_TEMPLATE


def user_data(parameters: dict[str, str], stack_name: str, region: str, physical_ids: dict[str, str]) -> str:
    template = app.build().to_dict()
    data = template["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    text, variables = data["UserData"]["Fn::Base64"]["Fn::Sub"]
    unknown = set(parameters) - set(template["Parameters"])
    if unknown:
        raise KeyError(f"not parameters of the app stack: {sorted(unknown)}")
    values = {**parameters, "AWS::StackName": stack_name, "AWS::Region": region}
    for name, value in variables.items():
        if isinstance(value, str):
            values[name] = value
        elif "Ref" in value:
            values[name] = physical_ids[value["Ref"]]
        else:  # a value the template computes (the RDS CA bundle's URL): the test's stand-in, by name
            values[name] = physical_ids[name]

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        return "${" + name[1:] + "}" if name.startswith("!") else values[name]

    return re.sub(r"\$\{([^}]*)\}", substitute, text)


def launch_template_metadata() -> dict:
    """The launch template's metadata as cfn-init gets it: plain text only, so CloudFormation returns
    it as the template has it (an intrinsic function here would need resolving first)."""
    metadata = app.build().to_dict()["Resources"][LAUNCH_TEMPLATE]["Metadata"]
    if not _plain(metadata):
        raise ValueError("the launch template's metadata holds an intrinsic function")
    return metadata


def _plain(node) -> bool:
    if isinstance(node, dict):
        return not any(key == "Ref" or key.startswith("Fn::") for key in node) and all(map(_plain, node.values()))
    if isinstance(node, list):
        return all(map(_plain, node))
    return isinstance(node, str)
