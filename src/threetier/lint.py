"""cfn-lint through its Python API, informational rules included: the bar is zero findings."""

from __future__ import annotations

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
    """
    # Imported here: cfn-lint costs ~0.5 s to import and only this command needs it.
    from cfnlint.api import ManualArgs, lint_file
    from cfnlint.decode import decode

    findings = set()
    for path in paths:
        options = {"regions": list(regions), "include_checks": ["I"]}
        if parameters:
            template, _ = decode(str(path))
            declared = (template or {}).get("Parameters", {})
            options["parameters"] = [{k: v for k, v in parameters.items() if k in declared}]
        for match in lint_file(Path(path), config=ManualArgs(**options)):
            findings.add(Finding(str(path), match.linenumber, match.rule.id, match.message))
    return sorted(findings)
