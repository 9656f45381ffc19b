"""generate.py run by a Python that cannot import the project (outside its virtual environment) says how
to install or activate it: exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import PROJECT

SET_UP = "Set it up once:  python3 -m venv .venv && .venv/bin/pip install -e ."
RUN = "Then run:        .venv/bin/python generate.py   (or `. .venv/bin/activate`, then python generate.py)"


def run_generate(*flags: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, str(PROJECT / "generate.py")], capture_output=True, text=True,
                          env=env, cwd=PROJECT, check=False)


def clean_env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}


def test_without_the_project_on_the_path_it_says_how_to_install_and_run(tmp_path):
    # -I: no PYTHONPATH, no user site; -S: no site-packages, so neither the editable install nor troposphere.
    done = run_generate("-I", "-S", env=clean_env())

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == (f"generate.py: {sys.executable} cannot import threetier: it is not the project's "
                        "virtual environment.")
    assert lines[-1] == RUN
    if not (PROJECT / ".venv").exists():
        assert SET_UP in lines


def test_with_threetier_but_not_troposphere_it_names_troposphere():
    done = run_generate("-S", env=clean_env(PYTHONPATH=str(PROJECT / "src")))

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot import troposphere" in done.stderr
