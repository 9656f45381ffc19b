"""A template module that fails is one line (file, line, error), exit 2, nothing written; --traceback
prints the whole traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT

BROKEN = '''from troposphere import Template


def build() -> Template:
    t = Template()
    return helper(t)
'''


@pytest.fixture
def project(tmp_path):
    """A project whose one stack, templates/broken.py, has a mistake at line 6."""
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = broken\n")
    (tmp_path / "templates").mkdir()
    package = (PROJECT / "templates" / "__init__.py").read_text()
    start, end = package.index("STACKS = {"), package.index("}\n", package.index("STACKS = {")) + 2
    (tmp_path / "templates" / "__init__.py").write_text(
        package[:start] + 'STACKS = {"broken.yaml": "broken"}\n' + package[end:])
    (tmp_path / "templates" / "broken.py").write_text(BROKEN)
    return tmp_path


def generate(project, *argv) -> subprocess.CompletedProcess:
    # A process of its own: this one has imported the real templates package.
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
    return subprocess.run([sys.executable, "-m", "threetier.cli", "--project-dir", str(project), "generate", *argv],
                          capture_output=True, text=True, env=env, cwd=project, check=False)


def test_a_name_error_is_one_line_with_file_and_line(project):
    done = generate(project)

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "threetier generate: templates/broken.py:6: NameError: name 'helper' is not defined",
        "nothing written; `python generate.py --traceback` shows the full traceback",
    ]
    assert not (project / "output").exists()


def test_a_syntax_error_names_its_line(project):
    (project / "templates" / "broken.py").write_text(BROKEN + "x = (\n")

    done = generate(project)

    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "threetier generate: templates/broken.py:7: SyntaxError: '(' was never closed"


def test_traceback_shows_the_whole_traceback(project):
    done = generate(project, "--traceback")

    assert done.returncode == 2
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert 'templates/broken.py", line 6, in build' in done.stderr
    assert done.stderr.splitlines()[-1] == "threetier generate: templates/broken.py:6: NameError: name 'helper' is not defined"
