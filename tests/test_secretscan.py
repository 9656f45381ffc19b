"""The secrets check's stand-in for detect-secrets' indirect-reference filter: the same answer, faster.

The real scan with it in place is proven by tests/test_gates.py (a planted key is
found, template words are not) and by `threetier check` over the repository.
"""

import random
import subprocess

import pytest

from threetier import secretscan

heuristic = pytest.importorskip("detect_secrets.filters.heuristic")


def their_answer(line: str) -> bool:
    return heuristic.is_indirect_reference(line)


def test_theirs_is_the_filter_this_one_stands_for():
    assert heuristic._get_indirect_reference_regex().pattern == secretscan.THEIR_INDIRECT_REFERENCE


def test_the_same_answer_for_every_line_of_the_repository(project):
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=project, capture_output=True, text=True).stdout
    lines = []
    for name in filter(None, listed.split("\0")):
        try:
            lines += [line.strip() for line in (project / name).read_text(encoding="utf-8").splitlines()]
        except (UnicodeDecodeError, OSError):
            continue  # binary, or listed but deleted in the work tree
    assert len(lines) > 10_000
    differ = [line for line in lines if secretscan.is_indirect_reference(line) != their_answer(line)]
    assert differ == []
    assert 100 < sum(map(secretscan.is_indirect_reference, lines)) < len(lines)


@pytest.mark.parametrize("line, reference", [
    ("secret = get_secret_key()", True),
    ("token = request.headers['apikey']", True),
    ("password := os.environ[\"DB\"]", True),
    ("if key !== lookup(x)", True),
    ("a == b.c-d(e)", True),
    ("password = 'hunter2'", False),  # pragma: allowlist secret (a made-up value, not a reference)
    ("x = f (y)", False),
    ("call(x) = y", False),
    ("key: value[0", False),
    ("k: " + "a" * 995 + "()", True),  # 1000 characters: still looked at
    ("k: " + "a" * 996 + "()", False),  # 1001: too long, as theirs
])
def test_examples(line, reference):
    assert secretscan.is_indirect_reference(line) is reference
    assert their_answer(line) is reference


def test_the_same_answer_for_random_lines_of_the_characters_that_matter():
    chance = random.Random(15)
    alphabet = " \t\x0b=!:[]()a_.-1\"'"
    for _ in range(40_000):
        line = "".join(chance.choice(alphabet) for _ in range(chance.randint(0, 16)))
        assert secretscan.is_indirect_reference(line) == their_answer(line), repr(line)


def test_a_scan_uses_it_in_place_of_theirs_and_finds_the_same(tmp_path, monkeypatch):
    planted = tmp_path / "settings.py"
    planted.write_text('password = get_password(name)\n'
                       'db_password = "Zr8#qLw2!vNx5@Tp"\n'  # pragma: allowlist secret
                       'api_key = headers["x-api-key"]\n')
    used = []
    monkeypatch.setattr(secretscan, "is_indirect_reference",
                        lambda line: used.append(line) or secretscan.SAME_LINES_AS_INDIRECT_REFERENCE.search(line)
                        is not None)
    assert secretscan._scan([planted]) == {str(planted): [[2, "Secret Keyword"]]}
    assert used, "the scan asked this module's filter"

    monkeypatch.setattr(secretscan, "THEIR_INDIRECT_REFERENCE", "another detect-secrets' regex")
    used.clear()
    assert secretscan._scan([planted]) == {str(planted): [[2, "Secret Keyword"]]}
    assert used == [], "a detect-secrets whose filter differs keeps its own"
