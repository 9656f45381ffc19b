"""output/generated-from.json: commands that read output/ refuse a stale one (judged by content, not
mtimes), or regenerate it with --regenerate; plan lists it with its other preconditions."""

from __future__ import annotations

import json
import os

import pytest

from tests.deploy.fixtures.project import ENV, write_project
from threetier import cli
from threetier.emit import manifest

FIX = "run `python generate.py` (or pass --regenerate)"


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


def edit_a_template_module(project):
    path = project / "templates" / "__init__.py"
    path.write_text(path.read_text() + "# a change the output/ does not have yet\n")


def threetier(project, *argv) -> int:
    return cli.main(["--project-dir", str(project), *argv])


def test_the_project_s_own_output_is_fresh(project):  # noqa: F811 (the session's project is shadowed here)
    from tests.conftest import PROJECT

    assert manifest.stale(PROJECT) is None


def test_fresh_output_is_fresh_whatever_the_modification_times(project):
    for path in project.rglob("*"):
        os.utime(path, (1, 1))  # older than anything, as a checkout may leave it
    (project / "output" / "main.yaml").touch()
    assert manifest.stale(project) is None


@pytest.mark.parametrize("command", [["validate", ENV], ["cost", ENV], ["diagram", ENV, "--no-render"],
                                     ["diff"], ["timeline", ENV], ["package", "--bucket", "b", "--region", "us-east-1"]])
def test_a_command_that_reads_output_refuses_it_stale_naming_the_file_and_the_fix(project, capsys, command):
    edit_a_template_module(project)

    assert threetier(project, *command) == 2

    err = capsys.readouterr().err
    assert (f"threetier {command[0]}: output/ is stale: templates/__init__.py changed since it was generated: "
            f"{FIX}") in err


def test_a_missing_manifest_is_stale(project, capsys):
    (project / "output" / manifest.FILE_NAME).unlink()

    assert threetier(project, "validate", ENV) == 2

    assert f"output/ has no readable {manifest.FILE_NAME}, so what it was generated from is unknown: {FIX}" in (
        capsys.readouterr().err)


def test_a_removed_input_and_a_new_cfn_lint_are_named(project):
    recorded = json.loads((project / "output" / manifest.FILE_NAME).read_text())
    recorded["inputs"]["templates/gone.py"] = "0" * 64
    recorded["cfn-lint"] = "0.1.0"
    (project / "output" / manifest.FILE_NAME).write_text(json.dumps(recorded))

    assert manifest.stale(project) == ("output/ is stale: templates/gone.py (removed), cfn-lint 0.1.0 -> "
                                       f"{manifest._cfn_lint_version()} changed since it was generated")


def test_regenerate_brings_output_up_to_date_and_the_command_goes_on(project, capsys):
    edit_a_template_module(project)

    assert threetier(project, "validate", ENV, "--regenerate") == 0

    captured = capsys.readouterr()
    assert "output/ is stale: templates/__init__.py changed since it was generated: regenerated (wrote " in (
        captured.err)
    assert "valid" in captured.out
    assert manifest.stale(project) is None


def test_plan_lists_stale_output_with_the_other_missing_preconditions(project, capsys, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret (a dummy)
    edit_a_template_module(project)

    assert threetier(project, "plan", ENV, "--bucket", "b") == 2

    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "threetier plan: 2 things to fix before plan dev can run (nothing was changed):"
    assert lines[1].startswith("  - output/ is stale: templates/__init__.py changed")
    assert lines[2].startswith("  - no AWS region")
