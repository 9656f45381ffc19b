"""plan's expected duration: `threetier timeline`'s estimate for the change set it reviews."""

import pytest

from threetier.deploy import duration
from threetier.deploy.commands.plan import Planned
from threetier.insight import model, stacks, timeline
from threetier.review.changes import Change, Review


def review(change_set_type: str, *changes: Change) -> Review:
    return Review(stack_name="project-x-prod", stack_id="id", change_set_id="cs", change_set_type=change_set_type,
                  status="CREATE_COMPLETE", status_reason="", changes=changes)


@pytest.fixture(scope="module")
def prod(project):
    templates = model.load_templates(project)
    values = model.load_values(project, "prod")[1]
    return templates, values, stacks.evaluate(templates, values, model.DEFAULT_REGION)


def test_a_create_expects_the_whole_critical_path(project, prod):
    templates, values, evaluated = prod
    expected = duration.estimate(project, values, review("CREATE"), model.DEFAULT_REGION)
    assert expected == timeline.create(templates, evaluated).total


def test_a_release_expects_the_rolling_update_of_the_nested_rows(project, prod):
    templates, values, evaluated = prod
    rows = (Change("Modify", "AppStack", "AWS::CloudFormation::Stack", "project-x-prod", "False"),
            Change("Modify", "AppLaunchTemplate", "AWS::EC2::LaunchTemplate", "project-x-prod/AppStack", "False"),
            Change("Modify", "AppAutoScalingGroup", "AWS::AutoScaling::AutoScalingGroup",
                   "project-x-prod/AppStack", "False"))
    expected = duration.estimate(project, values, review("UPDATE", *rows), model.DEFAULT_REGION)
    assert expected >= timeline.rollout_of(evaluated).seconds
    assert expected < timeline.create(templates, evaluated).total


def test_a_project_without_a_root_stack_expects_nothing(tmp_path):
    from tests.deploy.fixtures.project import write_project
    project = write_project(tmp_path)
    assert duration.estimate(project, {"ProjectName": "shop"}, review("CREATE"), "us-east-1") is None
    assert duration.line(None, "dev") == []


def test_the_review_notes_say_it(project, prod):
    planned = Planned(clients=None, inputs=None, review=review("CREATE"), dangers=[], allowed=set(), env="prod",
                      expected_seconds=2700)
    assert "Expected duration: about 45 minutes, an estimate (`threetier timeline prod`" in "\n".join(planned.notes())
    assert planned.extras()["expected_seconds"] == 2700
