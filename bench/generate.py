#!/usr/bin/env python3
"""Whole-process wall time of `python generate.py` and `threetier lint` (median of N runs).

Usage: python bench/generate.py [RUNS]   (default 5). Prints figures; asserts nothing.
"""

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def median_seconds(command: list[str], runs: int) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=PROJECT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    threetier = shutil.which("threetier", path=str(Path(sys.executable).parent)) or "threetier"
    commands = {
        "python generate.py": [sys.executable, "generate.py"],
        "python generate.py --check": [sys.executable, "generate.py", "--check"],
        "threetier lint": [threetier, "lint"],
    }
    print(f"{'command':32} {'median':>8} {'min':>8} {'max':>8}   ({runs} runs)")
    for label, command in commands.items():
        median, low, high = median_seconds(command, runs)
        print(f"{label:32} {median:7.2f}s {low:7.2f}s {high:7.2f}s")


if __name__ == "__main__":
    main()
