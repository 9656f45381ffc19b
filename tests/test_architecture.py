"""Imports only run down the layers of docs/architecture.md.

parameters -> templates -> emit -> gates / insight -> review -> deploy -> cli, on top of the AWS
facts (which import nothing of the project) and the templates' building blocks. A module may
import its own package and any package of a lower layer, never one beside or above it: templates
never import deploy, gates never import insight. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

# Lowest first. Packages on one line are side by side: neither may import the other.
# rotation is the rotation function's Lambda zip: it stands alone, like facts.
LAYERS = (
    ("facts", "rotation"),
    ("parameters",),
    ("blocks",),
    ("templates",),
    ("emit",),
    ("gates", "insight"),
    ("review",),
    ("deploy",),
    ("cli",),
)
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


def package_of(module: str) -> str | None:
    """The layer package of a dotted module name, None for what is no layer (threetier's version)."""
    parts = module.split(".")
    if parts[0] == "templates":
        return "templates"
    if parts[0] != "threetier" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in RANK else None


def imported_modules(source: str, module: str) -> set[str]:
    """Every project module `source` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(module.split(".")[:-node.level] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in ("threetier", "templates")}


def violations(source: str, module: str) -> list[str]:
    """`module imports X` for each import of a package beside or above the module's own."""
    own = package_of(module)
    if own is None:
        return []
    wrong = []
    for name in sorted(imported_modules(source, module)):
        other = package_of(name)
        if other is None or other == own:
            continue
        if RANK[other] >= RANK[own]:
            wrong.append(f"{module} ({own}) imports {name} ({other})")
    return wrong


def project_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((PROJECT / "src" / "threetier").rglob("*.py")):
        parts = path.relative_to(PROJECT / "src").with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for path in sorted((PROJECT / "templates").glob("*.py")):
        modules["templates" if path.stem == "__init__" else f"templates.{path.stem}"] = path
    return modules


def test_every_module_belongs_to_a_layer():
    homeless = [module for module in project_modules()
                if package_of(module) is None and module not in ("threetier", "threetier.cli")]
    assert homeless == [], "add the package to LAYERS and to docs/architecture.md"


def test_no_import_runs_up_or_sideways():
    found = [wrong for module, path in project_modules().items()
             for wrong in violations(path.read_text(encoding="utf-8"), module)]
    assert found == []


@pytest.mark.parametrize("leaf", ["facts", "rotation"])
def test_leaves_import_nothing_of_the_project(leaf):
    """facts are plain tables; rotation is the Lambda zip's content, where threetier does not exist."""
    modules = {module: path for module, path in project_modules().items() if package_of(module) == leaf}
    assert modules, f"no {leaf} package?"
    outside = {module: sorted(name for name in imported_modules(path.read_text(encoding="utf-8"), module)
                              if package_of(name) != leaf)
               for module, path in modules.items()}
    assert {module: names for module, names in outside.items() if names} == {}


@pytest.mark.parametrize("module, source, expected", [
    # A template that reaches into deploy, even lazily inside a function.
    ("templates.app", "def build():\n    from threetier.deploy import session\n",
     ["templates.app (templates) imports threetier.deploy (deploy)",
      "templates.app (templates) imports threetier.deploy.session (deploy)"]),
    # Side by side is not allowed either.
    ("threetier.gates.lint", "from threetier.insight import model\n",
     ["threetier.gates.lint (gates) imports threetier.insight (insight)",
      "threetier.gates.lint (gates) imports threetier.insight.model (insight)"]),
    # A relative import is resolved before it is judged.
    ("threetier.facts.engines", "from ..parameters import validate\n",
     ["threetier.facts.engines (facts) imports threetier.parameters (parameters)",
      "threetier.facts.engines (facts) imports threetier.parameters.validate (parameters)"]),
    # Down the layers and within the package: fine.
    ("threetier.deploy.commands.plan", "from threetier.review import danger\nfrom threetier.deploy import ami\n", []),
])
def test_the_layer_check_catches_an_import_up_or_sideways(module, source, expected):
    assert violations(source, module) == expected
