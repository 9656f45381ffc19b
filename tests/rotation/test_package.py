"""The rotation package as a Lambda zip: what it imports and what requirements.txt pins.

Fast (no server): part of the fast suite, unlike test_rotation.py.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROTATION = Path(__file__).resolve().parents[2] / "src" / "threetier" / "rotation"
# What the Lambda runtime has (boto3) and what the zip carries (the two drivers).
ALLOWED_THIRD_PARTY = {"boto3", "pymysql", "pg8000"}


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module.split(".")[0])
    return names


def pins() -> dict[str, tuple[str, list[str]]]:
    """{distribution name: (version, [sha256 hashes])} from requirements.txt."""
    text = re.sub(r"\s+#.*", "", (ROTATION / "requirements.txt").read_text(encoding="utf-8"))
    found = {}
    for line in text.replace("\\\n", " ").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement, *options = line.split()
        name, version = requirement.split("==")
        found[metadata.distribution(name).metadata["Name"].lower()] = (
            version, [option.split("sha256:")[1] for option in options if option.startswith("--hash=sha256:")])
    return found


def dependencies(name: str) -> set[str]:
    """The distribution's requirements, transitively, without extras."""
    seen, todo = set(), [name]
    while todo:
        for text in metadata.requires(todo.pop()) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            dependency = metadata.distribution(requirement.name).metadata["Name"].lower()
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def test_the_function_imports_only_the_standard_library_boto3_and_the_drivers():
    imports = top_level_imports(ROTATION / "lambda_function.py")
    assert imports - set(sys.stdlib_module_names) == ALLOWED_THIRD_PARTY


def test_every_requirement_is_pinned_with_a_hash():
    assert pins() and all(version and len(hashes) >= 1 and all(len(h) == 64 for h in hashes)
                          for version, hashes in pins().values())


def test_the_drivers_and_all_their_dependencies_are_pinned_as_installed_here():
    pinned = pins()
    needed = {"pymysql", "pg8000"} | dependencies("pymysql") | dependencies("pg8000")
    assert set(pinned) == needed
    # The tests run the versions the zip carries.
    assert {name: metadata.version(name) for name in needed} == {name: pinned[name][0] for name in needed}
