"""The security scan: checkov's CloudFormation checks, offline.

Run as a subprocess of the checkov installed beside this Python (extra
`scan`), with --skip-download so nothing is fetched. Deliberate exceptions are
skipped in the template Metadata of the resource they concern, never here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


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


def checkov_command() -> str:
    beside_python = Path(sys.executable).parent / "checkov"
    found = str(beside_python) if beside_python.is_file() else shutil.which("checkov")
    if found is None:
        raise ScannerMissing("checkov is not installed: pip install -e '.[scan]'")
    return found


def scan(paths: list[Path]) -> ScanResult:
    """Scan the templates; every failed check, in file/resource order."""
    command = [checkov_command(), "--framework", "cloudformation", "--skip-download", "--quiet",
               "--compact", "--output", "json"]
    for path in paths:
        command += ["--file", str(path)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if not completed.stdout.strip():
        raise RuntimeError(f"checkov produced no report (exit {completed.returncode}): {completed.stderr.strip()}")
    reports = json.loads(completed.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failures, passed, skipped = [], 0, 0
    for report in reports:
        summary = report.get("summary", {})
        passed += summary.get("passed", 0)
        skipped += summary.get("skipped", 0)
        for check in report.get("results", {}).get("failed_checks", []):
            failures.append(Failure(
                _display_path(check["file_abs_path"]), check["resource"], check["check_id"], check["check_name"]
            ))
    return ScanResult(sorted(failures), passed, skipped)


def _display_path(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path
