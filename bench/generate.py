#!/usr/bin/env python3
"""Whole-process times of the inner loop: generate, lint and check, cold and warm (median of N runs).

Usage: python bench/generate.py [RUNS]   (default 5). Prints a Markdown table; asserts nothing.

Each figure is one whole `python generate.py` or `threetier ...` process,
interpreter start and imports included. "cold" runs with an empty result cache
(a new THREETIER_CACHE_DIR each run), "warm" with the cache a previous run left
and nothing changed. Bytecode caching is on, as in a usual Python (one uncounted
run writes the .pyc files first). CPU is user + system time of the process and
all its descendants (lint's forkserver and the workers it forks, checkov):
unlike wall time it barely moves when other work shares the machine. On Linux
this process adopts orphaned descendants (PR_SET_CHILD_SUBREAPER) and waits for
them, so the forkserver, which outlives its parent by a moment and is not waited
for by it, is counted too. Memory is the peak resident size of a generate process.
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def adopt_orphans() -> None:
    """Become the reaper of descendants whose parent exits first (Linux), so their CPU time is counted."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_CHILD_SUBREAPER = 36
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans() -> None:
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def run_once(command: list[str], cache_dir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `command`."""
    env = {**os.environ, "THREETIER_CACHE_DIR": str(cache_dir)}
    # Python writes and reuses bytecode (.pyc) unless told not to; measure that usual case.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=PROJECT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(command: list[str], runs: int, warm: bool) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="threetier-bench-") as scratch:
        for index in range(runs):
            cache_dir = Path(scratch) / ("warm" if warm else f"cold-{index}")
            if warm and index == 0:
                run_once(command, cache_dir)  # fills the cache; not counted
            wall, cpu = run_once(command, cache_dir)
            walls.append(wall)
            cpus.append(cpu)
    return walls, cpus


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    adopt_orphans()
    threetier = shutil.which("threetier", path=str(Path(sys.executable).parent)) or "threetier"
    commands = {
        "python generate.py": ([sys.executable, "generate.py"], False),
        "python generate.py --check": ([sys.executable, "generate.py", "--check"], False),
        "threetier lint, cold": ([threetier, "lint"], False),
        "threetier lint, warm": ([threetier, "lint"], True),
        "threetier check, cold": ([threetier, "check"], False),
        "threetier check, warm": ([threetier, "check"], True),
    }
    print(f"| command ({runs} runs, {os.cpu_count()} CPUs) | median | min | max | CPU (median) |")
    print("|---|---:|---:|---:|---:|")
    generate_peak = 0.0
    with tempfile.TemporaryDirectory(prefix="threetier-bench-") as scratch:
        run_once([sys.executable, "generate.py", "--check"], Path(scratch))  # writes the .pyc files; not counted
    for label, (command, warm) in commands.items():
        walls, cpus = measure(command, runs, warm)
        print(f"| `{label}` | {statistics.median(walls):.2f} s | {min(walls):.2f} s | {max(walls):.2f} s "
              f"| {statistics.median(cpus):.2f} s |", flush=True)
        if "generate" in label:  # the largest child so far is a generate process
            generate_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\n`python generate.py` peak memory: {generate_peak:.0f} MB")


if __name__ == "__main__":
    main()
