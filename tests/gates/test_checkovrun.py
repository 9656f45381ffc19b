"""threetier.gates.checkovrun: checkov with each jsonpath grammar's PLY parse table built once.

The scan gate's real runs go through it: the session's `threetier scan` of output/ and
the insecure fixtures (tests/conftest.py, one checkov run, with a real CKV_AWS_24 failure
and skips written in a template), whose results tests/gates/test_gates.py checks.
"""

import os
import sys
from pathlib import Path

import ply.yacc
import pytest

from threetier.gates import checkovrun, scan

pytest.importorskip("checkov")
from bc_jsonpath_ng import parse as parse_plain  # noqa: E402  (checkov's dependency)
from bc_jsonpath_ng.ext import parse as parse_extended  # noqa: E402

# The kind of paths checkov renders (blocks.py turns "a.b.0" into "$.a.b.[0]"), and
# the extended grammar's filters and arithmetic, which a shared table must not confuse.
PATHS = ("$.Properties.Tags.[0].Value", "$.Properties.SecurityGroupIngress.[1].CidrIp",
         "$.DistributionConfig.Origins[?(@.Id = 'load-balancer')].DomainName",
         "$.Resources.*.Properties", "$..KmsKeyId", "$.a[*].b + $.c")
DOCUMENT = {"Properties": {"Tags": [{"Key": "Name", "Value": "web"}],
                           "SecurityGroupIngress": [{"CidrIp": "10.0.0.0/8"}, {"CidrIp": "0.0.0.0/0"}]},
            "DistributionConfig": {"Origins": [{"Id": "bucket", "DomainName": "b"},
                                               {"Id": "load-balancer", "DomainName": "alb"}]},
            "Resources": {"Key": {"Properties": {"KmsKeyId": "k"}}},
            "a": [{"b": 1}, {"b": 2}], "c": 3}


@pytest.fixture()
def tables_built(monkeypatch, tmp_path):
    """reuse_parse_tables in place for this test only; how many tables PLY builds meanwhile."""
    monkeypatch.setattr(ply.yacc, "yacc", ply.yacc.yacc)  # put back at teardown
    built = []
    original = ply.yacc.LRGeneratedTable.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ply.yacc.LRGeneratedTable, "__init__", counting)
    before = {path: (repr(parse_extended(path)), [m.value for m in parse_extended(path).find(DOCUMENT)])
              for path in PATHS}
    built.clear()
    checkovrun.reuse_parse_tables(str(tmp_path))
    return before, built


def test_each_grammar_gets_one_table_and_every_path_parses_as_before(tables_built):
    before, built = tables_built
    after = {path: (repr(parse_extended(path)), [m.value for m in parse_extended(path).find(DOCUMENT)])
             for path in PATHS * 3}
    assert after == before
    assert len(built) == 1, "the extended grammar's table is built once, then read back"
    assert repr(parse_plain("$.a.b")) == "Child(Child(Root(), Fields('a')), Fields('b'))"
    assert len(built) == 2, "the plain grammar has a table of its own"
    assert [before[path][1] for path in PATHS[:3]] == [["web"], ["0.0.0.0/0"], ["alb"]]


def test_a_bad_path_is_still_an_error(tables_built):
    with pytest.raises(Exception, match="Parse error"):
        parse_extended("$.Properties[?(@.Id = ]")


def test_the_scan_gate_runs_checkov_through_this_file_by_path():
    command = scan.checkov_command()
    assert command == [sys.executable, str(Path(checkovrun.__file__))]


def test_main_runs_checkovs_command_line_with_the_tables_kept(monkeypatch):
    """main() is `Checkov(argv).run()` (a stand-in here: the real one is the scan gate's), with
    the PLY tables kept in a folder of the run and what was imported frozen for the garbage
    collector; checkov's own settings, such as how it parallelizes, are left alone."""
    import gc
    import types

    seen = {}
    monkeypatch.setattr(gc, "freeze", lambda: seen.setdefault("frozen before run", "run" not in seen))
    monkeypatch.setattr(gc, "set_threshold", lambda *threshold: seen.setdefault("threshold", threshold))

    class Checkov:
        def __init__(self, argv):
            seen["argv"] = argv

        def run(self):
            seen["run"] = True
            seen["parallelization"] = os.environ.get("CHECKOV_PARALLELIZATION_TYPE")
            seen["folder"] = ply.yacc.yacc.threetier_folder
            return 1

    monkeypatch.setitem(sys.modules, "checkov.main", types.SimpleNamespace(Checkov=Checkov))
    monkeypatch.setattr(ply.yacc, "yacc", ply.yacc.yacc)
    monkeypatch.delenv("CHECKOV_PARALLELIZATION_TYPE", raising=False)
    assert checkovrun.main(["--framework", "cloudformation"]) == 1
    assert seen["argv"] == ["--framework", "cloudformation"]
    assert seen["parallelization"] is None
    assert not Path(seen["folder"]).exists(), "the tables' folder goes with the run"
    assert seen["frozen before run"] is True and seen["threshold"] == (20_000, 50, 50)
