import re

from threetier.cli import main
from threetier.lint import DEFAULT_REGIONS, lint_files


def test_lint_defaults_cover_six_regions_on_four_continents():
    assert DEFAULT_REGIONS == ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
                               "ap-southeast-2", "ap-northeast-1")


def test_broken_template_fails_with_rule_id_and_line(project, capsys):
    broken = project / "tests" / "fixtures" / "broken.yaml"
    assert main(["lint", str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"{broken}:8 E3002 " in out
    assert "EnableDnsSuport" in out


def test_informational_findings_fail_the_gate_too(project, capsys):
    fixture = project / "tests" / "fixtures" / "informational-only.yaml"
    findings = lint_files([fixture], ("us-east-1",))
    assert {f.rule for f in findings} == {"I3011", "I3013"}
    assert main(["lint", "--regions", "us-east-1", str(fixture)]) == 1
    assert "I3011" in capsys.readouterr().out


def test_a_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_the_cfn_lint_floor_knows_the_listener_tags_the_templates_set(project):
    """cfn-lint releases before 1.53.1 reject Tags on ELBv2 listeners and rules (E3002)."""
    import configparser

    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    setup = configparser.ConfigParser()
    setup.read(project / "setup.cfg")
    (requirement,) = [line for line in setup["options"]["install_requires"].splitlines()
                      if line.startswith("cfn-lint")]
    floor = tuple(int(part) for part in re.search(r"(?:>=|==)([0-9.]+)", requirement).group(1).split("."))
    assert floor >= (1, 53, 1), requirement
    app = (project / "output" / "app.yaml").read_text()
    for resource_type in ("AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerRule"):
        assert f"Type: {resource_type}\n" in app
        tagging = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema["tagging"]
        assert tagging["taggable"] and tagging["tagUpdatable"], resource_type
