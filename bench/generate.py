#!/usr/bin/env python3
"""Whole-process times of the inner loop: generate, lint and check, cold and warm (median of N runs).

Usage: python bench/generate.py [RUNS]   (default 5). Prints a Markdown table; asserts nothing.

Each figure is one whole `python generate.py` or `threetier ...` process,
interpreter start and imports included. "cold" runs with an empty result cache
(a new THREETIER_CACHE_DIR each run), "warm" with the cache a previous run left
and nothing changed. Bytecode caching is on, as in a usual Python (one uncounted
run writes the .pyc files first).

The generate rows come first, next to the import floor: `python -c "import
troposphere, awacs, yaml"`, what any process that builds these templates
imports. They are measured in the same rounds (generate, generate --check,
generate --check with the schema cache cold, the floor; round after round), so
that a busy spell of the machine falls on all of them alike. "Schema cache"
is the deployer role's actions worked out from cfn-lint's schemas
(threetier.blocks.deployeractions), kept in the result cache: warm when an
earlier run left them. generate.py turns Python's cycle collector off; the
floor's process keeps it on, as a plain `python -c` does.

CPU is user + system time of the process and all its descendants (lint's forkserver and the workers it forks, checkov):
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


def measure_in_rounds(commands: dict[str, tuple[list[str], bool]], runs: int) -> dict[str, tuple[list, list]]:
    """{label: (walls, cpus)}, each command run once per round, in order, `runs` rounds."""
    measured = {label: ([], []) for label in commands}
    with tempfile.TemporaryDirectory(prefix="threetier-bench-") as scratch:
        for number, (command, warm) in enumerate(commands.values()):
            if warm:
                run_once(command, Path(scratch) / f"warm-{number}")  # fills its cache; not counted
        for index in range(runs):
            for number, (label, (command, warm)) in enumerate(commands.items()):
                cache_dir = Path(scratch) / (f"warm-{number}" if warm else f"cold-{number}-{index}")
                wall, cpu = run_once(command, cache_dir)
                measured[label][0].append(wall)
                measured[label][1].append(cpu)
    return measured


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


def row(label: str, walls: list[float], cpus: list[float]) -> str:
    return (f"| {label} | {statistics.median(walls):.2f} s | {min(walls):.2f} s | {max(walls):.2f} s "
            f"| {statistics.median(cpus):.2f} s |")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    adopt_orphans()
    threetier = shutil.which("threetier", path=str(Path(sys.executable).parent)) or "threetier"
    floor = '`python -c "import troposphere, awacs, yaml"`, the import floor'
    in_rounds = {
        "`python generate.py`, schema cache warm": ([sys.executable, "generate.py"], True),
        "`python generate.py --check`, schema cache warm": ([sys.executable, "generate.py", "--check"], True),
        "`python generate.py --check`, schema cache cold": ([sys.executable, "generate.py", "--check"], False),
        floor: ([sys.executable, "-c", "import troposphere, awacs, yaml"], False),
    }
    one_after_another = {
        "`threetier lint`, cold": ([threetier, "lint"], False),
        "`threetier lint`, warm": ([threetier, "lint"], True),
        "`threetier check`, cold": ([threetier, "check"], False),
        "`threetier check`, warm": ([threetier, "check"], True),
    }
    print(f"| command ({runs} runs, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start) "
          "| median | min | max | CPU (median) |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="threetier-bench-") as scratch:
        run_once([sys.executable, "generate.py", "--check"], Path(scratch))  # writes the .pyc files; not counted
    medians = {}
    for label, (walls, cpus) in measure_in_rounds(in_rounds, runs).items():
        print(row(label, walls, cpus), flush=True)
        medians[label] = statistics.median(walls)
    # The largest child so far is a generate process.
    generate_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    for label, (command, warm) in one_after_another.items():
        print(row(label, *measure(command, runs, warm)), flush=True)
    generate, check = (medians[label] for label in list(in_rounds)[:2])
    print("\n" + against_the_floor(generate, check, medians[floor]))
    print(f"`python generate.py` peak memory: {generate_peak:.0f} MB")


def against_the_floor(generate: float, check: float, floor: float) -> str:
    return (f"`python generate.py` {generate:.3f} s and `--check` {check:.3f} s (medians, schema cache warm) "
            f"against the import floor's {floor:.3f} s in the same rounds: {generate / floor:.1f} and "
            f"{check / floor:.1f} times the floor, {generate - floor:.3f} and {check - floor:.3f} s above it.")


if __name__ == "__main__":
    main()
