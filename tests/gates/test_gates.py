"""The gates CI runs (`threetier check`), and the pre-commit and GitHub configs that call them."""

import re

import pytest
import yaml

import templates
from threetier.cli import main
from threetier.gates import check, userdata
from threetier.gates.secretscan import find_secrets


def test_check_runs_every_gate_and_all_pass(lint_workers, scan_by_console_script, secrets_by_console_script, capsys):
    """generate --check and lint (six regions) run here; scan and secrets find, in the session's
    result cache, what the console script's runs below found for these very files (conftest.py
    starts them when the session starts, beside the other tests)."""
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    for gate in ("generate --check", "lint", "scan", "secrets"):
        assert any(line.startswith(gate) and " ok " in line for line in out.splitlines()), gate
    assert "0 finding(s) in" in out and "6 regions" in out
    assert "0 failed" in out
    assert "check: all 4 gates passed" in out
    sample = project_page("lint-rules.md").split("```\n", 2)[1].split("```", 1)[0]
    assert untimed(sample) == untimed(out), f"docs/lint-rules.md: the sample of `threetier check` is now\n{out}"


def project_page(name: str) -> str:
    from pathlib import Path
    return (Path(__file__).resolve().parents[2] / "docs" / name).read_text()


def untimed(report: str) -> list[str]:
    """`check`'s lines without their timings, which move from run to run."""
    return [re.sub(r" \(\d+\.\d+ s\)$", "", line) for line in report.strip().splitlines()]


def test_the_console_script_scans_the_templates_and_fails_only_the_insecure_fixture(
        project, scan_by_console_script):
    """`threetier scan output/*.yaml` plus the two scan fixtures, one checkov run, as a user runs it."""
    done = scan_by_console_script
    templates = len(check.templates_in(project))
    assert done.returncode == 1, done.stderr
    assert {line.split(" ")[0] for line in done.stdout.splitlines()} == {"tests/gates/fixtures/insecure.yaml"}
    assert f"checkov: {templates + 2} template(s), " in done.stderr


def test_the_console_script_finds_no_secret_in_the_repository(secrets_by_console_script):
    done = secrets_by_console_script
    assert done.returncode == 0, done.stdout + done.stderr
    assert "detect-secrets: 0 possible secret(s) in " in done.stdout


def test_check_fails_and_names_the_gate_when_output_drifts(project, tmp_path, monkeypatch):
    monkeypatch.setattr(check, "GATES", (check.generate_check,))
    monkeypatch.setattr(check.emit, "drift", lambda *_: ["network.yaml: differs"])
    results = check.run_all(project, ("us-east-1",))
    assert [r.passed for r in results] == [False]
    assert "output/network.yaml: differs" in results[0].details


def test_check_fails_on_user_data_generate_would_refuse_though_output_is_up_to_date(project, monkeypatch):
    monkeypatch.setattr(check, "GATES", (check.generate_check,))
    monkeypatch.setattr(userdata, "BUDGET", 1000)
    (result,) = check.run_all(project, ("us-east-1",))
    assert not result.passed and result.summary == "1 user data too long"
    assert result.details[0].startswith("app.yaml AppLaunchTemplate: user data at most ")


def test_scan_fails_on_an_insecure_template_and_names_file_resource_and_check(
        project, scan_by_console_script, capsys):
    fixture = project / "tests" / "gates" / "fixtures" / "insecure.yaml"
    assert main(["scan", str(fixture)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "tests/gates/fixtures/insecure.yaml AWS::EC2::SecurityGroup.OpenSsh CKV_AWS_24 " \
           "Ensure no security groups allow ingress from 0.0.0.0:0 to port 22" in lines


def test_scan_honours_a_skip_written_in_the_resource_metadata(project, scan_by_console_script, capsys):
    fixture = project / "tests" / "gates" / "fixtures" / "insecure-with-reason.yaml"
    assert main(["scan", str(fixture)]) == 0
    assert "2 skipped inline" in capsys.readouterr().out


def skips_in(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "checkov":
                found += value["skip"]
            else:
                skips_in(value, found)
    elif isinstance(node, list):
        for value in node:
            skips_in(value, found)
    return found


@pytest.mark.parametrize("module", sorted(templates.STACKS.values()))
def test_every_scanner_skip_carries_a_reason(module):
    import importlib
    template = importlib.import_module(f"templates.{module}").build().to_dict()
    for skip in skips_in(template, []):
        assert skip["id"].startswith("CKV") and len(skip["comment"]) > 30, skip


def test_the_security_page_lists_every_suppression(project):
    import importlib
    page = (project / "docs" / "security.md").read_text()
    for module in templates.STACKS.values():
        template = importlib.import_module(f"templates.{module}").build().to_dict()
        for skip in skips_in(template, []):
            assert skip["id"] in page, f"{module}: {skip['id']} is not in docs/security.md's suppression table"


def test_secrets_check_finds_a_planted_key_and_ignores_template_words(tmp_path):
    planted = tmp_path / "config.py"
    # AWS's documented example key, planted for the scanner to find.
    planted.write_text('aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"\n')  # pragma: allowlist secret
    words = tmp_path / "stack.yaml"
    words.write_text("HeaderValue: !Sub '{{resolve:secretsmanager:${Arn}:SecretString:value}}'\n"
                     "ManageMasterUserPassword: true\n"
                     "  HasOriginVerifySecretVersion: !Not\n"
                     "          - Action: ['secretsmanager:GetSecretValue']\n"
                     "    - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole\n")
    found = find_secrets([planted, words], tmp_path)
    assert {f.file for f in found} == {"config.py"}


def test_pre_commit_runs_the_gates(project):
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    entries = {hook["entry"] for hook in repo["hooks"]}
    assert {"python generate.py --check", "threetier lint", "threetier scan", "threetier secrets"} <= entries
    assert all(hook["pass_filenames"] is False for hook in repo["hooks"])


def test_github_workflow_installs_with_the_readme_command_and_runs_check(project):
    workflow = yaml.safe_load((project / ".github" / "workflows" / "templates.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    runs = [step.get("run", "") for step in steps]
    readme = (project / "README.md").read_text()
    install = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]'"
    assert install in readme and install in runs
    assert ".venv/bin/threetier check" in runs
    assert '.venv/bin/python -m pytest -m "not boot and not rotation"' in runs, "root-only tests stay in .ci/run"
    setup = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
