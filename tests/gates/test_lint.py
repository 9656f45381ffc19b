import re

from threetier.cli import main
from threetier.gates.lint import DEFAULT_REGIONS, lint_files


def test_lint_defaults_cover_six_regions_on_four_continents():
    assert DEFAULT_REGIONS == ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
                               "ap-southeast-2", "ap-northeast-1")


def test_broken_template_fails_with_rule_id_and_line(project, capsys):
    broken = project / "tests" / "gates" / "fixtures" / "broken.yaml"
    assert main(["lint", str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"{broken}:8 E3002 " in out
    assert "EnableDnsSuport" in out


def test_informational_findings_fail_the_gate_too(project, capsys):
    fixture = project / "tests" / "gates" / "fixtures" / "informational-only.yaml"
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


def test_workers_are_forked_from_a_forkserver_that_loaded_the_rules_once(project):
    """The pool's workers start with cfn-lint imported and the rules loaded (threetier.gates.lintworker),
    and lint several files in parallel to the same findings as one at a time in this process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from threetier.gates import lint

    fixtures = [project / "tests" / "gates" / "fixtures" / name for name in ("broken.yaml", "informational-only.yaml")]
    in_parallel = lint_files(fixtures, ("us-east-1",))
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert lint._context().get_start_method() == "forkserver"
        with ProcessPoolExecutor(max_workers=1, mp_context=lint._context()) as fresh:
            assert fresh.submit(_rules_were_loaded_before_any_template).result(), \
                "a new worker starts with the rules the forkserver loaded"
    one_by_one = sorted(finding for fixture in fixtures for finding in lint_files([fixture], ("us-east-1",)))
    assert in_parallel == one_by_one
    assert {f.rule for f in in_parallel} >= {"E3002", "I3011", "I3013"}


def _rules_were_loaded_before_any_template() -> bool:
    """In a new worker: the rules are there, and what the forkserver loaded is frozen for the collector."""
    import gc

    from threetier.gates import lint

    return (lint._loaded_rules is not None and len(lint._loaded_rules) > 300
            and gc.get_freeze_count() > 100_000 and gc.get_threshold() == (20_000, 50, 50))


def test_rules_that_cannot_be_loaded_ahead_are_loaded_by_the_first_template(monkeypatch):
    from threetier.gates import lint

    def refuse(*_):
        raise SystemExit(1)  # what cfn-lint's Runner does on a bad config

    monkeypatch.setattr(lint, "_loaded_rules", None)
    monkeypatch.setattr(lint, "_config", refuse)
    lint.load_rules_ahead()
    assert lint._loaded_rules is None
