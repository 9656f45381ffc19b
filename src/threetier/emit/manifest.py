"""output/generated-from.json: what output/ was generated from, so that a stale output/ is caught.

Commands that read output/ (validate, diff, plan, deploy, package, cost, diagram) compare it with
the inputs as they are now and refuse a stale output/ (or regenerate it, with --regenerate), instead
of validating or deploying what the code no longer generates. Judged by content, not by modification
times: a fresh clone's files all have the time of the checkout.

The inputs are the files the templates are made of (templates/, and the project's packages below
templates/ in docs/architecture.md) and cfn-lint's release, whose resource schemas make the deployer
role. troposphere and awacs are left out: setup.cfg allows a range of releases, and the manifest must
be the same bytes on every fresh install (`generate --check`); if one of them changes the YAML, the
YAML's own check catches it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zlib
from pathlib import Path

FILE_NAME = "generated-from.json"
SOURCES = ("templates", "src/threetier/emit", "src/threetier/blocks", "src/threetier/parameters",
           "src/threetier/facts", "src/threetier/rotation")
# The kinds of files a template is made of (the user data scripts, the rotation function's requirements);
# not an editor's backup or a stray file beside them.
SUFFIXES = frozenset({".py", ".sh", ".txt", ".json"})
NOTE = ("Written by `python generate.py`: the size and CRC-32 of each file output/ was generated from. Commands that "
        "read output/ compare it with the files as they are now (threetier.emit.manifest).")
SHOWN = 3  # changed files named in the message; the rest are counted


def render(project: Path) -> str:
    """The manifest's text for the project's inputs as they are now (deterministic)."""
    document = {"note": NOTE, "cfn-lint": _cfn_lint_version(), "inputs": input_hashes(project)}
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def input_hashes(project: Path) -> dict[str, str]:
    """{file: its size and CRC-32}: enough to tell an edited file from the one output/ was made from
    (an accident, not an adversary, is what this guards against), without hashlib, which would cost
    generate OpenSSL's ~3 ms; and short enough for detect-secrets to see no high-entropy string."""
    return {path.relative_to(project).as_posix(): _mark(path.read_bytes()) for path in _input_files(project)}


def _mark(data: bytes) -> str:
    return f"{len(data)}:{zlib.crc32(data):08x}"


def _input_files(project: Path) -> list[Path]:
    # os.walk, pruning __pycache__, is several times faster than Path.rglob here (generate's budget).
    found = []
    for source in SOURCES:
        for folder, subfolders, files in os.walk(project / source):
            subfolders[:] = [name for name in subfolders if name != "__pycache__"]
            found += [Path(folder, name) for name in files if os.path.splitext(name)[1] in SUFFIXES]
    return sorted(found)


def _cfn_lint_version() -> str:
    """cfn-lint's release, read from its version file: importing cfnlint or importlib.metadata would cost
    generate tens of milliseconds."""
    from importlib.util import find_spec

    spec = find_spec("cfnlint")
    if spec is None or spec.origin is None:
        return "not installed"
    text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    found = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
    return found.group(1) if found else "unknown"


def stale(project: Path, output_dir: Path | None = None) -> str | None:
    """What makes output/ stale (None when it is what the inputs generate now)."""
    output_dir = output_dir or project / "output"
    if not output_dir.is_dir():
        return None  # nothing generated yet is not stale: each command says what it misses
    path = output_dir / FILE_NAME
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"output/ has no readable {FILE_NAME}, so what it was generated from is unknown"
    changes = _changed_files(recorded.get("inputs") or {}, input_hashes(project))
    version = _cfn_lint_version()
    if recorded.get("cfn-lint") != version:
        changes.append(f"cfn-lint {recorded.get('cfn-lint')} -> {version}")
    if not changes:
        return None
    shown = ", ".join(changes[:SHOWN]) + (f" and {len(changes) - SHOWN} more" if len(changes) > SHOWN else "")
    return f"output/ is stale: {shown} changed since it was generated"


def _changed_files(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    changed = [name for name in sorted(now) if recorded.get(name) != now[name]]
    gone = [f"{name} (removed)" for name in sorted(recorded) if name not in now]
    return changed + gone


def add_option(parser) -> None:
    """--regenerate, for the commands that read output/."""
    parser.add_argument("--regenerate", action="store_true",
                        help="when output/ is stale (templates/ or src/ changed since `python generate.py`), "
                             "regenerate it first instead of refusing")


def check(project: Path, regenerate: bool) -> str | None:
    """None when output/ is fresh, or was stale and has been regenerated (`regenerate`); else what is
    stale and how to fix it."""
    problem = stale(project)
    if problem is None:
        return None
    if not regenerate:
        return f"{problem}: run `python generate.py` (or pass --regenerate)"
    import subprocess

    # A process of its own: generate with its gates, and templates imported fresh from the files.
    done = subprocess.run([sys.executable, "-m", "threetier.cli", "--project-dir", str(project), "generate"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"{problem}, and `python generate.py` failed:\n{done.stderr.strip()}"
    print(f"{problem}: regenerated ({done.stdout.strip().splitlines()[-1]})", file=sys.stderr)
    return None
