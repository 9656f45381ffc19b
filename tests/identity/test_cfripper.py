"""cfripper on output/deployer-role.yaml: no privilege escalation it cannot explain.

cfripper reads the template with its intrinsics resolved (`--resolve`): without
it, cfripper 1.22's rules crash on the Fn::If statements of DeployerScopedPolicy
(`'FunctionDict' object has no attribute 'Effect'`). Its blocking findings are
exactly the ones tests/identity/cfripper_filters explains, and each reason there
is checked here against the generated template.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.identity.deployer import ACCOUNT, BOUNDARY, Deployed
from threetier.facts import schemabranches

FILTERS = Path(__file__).parent / "cfripper_filters"
ROLE_WRITES = {"iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"}
SETUPS = {"no boundary": {}, "boundary": {"PermissionsBoundaryArn": BOUNDARY.format(partition="aws", account=ACCOUNT)}}


def cfripper(project: Path, tmp_path: Path, values: dict, filters: bool) -> list[dict]:
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({"ProjectName": "shop", "TemplateBucket": "shop-templates", "IamRolePath": "/",
                                      "PermissionsBoundaryArn": "", **values}))
    command = [str(Path(sys.executable).parent / "cfripper"), str(project / "output" / "deployer-role.yaml"),
               "--resolve", "--resolve-parameters", str(parameters), "--aws-account-id", ACCOUNT, "--format", "json"]
    if filters:
        command += ["--rules-filters-folder", str(FILTERS)]
    run = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    report = json.loads(run.stdout)
    assert not report["exceptions"], report["exceptions"]
    return [failure for failure in report["failures"] if failure["rule_mode"] == "BLOCKING"]


@pytest.mark.parametrize("setup", SETUPS)
def test_the_blocking_findings_are_exactly_the_explained_ones(project, tmp_path, setup):
    failures = cfripper(project, tmp_path, SETUPS[setup], filters=False)
    found = {(f["rule"], resource) for f in failures for resource in f["resource_ids"]}
    by_rule: dict[str, set] = {}
    for rule, resource in found:
        by_rule.setdefault(rule, set()).add(resource)
    assert set(by_rule) == {"PrivilegeEscalationRule", "GenericResourceWildcardPolicyRule",
                            "IAMRoleWildcardActionOnPolicyRule"}
    assert all(name.startswith("DeployerScopedPolicy") for name in by_rule["PrivilegeEscalationRule"])
    assert all(name.startswith("DeployerPolicy") for name in by_rule["GenericResourceWildcardPolicyRule"])
    escalating = {action for f in failures if f["rule"] == "PrivilegeEscalationRule" for action in f["actions"]}
    assert escalating <= ROLE_WRITES


def test_with_the_explained_filters_nothing_blocks(project, tmp_path):
    assert cfripper(project, tmp_path, SETUPS["boundary"], filters=True) == []


@pytest.mark.parametrize("setup", SETUPS)
def test_the_role_write_reason_holds(setup):
    """ROLE_WRITES_REASON: only the project's roles, never `*`, AttachRolePolicy by iam:PolicyARN, the
    boundary when set."""
    deployed = Deployed("us-east-1", "aws", SETUPS[setup])
    for document in deployed.documents.values():
        for statement in document["Statement"]:
            actions = set(statement.get("Action", [])) & ROLE_WRITES
            if not actions or statement["Effect"] != "Allow":
                continue
            assert all(arn.startswith("arn:aws:iam::111122223333:role/shop-") for arn in statement["Resource"])
            conditions = {key for operator in statement["Condition"].values() for key in operator}
            if "iam:AttachRolePolicy" in actions:
                assert "iam:PolicyARN" in conditions
            if setup == "boundary" and actions != {"iam:UpdateAssumeRolePolicy"}:
                assert "iam:PermissionsBoundary" in conditions


def test_the_describe_reason_holds():
    """DESCRIBE_REASON: the wildcards are read-only Describe*, each kept with a reason."""
    deployed = Deployed("us-east-1", "aws")
    kept = {action for actions in schemabranches.KEPT_WILDCARDS.values() for action in actions}
    wildcards = {action for document in deployed.documents.values() for statement in document["Statement"]
                 if statement["Effect"] == "Allow" for action in statement["Action"] if "*" in action}
    assert wildcards and wildcards <= kept
    assert all(action.split(":")[1] == "Describe*" for action in wildcards)
