"""Results cached per file (src/threetier/blocks/resultcache.py): a changed template, nested template,
rule, region, tool version or day invalidates exactly the results it decides, and nothing else.

cfn-lint, checkov and detect-secrets are replaced here by recorders that say which files
reached them; the real tools are proven by tests/test_lint*.py and tests/gates/test_gates.py.
"""

import shutil
from pathlib import Path

import pytest

from threetier.cli import main
from threetier.gates import lint, scan, secretscan
from threetier.gates.lint import Finding, lint_files
from threetier.gates.lintrules import RULES_DIR, _clock

NESTED = ("main.yaml", "network.yaml", "security.yaml")


@pytest.fixture()
def cache(tmp_path):
    return tmp_path / "cache"


@pytest.fixture()
def templates(project, tmp_path):
    """A copy of output/, so that the tests can edit templates."""
    copy = tmp_path / "output"
    shutil.copytree(project / "output", copy)
    return copy


@pytest.fixture()
def linted(monkeypatch):
    """The file names each cfn-lint run is given; every file gets one made-up finding."""
    runs = []

    def record(paths, regions, parameters):
        runs.append(sorted(path.name for path in paths))
        return [[Finding(str(path), 1, "W0000", f"{path.name} in {','.join(regions)}")] for path in paths]

    monkeypatch.setattr(lint, "_lint_uncached", record)
    return runs


def files(folder: Path, names=("network.yaml", "security.yaml", "data.yaml")) -> list[Path]:
    return [folder / name for name in names]


def test_nothing_changed_lints_nothing_and_gives_the_same_findings(templates, cache, linted):
    first = lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    again = lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    assert linted == [["data.yaml", "network.yaml", "security.yaml"]]
    assert again == first and len(first) == 3


def test_a_changed_template_is_linted_again_alone(templates, cache, linted):
    lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    edited = templates / "security.yaml"
    edited.write_text(edited.read_text() + "# edited\n")
    lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    assert linted[1] == ["security.yaml"]


def test_a_changed_nested_template_relints_its_parent_too(templates, cache, linted):
    lint_files(files(templates, NESTED), ("us-east-1",), cache_dir=cache)
    nested = templates / "network.yaml"
    nested.write_text(nested.read_text() + "# edited\n")
    lint_files(files(templates, NESTED), ("us-east-1",), cache_dir=cache)
    assert linted[1] == ["main.yaml", "network.yaml"], "main.yaml passes parameters to network.yaml (E3043)"


def test_a_changed_project_rule_relints_everything(templates, cache, linted, tmp_path, monkeypatch):
    rules = tmp_path / "lintrules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(lint, "RULES_DIR", rules)
    lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    rule = rules / "rds_engine_support.py"
    rule.write_text(rule.read_text() + "# a changed rule\n")
    lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    assert linted[1] == linted[0]


@pytest.mark.parametrize("change", ["regions", "cfn-lint version", "day", "parameters"])
def test_other_inputs_of_the_findings_relint_everything(templates, cache, linted, monkeypatch, change):
    lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    regions, parameters = ("us-east-1",), None
    if change == "regions":
        regions = ("us-east-1", "eu-west-1")
    elif change == "cfn-lint version":
        monkeypatch.setattr(lint, "version_of", lambda name: "99.0.0")
    elif change == "day":  # W9009 warns from the day standard support ends
        monkeypatch.setattr(_clock, "today", lambda: __import__("datetime").date(2099, 1, 1))
    else:
        parameters = {"EnvironmentName": "prod"}
    lint_files(files(templates), regions, parameters, cache_dir=cache)
    assert linted[1] == linted[0]


def test_without_a_cache_folder_every_run_lints(templates, linted):
    lint_files(files(templates), ("us-east-1",))
    lint_files(files(templates), ("us-east-1",))
    assert len(linted) == 2


def test_no_cache_option_lints_again(templates, linted, capsys):
    for _ in range(2):
        assert main(["lint", "--regions", "us-east-1", str(templates / "network.yaml")]) == 1
    assert main(["lint", "--no-cache", "--regions", "us-east-1", str(templates / "network.yaml")]) == 1
    assert len(linted) == 2
    assert capsys.readouterr().out.count("W0000 network.yaml in us-east-1") == 3


def test_a_half_written_entry_is_recomputed(templates, cache, linted):
    lint_files(files(templates), ("us-east-1",), cache_dir=cache)
    for entry in (cache / "cfn-lint").iterdir():
        entry.write_text('[[1, "W0')
    assert len(lint_files(files(templates), ("us-east-1",), cache_dir=cache)) == 3
    assert len(linted) == 2


def test_a_cache_that_cannot_be_written_does_not_fail_the_lint(templates, tmp_path, linted):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be\n")
    assert len(lint_files(files(templates), ("us-east-1",), cache_dir=blocked)) == 3


@pytest.fixture()
def checkov_runs(monkeypatch):
    runs = []

    def record(paths):
        runs.append(sorted(path.name for path in paths))
        return {path: {"failures": [["AWS::S3::Bucket.Logs", "CKV_AWS_18", "access logging"]],
                       "passed": 2, "skipped": 1} for path in paths}

    monkeypatch.setattr(scan, "_run_checkov", record)
    return runs


def test_scan_runs_checkov_only_on_changed_templates(templates, cache, checkov_runs):
    first = scan.scan(files(templates), cache_dir=cache)
    edited = templates / "data.yaml"
    edited.write_text(edited.read_text() + "# edited\n")
    again = scan.scan(files(templates), cache_dir=cache)
    assert checkov_runs == [["data.yaml", "network.yaml", "security.yaml"], ["data.yaml"]]
    assert again == first and (first.passed, first.skipped, len(first.failures)) == (6, 3, 3)
    scan.scan(files(templates), cache_dir=cache)
    assert len(checkov_runs) == 2, "nothing changed: checkov does not run"


@pytest.fixture()
def secret_scans(monkeypatch):
    runs = []

    def record(paths):
        runs.append(sorted(path.name for path in paths))
        return {str(path): [[3, "Secret Keyword"]] for path in paths if path.name == "config.py"}

    monkeypatch.setattr(secretscan, "_scan", record)
    return runs


def test_secrets_scans_only_changed_files(tmp_path, cache, secret_scans):
    config, notes = tmp_path / "config.py", tmp_path / "notes.md"
    config.write_text("a = 1\n")
    notes.write_text("notes\n")
    first = secretscan.find_secrets([config, notes], tmp_path, cache_dir=cache)
    notes.write_text("notes, edited\n")
    again = secretscan.find_secrets([config, notes], tmp_path, cache_dir=cache)
    assert secret_scans == [["config.py", "notes.md"], ["notes.md"]]
    assert again == first and [str(f) for f in first] == ["config.py:3 Secret Keyword"]
