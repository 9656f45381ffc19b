"""The pinned AMI, end to end against the local moto server (it ships the AL2023 SSM parameter)."""

from __future__ import annotations

import json

import pytest

from tests.deploy.fixtures.project import ENV, app_template, root_template, write_parameters, write_project
from tests.deploy.test_deploy_moto import (
    BUCKET,
    aws,  # noqa: F401 (fixture)
)
from threetier import cli, parameters as P

OLD_IMAGE = "ami-0123456789abcdef0"


@pytest.fixture
def project(tmp_path):
    root = root_template()
    for param in (P.AMI_ID, P.PINNED_AMI_ID):
        root.add_parameter(param.to_parameter())
    return write_project(tmp_path, templates={"main.yaml": root, "app.yaml": app_template()})


def run(project, aws, *argv) -> int:
    return cli.main(["--project-dir", str(project), *argv, "--region", "us-east-1", "--endpoint-url", aws.endpoint])


def values(project) -> dict[str, str]:
    return {e["ParameterKey"]: e["ParameterValue"]
            for e in json.loads((project / "parameters" / "dev.json").read_text())}


def latest(aws) -> str:
    return aws.ssm.get_parameter(Name=P.AL2023_AMI_PARAMETER)["Parameter"]["Value"]


def test_the_first_plan_pins_the_latest_image_in_the_parameter_file(project, aws, capsys):
    assert "PinnedAmiId" not in values(project)

    assert run(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    image = latest(aws)
    assert image.startswith("ami-") and values(project)["PinnedAmiId"] == image
    assert f"AMI: pinned {image}, the latest image of {P.AL2023_AMI_PARAMETER}" in capsys.readouterr().out
    [summary] = aws.cfn.list_change_sets(StackName="shop-dev")["Summaries"]
    change_set = aws.cfn.describe_change_set(ChangeSetName=summary["ChangeSetId"])
    sent = {p["ParameterKey"]: p.get("ParameterValue") for p in change_set["Parameters"]}
    assert sent["PinnedAmiId"] == image


def test_a_pinned_image_stays_and_plan_shows_the_latest_next_to_it(project, aws, capsys):
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": ENV, "PinnedAmiId": OLD_IMAGE})

    assert run(project, aws, "plan", ENV, "--bucket", BUCKET, "--json") == 0

    assert values(project)["PinnedAmiId"] == OLD_IMAGE
    assert json.loads(capsys.readouterr().out)["ami"] == {
        "source": P.AL2023_AMI_PARAMETER, "pinned": OLD_IMAGE, "latest": latest(aws), "newly_pinned": False}


def test_pin_ami_moves_the_pin_deliberately(project, aws, capsys):
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": ENV, "PinnedAmiId": OLD_IMAGE})

    assert run(project, aws, "pin-ami", ENV) == 0

    assert values(project)["PinnedAmiId"] == latest(aws)
    assert f"PinnedAmiId {OLD_IMAGE} -> {latest(aws)}" in capsys.readouterr().out


def test_pin_ami_refuses_what_is_not_an_image_id(project, aws, capsys):
    assert run(project, aws, "pin-ami", ENV, "--ami-id", "ubuntu") == 2
    assert "--ami-id ubuntu: not an AMI id" in capsys.readouterr().err
    assert "PinnedAmiId" not in values(project)


def test_the_root_gives_the_servers_the_pinned_image_when_there_is_one(root_template):
    built = root_template.to_dict()
    image = {"Fn::If": ["HasPinnedAmi", {"Ref": "PinnedAmiId"}, {"Ref": "AmiId"}]}
    assert built["Conditions"]["HasPinnedAmi"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PinnedAmiId"}, ""]}]}
    for stack in ("AppStack", "AdminStack"):
        assert built["Resources"][stack]["Properties"]["Parameters"]["AmiId"] == image
    assert built["Parameters"]["PinnedAmiId"]["Default"] == ""


# ----------------------------------------------------------------------------- the AZs the environment keeps

@pytest.fixture
def az_project(tmp_path):
    root = root_template()
    for param in (P.NUMBER_OF_AZS, P.AVAILABILITY_ZONE_NAMES):
        root.add_parameter(param.to_parameter())
    return write_project(tmp_path, templates={"main.yaml": root, "app.yaml": app_template()},
                         parameters={"ProjectName": "shop", "EnvironmentName": ENV, "NumberOfAzs": "2"})


def test_the_first_plan_keeps_the_regions_first_azs_in_the_parameter_file(az_project, aws, capsys):
    assert run(az_project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    assert values(az_project)["AvailabilityZoneNames"] == "us-east-1a,us-east-1b"
    assert "AvailabilityZoneNames: (empty) -> us-east-1a,us-east-1b, written into dev.json" in capsys.readouterr().err


def test_a_third_az_is_appended_and_the_first_two_stay(az_project, aws):
    write_parameters(az_project, {"ProjectName": "shop", "EnvironmentName": ENV, "NumberOfAzs": "3",
                                  "AvailabilityZoneNames": "us-east-1c,us-east-1a"})

    assert run(az_project, aws, "plan", ENV, "--bucket", BUCKET) == 0
    assert values(az_project)["AvailabilityZoneNames"] == "us-east-1c,us-east-1a,us-east-1b"


def test_validate_checks_the_az_names_against_the_count_and_the_region(az_project, capsys):
    write_parameters(az_project, {"ProjectName": "shop", "EnvironmentName": ENV, "NumberOfAzs": "3",
                                  "AvailabilityZoneNames": "eu-west-1a,eu-west-1a"})

    assert cli.main(["--project-dir", str(az_project), "validate", ENV, "--region", "us-east-1"]) == 2

    out = capsys.readouterr().out
    assert "names 2 AZs for NumberOfAzs=3" in out and "names an AZ twice" in out
    assert "eu-west-1a, eu-west-1a is not in us-east-1" in out


def test_the_network_stack_places_subnets_in_the_kept_azs(network_dict):
    zone = network_dict["Resources"]["PublicSubnet1"]["Properties"]["AvailabilityZone"]
    assert zone == {"Fn::If": ["HasAvailabilityZoneNames",
                               {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "AvailabilityZoneNames"}]}]},
                               {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]}
