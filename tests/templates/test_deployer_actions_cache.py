"""The deployer role's actions come from the result cache only if they were worked out from the same inputs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import templates
from templates import deployer_role
from threetier import emit
from threetier.blocks import deployeractions
from threetier.blocks.resultcache import CACHE_DIR_VARIABLE
from threetier.facts import deployerpolicy, schemabranches, schemas


@pytest.fixture(scope="module")
def stacks():
    return {file: emit.data(module) for file, module in templates.STACKS.items() if module not in templates.NOT_FOR_THE_DEPLOYER}


def inputs_of(stacks: dict) -> dict:
    return deployeractions.worked_out_from(deployerpolicy.set_branches(stacks))


@pytest.fixture()
def worked_out(monkeypatch):
    """Counts the times the actions are worked out from cfn-lint's data, not read from the cache."""
    calls = []
    real = deployerpolicy.known_to_iam

    def counting(actions):
        calls.append(len(actions))
        return real(actions)

    monkeypatch.setattr(deployerpolicy, "known_to_iam", counting)
    return calls


def entry(folder: Path) -> Path:
    return folder / deployeractions.TOOL / f"{deployeractions.ENTRY}.json"


def rewritten(monkeypatch, file: Path) -> None:
    """As if `file` had been written again (a new cfn-lint release, a reinstall, an edit of the code)."""
    real = deployeractions.file_mark
    monkeypatch.setattr(deployeractions, "file_mark",
                        lambda path: real(path) + (" rewritten" if path == file else ""))


def test_the_second_run_reads_what_the_first_worked_out(tmp_path, stacks, worked_out):
    first = deployeractions.grantable_actions(stacks, tmp_path)
    second = deployeractions.grantable_actions(stacks, tmp_path)
    assert second == first
    assert len(worked_out) == 1
    assert json.loads(entry(tmp_path).read_text()) == {"inputs": inputs_of(stacks),
                                                       "actions": first}


def test_without_a_folder_nothing_is_kept(stacks, worked_out):
    assert deployeractions.grantable_actions(stacks, None) == deployeractions.grantable_actions(stacks, None)
    assert len(worked_out) == 2


def test_the_entry_is_what_is_read(tmp_path, stacks):
    """An entry with today's inputs is the answer: that is why the inputs must be all of them."""
    planted = ["ec2:PlantedByTheTest"]
    entry(tmp_path).parent.mkdir(parents=True)
    entry(tmp_path).write_text(json.dumps({"inputs": inputs_of(stacks), "actions": planted}))
    assert deployeractions.grantable_actions(stacks, tmp_path) == planted


@pytest.mark.parametrize("which", ["cfn-lint's version file", "cfn-lint's IAM table", "the code",
                                   "the branch table"])
def test_a_rewritten_input_file_means_working_it_out_again(tmp_path, stacks, worked_out, monkeypatch, which):
    file = {"cfn-lint's version file": schemas.install_files()[0],
            "cfn-lint's IAM table": schemas.install_files()[-1],
            "the code": Path(deployerpolicy.__file__),
            "the branch table": Path(schemabranches.__file__)}[which]
    first = deployeractions.grantable_actions(stacks, tmp_path)
    rewritten(monkeypatch, file)
    assert deployeractions.grantable_actions(stacks, tmp_path) == first
    assert deployeractions.grantable_actions(stacks, tmp_path) == first
    assert len(worked_out) == 2, "worked out again once, then read from the new entry"


def test_another_set_of_types_means_working_it_out_again(tmp_path, stacks, worked_out):
    with_queue = {**stacks, "queue.yaml": {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}}
    assert "sqs:CreateQueue" not in deployeractions.grantable_actions(stacks, tmp_path)
    assert "sqs:CreateQueue" in deployeractions.grantable_actions(with_queue, tmp_path)
    assert "sqs:CreateQueue" not in deployeractions.grantable_actions(stacks, tmp_path)
    assert len(worked_out) == 3


def test_a_branch_property_set_means_working_it_out_again(tmp_path, stacks, worked_out):
    """Same types, but a certificate from a private CA: its acm-pca actions come in."""
    private = {"Type": "AWS::CertificateManager::Certificate",
               "Properties": {"DomainName": "example.com", "CertificateAuthorityArn": "arn:aws:acm-pca:ca"}}
    with_private_ca = {**stacks, "private.yaml": {"Resources": {"PrivateCertificate": private}}}
    assert "acm-pca:IssueCertificate" not in deployeractions.grantable_actions(stacks, tmp_path)
    assert "acm-pca:IssueCertificate" in deployeractions.grantable_actions(with_private_ca, tmp_path)
    assert "acm-pca:IssueCertificate" not in deployeractions.grantable_actions(stacks, tmp_path)
    assert len(worked_out) == 3


@pytest.mark.parametrize("text", [
    "", '{"inputs": {', "[]", "{}", '{"inputs": null, "actions": ["ec2:X"]}', "\x00\xff",
    "EMPTY ACTIONS", "ACTIONS NOT NAMES",
])
def test_a_damaged_entry_is_worked_out_again_and_replaced(tmp_path, stacks, worked_out, text):
    inputs = inputs_of(stacks)
    text = {"EMPTY ACTIONS": json.dumps({"inputs": inputs, "actions": []}),
            "ACTIONS NOT NAMES": json.dumps({"inputs": inputs, "actions": [1, "no colon"]})}.get(text, text)
    expected = deployeractions.grantable_actions(stacks, None)
    entry(tmp_path).parent.mkdir(parents=True)
    entry(tmp_path).write_text(text, encoding="latin-1")
    assert deployeractions.grantable_actions(stacks, tmp_path) == expected
    assert json.loads(entry(tmp_path).read_text())["actions"] == expected
    assert len(worked_out) == 2


def test_cached_and_uncached_role_templates_are_the_same_bytes(tmp_path, project, monkeypatch):
    committed = (project / "output" / "deployer-role.yaml").read_text()
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    cold = emit.render(deployer_role.build(), "deployer_role")
    assert entry(tmp_path).is_file(), "the first build fills the cache"
    warm = emit.render(deployer_role.build(), "deployer_role")
    monkeypatch.setattr(deployer_role, "_cache_folder", lambda: None)
    uncached = emit.render(deployer_role.build(), "deployer_role")
    assert cold == warm == uncached == committed


def test_generate_loads_no_hash_function(project):
    """The entry is compared whole, so generate need not load OpenSSL's hashes (~3 ms)."""
    probe = "import sys; from threetier.cli import main; main(['generate', '--check']); print('_hashlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"
