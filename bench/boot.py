#!/usr/bin/env python3
"""Boot time of an app server to its SUCCESS signal, against the CreationPolicy timeout.

Usage (root, with the boot test's packages; see README, "The boot test"):
    python bench/boot.py [RUNS]   (default 3)
Boots a fresh instance of the boot test's image per run and prints the time from
running the user data to cfn-signal SUCCESS, and the image build time when it is
not cached yet. Prints figures; asserts nothing.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from templates import app  # noqa: E402
from tests.boot import image  # noqa: E402
from tests.boot.instance import Instance, prerequisites  # noqa: E402
from tests.boot.test_boot import DATABASE, seeded_secrets, user_data  # noqa: E402


def main(runs: int) -> None:
    missing = prerequisites()
    if missing:
        sys.exit(f"bench/boot.py needs {', '.join(missing)}")
    started = time.perf_counter()
    rootfs = image.image()
    print(f"image ready in {time.perf_counter() - started:.0f} s ({rootfs})")
    seconds = []
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="boot-bench-") as workdir:
            instance = Instance(rootfs, Path(workdir), f"bench{run}", seeded_secrets())
            try:
                instance.start(DATABASE)
                status, took = instance.run_user_data(user_data(instance))
                if status != 0 or [s["Status"] for s in instance.signals()] != ["SUCCESS"]:
                    sys.exit(f"run {run + 1}: the boot failed (exit {status}); see the boot test")
                seconds.append(took)
                print(f"run {run + 1}: SUCCESS after {took:.1f} s")
            finally:
                instance.stop()
    timeout = 60 * int(app.BOOT_TIMEOUT.removeprefix("PT").removesuffix("M"))
    median = statistics.median(seconds)
    print(f"boot to SUCCESS: median {median:.1f} s, min {min(seconds):.1f} s, max {max(seconds):.1f} s "
          f"({runs} runs); CreationPolicy timeout {timeout} s ({median / timeout:.0%} of it)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
