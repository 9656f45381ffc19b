"""Typical CloudFormation durations (threetier.facts.durations): every resource type the generated
templates use has one, every figure says where it comes from, and the RDS and boot figures move the
way their settings say."""

from __future__ import annotations

import datetime
import itertools
import re

import pytest

import templates
from threetier.facts import durations
from threetier.facts.durations import Typical

SOURCE_KINDS = ("https://", "measured ", "no published figure")


def used_types() -> set[str]:
    return {resource["Type"]
            for module in templates.STACKS.values()
            for resource in templates.built_dict(module).get("Resources", {}).values()}


def every_entry() -> list[tuple[str, Typical]]:
    made = [("db_instance(single-AZ, 20)", durations.db_instance(False, 20)),
            ("db_instance(Multi-AZ, 1000)", durations.db_instance(True, 1000)),
            ("db_replica(20)", durations.db_replica(20)),
            ("app_server_boot(120)", durations.app_server_boot(120))]
    return sorted(durations.TYPICAL.items()) + [("FALLBACK", durations.FALLBACK)] + made


def test_every_type_the_templates_use_has_an_entry():
    missing = used_types() - set(durations.TYPICAL)
    assert not missing, f"add these to facts/durations.py TYPICAL: {sorted(missing)}"


@pytest.mark.parametrize(("name", "typical"), every_entry(), ids=[name for name, _ in every_entry()])
def test_each_entry_names_its_source_and_its_figures_are_positive(name, typical):
    assert typical.source.strip(), name
    assert typical.source.startswith(SOURCE_KINDS), f"{name}: {typical.source[:60]!r}"
    assert typical.create >= 1 and typical.update >= 1 and typical.delete >= 1, name
    for value in (typical.create, typical.update, typical.delete):
        assert isinstance(value, int), name


def test_an_estimate_says_it_is_one_and_a_page_quotes_its_words():
    for name, typical in every_entry():
        if typical.source.startswith("no published figure"):
            assert "estimate" in typical.source, name
        elif typical.source.startswith("https://") and not typical.source.startswith("https://github.com/"):
            assert "'" in typical.source, f"{name}: quote the words the page says"


def test_a_report_says_when_it_was_made():
    """A GitHub report is dated (services get faster); an AWS page is as new as CHECKED."""
    for name, typical in every_entry():
        if typical.source.startswith("https://github.com/"):
            assert re.search(r"\b20\d\d-\d\d-\d\d\b", typical.source), name
    assert datetime.date(2024, 1, 1) <= datetime.date.fromisoformat(durations.CHECKED) <= datetime.date.today()


def test_the_fallback_says_it_is_one():
    assert "not in this table" in durations.FALLBACK.source
    assert durations.FALLBACK.source.startswith("no published figure")


@pytest.mark.parametrize("gib", [20, 100, 500, 2000, 16000])
def test_multi_az_is_never_faster_than_single_az(gib):
    single, multi = durations.db_instance(False, gib), durations.db_instance(True, gib)
    assert multi.create >= single.create
    assert multi.update >= single.update


@pytest.mark.parametrize("multi_az", [False, True])
def test_more_storage_is_never_faster(multi_az):
    sizes = [20, 21, 100, 500, 1000, 4000, 16000, 65536]
    for smaller, larger in itertools.pairwise(sizes):
        a, b = durations.db_instance(multi_az, smaller), durations.db_instance(multi_az, larger)
        assert b.create >= a.create and b.update >= a.update and b.delete >= a.delete
        assert durations.db_replica(larger).create >= durations.db_replica(smaller).create


def test_an_rds_instance_takes_minutes():
    assert durations.db_instance(False, 20).create >= 300
    assert durations.db_instance(True, 20).create >= 600


def test_a_replica_takes_at_least_a_snapshot_and_an_instance():
    assert durations.db_replica(20).create >= durations.db_instance(False, 20).create
    assert durations.db_replica(20).create >= 600


@pytest.mark.parametrize("boot", [0, 1, 60, 136, 600])
def test_a_server_takes_its_launch_and_its_boot(boot):
    assert durations.app_server_boot(boot).create > boot
    assert durations.app_server_boot(boot).update > boot


def test_the_table_row_for_rds_is_one_of_its_figures():
    assert durations.TYPICAL["AWS::RDS::DBInstance"] == durations.db_instance(True, 20)
