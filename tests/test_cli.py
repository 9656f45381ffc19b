"""The `threetier` command itself: --version, Ctrl-C at any moment, missing extras (issue 18)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import types

import pytest

from threetier import cli
from threetier.gates import check

HEAVY_MODULES = ("troposphere", "boto3", "botocore", "cfnlint", "threetier.emit")


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"threetier {importlib.metadata.version('threetier')}\n"


def test_importing_the_cli_loads_nothing_heavy():
    # What is loaded before main() runs cannot be interrupted cleanly: keep it to the standard library.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, threetier.cli; "
                               f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert loaded == ""


class StillLoading(types.ModuleType):
    """A module whose names are not there yet: asking for one is where Ctrl-C lands."""

    def __getattr__(self, name):
        raise KeyboardInterrupt


def test_ctrl_c_while_modules_load_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "threetier.deploy.commands", StillLoading("threetier.deploy.commands"))

    # plan: a command that talks to AWS, so its parser loads the deploy commands (generate, lint,
    # validate and the other local commands do not).
    assert cli.main(["plan", "dev"]) == cli.EXIT_INTERRUPTED

    captured = capsys.readouterr()
    assert captured.err == "\nthreetier: interrupted\n"
    assert "Traceback" not in captured.out + captured.err


@pytest.fixture
def no_detect_secrets(monkeypatch):
    for name in [m for m in sys.modules if m == "detect_secrets" or m.startswith("detect_secrets.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "detect_secrets", None)  # import raises ImportError


def test_secrets_without_the_scan_extra_says_which_extra_to_install(no_detect_secrets, capsys):
    assert cli.main(["secrets"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == "threetier secrets: detect-secrets is not installed: pip install -e '.[scan]'\n"


def test_the_secrets_gate_without_the_scan_extra_fails_with_the_same_advice(no_detect_secrets, tmp_path):
    result = check.secrets(tmp_path)
    assert not result.passed
    assert result.summary == "detect-secrets is not installed: pip install -e '.[scan]'"
