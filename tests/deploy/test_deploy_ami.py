"""The pins (the AMI id and the AZ names), end to end against the local moto server (it ships the AL2023
SSM parameter): kept in parameters/ENV.pins.json, written only once the change set is created, while
the user's parameters/ENV.json stays byte for byte as they wrote it."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.deploy.fixtures.project import ENV, app_template, root_template, write_parameters, write_project
from tests.deploy.test_deploy_moto import (
    BUCKET,
    aws,  # noqa: F401 (fixture)
)
from threetier import cli, parameters as P
from threetier.deploy import changeset
from threetier.deploy.commands import common

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
    """What the user wrote (parameters/dev.json)."""
    return {e["ParameterKey"]: e["ParameterValue"]
            for e in json.loads((project / "parameters" / "dev.json").read_text())}


def pins(project) -> dict[str, str]:
    """parameters/dev.pins.json ({} when there is none)."""
    path = project / "parameters" / "dev.pins.json"
    if not path.exists():
        return {}
    return {e["ParameterKey"]: e["ParameterValue"] for e in json.loads(path.read_text())}


def user_file(project) -> bytes:
    return (project / "parameters" / "dev.json").read_bytes()


def sent_parameters(aws) -> dict[str, str]:
    [summary] = aws.cfn.list_change_sets(StackName="shop-dev")["Summaries"]
    change_set = aws.cfn.describe_change_set(ChangeSetName=summary["ChangeSetId"])
    return {p["ParameterKey"]: p.get("ParameterValue") for p in change_set["Parameters"]}


def latest(aws) -> str:
    return aws.ssm.get_parameter(Name=P.AL2023_AMI_PARAMETER)["Parameter"]["Value"]


def write_pins(project, pinned: dict[str, str]) -> None:
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in pinned.items()]
    (project / "parameters" / "dev.pins.json").write_text(json.dumps(entries, indent=2) + "\n")


def test_the_first_plan_pins_the_latest_image_in_the_pins_file(project, aws, capsys):
    written = user_file(project)

    assert run(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    image = latest(aws)
    assert image.startswith("ami-") and pins(project) == {"PinnedAmiId": image}
    assert user_file(project) == written  # the user's file, byte for byte
    captured = capsys.readouterr()
    assert f"AMI: pinned {image}, the latest image of {P.AL2023_AMI_PARAMETER}" in captured.out
    assert f"parameters/dev.pins.json: PinnedAmiId (none) -> {image}, pinned (commit the file)" in captured.err
    assert sent_parameters(aws)["PinnedAmiId"] == image


def test_a_pinned_image_stays_and_plan_shows_the_latest_next_to_it(project, aws, capsys):
    write_pins(project, {"PinnedAmiId": OLD_IMAGE})
    pinned = (project / "parameters" / "dev.pins.json").read_bytes()

    assert run(project, aws, "plan", ENV, "--bucket", BUCKET, "--json") == 0

    assert (project / "parameters" / "dev.pins.json").read_bytes() == pinned
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ami"] == {
        "source": P.AL2023_AMI_PARAMETER, "pinned": OLD_IMAGE, "latest": latest(aws), "newly_pinned": False}
    assert "pinned (commit the file)" not in captured.err  # nothing changed, nothing announced
    assert sent_parameters(aws)["PinnedAmiId"] == OLD_IMAGE


def test_an_image_the_user_writes_wins_over_the_pin(project, aws):
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": ENV, "PinnedAmiId": OLD_IMAGE})
    write_pins(project, {"PinnedAmiId": "ami-0fedcba9876543210"})

    assert run(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    assert sent_parameters(aws)["PinnedAmiId"] == OLD_IMAGE
    assert pins(project) == {"PinnedAmiId": "ami-0fedcba9876543210"}


def test_a_plan_that_fails_before_its_change_set_writes_nothing(project, aws, capsys, monkeypatch):
    written = user_file(project)
    # Past the preflight (which would name the missing bucket before the pin is resolved), so the upload fails.
    monkeypatch.setattr(common, "bucket_region", lambda s3, bucket: "us-east-1")

    assert run(project, aws, "plan", ENV, "--bucket", "no-such-bucket") == 1  # the upload fails

    assert "no-such-bucket" in capsys.readouterr().err
    assert user_file(project) == written
    assert not (project / "parameters" / "dev.pins.json").exists()
    assert aws.cfn.describe_stacks()["Stacks"] == []


def test_a_change_set_aws_refuses_to_create_writes_no_pin(project, aws, monkeypatch, capsys):
    def refused(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ValidationError", "Message": "Template format error"}},
                          "CreateChangeSet")

    monkeypatch.setattr(changeset, "create_change_set", refused)

    assert run(project, aws, "plan", ENV, "--bucket", BUCKET) == 1

    assert "Template format error" in capsys.readouterr().err
    assert not (project / "parameters" / "dev.pins.json").exists()


def test_a_deploy_leaves_the_users_file_byte_for_byte(project, aws):
    (project / "parameters" / "dev.json").write_text(
        '[ {"ParameterKey": "ProjectName", "ParameterValue": "shop"},\n'
        '  {"ParameterKey": "EnvironmentName", "ParameterValue": "dev"} ]\n')  # the user's own layout
    written = user_file(project)

    assert run(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0

    assert user_file(project) == written
    assert pins(project) == {"PinnedAmiId": latest(aws)}


def test_pin_ami_moves_the_pin_deliberately(project, aws, capsys):
    write_pins(project, {"PinnedAmiId": OLD_IMAGE})
    written = user_file(project)

    assert run(project, aws, "pin-ami", ENV) == 0

    assert pins(project) == {"PinnedAmiId": latest(aws)}
    assert user_file(project) == written
    assert f"dev.pins.json: PinnedAmiId {OLD_IMAGE} -> {latest(aws)}" in capsys.readouterr().out


def test_pin_ami_refuses_an_image_the_user_wrote_which_would_win(project, aws, capsys):
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": ENV, "PinnedAmiId": OLD_IMAGE})

    assert run(project, aws, "pin-ami", ENV) == 2

    assert f"sets PinnedAmiId {OLD_IMAGE} itself, which wins over a pin" in capsys.readouterr().err
    assert pins(project) == {}


def test_pin_ami_refuses_what_is_not_an_image_id(project, aws, capsys):
    assert run(project, aws, "pin-ami", ENV, "--ami-id", "ubuntu") == 2
    assert "--ami-id ubuntu: not an AMI id" in capsys.readouterr().err
    assert "PinnedAmiId" not in values(project) and pins(project) == {}


def test_a_pins_file_holds_only_pins(project, aws, capsys):
    write_pins(project, {"PinnedAmiId": OLD_IMAGE, "RetentionDays": "7"})

    assert run(project, aws, "plan", ENV, "--bucket", BUCKET) == 2

    assert "dev.pins.json: RetentionDays is not a pin" in capsys.readouterr().err


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


def test_the_first_plan_pins_the_regions_first_azs(az_project, aws, capsys):
    written = user_file(az_project)

    assert run(az_project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    assert pins(az_project) == {"AvailabilityZoneNames": "us-east-1a,us-east-1b"}
    assert user_file(az_project) == written
    assert ("parameters/dev.pins.json: AvailabilityZoneNames (none) -> us-east-1a,us-east-1b, pinned: the "
            "environment keeps these AZs (commit the file)") in capsys.readouterr().err
    assert sent_parameters(aws)["AvailabilityZoneNames"] == "us-east-1a,us-east-1b"


def test_a_third_az_is_appended_to_the_pin_and_the_first_two_stay(az_project, aws, capsys):
    write_parameters(az_project, {"ProjectName": "shop", "EnvironmentName": ENV, "NumberOfAzs": "3"})
    write_pins(az_project, {"AvailabilityZoneNames": "us-east-1c,us-east-1a"})

    assert run(az_project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    assert pins(az_project) == {"AvailabilityZoneNames": "us-east-1c,us-east-1a,us-east-1b"}
    assert ("AvailabilityZoneNames us-east-1c,us-east-1a -> us-east-1c,us-east-1a,us-east-1b, pinned"
            in capsys.readouterr().err)


def test_a_short_az_list_the_user_wrote_is_refused_not_completed(az_project, aws, capsys):
    write_parameters(az_project, {"ProjectName": "shop", "EnvironmentName": ENV, "NumberOfAzs": "3",
                                  "AvailabilityZoneNames": "us-east-1c,us-east-1a"})
    written = user_file(az_project)

    assert run(az_project, aws, "plan", ENV, "--bucket", BUCKET) == 2

    err = capsys.readouterr().err
    assert "AvailabilityZoneNames names 2 AZs for NumberOfAzs 3: add the next AZ (us-east-1b?)" in err
    assert user_file(az_project) == written and pins(az_project) == {}
    assert aws.cfn.describe_stacks()["Stacks"] == []


def test_validate_reads_the_pins(az_project, capsys):
    write_pins(az_project, {"AvailabilityZoneNames": "eu-west-1a,eu-west-1b"})

    assert cli.main(["--project-dir", str(az_project), "validate", ENV, "--region", "us-east-1"]) == 2

    assert "eu-west-1a, eu-west-1b is not in us-east-1" in capsys.readouterr().out


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
