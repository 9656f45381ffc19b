"""The secrets check's stand-in for detect-secrets' indirect-reference filter: the same answer, faster.

The real scan with it in place is proven by tests/gates/test_gates.py (a planted key is
found, template words are not) and by `threetier check` over the repository.
"""

import random
import subprocess
from pathlib import Path

import pytest

from threetier.gates import secretscan

heuristic = pytest.importorskip("detect_secrets.filters.heuristic")


def their_answer(line: str) -> bool:
    return heuristic.is_indirect_reference(line)


def repository_lines(project, sample: int) -> list[str]:
    """`sample` distinct lines (stripped, as detect-secrets sees them) of the tracked files, the same every run."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=project, capture_output=True, text=True).stdout
    lines = set()
    for name in filter(None, listed.split("\0")):
        try:
            lines |= {line.strip() for line in (project / name).read_text(encoding="utf-8").splitlines()}
        except (UnicodeDecodeError, OSError):
            continue  # binary, or listed but deleted in the work tree
    assert len(lines) > sample
    return random.Random(15).sample(sorted(lines), sample)


def test_theirs_is_the_filter_this_one_stands_for():
    assert heuristic._get_indirect_reference_regex().pattern == secretscan.THEIR_INDIRECT_REFERENCE


def test_the_same_answer_for_lines_of_the_repository(project):
    lines = repository_lines(project, 8000)
    differ = [line for line in lines if secretscan.is_indirect_reference(line) != their_answer(line)]
    assert differ == []
    assert 50 < sum(map(secretscan.is_indirect_reference, lines)) < len(lines)


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


keyword = pytest.importorskip("detect_secrets.plugins.keyword")
KEYWORD_TABLES = {id(table): table for table in (*keyword.REGEX_BY_FILETYPE.values(),
                                                 keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP)}.values()


def test_the_keyword_regexes_are_the_ones_the_anchors_were_checked_against():
    assert secretscan._keyword_regexes_hash() == secretscan.KEYWORD_REGEXES, \
        "detect-secrets' keyword regexes changed: check KEYWORD_ANCHORS against them, then update the hash"
    for word in keyword.DENYLIST:
        assert any(anchor in word for anchor in secretscan.KEYWORD_ANCHORS), word
    for table in KEYWORD_TABLES:
        for regex in table:
            assert keyword.DENYLIST_REGEX in regex.pattern


def test_no_line_without_an_anchor_has_a_keyword_finding(project):
    # Made-up values after keywords in other cases and letters, and after near misses.
    keywords = ["Contraseña = 'Zr8qLw2vNx5Tp'", "PassWord='Zr8qLw2vNx5Tp'",  # pragma: allowlist secret
                "ſecret = 'Zr8qLw2vNx5Tp'", "api_\u212aey: Zr8qLw2vNx5Tp",  # pragma: allowlist secret
                "my_pwd_x == \"Zr8qLw2vNx5Tp\";"]  # pragma: allowlist secret
    near_misses = ["Tok3n = 'Zr8qLw2vNx5Tp'", "pas_sword: 'Zr8qLw2vNx5Tp'", "sec ret = 'Zr8qLw2vNx5Tp'",
                   "k_e_y = 'Zr8qLw2vNx5Tp'"]
    lines = {*keywords, *near_misses, *repository_lines(project, 3000)}
    plugin = keyword.KeywordDetector()
    without = [line for line in lines if not secretscan.has_a_keyword_anchor(line)]
    assert len(without) > len(lines) / 2 and set(near_misses) <= set(without)
    for table in KEYWORD_TABLES:
        assert [line for line in without if list(plugin.analyze_string(line, table))] == []
    found = [line for line in lines if any(list(plugin.analyze_string(line, table)) for table in KEYWORD_TABLES)]
    assert set(keywords) <= set(found)
    assert all(secretscan.has_a_keyword_anchor(line) for line in found)


def test_the_keyword_plugin_is_asked_only_about_lines_with_an_anchor_in_this_scan(tmp_path, monkeypatch):
    planted = tmp_path / "settings.py"
    planted.write_text('db_password = "Zr8#qLw2!vNx5@Tp"\n'  # pragma: allowlist secret
                       'colour = "blue and green"\n')
    asked = []
    original = keyword.KeywordDetector.analyze_string
    monkeypatch.setattr(keyword.KeywordDetector, "analyze_string",
                        lambda self, string, *args, **kwargs: asked.append(string) or original(self, string,
                                                                                               *args, **kwargs))
    assert secretscan._scan([planted]) == {str(planted): [[1, "Secret Keyword"]]}
    assert asked == ['db_password = "Zr8#qLw2!vNx5@Tp"']  # pragma: allowlist secret

    monkeypatch.setattr(secretscan, "KEYWORD_REGEXES", "other regexes")
    asked.clear()
    assert secretscan._scan([planted]) == {str(planted): [[1, "Secret Keyword"]]}
    assert len(asked) == 2, "with regexes it was not checked against, the plugin sees every line"


@pytest.fixture()
def planted_files(tmp_path):
    """Files with and without made-up secrets, of different sizes."""
    files = []
    for number in range(12):
        path = tmp_path / f"file{number}.py"
        lines = [f"value_{line} = {line}\n" for line in range(number * 40)]
        if number % 3 == 0:
            lines.insert(number, f'db_password = "Zr8#qLw2!vNx5@T{number}"\n')  # pragma: allowlist secret
        path.write_text("".join(lines))
        files.append(path)
    return files


def test_a_scan_shared_with_worker_processes_finds_what_one_process_finds(planted_files):
    from threetier.gates import lint

    alone = secretscan._scan(planted_files)
    assert sorted(alone) == [str(planted_files[n]) for n in (0, 3, 6, 9)]
    assert secretscan._scan_shared(planted_files, lint.worker_pool()) == alone


class Refusing:
    """A pool that takes nothing (broken or shut down), or whose every chunk fails."""

    _max_workers = 2

    def __init__(self, submit_fails: bool):
        self.submit_fails = submit_fails
        self.asked = 0

    def submit(self, function, *args):
        from concurrent.futures import Future

        self.asked += 1
        if self.submit_fails:
            raise RuntimeError("cannot schedule new futures after shutdown")
        failed = Future()
        failed.set_exception(OSError("a worker died"))
        return failed


@pytest.mark.parametrize("submit_fails", [True, False])
def test_what_the_workers_cannot_scan_is_scanned_here(planted_files, submit_fails):
    pool = Refusing(submit_fails)
    assert secretscan._scan_shared(planted_files, pool) == secretscan._scan(planted_files)
    assert pool.asked >= 1


def test_only_a_large_scan_of_whole_paths_is_shared(planted_files, monkeypatch):
    shared = []
    monkeypatch.setattr(secretscan, "_scan_shared", lambda files, pool: shared.append(files) or secretscan._scan(files))
    found = secretscan.find_secrets(planted_files, planted_files[0].parent, workers=lambda: "pool")
    assert shared == [] and len(found) == 4, "a few KB: scanned here"
    monkeypatch.setattr(secretscan, "SHARE_FROM_BYTES", 1)
    assert secretscan.find_secrets(planted_files, planted_files[0].parent, workers=lambda: "pool") == found
    assert shared == [planted_files]
    assert secretscan.find_secrets(planted_files, planted_files[0].parent) == found and len(shared) == 1
    monkeypatch.chdir(planted_files[0].parent)
    relative = [path.relative_to(planted_files[0].parent) for path in planted_files]
    assert len(secretscan.find_secrets(relative, Path("."), workers=lambda: "pool")) == 4
    assert len(shared) == 1, "a relative path means a worker's working folder would matter: scanned here"
