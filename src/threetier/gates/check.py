"""The quality gates CI, pre-commit and the GitHub workflow run: `threetier check`.

    generate --check   output/ is exactly what the code generates
    lint               cfn-lint, every region, informational rules included: zero findings
    scan               checkov, offline: zero failures (exceptions skipped inline, with reasons)
    secrets            detect-secrets over the repository and output/: nothing found
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
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
    from threetier.gates import userdata

    rendered = emit.build_output(project)
    too_long = userdata.problems(userdata.measure(emit.data_all(project)))
    if too_long:  # generate would refuse to write these, whatever output/ holds
        return GateResult("generate --check", False, f"{len(too_long)} user data too long", details=too_long)
    problems = emit.drift(project / "output", rendered)
    if problems:
        return GateResult("generate --check", False,
                          f"{len(problems)} file(s) out of date: run `python generate.py`",
                          details=[f"output/{p}" for p in problems])
    return GateResult("generate --check", True, f"{len(rendered) - 1} templates up to date")


def lint(project: Path, regions: tuple[str, ...], cache_dir: Path | None = None, **_) -> GateResult:
    from threetier.gates.lint import lint_files

    files = templates_in(project)
    findings = lint_files(files, regions, cache_dir=cache_dir)
    summary = f"{len(findings)} finding(s) in {len(files)} templates, {len(regions)} regions"
    return GateResult("lint", not findings, summary, details=[str(f) for f in findings])


def scan(project: Path, cache_dir: Path | None = None, **_) -> GateResult:
    from threetier.gates.scan import ScannerMissing, scan as run_scan

    try:
        result = run_scan(templates_in(project), cache_dir=cache_dir)
    except ScannerMissing as error:
        return GateResult("scan", False, str(error))
    summary = (f"{result.passed} passed, {len(result.failures)} failed, "
               f"{result.skipped} skipped inline with a reason")
    return GateResult("scan", not result.failures, summary, details=[str(f) for f in result.failures])


def secrets(project: Path, cache_dir: Path | None = None, workers=None, **_) -> GateResult:
    from threetier.gates.scan import ScannerMissing
    from threetier.gates.secretscan import find_secrets, tracked_files

    files = tracked_files(project)
    try:
        findings = find_secrets(files, project, cache_dir=cache_dir, workers=workers)
    except ScannerMissing as error:
        return GateResult("secrets", False, str(error))
    summary = f"{len(findings)} possible secret(s) in {len(files)} files"
    return GateResult("secrets", not findings, summary, details=[str(f) for f in findings])


GATES = (generate_check, lint, scan, secrets)


def run_all(project: Path, regions: tuple[str, ...], cache_dir: Path | None = None) -> list[GateResult]:
    """Every gate's result, in GATES order; with `cache_dir`, the slow gates reuse results for unchanged files.

    The gates run at the same time, each in a thread: lint works in its own
    processes, scan in a checkov subprocess, so their waits overlap with the
    in-process gates instead of adding up. A cold secrets scan shares its files
    with lint's worker processes, after lint's templates, so that it does not
    finish alone on one core when the others are done.
    """
    from threetier.gates.lint import worker_pool

    with ThreadPoolExecutor(max_workers=len(GATES)) as pool:
        running = [pool.submit(_timed, gate, project, regions, cache_dir, worker_pool) for gate in GATES]
        return [future.result() for future in running]


def _timed(gate, project: Path, regions: tuple[str, ...], cache_dir: Path | None, workers) -> GateResult:
    started = time.perf_counter()
    result = gate(project, regions=regions, cache_dir=cache_dir, workers=workers)
    result.seconds = time.perf_counter() - started
    return result
