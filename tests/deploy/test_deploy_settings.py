"""threetier.toml: pinned account and region (refused end to end against the local moto server),
settings as defaults for flags, one clear line per bad file, and the rollback triggers of an update.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY
from troposphere import Equals, Ref, cloudformation

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, STACK_NAME, app_template, root_template, write_project, write_templates
from tests.deploy.test_deploy_moto import (
    BUCKET as MOTO_BUCKET,
    aws as moto_aws,  # noqa: F401 (fixture)
)
from tests.deploy.test_deploy_stubbed import BUCKET, CHANGE_SET, STACK_ID, aws, plan, threetier  # noqa: F401 (fixture)
from threetier import cli
from threetier.deploy.rollback import NO_TRIGGERS

MOTO_ACCOUNT = "123456789012"  # the account moto's STS answers with
OTHER_ACCOUNT = "111122223333"
MONITORING_ID = r.stack_arn(f"{STACK_NAME}-MonitoringStack-1XYZ", "3")


def write_settings(project, text: str):
    path = project / "threetier.toml"
    path.write_text(text)
    return path


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


def on_moto(project, moto, *argv) -> int:
    return cli.main(["--project-dir", str(project), *argv, "--endpoint-url", moto.endpoint])


def moto_stacks(moto) -> list[str]:
    return [s["StackName"] for s in moto.cfn.describe_stacks()["Stacks"]]


# ----------------------------------------------------------------------------- account and region

def test_credentials_for_another_account_are_refused_before_anything_is_created(project, moto_aws, capsys):
    write_settings(project, f'[dev]\naccount_id = "{OTHER_ACCOUNT}"\nregion = "us-east-1"\n'
                            f'bucket = "{MOTO_BUCKET}"\n')

    assert on_moto(project, moto_aws, "deploy", ENV, "--yes") == 2

    err = capsys.readouterr().err
    assert (f"these credentials are for account {MOTO_ACCOUNT}, but dev is pinned to account "
            f"{OTHER_ACCOUNT}") in err
    assert moto_stacks(moto_aws) == []
    assert "Contents" not in moto_aws.s3.list_objects_v2(Bucket=MOTO_BUCKET)  # nothing uploaded either


def test_the_pinned_account_region_bucket_and_prefix_are_used_without_flags(project, moto_aws, capsys):
    write_settings(project, f'[dev]\naccount_id = "{MOTO_ACCOUNT}"\nregion = "us-east-1"\n'
                            f'bucket = "{MOTO_BUCKET}"\nprefix = "pinned"\n')

    assert on_moto(project, moto_aws, "plan", ENV) == 0

    assert f"account {MOTO_ACCOUNT} and region us-east-1, as pinned for dev" in capsys.readouterr().err
    keys = [o["Key"] for o in moto_aws.s3.list_objects_v2(Bucket=MOTO_BUCKET)["Contents"]]
    assert keys and all(key.startswith("pinned/") for key in keys)
    assert moto_stacks(moto_aws) == [STACK_NAME]


def test_a_flag_overrides_a_setting(project, moto_aws):
    write_settings(project, '[dev]\nregion = "us-east-1"\nbucket = "no-such-bucket"\nprefix = "pinned"\n')

    assert on_moto(project, moto_aws, "plan", ENV, "--bucket", MOTO_BUCKET, "--prefix", "flag") == 0

    keys = [o["Key"] for o in moto_aws.s3.list_objects_v2(Bucket=MOTO_BUCKET)["Contents"]]
    assert keys and all(key.startswith("flag/") for key in keys)


def test_a_region_flag_that_disagrees_with_the_pin_is_refused(project, aws, capsys):
    write_settings(project, '[dev]\nregion = "eu-west-1"\n')

    assert plan(project, "--region", "us-east-1") == 2

    assert "--region us-east-1 disagrees with region eu-west-1 pinned for dev" in capsys.readouterr().err
    assert aws.calls == []


@pytest.mark.parametrize("text, says", [
    ('[dev]\naccount_id = "12345"\n', "[dev] account_id '12345' is not an AWS account id: 12 digits"),
    ("[dev]\naccount_id = 123456789012\n", "is not an AWS account id: 12 digits, in quotes"),
    ('[dev]\nacount_id = "123456789012"\n', "[dev] unknown key 'acount_id' (known: account_id,"),
    ('[dev\nregion = "us-east-1"\n', "not valid TOML:"),
    ('[prod]\nregion = "us-east-1"\n', "no [dev] table (environments: prod)"),
    ('region = "us-east-1"\n', "region must be inside an environment table such as [dev]"),
    ("[dev]\nrollback_monitoring_minutes = 200\n", "from 0 to 180"),
    ('[dev]\nprotected = "yes"\n', "protected must be true or false"),
    ('[dev]\nrole_arn = "deployer"\n', "role_arn 'deployer' is not an ARN like arn:aws:iam::"),
])
def test_a_bad_settings_file_is_one_clear_line_and_exit_2(project, aws, capsys, text, says):
    write_settings(project, text)

    assert plan(project, "--bucket", BUCKET) == 2

    err = capsys.readouterr().err
    assert says in err and "threetier.toml" in err
    assert len(err.strip().splitlines()) == 1
    assert aws.calls == []


def test_a_settings_file_named_on_the_command_line_must_exist(project, aws, capsys):
    assert plan(project, "--bucket", BUCKET, "--settings", str(project / "missing.toml")) == 2
    assert "missing.toml: no such settings file" in capsys.readouterr().err
    assert aws.calls == []


def test_role_tags_and_notification_topics_go_into_the_change_set(project, aws):
    topic = "arn:aws:sns:us-east-1:123456789012:deploys"
    write_settings(project, '[dev]\nrole_arn = "arn:aws:iam::123456789012:role/cfn"\n'
                            f'tags = {{ team = "web" }}\nnotification_arns = ["{topic}"]\n')
    aws.stack_missing()
    aws.templates_already_uploaded()
    aws.cfn_stub.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID}, {
        "StackName": STACK_NAME, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "TemplateURL": ANY,
        "Parameters": ANY, "Capabilities": ANY, "IncludeNestedStacks": True, "Description": ANY,
        "RoleARN": "arn:aws:iam::123456789012:role/cfn", "Tags": [{"Key": "team", "Value": "web"}],
        "NotificationARNs": [topic], "OnStackFailure": "DELETE",
    })
    aws.change_set_described(r.change_set(STACK_NAME, [r.resource_change("Add", "Topic", "AWS::SNS::Topic")]))

    assert plan(project, "--bucket", BUCKET) == 0


# ----------------------------------------------------------------------------- rollback triggers

@pytest.fixture
def monitored(tmp_path):
    """The test project with a monitoring nested stack, like the real root."""
    root = root_template()
    root.add_resource(cloudformation.Stack("MonitoringStack", TemplateURL="monitoring.yaml",
                                           Parameters={"ProjectName": Ref("ProjectName")}))
    project = write_project(tmp_path)
    write_templates(project, {"main.yaml": root, "monitoring.yaml": app_template(" (monitoring)")})
    return project


def monitoring_stack_found(aws, alarms=("AlbHttp5xxRateAlarm", "UnhealthyHostsAlarm",
                                        "InServiceBelowMinimumAlarm", "DbCpuAlarm")):
    aws.cfn_stub.add_response("describe_stack_resource", r.stack_resource_detail(
        STACK_NAME, "MonitoringStack", "AWS::CloudFormation::Stack", MONITORING_ID),
        {"StackName": STACK_ID, "LogicalResourceId": "MonitoringStack"})
    aws.cfn_stub.add_response("describe_stack_resources", {"StackResources": [
        r.stack_resource("monitoring", name, "AWS::CloudWatch::Alarm", f"shop-dev-{name.lower()}",
                         stack_id=MONITORING_ID) for name in alarms
    ] + [r.stack_resource("monitoring", "AlarmTopic", "AWS::SNS::Topic", "arn:aws:sns:us-east-1:1:t",
                          stack_id=MONITORING_ID)]}, {"StackName": MONITORING_ID})


def update_planned(aws, rollback_configuration, monitoring_looked_up=True):
    aws.stack_is("UPDATE_COMPLETE")
    if monitoring_looked_up:
        monitoring_stack_found(aws)
    for _ in range(3):  # app.yaml and monitoring.yaml (the same bytes), main.yaml
        aws.s3_stub.add_response("head_object", {}, {"Bucket": BUCKET, "Key": ANY})
    expected = {"StackName": STACK_NAME, "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "TemplateURL": ANY,
                "Parameters": ANY, "Capabilities": ANY, "IncludeNestedStacks": True, "Description": ANY}
    expected["RollbackConfiguration"] = rollback_configuration
    aws.cfn_stub.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID}, expected)
    aws.change_set_described(r.change_set(STACK_NAME, [
        r.resource_change("Modify", "Setting", "AWS::SSM::Parameter", Replacement="False")]))


def alarm(name: str) -> str:
    return f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:shop-dev-{name.lower()}"


GUARDED = {
    "RollbackTriggers": [{"Arn": alarm(name), "Type": "AWS::CloudWatch::Alarm"} for name in
                         ("AlbHttp5xxRateAlarm", "UnhealthyHostsAlarm", "InServiceBelowMinimumAlarm")],
    "MonitoringTimeInMinutes": 10,
}


def test_an_update_is_guarded_by_the_monitoring_stacks_alarms_and_plan_names_them(monitored, aws, capsys):
    update_planned(aws, GUARDED)

    assert plan(monitored) == 0

    out = capsys.readouterr().out
    assert "Rollback triggers: 3 alarm(s) guard this update and the 10 minute(s) after it" in out
    assert f"  - UnhealthyHostsAlarm: {alarm('UnhealthyHostsAlarm')}" in out
    assert "DbCpuAlarm" not in out  # a busy database is no reason to undo a release


def test_the_monitoring_window_is_a_setting_and_json_names_the_alarms(monitored, aws, capsys):
    write_settings(monitored, "[dev]\nrollback_monitoring_minutes = 30\n")
    update_planned(aws, {**GUARDED, "MonitoringTimeInMinutes": 30})

    assert plan(monitored, "--json") == 0

    guard = json.loads(capsys.readouterr().out)["rollback_triggers"]
    assert guard["monitoring_minutes"] == 30
    assert [a["logical_id"] for a in guard["alarms"]] == [
        "AlbHttp5xxRateAlarm", "UnhealthyHostsAlarm", "InServiceBelowMinimumAlarm"]


def test_rollback_triggers_turned_off_clear_the_ones_an_earlier_update_saved(monitored, aws, capsys):
    # Left out, RollbackConfiguration would keep the saved triggers: an empty list removes them.
    write_settings(monitored, "[dev]\nrollback_triggers = false\n")
    update_planned(aws, NO_TRIGGERS, monitoring_looked_up=False)

    assert plan(monitored) == 0
    assert "Rollback triggers" not in capsys.readouterr().out


def test_an_update_that_removes_the_monitoring_stack_is_not_guarded_by_its_alarms(tmp_path, aws, capsys):
    """Turning monitoring off deletes the alarms: as triggers of that very update they would go missing,
    and CloudFormation fails an update whose trigger is missing. It clears the triggers instead."""
    root = root_template()
    root.add_condition("Monitored", Equals(Ref("EnvironmentName"), "prod"))  # false for dev's values
    root.add_resource(cloudformation.Stack("MonitoringStack", Condition="Monitored", TemplateURL="monitoring.yaml",
                                           Parameters={"ProjectName": Ref("ProjectName")}))
    project = write_project(tmp_path)
    write_templates(project, {"main.yaml": root, "monitoring.yaml": app_template(" (monitoring)")})
    update_planned(aws, NO_TRIGGERS, monitoring_looked_up=False)  # no DescribeStackResource asked

    assert plan(project) == 0
    assert "Rollback triggers" not in capsys.readouterr().out


def test_without_the_monitoring_stack_nothing_guards_the_update(monitored, aws, capsys):
    aws.stack_is("UPDATE_COMPLETE")
    aws.cfn_stub.add_client_error("describe_stack_resource", "ValidationError",
                                  f"Resource MonitoringStack does not exist for stack {STACK_NAME}")
    for _ in range(3):
        aws.s3_stub.add_response("head_object", {}, {"Bucket": BUCKET, "Key": ANY})
    aws.change_set_created("UPDATE")  # with an empty RollbackConfiguration: no triggers, saved ones cleared
    aws.change_set_described(r.change_set(STACK_NAME, [r.resource_change("Add", "T", "AWS::SNS::Topic")]))

    assert plan(monitored) == 0
    assert "Rollback triggers" not in capsys.readouterr().out


def test_a_first_create_has_no_rollback_triggers(monitored, aws):
    aws.stack_missing()
    for _ in range(3):
        aws.s3_stub.add_response("head_object", {}, {"Bucket": BUCKET, "Key": ANY})
    aws.change_set_created("CREATE")
    aws.change_set_described(r.change_set(STACK_NAME, [r.resource_change("Add", "T", "AWS::SNS::Topic")]))

    assert plan(monitored) == 0
    assert "DescribeStackResource" not in aws.calls
