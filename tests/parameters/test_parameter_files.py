import json

import pytest

from threetier.parameters import paramfile
from threetier.parameters.evaluate import Evaluation
from threetier.parameters.validate import constraint_problem

ENVIRONMENTS = ("dev", "prod")


def satisfies(spec: dict, value: str) -> bool:
    return constraint_problem(spec, value) is None


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_parameter_file_matches_the_root_template(env, project, root_template):
    root = root_template.to_dict()
    values = paramfile.load(paramfile.path_for(project, env))
    assert set(values) <= set(root["Parameters"]), "no unknown keys"
    for key, value in values.items():
        assert satisfies(root["Parameters"][key], value), f"{env}.json {key}={value!r}"
    assert values["EnvironmentName"] == env


def network_shape(project, network_dict, env):
    values = paramfile.load(paramfile.path_for(project, env))
    shared = {k: v for k, v in values.items() if k in network_dict["Parameters"]}
    active = Evaluation(network_dict, shared).resources()
    count = lambda type_: sum(r["Type"] == type_ for r in active.values())
    return values, count("AWS::EC2::Subnet"), count("AWS::EC2::NatGateway")


def test_prod_reproduces_the_tutorial_with_a_nat_per_az(project, network_dict):
    values, subnets, nats = network_shape(project, network_dict, "prod")
    assert values["ProjectName"] == "project-x"
    assert (values["VpcNetworkAddress"], values["VpcPrefixLength"]) == ("10.0.0.0", "16")
    assert subnets == 9 and nats == 3


def test_dev_is_two_azs_and_one_nat(project, network_dict):
    _, subnets, nats = network_shape(project, network_dict, "dev")
    assert subnets == 6 and nats == 1


def test_the_vpc_address_pattern_accepts_private_ranges_only(root_template):
    parameters = root_template.to_dict()["Parameters"]
    spec = parameters["VpcNetworkAddress"]
    for good in ("10.0.0.0", "172.31.0.0", "192.168.0.0"):
        assert satisfies(spec, good), good
    for bad in ("8.8.0.0", "172.32.0.0", "10.0.0.256", "10.0.0.0/16"):
        assert not satisfies(spec, bad), bad
    assert parameters["VpcPrefixLength"]["AllowedValues"] == [str(n) for n in range(16, 24)]


def test_malformed_parameter_file_names_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"ParameterKey": "VpcCidr", "ParameterValue": "10.0.0.0/16"},\n]\n')
    with pytest.raises(paramfile.ParameterFileError, match=r"bad.json:3:1: not valid JSON"):
        paramfile.load(bad)


def test_duplicate_keys_are_rejected(tmp_path):
    dup = tmp_path / "dup.json"
    entry = {"ParameterKey": "VpcCidr", "ParameterValue": "10.0.0.0/16"}
    dup.write_text(json.dumps([entry, entry]))
    with pytest.raises(paramfile.ParameterFileError, match="VpcCidr is given twice"):
        paramfile.load(dup)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_committed_parameter_files_hold_no_pins(env, project):
    """Pins live in parameters/ENV.pins.json, written by plan: the user's file leaves them out."""
    values = paramfile.load(paramfile.path_for(project, env))
    assert not set(values) & set(paramfile.PINNED_KEYS)
    assert paramfile.load_pins(project, env).keys() <= set(paramfile.PINNED_KEYS)


def test_pins_fill_only_what_the_user_leaves_out_or_empty():
    user = {"ProjectName": "shop", "AvailabilityZoneNames": "", "PinnedAmiId": "ami-0123456789abcdef0"}
    pins = {"AvailabilityZoneNames": "us-east-1a,us-east-1b", "PinnedAmiId": "ami-0fedcba9876543210"}

    assert paramfile.with_pins(user, pins) == {"ProjectName": "shop", "AvailabilityZoneNames": "us-east-1a,us-east-1b",
                                               "PinnedAmiId": "ami-0123456789abcdef0"}


def test_a_pins_file_is_no_environment(tmp_path):
    (tmp_path / "parameters").mkdir()
    for name in ("dev.json", "dev.pins.json", "prod.json"):
        (tmp_path / "parameters" / name).write_text("[]\n")

    assert paramfile.environments(tmp_path) == ["dev", "prod"]


def test_saving_pins_creates_the_file_and_keeps_the_others(tmp_path):
    (tmp_path / "parameters").mkdir()
    paramfile.save_pins(tmp_path, "dev", {"AvailabilityZoneNames": "us-east-1a,us-east-1b"})
    paramfile.save_pins(tmp_path, "dev", {"PinnedAmiId": "ami-0123456789abcdef0"})

    assert paramfile.load_pins(tmp_path, "dev") == {"AvailabilityZoneNames": "us-east-1a,us-east-1b",
                                                    "PinnedAmiId": "ami-0123456789abcdef0"}
    assert not (tmp_path / "parameters" / "dev.json").exists()
