#!/usr/bin/env python3
"""Wall time of generate, lint and every `threetier check` gate (median of N runs).

Usage: python bench/generate.py [RUNS]   (default 5). Prints figures; asserts nothing.
Whole-process times include interpreter start and imports; gate times are
measured inside one process, as `threetier check` runs them.
"""

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def process_seconds(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=PROJECT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def gate_seconds(runs: int) -> dict[str, list[float]]:
    from threetier import gates
    from threetier.lint import DEFAULT_REGIONS

    times: dict[str, list[float]] = {}
    for _ in range(runs):
        for result in gates.run_all(PROJECT, DEFAULT_REGIONS):
            times.setdefault(f"gate: {result.name}", []).append(result.seconds)
    return times


def show(label: str, times: list[float]) -> None:
    print(f"{label:32} {statistics.median(times):7.2f}s {min(times):7.2f}s {max(times):7.2f}s")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    threetier = shutil.which("threetier", path=str(Path(sys.executable).parent)) or "threetier"
    print(f"{'command':32} {'median':>8} {'min':>8} {'max':>8}   ({runs} runs)")
    for label, command in {
        "python generate.py": [sys.executable, "generate.py"],
        "python generate.py --check": [sys.executable, "generate.py", "--check"],
        "threetier lint (6 regions)": [threetier, "lint"],
        "threetier check (all gates)": [threetier, "check"],
    }.items():
        show(label, process_seconds(command, runs))
    for label, times in gate_seconds(runs).items():
        show(label, times)


if __name__ == "__main__":
    main()
