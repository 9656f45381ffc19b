"""[ENV.stackset] in threetier.toml: bad targets refused with a clear line before any AWS call, the safe
operation preferences by default, and a target region the environment's values cannot work in."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.deploy.fixtures.project import ENV, write_project
from threetier import cli
from threetier.deploy import settings, stacksettargets
from threetier.deploy.commands import common, stackset as command
from threetier.deploy.errors import InputError

PROJECT = Path(__file__).resolve().parents[2]
OU = "ou-ab12-cdef3456"


def table(body: str, model: str = "service-managed", regions: str = '["eu-west-1", "eu-central-1"]') -> dict:
    import tomllib

    return tomllib.loads(f'permission_model = "{model}"\nregions = {regions}\n{body}')


@pytest.mark.parametrize("body, model, says", [
    ('[[targets]]\norganizational_units = ["ou-AB12-cdef3456"]\n', "service-managed",
     "targets[1].organizational_units: 'ou-AB12-cdef3456' is not an OU id like ou-ab12-cdef3456"),
    ('[[targets]]\norganizational_units = ["engineering"]\n', "service-managed", "is not an OU id"),
    ('[[targets]]\naccounts = ["12345"]\n', "self-managed", "targets[1].accounts: '12345' is not an AWS account id"),
    (f'[[targets]]\norganizational_units = ["{OU}"]\n', "self-managed",
     "a self-managed stack set targets accounts"),
    ('[[targets]]\naccounts = ["111111111111"]\n', "service-managed",
     "a service-managed stack set targets organizational units"),
    ('[[targets]]\naccounts = ["111111111111"]\n[[targets]]\naccounts = ["111111111111"]\nregions = ["eu-west-1"]\n',
     "self-managed", "targets[1] and targets[2] both deploy 111111111111 in eu-west-1"),
    (f'[[targets]]\norganizational_units = ["{OU}"]\n[[targets]]\norganizational_units = ["{OU}", "r-ab12"]\n',
     "service-managed", f"targets[1] and targets[2] both deploy {OU} in eu-west-1"),
    ('[[targets]]\naccounts = ["111111111111"]\nregions = ["us-west-2"]\n', "self-managed",
     "targets[1].regions: us-west-2 is not in stackset.regions"),
    ('failure_tolerance = 0\nmax_concurrent = 3\n[[targets]]\naccounts = ["111111111111"]\n', "self-managed",
     "max_concurrent 3 is more than failure_tolerance + 1 (1)"),
    ('call_as = "delegated-admin"\n[[targets]]\naccounts = ["111111111111"]\n', "self-managed",
     "call_as belongs to service-managed permissions"),
    ('[[targets]]\n', "service-managed", "give either organizational_units (service-managed) or accounts"),
])
def test_bad_targets_are_refused_with_the_setting_named(body, model, says):
    with pytest.raises(ValueError) as raised:
        stacksettargets.parse(table(body, model))
    assert says in str(raised.value)


def test_an_unknown_region_is_refused_with_a_suggestion():
    with pytest.raises(ValueError) as raised:
        stacksettargets.parse(table(f'[[targets]]\norganizational_units = ["{OU}"]\n', regions='["eu-west-9", "EU-WEST-1"]'))
    assert "stackset.regions: 'eu-west-9' is not an AWS region botocore knows" in str(raised.value)


def test_the_defaults_go_one_region_at_a_time_and_stop_at_the_first_failure():
    parsed = stacksettargets.parse(table(f'[[targets]]\norganizational_units = ["{OU}"]\n'))

    assert parsed.operation_preferences() == {"RegionConcurrencyType": "SEQUENTIAL",
                                              "RegionOrder": ["eu-west-1", "eu-central-1"],
                                              "FailureToleranceCount": 0, "MaxConcurrentCount": 1}
    assert parsed.call_as_argument() == {"CallAs": "SELF"}
    assert parsed.targets[0].deployment_targets() == {"DeploymentTargets": {"OrganizationalUnitIds": [OU]}}


def test_a_protected_environment_refuses_a_failure_tolerance():
    parsed = stacksettargets.parse(table(f'failure_tolerance = 1\nmax_concurrent = 2\n[[targets]]\n'
                                         f'organizational_units = ["{OU}"]\n'))
    assert "failure_tolerance must be 0 in prod, a protected environment" in stacksettargets.protection_problem(
        parsed, "prod")


def test_overlapping_targets_stop_the_command_before_any_aws_call(tmp_path, monkeypatch, capsys):
    project = write_project(tmp_path)
    (project / "threetier.toml").write_text(
        f'[{ENV}]\nregion = "us-east-1"\n[{ENV}.stackset]\npermission_model = "self-managed"\n'
        'regions = ["eu-west-1"]\n[[dev.stackset.targets]]\naccounts = ["111111111111"]\n'
        '[[dev.stackset.targets]]\naccounts = ["111111111111"]\n')
    monkeypatch.setattr(common, "make_clients", lambda *a, **k: pytest.fail("no AWS client may be made"))

    assert cli.main(["--project-dir", str(project), "stackset", "deploy", ENV, "--yes"]) == 2

    err = capsys.readouterr().err
    assert "threetier.toml: [dev] stackset.targets[1] and targets[2] both deploy 111111111111 in eu-west-1" in err


def test_a_target_region_the_environments_features_do_not_support_is_refused(monkeypatch):
    # prod asks for three Availability Zones; us-west-1 offers most accounts two.
    parsed = stacksettargets.parse(table(f'[[targets]]\norganizational_units = ["{OU}"]\nregions = ["eu-west-1"]\n'
                                         '[[targets]]\norganizational_units = ["ou-ab12-zzzz9999"]\n',
                                         regions='["eu-west-1", "us-west-1"]'))
    args = argparse.Namespace(project_dir=PROJECT, env="prod",
                              settings=settings.Settings(env="prod", protected=False, stackset=parsed))

    with pytest.raises(InputError) as raised:
        command.check_local(args)

    message = str(raised.value)
    assert message.startswith("target 2 (ou-ab12-zzzz9999) in us-west-1:")
    assert "NumberOfAzs='3': us-west-1 has only 2 Availability Zones" in message
    assert "nothing was sent to AWS" in message
