"""`threetier cost ENV --live` asks the Price List API with the environment's credentials from threetier.toml
(a profile, or a role to assume), as every deploy command does. Nothing leaves the machine: the profiles hold
made-up keys, STS AssumeRole is replaced, and botocore's Stubber answers GetProducts."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from tests.deploy.fixtures.profiles import use_profiles
from tests.insight.test_cost import EC2_T3_XLARGE, RDS_M6G_LARGE, expect_products
from threetier import cli
from threetier.deploy import session as session_module
from threetier.insight import commands

pytestmark = pytest.mark.usefixtures("templates_built_once")

KEYS = {"dev": "AKIADEVPROFILE000001", "prod": "AKIAPRODPROFILE00001"}  # pragma: allowlist secret (made up)
ROLE = "arn:aws:iam::222222222222:role/threetier-deployer"
ROLE_KEY = "ASIAASSUMEDROLE00001"  # pragma: allowlist secret (made up)


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    use_profiles(tmp_path, monkeypatch, {env: (key, "secret") for env, key in KEYS.items()}, "eu-west-1")


@pytest.fixture
def signed_with(monkeypatch):
    """The access key each --live run's Price List client signs with; its GetProducts answered by Stubber
    (prod's instances: t3.xlarge and db.m6g.large MySQL, so the run completes)."""
    keys, real = [], commands.make_pricing_client

    def stubbed(args):
        client = real(args)
        keys.append(client._request_signer._credentials.get_frozen_credentials().access_key)
        stubber = Stubber(client)
        expect_products(stubber, "AmazonEC2", EC2_T3_XLARGE, "0.1700000000")
        expect_products(stubber, "AmazonRDS", RDS_M6G_LARGE, "0.1520000000")
        stubber.activate()
        return client

    monkeypatch.setattr(commands, "make_pricing_client", stubbed)
    return keys


@pytest.fixture
def assumed(monkeypatch):
    """The AssumeRole requests made (role ARN, session name), answered with made-up credentials."""
    requests = []

    def assume_role(sts, role):
        requests.append((role.arn, role.session_name))
        return {"access_key": ROLE_KEY, "secret_key": "secret", "token": "token",  # pragma: allowlist secret
                "expiry_time": "2999-01-01T00:00:00+00:00"}

    monkeypatch.setattr(session_module, "assume_role", assume_role)
    return requests


def cost(project, settings_file, env, *more) -> int:
    return cli.main(["--project-dir", str(project), "cost", env, "--live", "--json",
                     "--settings", str(settings_file), *more])


def test_each_environment_prices_with_its_own_profile(project, tmp_path, profiles, signed_with, capsys):
    settings_file = tmp_path / "threetier.toml"
    settings_file.write_text('[prod]\nprofile = "prod"\n\n[other]\nprofile = "dev"\n')

    assert cost(project, settings_file, "prod") == 0

    assert signed_with == [KEYS["prod"]]
    assert json.loads(capsys.readouterr().out)["instance_prices"] == "AWS Price List API (live)"


def test_a_profile_flag_overrides_the_environments_profile(project, tmp_path, profiles, signed_with):
    settings_file = tmp_path / "threetier.toml"
    settings_file.write_text('[prod]\nprofile = "prod"\n')

    assert cost(project, settings_file, "prod", "--profile", "dev") == 0

    assert signed_with == [KEYS["dev"]]


def test_the_environments_role_is_assumed_from_the_base_credentials(project, tmp_path, profiles, signed_with,
                                                                      assumed):
    settings_file = tmp_path / "threetier.toml"
    settings_file.write_text(f'[prod]\nrole_to_assume = "{ROLE}"\nsession_name = "cost-check"\n')

    assert cost(project, settings_file, "prod", "--profile", "dev") == 0

    assert assumed == [(ROLE, "cost-check")]
    assert signed_with == [ROLE_KEY]


def test_bad_settings_are_one_line_and_exit_2_before_any_call(project, tmp_path, profiles, signed_with, capsys):
    settings_file = tmp_path / "threetier.toml"
    settings_file.write_text(f'[prod]\nprofile = "prod"\nrole_to_assume = "{ROLE}"\n')

    assert cost(project, settings_file, "prod") == 2

    err = capsys.readouterr().err
    assert err.startswith("threetier cost: ") and "profile and role_to_assume are both set" in err
    assert len(err.strip().splitlines()) == 1 and signed_with == []
