"""The quality gates CI, pre-commit and the GitHub workflow run: `threetier check`.

    generate --check   output/ is exactly what the code generates
    lint               cfn-lint, every region, informational rules included: zero findings
    scan               checkov, offline: zero failures (exceptions skipped inline, with reasons)
    secrets            detect-secrets over the repository and output/: nothing found
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from threetier import emit


@dataclass
class GateResult:
    name: str
    passed: bool
    summary: str
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        status = "ok  " if self.passed else "FAIL"
        return f"{self.name:18} {status} {self.summary} ({self.seconds:.1f} s)"


def templates_in(project: Path) -> list[Path]:
    return sorted((project / "output").glob("*.yaml"))


def generate_check(project: Path, **_) -> GateResult:
    rendered = emit.build_all(project)
    problems = emit.drift(project / "output", rendered)
    if problems:
        return GateResult("generate --check", False,
                          f"{len(problems)} file(s) out of date: run `python generate.py`",
                          details=[f"output/{p}" for p in problems])
    return GateResult("generate --check", True, f"{len(rendered)} templates up to date")


def lint(project: Path, regions: tuple[str, ...], **_) -> GateResult:
    from threetier.lint import lint_files

    files = templates_in(project)
    findings = lint_files(files, regions)
    summary = f"{len(findings)} finding(s) in {len(files)} templates, {len(regions)} regions"
    return GateResult("lint", not findings, summary, details=[str(f) for f in findings])


def scan(project: Path, **_) -> GateResult:
    from threetier.scan import ScannerMissing, scan as run_scan

    try:
        result = run_scan(templates_in(project))
    except ScannerMissing as error:
        return GateResult("scan", False, str(error))
    summary = (f"{result.passed} passed, {len(result.failures)} failed, "
               f"{result.skipped} skipped inline with a reason")
    return GateResult("scan", not result.failures, summary, details=[str(f) for f in result.failures])


def secrets(project: Path, **_) -> GateResult:
    from threetier.scan import ScannerMissing
    from threetier.secretscan import find_secrets, tracked_files

    files = tracked_files(project)
    try:
        findings = find_secrets(files, project)
    except ScannerMissing as error:
        return GateResult("secrets", False, str(error))
    summary = f"{len(findings)} possible secret(s) in {len(files)} files"
    return GateResult("secrets", not findings, summary, details=[str(f) for f in findings])


GATES = (generate_check, lint, scan, secrets)


def run_all(project: Path, regions: tuple[str, ...]) -> list[GateResult]:
    results = []
    for gate in GATES:
        started = time.perf_counter()
        result = gate(project, regions=regions)
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results
