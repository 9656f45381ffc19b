"""Commands that a test session starts early and runs beside the tests.

A serial pytest run keeps one core busy. checkov, detect-secrets and cfn-lint
are CPU work that needs nothing from the other tests, so conftest.py starts the
commands the selected tests need when the session starts: they run on the core
the tests leave idle, niced so that the tests keep theirs. Most are the real
`threetier` console script, run as a user or CI runs it, with the session's
result cache (THREETIER_CACHE_DIR), where the in-process tests find their
results later. A test that needs a command's outcome waits for it (`result`);
a command nobody started yet (under pytest-xdist, whose workers each collect
every test) starts then.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path


def console_script() -> str:
    """The `threetier` installed beside this Python (pip install -e .), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "threetier"
    found = str(beside_python) if beside_python.is_file() else shutil.which("threetier")
    if found is None:
        raise RuntimeError("the threetier console script is not installed: pip install -e '.[test]'")
    return found


class Command:
    """One command: `start` it (at most once), then `result` waits for its CompletedProcess.

    argv[0] "threetier" is the console script; "python" is this Python. `niceness`: the
    lower, the sooner it is done among the commands started together.
    """

    def __init__(self, argv: list[str], cwd: Path, folder: Path, niceness: int = 10):
        self.argv, self.cwd, self.folder, self.niceness = argv, cwd, folder, niceness
        self._process: subprocess.Popen | None = None
        self._result: subprocess.CompletedProcess | None = None

    def start(self, niced: bool = True) -> None:
        if self._process is not None:
            return
        program = {"threetier": console_script, "python": lambda: sys.executable}[self.argv[0]]()
        command = [program, *self.argv[1:]]
        nice = shutil.which("nice")
        if niced and nice:
            command = [nice, "-n", str(self.niceness), *command]
        # Files, not pipes: nobody reads a pipe while the tests run, and a full one would stall the command.
        with open(self.folder / "stdout", "wb") as out, open(self.folder / "stderr", "wb") as err:
            # Its own process group: stop() ends the command and what it started (checkov).
            self._process = subprocess.Popen(command, cwd=self.cwd, stdout=out, stderr=err,
                                             stdin=subprocess.DEVNULL, start_new_session=True)

    def result(self, timeout: float = 600) -> subprocess.CompletedProcess:
        if self._result is None:
            self.start(niced=False)  # not started early: a test waits for it now
            try:
                returncode = self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop()
                raise RuntimeError(f"{' '.join(self.argv)} did not finish in {timeout:.0f} s") from None
            self._result = subprocess.CompletedProcess(
                self._process.args, returncode,
                (self.folder / "stdout").read_text(), (self.folder / "stderr").read_text())
        return self._result

    def stop(self) -> None:
        """At the end of the session: end the command's process group if it is still running (-x, Ctrl-C)."""
        if self._process is not None and self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self._process.wait()
