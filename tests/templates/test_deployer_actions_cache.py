"""The deployer role's actions come from the result cache only under the key of the same inputs."""

import json

import pytest

import templates
from templates import deployer_role
from threetier import emit
from threetier.blocks import deployeractions
from threetier.facts import deployerpolicy, schemas
from threetier.blocks.resultcache import CACHE_DIR_VARIABLE


@pytest.fixture(scope="module")
def types():
    stacks = {file: emit.data(module) for file, module in templates.STACKS.items() if module != "deployer_role"}
    return deployerpolicy.resource_types(stacks)


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


def entry(folder, types):
    return folder / deployeractions.TOOL / f"{deployeractions.cache_key(types)}.json"


def test_the_second_run_reads_what_the_first_worked_out(tmp_path, types, worked_out):
    first = deployeractions.grantable_actions(types, tmp_path)
    second = deployeractions.grantable_actions(types, tmp_path)
    assert second == first
    assert len(worked_out) == 1
    assert json.loads(entry(tmp_path, types).read_text()) == first


def test_without_a_folder_nothing_is_kept(types, worked_out):
    assert deployeractions.grantable_actions(types, None) == deployeractions.grantable_actions(types, None)
    assert len(worked_out) == 2


def test_the_cache_is_what_is_read(tmp_path, types):
    """The entry under the key is the answer: that is why the key must hold every input."""
    planted = ["ec2:PlantedByTheTest"]
    entry(tmp_path, types).parent.mkdir(parents=True)
    entry(tmp_path, types).write_text(json.dumps(planted))
    assert deployeractions.grantable_actions(types, tmp_path) == planted


def test_another_cfn_lint_is_another_key(tmp_path, types, worked_out, monkeypatch):
    deployeractions.grantable_actions(types, tmp_path)
    real_marks = schemas.install_marks()
    monkeypatch.setattr(schemas, "install_marks", lambda: [*real_marks[:1], '__version__ = "9.9.9"\n',
                                                           *real_marks[2:]])
    deployeractions.grantable_actions(types, tmp_path)
    assert len(worked_out) == 2
    assert len(list((tmp_path / deployeractions.TOOL).glob("*.json"))) == 2


def test_another_set_of_types_is_another_key(tmp_path, types, worked_out):
    with_queue = sorted({*types, "AWS::SQS::Queue"})
    assert "sqs:CreateQueue" not in deployeractions.grantable_actions(types, tmp_path)
    assert "sqs:CreateQueue" in deployeractions.grantable_actions(with_queue, tmp_path)
    assert len(worked_out) == 2


def test_reinstalling_cfn_lint_is_another_key(types, monkeypatch):
    before = deployeractions.cache_key(types)
    real_marks = schemas.install_marks()
    monkeypatch.setattr(schemas, "install_marks", lambda: [*real_marks[:-1], real_marks[-1] + "1"])
    assert deployeractions.cache_key(types) != before


@pytest.mark.parametrize("text", ["", '["ec2:Cre', "{}", "[]", '[1, 2]', '["no colon"]', "\x00\xff"])
def test_a_damaged_entry_is_worked_out_again_and_replaced(tmp_path, types, worked_out, text):
    expected = deployeractions.grantable_actions(types, None)
    entry(tmp_path, types).parent.mkdir(parents=True)
    entry(tmp_path, types).write_text(text, encoding="latin-1")
    assert deployeractions.grantable_actions(types, tmp_path) == expected
    assert json.loads(entry(tmp_path, types).read_text()) == expected
    assert len(worked_out) == 2


def test_cached_and_uncached_role_templates_are_the_same_bytes(tmp_path, project, monkeypatch):
    committed = (project / "output" / "deployer-role.yaml").read_text()
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    cold = emit.render(deployer_role.build(), "deployer_role")
    assert list((tmp_path / deployeractions.TOOL).glob("*.json")), "the first build fills the cache"
    warm = emit.render(deployer_role.build(), "deployer_role")
    monkeypatch.setattr(deployer_role, "_cache_folder", lambda: None)
    uncached = emit.render(deployer_role.build(), "deployer_role")
    assert cold == warm == uncached == committed
