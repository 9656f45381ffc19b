"""`threetier timeline`: the stack graph, the create's critical path and typical updates, offline."""

from __future__ import annotations

import json

import pytest
from troposphere import GetAtt, Output, Parameter, Ref, Template, cloudformation, ec2, rds

from threetier.cli import main
from threetier.facts import durations
from threetier.insight import model, stacks, timeline
from threetier.review import timelinecommand


@pytest.fixture(scope="module")
def templates(project):
    return model.load_templates(project)


def evaluated(project, templates, env: str) -> list[stacks.Stack]:
    return stacks.evaluate(templates, model.load_values(project, env)[1], model.DEFAULT_REGION)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_critical_path_is_a_chain_that_adds_up_to_the_total(project, templates, env):
    found = timeline.create(templates, evaluated(project, templates, env))
    path = found.critical_path
    assert path[0].start == 0 and path[-1].end == found.total
    for earlier, later in zip(path, path[1:]):
        assert later.start == earlier.end, (earlier.name, later.name)
    assert sum(step.seconds for step in path) == found.total
    # Nothing ends after the path does: it is the longest chain.
    assert max(step.end for step in found.steps.values()) == found.total


def _with(project, templates, env: str, **changes: str) -> list[stacks.Stack]:
    values = {**model.load_values(project, env)[1], **changes}
    return stacks.evaluate(templates, values, model.DEFAULT_REGION)


def _stack_end(found: timeline.Timeline, stack: str) -> int:
    return found.steps[f"{stack}.{timeline.STACK_STEP}"].end


def _stack_start(found: timeline.Timeline, stack: str) -> int:
    return min(step.start for step in found.steps.values() if step.stack == stack)


def test_in_the_parallel_layout_nothing_waits_for_what_it_does_not_use(project, templates):
    prod = _with(project, templates, "prod", StackLayout="parallel")
    found = timeline.create(templates, prod)
    waits = found.stack_waits_for
    assert "data" not in waits["edge"] and "app" not in waits["edge"], "CloudFront needs the load balancer only"
    assert "app" not in waits["replica"] and "replica" not in waits["app"], "the replica beside the app"
    assert "app" not in waits["monitoring"], "the alarms beside the app"
    assert waits["front"] == ["network", "security"]
    # And so in time: the distribution builds while the primary does.
    assert _stack_start(found, "edge") < found.steps["data.DbInstance"].end
    assert _stack_start(found, "monitoring") < _stack_end(found, "app")


def test_the_chain_layout_keeps_its_order(project, templates):
    """Environments created before the parallel layout keep theirs (review.refusals refuses a change)."""
    found = timeline.create(templates, _with(project, templates, "prod", StackLayout="chain"))
    waits = found.stack_waits_for
    assert "front" not in waits and "replica" not in waits
    assert waits["app"] == ["data", "network", "security"]
    assert "app" in waits["edge"] and "data" in waits["edge"] and "app" in waits["monitoring"]


def test_prods_site_answers_after_the_primary_and_the_servers_boot(project, templates):
    """The issue's target: a prod create no longer than the fixed steps before the database, the primary's
    create and the servers' boot and signal. The replica starts when its source is available, wherever it
    is, so it finishes after; nothing a request needs waits for it."""
    found = timeline.create(templates, _with(project, templates, "prod", StackLayout="parallel"))
    names = [step.name for step in found.steps.values() if step.end <= found.serving]
    assert "replica.DbReplica" not in names
    database = found.steps["data.DbInstance"]
    assert database.seconds == durations.db_instance(True, 100).create  # prod: Multi-AZ, 100 GiB
    # The path to the site: network and security, then the data stack (its primary, then a secret
    # attachment and the stack's completion), then the app stack (its servers' boot and signal).
    assert _stack_start(found, "data") == _stack_end(found, "security")
    assert _stack_end(found, "data") - database.end <= 60
    assert _stack_end(found, "front") <= _stack_end(found, "data") == _stack_start(found, "app")
    assert found.serving == _stack_end(found, "app") < found.total == _stack_end(found, "replica")
    assert found.serving < timeline.create(templates, _with(project, templates, "prod", StackLayout="chain")).total


def test_the_stack_graph_is_what_the_root_references(project, templates):
    found = timeline.create(templates, evaluated(project, templates, "prod"))
    assert found.stack_waits_for["network"] == []
    assert found.stack_waits_for["app"] == ["data", "front", "network", "security"]
    assert "edge" not in timeline.create(templates, evaluated(project, templates, "dev")).stack_waits_for


def _two_stacks() -> stacks.Templates:
    """A root with two nested stacks that do not reference each other, and a chain inside one."""
    root = Template()
    root.add_resource(cloudformation.Stack("Slow", TemplateURL="slow.yaml"))
    root.add_resource(cloudformation.Stack("Fast", TemplateURL="fast.yaml"))
    slow = Template()
    slow.add_parameter(Parameter("Size", Type="String", Default="20"))
    vpc = slow.add_resource(ec2.VPC("Net", CidrBlock="10.0.0.0/16"))
    slow.add_resource(rds.DBInstance("Db", DBInstanceClass="db.t4g.micro", Engine="mysql",
                                     AllocatedStorage=Ref("Size"), MasterUsername="admin", ManageMasterUserPassword=True,
                                     DependsOn=[vpc.title]))
    slow.add_output(Output("Address", Value=GetAtt("Db", "Endpoint.Address")))
    fast = Template()
    fast.add_resource(ec2.VPC("Net", CidrBlock="10.1.0.0/16"))
    dicts = {"root": root.to_dict(), "slow": slow.to_dict(), "fast": fast.to_dict()}
    return stacks.Templates(by_module=dicts, module_of_file={"main.yaml": "root", "slow.yaml": "slow",
                                                             "fast.yaml": "fast"})


def test_stacks_that_do_not_wait_for_each_other_run_side_by_side():
    found_templates = _two_stacks()
    found = timeline.create(found_templates, stacks.evaluate(found_templates, {}, "us-east-1"))
    vpc = durations.TYPICAL["AWS::EC2::VPC"].create
    database = durations.db_instance(False, 20).create
    stack = durations.TYPICAL["AWS::CloudFormation::Stack"].create
    assert found.stack_waits_for == {"slow": [], "fast": []}
    assert found.total == vpc + database + stack  # the fast stack's time is hidden beside it
    assert [step.name for step in found.critical_path] == ["slow.Net", "slow.Db", "slow.(stack)"]


def test_an_update_takes_only_what_it_changes_and_deletes_last():
    found_templates = _two_stacks()
    after = stacks.evaluate(found_templates, {}, "us-east-1")
    changes = {"slow.Db": ("in place", "AWS::RDS::DBInstance"), "fast.Gone": ("remove", "AWS::EC2::VPC")}
    found = timeline.update(found_templates, after, changes)
    stack = durations.TYPICAL["AWS::CloudFormation::Stack"].update
    expected = durations.db_instance(False, 20).update + stack + durations.TYPICAL["AWS::EC2::VPC"].delete
    assert found.total == expected
    assert found.critical_path[-1].logical_id == "(cleanup)"
    assert "slow.Net" not in [step.name for step in found.critical_path]


def test_a_release_rolls_prods_servers_one_batch_after_another(project, templates):
    values = model.load_values(project, "prod")[1]
    prod = evaluated(project, templates, "prod")
    release = timelinecommand.typical_updates(templates, values, prod)[timelinecommand.RELEASE]
    rollout = timeline.rollout_of(prod)
    assert (rollout.servers, rollout.batch_size, rollout.batches) == (int(values["AsgMinSize"]), 1,
                                                                       int(values["AsgMinSize"]))
    group = next(step for step in release.critical_path if step.logical_id == "AppAutoScalingGroup")
    assert group.seconds == rollout.seconds
    assert not any(step.stack == "data" for step in release.critical_path), "a release leaves the data tier alone"


def test_the_command_says_estimates_and_prints_the_path(capsys):
    assert main(["timeline", "dev"]) == 0
    out = capsys.readouterr().out
    assert "Estimates, not measurements" in out and f"checked {durations.CHECKED}" in out
    assert "First create: about" in out and "data.DbInstance  AWS::RDS::DBInstance" in out
    assert timelinecommand.RELEASE in out and timelinecommand.DATABASE_CLASS in out


def test_the_json_is_the_same_figures(project, templates, capsys):
    assert main(["timeline", "prod", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["estimate"] is True
    assert data["create"]["seconds"] == timeline.create(templates, evaluated(project, templates, "prod")).total
    assert all(step["source"] for step in data["create"]["critical_path"])


def test_an_unknown_environment_is_exit_2(capsys):
    assert main(["timeline", "qa"]) == 2
    assert "parameters/qa.json: no such parameter file" in capsys.readouterr().err


def test_the_boot_figures_docs_quote_are_the_ones_timeline_uses(project):
    page = " ".join((project / "docs" / "operations.md").read_text().split())
    assert (f"({timeline.BOOT_AT_BASELINE_SECONDS} s at a t3.small's baseline, "
            f"{timeline.BOOT_UNTHROTTLED_SECONDS} s unthrottled" in page)


def test_the_performance_page_quotes_the_layouts_figures(project, templates):
    """docs/performance.md's table: each environment in each layout, as timeline computes it."""
    page = (project / "docs" / "performance.md").read_text()
    rows = []
    for env in ("dev", "prod"):
        found = {}
        for layout in ("chain", "parallel"):
            values = {**model.load_values(project, env)[1], "StackLayout": layout}
            prod = stacks.evaluate(templates, values, model.DEFAULT_REGION)
            found[layout] = (timeline.create(templates, prod), timelinecommand.typical_updates(templates, values, prod))
        figures = [("first create, every stack complete", lambda create, updates: create.total),
                   ("first create, the site answers", lambda create, updates: create.serving)]
        if env == "prod":
            figures += [("a release (`AppRepositoryRef`)", lambda create, updates: updates[timelinecommand.RELEASE].total),
                        ("a bigger database class (`DbInstanceClass`)",
                         lambda create, updates: updates[timelinecommand.DATABASE_CLASS].total)]
        for what, figure in figures:
            before, after = (round(figure(*found[layout]) / 60) for layout in ("chain", "parallel"))
            rows.append(f"| {env} | {what} | {before} min | {after} min |")
    for row in rows:
        assert row in page, row


def test_the_recovery_page_quotes_the_time_until_the_site_answers(project, templates):
    """docs/recovery.md's RTO: a new environment until its site answers, as timeline computes it."""
    page = " ".join((project / "docs" / "recovery.md").read_text().split())
    dev, prod = (timeline.create(templates, evaluated(project, templates, env)) for env in ("dev", "prod"))
    assert f"**about {round(dev.serving / 60)} min (dev) / {round(prod.serving / 60)} min (prod)**" in page
    assert (f"(dev about {round(dev.serving / 60)} min, prod about {round(prod.serving / 60)} min, in the parallel "
            f"stack layout the environment files ask for; prod's read replica is done about "
            f"{round(prod.total / 60)} min in;") in page
