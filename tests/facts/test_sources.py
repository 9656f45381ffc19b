"""Every AWS fact says where it comes from and when it was checked (src/threetier/facts/__init__.py)."""

from __future__ import annotations

import datetime
import importlib
import pkgutil

import pytest

from threetier import facts

MODULES = sorted(info.name for info in pkgutil.iter_modules(facts.__path__))


def test_the_facts_package_lists_every_module():
    assert MODULES, "no facts modules found"
    listed = {line.split("|")[1].strip() for line in facts.__doc__.splitlines() if line.startswith("| ")}
    assert set(MODULES) <= listed


@pytest.mark.parametrize("name", MODULES)
def test_each_facts_module_names_its_sources_and_when_they_were_checked(name):
    module = importlib.import_module(f"threetier.facts.{name}")
    assert module.SOURCES, f"{name}: SOURCES is empty"
    for source in module.SOURCES:
        assert source.startswith("https://") or "read at run time" in source, source
    checked = datetime.date.fromisoformat(module.CHECKED)
    assert datetime.date(2024, 1, 1) <= checked <= datetime.date.today()
