"""[ENV.stackset] in threetier.toml: bad targets refused with a clear line before any AWS call, the safe
operation preferences by default, and a target region the environment's values cannot work in."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.deploy.fixtures.project import ENV, write_project
from threetier import cli
from threetier.deploy import settings, stacksettargets
from threetier.deploy.commands import common
from threetier.deploy.commands import stackset as command
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
                                         'parameters = { CloudFrontPrefixListId = "pl-4fa04526" }\n'
                                         '[[targets]]\norganizational_units = ["ou-ab12-zzzz9999"]\nregions = ["us-west-1"]\n',
                                         regions='["eu-west-1", "us-west-1"]'))
    args = argparse.Namespace(project_dir=PROJECT, env="prod",
                              settings=settings.Settings(env="prod", protected=False, stackset=parsed))

    with pytest.raises(InputError) as raised:
        command.check_local(args)

    message = str(raised.value)
    assert message.startswith("target 2 (ou-ab12-zzzz9999) in us-west-1:")
    assert "NumberOfAzs='3': us-west-1 has only 2 Availability Zones" in message
    assert "nothing was sent to AWS" in message


def _prod_args(body: str, code_bucket: str = 'code_bucket = "shop-code-${AWS::Region}"\n') -> argparse.Namespace:
    parsed = stacksettargets.parse(table(code_bucket + body, regions='["eu-west-1", "eu-central-1"]'))
    return argparse.Namespace(project_dir=PROJECT, env="prod", region="eu-west-1",
                              settings=settings.Settings(env="prod", protected=False, stackset=parsed))


def test_two_regions_that_both_create_the_sites_cloudfront_distribution_are_refused():
    # prod turns CloudFront on: a distribution in each region of the same OU would be two for one site.
    with pytest.raises(InputError) as raised:
        command.check_local(_prod_args(f'[[targets]]\norganizational_units = ["{OU}"]\n'
                                       'parameters = { CloudFrontPrefixListId = "pl-3b927c52" }\n'))

    assert (f"{OU}: the values of target 1 ({OU}) in eu-west-1 and target 1 ({OU}) in eu-central-1 both create "
            "edge.Distribution (AWS::CloudFront::Distribution), which a site has once") in str(raised.value)


def test_a_second_region_with_cloudfront_turned_off_by_its_target_passes():
    local = command.check_local(_prod_args(
        f'[[targets]]\norganizational_units = ["{OU}"]\nregions = ["eu-west-1"]\n'
        'parameters = { CloudFrontPrefixListId = "pl-4fa04526" }\n'
        f'[[targets]]\norganizational_units = ["{OU}"]\nregions = ["eu-central-1"]\n'
        'parameters = { CloudFrontEnabled = "false" }\n'))

    assert local.name == "project-x-prod" and local.targets.targets[1].parameters == {"CloudFrontEnabled": "false"}


def test_validate_checks_the_stack_set_targets_without_aws(monkeypatch, capsys):
    # The project's own prod values, with [prod.stackset] as threetier.toml would give it (the repository has
    # no threetier.toml to write into).
    parsed = stacksettargets.parse(table(f'[[targets]]\norganizational_units = ["{OU}"]\n'
                                         'parameters = { CloudFrontPrefixListId = "pl-4fa04526" }\n'))
    monkeypatch.setattr(settings, "stackset_of", lambda project, env: parsed if env == "prod" else None)
    monkeypatch.setattr(settings, "is_protected", lambda project, env: False)
    monkeypatch.setattr(common, "make_clients", lambda *a, **k: pytest.fail("validate makes no AWS client"))

    assert cli.main(["--project-dir", str(PROJECT), "validate", "prod", "--region", "eu-west-1"]) == 2

    out = capsys.readouterr().out
    assert "threetier validate: stack set targets of prod:" in out and "which a site has once" in out


def test_a_region_without_a_bucket_for_the_rotation_code_is_refused():
    # Lambda reads code only from a bucket in the function's region; the template bucket is in eu-west-1.
    with pytest.raises(InputError) as raised:
        command.check_local(_prod_args(
            f'[[targets]]\norganizational_units = ["{OU}"]\nregions = ["eu-west-1"]\n'
            'parameters = { CloudFrontPrefixListId = "pl-4fa04526" }\n'
            f'[[targets]]\norganizational_units = ["{OU}"]\nregions = ["eu-central-1"]\n'
            'parameters = { CloudFrontEnabled = "false" }\n', code_bucket=""))

    assert ("Lambda reads code only from a bucket in the function's region: eu-central-1 cannot read it. Set "
            "code_bucket = \"name-${AWS::Region}\"") in str(raised.value)


def test_a_code_bucket_must_name_the_region():
    with pytest.raises(ValueError) as raised:
        stacksettargets.parse(table(f'code_bucket = "shop-code"\n[[targets]]\norganizational_units = ["{OU}"]\n'))
    assert "stackset.code_bucket 'shop-code' is not a bucket name with ${AWS::Region} in it" in str(raised.value)


def test_cloudfront_without_the_regions_prefix_list_id_is_refused():
    # plan looks the origin-facing prefix list up for its one region; a stack set's regions each have their own id.
    with pytest.raises(InputError) as raised:
        command.check_local(_prod_args(f'[[targets]]\norganizational_units = ["{OU}"]\nregions = ["eu-west-1"]\n'))

    assert (f"target 1 ({OU}) in eu-west-1: CloudFrontEnabled is true and CloudFrontPrefixListId is empty"
            in str(raised.value))
