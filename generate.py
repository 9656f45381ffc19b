#!/usr/bin/env python3
"""Generate output/*.yaml from templates/ (same as `threetier generate`); `--check` for CI."""

from __future__ import annotations

import gc
import sys
from importlib.util import find_spec
from pathlib import Path

# What generate imports; missing, this Python is not the project's virtual environment (or the install is
# incomplete), and a ModuleNotFoundError's traceback would not say so.
NEEDED = ("threetier", "troposphere", "awacs", "yaml")
EXIT_USAGE = 2


def missing_module() -> str | None:
    return next((name for name in NEEDED if find_spec(name) is None), None)


def how_to_install(missing: str) -> str:
    venv_python = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
    lines = [f"generate.py: {sys.executable} cannot import {missing}: it is not the project's virtual environment."]
    if not venv_python.exists():
        lines.append("Set it up once:  python3 -m venv .venv && .venv/bin/pip install -e .")
    lines.append("Then run:        .venv/bin/python generate.py   (or `. .venv/bin/activate`, then python generate.py)")
    return "\n".join(lines)


if __name__ == "__main__":
    missing = missing_module()
    if missing:
        print(how_to_install(missing), file=sys.stderr)
        sys.exit(EXIT_USAGE)
    from threetier.cli import main

    # This process lives a fifth of a second and frees everything when it ends: Python's
    # cycle collector would only walk troposphere's classes as they are imported and the
    # templates as they are built, ~90 times (~15 ms of CPU, measured over 30 runs).
    gc.disable()
    sys.exit(main(["generate", *sys.argv[1:]]))
