"""What EFS knows of the app servers' access point, for the mount.efs stand-in.

Read from the rendered templates as CloudFormation wires them: the root stack
hands the app stack the data stack's output `EfsAccessPointId` (and
`EfsFileSystemId`); the data stack's outputs name the resources; the access
point's PosixUser and RootDirectory are what EFS enforces. The stand-in reads
the result from /srv/efs/access-points.json (`SETTINGS`), keyed by the ids the
app stack's parameters give (a physical id is only known on AWS).
"""

from __future__ import annotations

from templates import data, root

SETTINGS = "/srv/efs/access-points.json"
APP_STACK_PARAMETERS = ("EfsFileSystemId", "EfsAccessPointId")


def access_points(file_system_id: str, access_point_id: str) -> dict[str, dict]:
    """{access point id: {FileSystemId, PosixUser, RootDirectory}} for the access point the app servers get."""
    data_template = data.build().to_dict()
    resources = {name: _data_resource(data_template, name) for name in APP_STACK_PARAMETERS}
    access_point = data_template["Resources"][resources["EfsAccessPointId"]]
    properties = access_point["Properties"]
    if properties["FileSystemId"] != {"Ref": resources["EfsFileSystemId"]}:
        raise ValueError(f"the app servers' access point is on {properties['FileSystemId']}, "
                         f"not on the file system they are given")
    settings = {key: _resolved(properties[key], data_template)
                for key in ("PosixUser", "RootDirectory") if key in properties}
    return {access_point_id: {"FileSystemId": file_system_id, **settings}}


def _data_resource(data_template: dict, parameter: str) -> str:
    """The data stack's resource behind the app stack's parameter, through the root stack."""
    given = root.build().to_dict()["Resources"]["AppStack"]["Properties"]["Parameters"][parameter]
    stack, output = given["Fn::GetAtt"]
    if stack != "DataStack" or not output.startswith("Outputs."):
        raise ValueError(f"the root stack gives the app stack's {parameter} from {given}, not a data stack output")
    return data_template["Outputs"][output.removeprefix("Outputs.")]["Value"]["Ref"]


def _resolved(node, template: dict):
    """Values as CloudFormation creates them: a Ref to a parameter is its Default (what the test
    deploys with); a Ref to a resource stays a Ref; other intrinsics are not for this test."""
    if isinstance(node, list):
        return [_resolved(item, template) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        parameter = template.get("Parameters", {}).get(node["Ref"])
        return parameter["Default"] if parameter is not None else node
    if any(key.startswith("Fn::") for key in node):
        raise ValueError(f"an access point property the boot test cannot resolve: {node}")
    return {key: _resolved(value, template) for key, value in node.items()}
