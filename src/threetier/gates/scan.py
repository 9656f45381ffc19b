"""The security scan: checkov's CloudFormation checks, offline.

Run as a subprocess of the checkov installed beside this Python (extra
`scan`), with --skip-download so nothing is fetched, through
threetier.gates.checkovrun: checkov's own command line with its jsonpath parse table
built once instead of once per expression (half of checkov's time here). A
checkov this Python cannot import (one on PATH only) runs as its own command.
Deliberate exceptions are skipped in the template Metadata of the resource they
concern, never here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from threetier.blocks.resultcache import ResultCache, fingerprint, version_of


class ScannerMissing(Exception):
    pass


@dataclass(frozen=True, order=True)
class Failure:
    file: str
    resource: str
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} {self.resource} {self.check} {self.message}"


@dataclass(frozen=True)
class ScanResult:
    failures: list[Failure]
    passed: int
    skipped: int


def checkov_command() -> list[str]:
    """How to start checkov: through threetier.gates.checkovrun where this Python has it, else its command."""
    from importlib.util import find_spec

    if find_spec("checkov") is not None:
        return [sys.executable, str(Path(__file__).with_name("checkovrun.py"))]
    beside_python = Path(sys.executable).parent / "checkov"
    found = str(beside_python) if beside_python.is_file() else shutil.which("checkov")
    if found is None:
        raise ScannerMissing("checkov is not installed: pip install -e '.[scan]'")
    return [found]


def scan(paths: list[Path], cache_dir: Path | None = None) -> ScanResult:
    """Scan the templates; every failed check, in file/resource order.

    With `cache_dir`, a template scanned before with the same bytes and the
    same checkov is not scanned again; checkov runs only if some file is new.
    """
    cache = ResultCache(cache_dir, "checkov")
    keys = {path: _cache_key(path) for path in paths} if cache.folder else {}
    per_file = {path: cache.get(keys[path]) for path in keys}
    new = [path for path in paths if per_file.get(path) is None]
    if new:
        scanned = _run_checkov(new)
        for path in new:
            per_file[path] = scanned[path]
            if keys:
                cache.put(keys[path], scanned[path])
    failures = [Failure(_display_path(str(path.resolve())), *failure)
                for path in paths for failure in per_file[path]["failures"]]
    return ScanResult(sorted(failures), sum(per_file[p]["passed"] for p in paths),
                      sum(per_file[p]["skipped"] for p in paths))


def _cache_key(path: Path) -> str:
    # This module's bytes stand for the checkov options it passes, checkovrun's for the way it runs checkov.
    return fingerprint(f"checkov {version_of('checkov')}", Path(__file__).read_bytes(),
                       Path(__file__).with_name("checkovrun.py").read_bytes(), path.read_bytes())


def _run_checkov(paths: list[Path]) -> dict[Path, dict]:
    """Per file: {"failures": [[resource, check id, check name]], "passed": n, "skipped": n}."""
    # Not --quiet: it leaves out the passed and skipped checks, which are counted per file here.
    command = [*checkov_command(), "--framework", "cloudformation", "--skip-download",
               "--compact", "--output", "json"]
    for path in paths:
        command += ["--file", str(path)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if not completed.stdout.strip():
        raise RuntimeError(f"checkov produced no report (exit {completed.returncode}): {completed.stderr.strip()}")
    reports = json.loads(completed.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_file = {path.resolve(): {"failures": [], "passed": 0, "skipped": 0} for path in paths}
    for report in reports:
        results = report.get("results", {})
        for check in results.get("failed_checks", []):
            by_file[Path(check["file_abs_path"]).resolve()]["failures"].append(
                [check["resource"], check["check_id"], check["check_name"]])
        for kind, count in (("passed_checks", "passed"), ("skipped_checks", "skipped")):
            for check in results.get(kind, []):
                by_file[Path(check["file_abs_path"]).resolve()][count] += 1
    return {path: by_file[path.resolve()] for path in paths}


def _display_path(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path
