"""cfn-lint through its Python API, informational rules included, plus the project's own
rules (threetier/lintrules; README: "What the lint gate knows beyond cfn-lint"): the bar is zero findings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Six regions on four continents: resource and property support differs by region.
DEFAULT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1")


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.rule} {self.message}"


def lint_files(
    paths: list[Path], regions: tuple[str, ...] = DEFAULT_REGIONS, parameters: dict[str, str] | None = None
) -> list[Finding]:
    """Findings for every file in every region, each reported once, in file/line order.

    With `parameters`, cfn-lint also resolves each template's parameters to
    those values (the ones it declares), as for one environment's deploy.
    Files are linted in parallel, one process per CPU: cfn-lint is CPU-bound.
    """
    jobs = [(str(path), tuple(regions), parameters) for path in paths]
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        results = [_lint_one(*job) for job in jobs]
    else:
        # Imported here: the CLI imports this module for DEFAULT_REGIONS on every command.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: a forked child could inherit a lock another thread
        # holds (tests run a moto server thread beside this).
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_lint_one, *zip(*jobs)))
    return sorted({finding for found in results for finding in found})


def _lint_one(path: str, regions: tuple[str, ...], parameters: dict[str, str] | None) -> list[Finding]:
    # Imported here: cfn-lint costs ~0.5 s to import and only this command needs it.
    from cfnlint.api import ManualArgs, lint_file
    from cfnlint.decode import decode

    from threetier.lintrules import RULES_DIR

    # append_rules: cfn-lint imports every rule file of the folder by path, next to its own rules.
    options = {"regions": list(regions), "include_checks": ["I"], "append_rules": [str(RULES_DIR)]}
    if parameters:
        template, _ = decode(path)
        declared = (template or {}).get("Parameters", {})
        options["parameters"] = [{k: v for k, v in parameters.items() if k in declared}]
    return [Finding(path, match.linenumber, match.rule.id, match.message)
            for match in lint_file(Path(path), config=ManualArgs(**options))]
