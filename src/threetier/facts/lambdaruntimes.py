"""Lambda runtimes: which Python runtime the project's own functions run on, from a dated table.

cfn-lint ships AWS's runtime lifecycle (deprecation, create-block and update-block
dates, and each runtime's successor) as data, the table its rules E2531/W2531 check
templates against; the project picks the newest Python runtime in it that has no
successor, so a runtime AWS deprecates never reaches a template: a cfn-lint release
with a new Python moves `generate` to it, and `generate --check` shows the change.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtimes-supported
"""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from functools import lru_cache
from pathlib import Path

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtimes-supported",
    "cfn-lint's LmbdRuntimeLifecycle.json (the release pinned in setup.cfg), read at run time",
)
CHECKED = "2026-12-06"
FAMILY = "python"


@lru_cache(maxsize=None)
def lifecycle() -> dict[str, dict]:
    """{runtime: {deprecated, create-block, update-block, successor}} as cfn-lint ships it."""
    # Found, not imported: importing cfnlint would load the AWS SDK into every `generate`.
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("cfn-lint is not installed: it ships the Lambda runtime table")
    data = Path(next(iter(spec.submodule_search_locations))) / "data" / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    return json.loads(data.read_text())


def newest_python() -> str:
    """The Python runtime with no successor in the lifecycle table: the newest."""
    newest = [name for name, row in lifecycle().items() if name.startswith(FAMILY) and row.get("successor") is None]
    if len(newest) != 1:
        raise LookupError(f"the Lambda runtime table names {len(newest)} newest Python runtimes: {sorted(newest)}")
    return newest[0]


def deprecated_on(runtime: str) -> date:
    return date.fromisoformat(lifecycle()[runtime]["deprecated"])
