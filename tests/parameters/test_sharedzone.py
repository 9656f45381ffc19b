"""Environments sharing a domain (parameters/sharedzone.py): `validate`, `diff` and the deploy
commands' inputs refuse two parameter files that claim one DNS name or would both create the
domain's hosted zone, naming both files, the parameter and what to change."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.review.test_diff_command import checkout, each_text_parsed_once, run as diff  # noqa: F401 (fixtures)
from threetier import cli
from threetier.deploy import inputs
from threetier.deploy.errors import InputError
from threetier.emit import manifest
from threetier.parameters import sharedzone

ZONE = "Z0123456789ABCDEFGHIJ"
OTHER_ZONE = "Z9876543210ABCDEFGHIJ"
DOMAIN = {"DomainName": "example.com", "HostedZoneId": ZONE}


@pytest.fixture
def copy(tmp_path, project):
    """The project's generated root and parameter files, in a directory the test may edit."""
    shutil.copytree(project / "output", tmp_path / "output", ignore=shutil.ignore_patterns("packaged", "*.png"))
    shutil.copytree(project / "parameters", tmp_path / "parameters")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "__init__.py").write_text("")
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "output" / manifest.FILE_NAME).write_text(manifest.render(tmp_path))  # output/ as generated here
    # prod is protected: validate refuses it until someone hears its alarms (not what these tests are about).
    change(tmp_path, "prod", {"AlarmEmail": "arn:aws:sns:us-east-1:123456789012:oncall"})
    return tmp_path


def change(project, env: str, values: dict[str, str | None]) -> None:
    """Set (or, with None, remove) values in parameters/ENV.json, keeping the rest."""
    path = project / "parameters" / f"{env}.json"
    entries = [e for e in json.loads(path.read_text()) if e["ParameterKey"] not in values]
    entries += [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if v is not None]
    path.write_text(json.dumps(entries, indent=2) + "\n")


def validate(project, env: str) -> int:
    return cli.main(["--project-dir", str(project), "validate", env, "--region", "us-east-1"])


def test_the_committed_files_give_each_environment_its_own_names(copy, capsys):
    for env in ("dev", "prod"):
        change(copy, env, DOMAIN)

    assert validate(copy, "dev") == 0
    assert validate(copy, "prod") == 0
    assert "both claim" not in capsys.readouterr().out


def test_the_same_site_name_is_refused_from_both_sides_naming_both_files(copy, capsys):
    for env in ("dev", "prod"):
        change(copy, env, DOMAIN)
    change(copy, "dev", {"SiteSubdomain": None})  # back to the template default, www

    for env in ("dev", "prod"):
        assert validate(copy, env) == 2
        out = capsys.readouterr().out
        other = "prod" if env == "dev" else "dev"
        assert (f"parameters/{env}.json: SiteSubdomain='www': parameters/{env}.json and parameters/{other}.json "
                "both claim www.example.com and origin.www.example.com") in out
        # prod keeps www: the message says which file moves, and to what.
        assert "e.g. SiteSubdomain=dev in parameters/dev.json" in out
        assert "API_ChangeResourceRecordSets.html" in out and "CNAMEs.html" in out
        assert "nothing was sent to AWS" in out


def test_a_name_claimed_across_two_domains_is_refused():
    """A site www.example.com and the apex of a domain www.example.com are one name to CloudFront."""
    found = sharedzone.problems("dev", {"DomainName": "example.com", "SiteSubdomain": "www"},
                                {"prod": {"DomainName": "www.example.com", "SiteSubdomain": ""}}, {})
    assert [(p.parameter, p.value) for p in found] == [("SiteSubdomain", "www")]
    assert "both claim www.example.com" in found[0].message


def test_an_origin_name_is_a_claim_too():
    found = sharedzone.problems("dev", {"DomainName": "example.com", "SiteSubdomain": ""},
                                {"prod": {"DomainName": "origin.example.com", "SiteSubdomain": ""}}, {})
    assert "both claim origin.example.com" in found[0].message


def test_two_first_passes_for_one_domain_are_refused(copy, capsys):
    for env in ("dev", "prod"):
        change(copy, env, {"DomainName": "example.com", "HostedZoneId": None})

    assert validate(copy, "dev") == 2

    out = capsys.readouterr().out
    assert ("parameters/dev.json: HostedZoneId='': parameters/dev.json and parameters/prod.json both have "
            "DomainName=example.com and an empty HostedZoneId: each stack would create a hosted zone") in out
    assert "set HostedZoneId to that zone's id in the other" in out and "API_CreateHostedZone.html" in out


def test_a_first_pass_beside_an_environment_using_the_zone_is_told_its_id(copy, capsys):
    change(copy, "prod", DOMAIN)
    change(copy, "dev", {"DomainName": "example.com"})

    assert validate(copy, "dev") == 2
    assert validate(copy, "prod") == 0, "prod's zone is the one in use: only dev's file changes"

    out = capsys.readouterr().out
    assert (f"HostedZoneId='': empty with DomainName=example.com: this stack would create a second hosted zone "
            f"for example.com, which parameters/prod.json already uses as HostedZoneId={ZONE}") in out
    assert f"Set HostedZoneId={ZONE} in parameters/dev.json" in out


def test_two_zones_named_for_one_domain_are_refused():
    found = sharedzone.problems("dev", {**DOMAIN, "SiteSubdomain": "dev", "HostedZoneId": OTHER_ZONE},
                                {"prod": {**DOMAIN, "SiteSubdomain": "www"}}, {})
    assert [(p.parameter, p.value) for p in found] == [("HostedZoneId", OTHER_ZONE)]
    assert f"parameters/prod.json has HostedZoneId={ZONE} for the same DomainName=example.com" in found[0].message


@pytest.mark.parametrize("others", [
    {},  # one environment
    {"prod": {"DomainName": "example.org"}},  # another domain
    {"prod": {}},  # no domain
    {"prod": {**DOMAIN, "SiteSubdomain": "www"}},  # the same zone, other names
])
def test_what_shares_nothing_passes(others):
    assert sharedzone.problems("dev", {**DOMAIN, "SiteSubdomain": "dev"}, others, {}) == []


def test_the_template_default_is_what_a_file_without_the_value_claims():
    declared = {"SiteSubdomain": {"Default": "www"}}
    found = sharedzone.problems("staging", DOMAIN, {"prod": DOMAIN}, declared)
    assert "e.g. SiteSubdomain=staging in parameters/staging.json" in found[0].message


def test_the_suggested_name_is_free():
    taken = {"prod": {**DOMAIN, "SiteSubdomain": "www"}, "qa": {**DOMAIN, "SiteSubdomain": "dev"}}
    found = sharedzone.problems("dev", {**DOMAIN, "SiteSubdomain": "www"}, taken, {})
    assert "e.g. SiteSubdomain=dev-2 in parameters/dev.json" in found[0].message


def test_plan_and_deploy_refuse_before_any_aws_call(copy):
    for env in ("dev", "prod"):
        change(copy, env, DOMAIN)
    change(copy, "dev", {"SiteSubdomain": "www"})

    with pytest.raises(InputError, match="both claim www.example.com") as refused:
        inputs.load_stack_inputs(copy, "dev", inputs.load_root_template(copy), region="us-east-1")
    assert "nothing was sent to AWS" in str(refused.value)


def test_diff_refuses_a_file_that_takes_another_environments_name(checkout, capsys):  # noqa: F811
    for env in ("dev", "prod"):
        change(checkout, env, DOMAIN)
    change(checkout, "dev", {"SiteSubdomain": "www"})

    assert diff(checkout) == 2

    err = capsys.readouterr().err
    assert "parameters/dev.json and parameters/prod.json both claim www.example.com" in err
    assert "is refused as `threetier validate" in err and "Traceback" not in err
