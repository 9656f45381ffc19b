import importlib
import json
import re

import pytest

import templates
from templates import monitoring
from threetier.parameters.evaluate import Evaluation

ALB = {"LoadBalancer": {"Ref": "AlbFullName"}}
ALB_TG = {**ALB, "TargetGroup": {"Ref": "TargetGroupFullName"}}
# Named as the data stack names them (naming.DB_INSTANCE), here with the default ProjectName and EnvironmentName.
DB = {"DBInstanceIdentifier": "project-x-dev-db"}
DB_REPLICA = {"DBInstanceIdentifier": "project-x-dev-db-replica"}
EFS = {"FileSystemId": {"Ref": "EfsFileSystemId"}}

# alarm: (namespace, metric, dimensions, parameter that sets its threshold or duration)
EXPECTED = {
    "AlbHttp5xxRateAlarm": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", ALB, "Alb5xxPercent"),
    "TargetHttp5xxRateAlarm": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ALB_TG, "Target5xxPercent"),
    "UnhealthyHostsAlarm": ("AWS/ApplicationELB", "UnHealthyHostCount", ALB_TG, "UnhealthyHostMinutes"),
    "ResponseTimeP95Alarm": ("AWS/ApplicationELB", "TargetResponseTime", ALB_TG, "ResponseTimeP95Ms"),
    "InServiceBelowMinimumAlarm": ("AWS/AutoScaling", "GroupInServiceInstances",
                                   {"AutoScalingGroupName": {"Ref": "AutoScalingGroupName"}}, "AsgMinSize"),
    "DbCpuAlarm": ("AWS/RDS", "CPUUtilization", DB, "DbCpuPercent"),
    "DbFreeStorageAlarm": ("AWS/RDS", "FreeStorageSpace", DB, "DbFreeStorageGiB"),
    "DbFreeableMemoryAlarm": ("AWS/RDS", "FreeableMemory", DB, "DbFreeableMemoryMiB"),
    "DbConnectionsAlarm": ("AWS/RDS", "DatabaseConnections", DB, "DbConnectionsMax"),
    "DbReplicaLagAlarm": ("AWS/RDS", "ReplicaLag", DB_REPLICA, "DbReplicaLagSeconds"),
    # ReplicaLag = -1: replication is not running, whatever the lag threshold.
    "DbReplicationStoppedAlarm": ("AWS/RDS", "ReplicaLag", DB_REPLICA, None),
    "EfsBurstCreditAlarm": ("AWS/EFS", "BurstCreditBalance", EFS, "EfsBurstCreditGiB"),
    "EfsIoLimitAlarm": ("AWS/EFS", "PercentIOLimit", EFS, "EfsIoLimitPercent"),
    # From the app stack's metric filter; any error counts, so no threshold parameter.
    "DatabaseErrorsAlarm": ("threetier/project-x-dev", "DatabaseErrors", {}, None),
    # The rotation function is named after the environment; any error counts.
    "RotationErrorsAlarm": ("AWS/Lambda", "Errors", {"FunctionName": "project-x-dev-db-rotation"}, None),
    **{f"NatGateway{n}PortAllocationAlarm": (
        "AWS/NATGateway", "ErrorPortAllocation",
        {"NatGatewayId": {"Fn::Select": [n - 1, {"Ref": "NatGatewayIds"}]}}, "NatPortAllocationErrors")
       for n in (1, 2, 3)},
}


@pytest.fixture(scope="module")
def monitoring_dict():
    return monitoring.build().to_dict()


def alarms(template: dict, **values) -> dict:
    return {k: r["Properties"] for k, r in Evaluation(template, values).resources().items()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


def watched(alarm: dict) -> tuple:
    """(namespace, metric, dimensions) of the metric an alarm watches, directly or through math."""
    if "MetricName" in alarm:
        namespace, metric, dimensions = alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]
    else:
        source = next(q for q in alarm["Metrics"] if q["Id"] == "m1")["MetricStat"]["Metric"]
        namespace, metric, dimensions = source["Namespace"], source["MetricName"], source["Dimensions"]
    return namespace, metric, {d["Name"]: d["Value"] for d in dimensions}


def test_every_alarm_exists_watches_the_right_metric_and_notifies_the_topic(monitoring_dict):
    all_on = alarms(monitoring_dict, DbReplicaEnabled="true", EfsThroughputMode="bursting",
                    NumberOfAzs="3", SingleNatGateway="false")
    assert set(all_on) == set(EXPECTED)
    for name, (namespace, metric, dimensions, param) in EXPECTED.items():
        alarm = all_on[name]
        assert watched(alarm) == (namespace, metric, dimensions), name
        raw = monitoring_dict["Resources"][name]["Properties"]
        if param is None:
            assert isinstance(raw["Threshold"], (int, float)), name
        else:
            assert {"Ref": param} in (raw["Threshold"], raw["EvaluationPeriods"]), name
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] in {"breaching", "notBreaching", "missing"}, name


def test_rate_alarms_divide_errors_by_requests_filled_with_zero(monitoring_dict):
    alarm = monitoring_dict["Resources"]["AlbHttp5xxRateAlarm"]["Properties"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert queries["errors"]["Expression"] == "FILL(m1, 0)"
    assert queries["requests"]["Expression"] == "FILL(m2, 0)"
    assert queries["e1"]["Expression"] == (
        "IF(errors > 0, 100 * errors / IF(requests > errors, requests, errors), 0)")
    assert queries["m2"]["MetricStat"]["Metric"]["MetricName"] == "RequestCount"
    assert [q["Id"] for q in alarm["Metrics"] if q["ReturnData"]] == ["e1"]


def test_missing_data_is_read_per_alarm(monitoring_dict):
    found = alarms(monitoring_dict)
    assert found["AlbHttp5xxRateAlarm"]["TreatMissingData"] == "notBreaching"
    assert found["UnhealthyHostsAlarm"]["TreatMissingData"] == "breaching"
    assert found["InServiceBelowMinimumAlarm"]["TreatMissingData"] == "breaching"
    assert found["DbCpuAlarm"]["TreatMissingData"] == "missing"


@pytest.mark.parametrize("values,present,absent", [
    ({"DbReplicaEnabled": "false"}, set(), {"DbReplicaLagAlarm", "DbReplicationStoppedAlarm"}),
    ({"DbReplicaEnabled": "true"}, {"DbReplicaLagAlarm", "DbReplicationStoppedAlarm"}, set()),
    ({"EfsThroughputMode": "elastic"}, set(), {"EfsBurstCreditAlarm"}),
    ({"EfsPerformanceMode": "maxIO"}, set(), {"EfsIoLimitAlarm"}),
    ({"NumberOfAzs": "2", "SingleNatGateway": "true"}, {"NatGateway1PortAllocationAlarm"},
     {"NatGateway2PortAllocationAlarm", "NatGateway3PortAllocationAlarm"}),
    ({"NumberOfAzs": "3", "SingleNatGateway": "false"},
     {f"NatGateway{n}PortAllocationAlarm" for n in (1, 2, 3)}, set()),
])
def test_alarms_exist_only_for_resources_that_exist(monitoring_dict, values, present, absent):
    found = set(alarms(monitoring_dict, **values))
    assert present <= found
    assert not absent & found


def test_replica_alarms_are_under_the_replica_condition(monitoring_dict):
    for name in ("DbReplicaLagAlarm", "DbReplicationStoppedAlarm"):
        assert monitoring_dict["Resources"][name]["Condition"] == "HasReadReplica"


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(monitoring_dict):
    resources = monitoring_dict["Resources"]
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = resources["AlarmTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    grants = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    assert grants["CloudWatchAlarmsPublish"]["Principal"] == {"Service": {"Fn::Sub": "cloudwatch.${AWS::URLSuffix}"}}
    assert set(grants["CloudWatchAlarmsPublish"]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_topic_policy_names_exactly_sns_publish(monitoring_dict):
    statements = {s["Sid"]: s for s in
                  monitoring_dict["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"CloudWatchAlarmsPublish", "RotationFailuresPublish", "BackupFailuresPublish",
                               "DenyInsecureTransport"}
    publish, deny = statements["CloudWatchAlarmsPublish"], statements["DenyInsecureTransport"]
    assert (publish["Effect"], publish["Action"]) == ("Allow", ["sns:Publish"])
    assert publish["Principal"] == {"Service": {"Fn::Sub": "cloudwatch.${AWS::URLSuffix}"}}
    # A topic policy takes SNS actions only: "*" is refused (lint rule E9006).
    assert (deny["Effect"], deny["Action"]) == ("Deny", ["sns:Publish"])
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_email_subscription_is_optional(monitoring_dict):
    assert "AlarmEmailSubscription" not in Evaluation(monitoring_dict, {}).resources()
    on = Evaluation(monitoring_dict, {"AlarmEmail": "ops@example.com"}).resources()
    subscription = on["AlarmEmailSubscription"]["Properties"]
    assert subscription["Protocol"] == "email" and subscription["Endpoint"] == "ops@example.com"


@pytest.mark.parametrize("value, accepted", [
    ("", True),
    ("ops@example.com", True),
    ("arn:aws:sns:eu-west-1:123456789012:pager-duty_alerts", True),
    ("arn:aws-us-gov:sns:us-gov-west-1:123456789012:oncall", True),
    ("not an email", False),
    ("arn:aws:sns:eu-west-1:123456789012:alerts.fifo", False),  # FIFO: alarms notify standard topics
    ("arn:aws:sqs:eu-west-1:123456789012:queue", False),
    ("arn:aws:sns:eu-west-1:1234:alerts", False),
])
def test_alarm_email_takes_an_address_or_a_topic_arn(monitoring_dict, value, accepted):
    assert bool(re.fullmatch(monitoring_dict["Parameters"]["AlarmEmail"]["AllowedPattern"], value)) is accepted


TOPIC = "arn:aws:sns:eu-west-1:123456789012:chat-alerts"


def test_a_topic_arn_is_notified_by_every_alarm_and_subscribes_nothing(monitoring_dict):
    resources = Evaluation(monitoring_dict, {"AlarmEmail": TOPIC}).resources()
    assert "AlarmEmailSubscription" not in resources, "SNS has no protocol that subscribes a topic to a topic"
    alarms = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms
    for name, alarm in alarms.items():
        for actions in ("AlarmActions", "OKActions"):
            assert alarm[actions] == [{"Ref": "AlarmTopic"}, TOPIC], (name, actions)


@pytest.mark.parametrize("values", [{}, {"AlarmEmail": "ops@example.com"}])
def test_without_a_topic_arn_the_alarms_notify_only_their_own_topic(monitoring_dict, values):
    resources = Evaluation(monitoring_dict, values).resources()
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms and all(a["AlarmActions"] == a["OKActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


SAMPLES = {
    "AlbFullName": "app/alb/0123456789abcdef", "TargetGroupFullName": "targetgroup/tg/0123456789abcdef",
    "AutoScalingGroupName": "asg-1",
    "EfsFileSystemId": "fs-0123456789abcdef0", "NatGatewayIds": "nat-1",
}


def dashboard(monitoring_dict, **values) -> dict:
    evaluation = Evaluation(monitoring_dict, {**SAMPLES, **values})
    return json.loads(evaluation.resolve(monitoring_dict["Resources"]["Dashboard"]["Properties"]["DashboardBody"]))


@pytest.mark.parametrize("values", [
    {}, {"DbReplicaEnabled": "true"}, {"EfsThroughputMode": "bursting", "EfsPerformanceMode": "maxIO"},
])
def test_dashboard_is_valid_json_with_a_row_per_tier(monitoring_dict, values):
    body = dashboard(monitoring_dict, **values)
    rows = [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]
    assert rows == ["## Load balancer", "## App servers", "## Database", "## Shared file system", "## NAT gateways"]
    for widget in body["widgets"]:
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "us-east-1"


def dashboard_dimensions(body: dict) -> set:
    found = set()
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            found.update(zip(metric[2::2], metric[3::2]))
    return found


def test_dashboard_references_only_resources_that_exist(monitoring_dict):
    default = dashboard(monitoring_dict, EfsThroughputMode="elastic")
    names = {value for _, value in dashboard_dimensions(default)}
    assert DB_REPLICA["DBInstanceIdentifier"] not in names, "no replica, no replica widget"
    # The database and the rotation function are named after the environment (ProjectName and
    # EnvironmentName defaults here).
    assert names <= {*SAMPLES.values(), DB["DBInstanceIdentifier"], "project-x-dev-db-rotation"}
    metrics = {m[1] for w in default["widgets"] for m in w.get("properties", {}).get("metrics", [])}
    assert "BurstCreditBalance" not in metrics and "PercentIOLimit" in metrics
    assert DB_REPLICA["DBInstanceIdentifier"] in {
        v for _, v in dashboard_dimensions(dashboard(monitoring_dict, DbReplicaEnabled="true"))}


def test_root_wires_monitoring_and_can_switch_it_off(root_template):
    root = root_template.to_dict()
    stack = root["Resources"]["MonitoringStack"]
    assert stack["Condition"] == "UseMonitoring"
    assert root["Parameters"]["MonitoringEnabled"]["Default"] == "true"
    assert "MonitoringStack" not in Evaluation(root, {"MonitoringEnabled": "false"}).resources()
    passed = stack["Properties"]["Parameters"]
    # The load balancer is the front stack's in the parallel layout, the app stack's in the chain; the
    # group is named in the parallel layout, so that the alarms need not wait for the app stack.
    assert passed["AlbFullName"] == {"Fn::If": ["Parallel", {"Fn::GetAtt": ["FrontStack", "Outputs.AlbFullName"]},
                                                {"Fn::GetAtt": ["AppStack", "Outputs.AlbFullName"]}]}
    parallel = Evaluation(root, {"StackLayout": "parallel"})
    assert "AppStack" not in str(parallel.resolve(passed["AutoScalingGroupName"]))
    # The database identifiers are named, not passed (the root's size); the secrets are passed.
    assert "DbInstanceIdentifier" not in passed and "DbReplicaIdentifier" not in passed
    for secret in ("DbMasterSecretArn", "DbAppSecretArn"):
        assert passed[secret] == {"Fn::GetAtt": ["DataStack", f"Outputs.{secret}"]}
    assert passed["NatGatewayIds"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.NatGatewayIds"]}


@pytest.mark.parametrize("module", sorted(templates.STACKS.values()))
def test_every_log_group_has_a_retention(module):
    template = importlib.import_module(f"templates.{module}").build().to_dict()
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert "RetentionInDays" in resource["Properties"], f"{module}: {name}"


def test_database_errors_alarm_fires_on_errors_in_two_of_five_minutes(monitoring_dict):
    alarm = monitoring_dict["Resources"]["DatabaseErrorsAlarm"]["Properties"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert (queries["m1"]["MetricStat"]["Stat"], queries["m1"]["MetricStat"]["Period"]) == ("Sum", 60)
    # Every minute has a datapoint, so "2 of 5" means the last five minutes, not the evaluation range.
    assert queries["e1"]["Expression"] == "FILL(m1, 0)" and queries["e1"]["ReturnData"] is True
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (5, 2)
    assert alarm["TreatMissingData"] == "notBreaching", "no log events, no errors"


@pytest.mark.parametrize("name", ["DatabaseErrorsAlarm", "ResponseTimeP95Alarm", "EfsIoLimitAlarm",
                                  "NatGateway1PortAllocationAlarm"])
def test_alarms_on_metrics_that_report_only_events_fill_the_quiet_periods(monitoring_dict, name):
    alarm = monitoring_dict["Resources"][name]["Properties"]
    returned = [q["Expression"] for q in alarm["Metrics"] if q["ReturnData"]]
    assert len(returned) == 1 and returned[0].startswith("FILL(m1, 0)"), name


# ----------------------------------------------------------------------------- the dashboard shows what alarms watch

EVERY_BRANCH = [
    {},
    {"DbReplicaEnabled": "true", "EfsThroughputMode": "bursting", "EfsPerformanceMode": "maxIO",
     "NumberOfAzs": "3", "SingleNatGateway": "false", "NatGatewayIds": "nat-1,nat-2,nat-3"},
    {"NumberOfAzs": "2", "SingleNatGateway": "false", "NatGatewayIds": "nat-1,nat-2"},
    {"NumberOfAzs": "3", "SingleNatGateway": "true"},
]


def watched_metrics(evaluation: Evaluation, alarm: dict) -> set:
    """(namespace, metric name, dimensions) of each metric the alarm reads: its own, or its metric math's inputs."""
    metrics = ([q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]
               if "Metrics" in alarm else [alarm])
    return {(evaluation.resolve(m["Namespace"]), evaluation.resolve(m["MetricName"]),
             frozenset((d["Name"], evaluation.resolve(d["Value"])) for d in m.get("Dimensions", [])))
            for m in metrics}


def shown(body: dict) -> set:
    """(namespace, metric name, dimensions) of every metric a dashboard widget graphs."""
    found = set()
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            names = [part for part in metric if isinstance(part, str)]  # a trailing {} holds render options
            found.add((names[0], names[1], frozenset(zip(names[2::2], names[3::2]))))
    return found


@pytest.mark.parametrize("values", EVERY_BRANCH)
def test_every_alarm_watches_a_metric_the_dashboard_shows(monitoring_dict, values):
    evaluation = Evaluation(monitoring_dict, {**SAMPLES, **values})
    body = dashboard(monitoring_dict, **values)
    alarms = {name: r["Properties"] for name, r in evaluation.resources().items()
              if r["Type"] == "AWS::CloudWatch::Alarm"}
    on_the_dashboard = shown(body)
    hidden = {name: sorted(map(str, watched_metrics(evaluation, alarm) - on_the_dashboard)) for name, alarm in alarms.items()}
    assert {name: missing for name, missing in hidden.items() if missing} == {}


def test_the_branches_reach_every_alarm(monitoring_dict):
    reached = set()
    for values in EVERY_BRANCH:
        resources = Evaluation(monitoring_dict, {**SAMPLES, **values}).resources()
        reached |= {name for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert reached == {name for name, r in monitoring_dict["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_a_nat_gateway_widget_shows_that_gateway_and_no_other(monitoring_dict):
    body = dashboard(monitoring_dict, NumberOfAzs="3", SingleNatGateway="false", NatGatewayIds="nat-1,nat-2,nat-3")
    nat = {w["properties"]["title"]: w["properties"]["metrics"][0][3] for w in body["widgets"]
           if w["type"] == "metric" and w["properties"]["metrics"][0][0] == "AWS/NATGateway"}
    assert nat == {f"NAT gateway {n} port allocation errors": f"nat-{n}" for n in (1, 2, 3)}
    one = dashboard(monitoring_dict, NatGatewayIds="nat-1")
    assert [w["properties"]["title"] for w in one["widgets"] if "NAT" in w["properties"].get("title", "")] == [
        "NAT gateway 1 port allocation errors"]


def test_a_failed_rotation_of_this_environments_database_secrets_notifies_the_alarm_topic(monitoring_dict):
    """Secrets Manager's RotationFailed (a CloudTrail service event) for the two database secrets,
    and no other secret's, goes to the topic the alarms notify."""
    rule = monitoring_dict["Resources"]["RotationFailedRule"]["Properties"]
    assert rule["State"] == "ENABLED"
    assert rule["EventPattern"] == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        "detail": {"eventSource": ["secretsmanager.amazonaws.com"], "eventName": ["RotationFailed"],
                   "additionalEventData": {"SecretId": [{"Ref": "DbMasterSecretArn"}, {"Ref": "DbAppSecretArn"}]}},
    }
    (target,) = Evaluation(monitoring_dict, {}).resources()["RotationFailedRule"]["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "AlarmTopic"}
    assert target["InputTransformer"]["InputPathsMap"]["secret"] == "$.detail.additionalEventData.SecretId"


def test_a_failed_rotation_also_notifies_the_recipients_own_topic(monitoring_dict):
    pager = "arn:aws:sns:eu-west-1:123456789012:oncall"
    targets = Evaluation(monitoring_dict, {"AlarmEmail": pager}).resources()["RotationFailedRule"]["Properties"]["Targets"]
    assert [target["Arn"] for target in targets] == [{"Ref": "AlarmTopic"}, pager]


def test_only_the_rotation_failure_rule_may_publish_to_the_topic_through_eventbridge(monitoring_dict):
    resources = monitoring_dict["Resources"]
    statements = {s["Sid"]: s for s in resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    publish = statements["RotationFailuresPublish"]
    assert (publish["Effect"], publish["Action"], publish["Resource"]) == ("Allow", ["sns:Publish"],
                                                                           [{"Ref": "AlarmTopic"}])
    assert publish["Principal"] == {"Service": {"Fn::Sub": "events.${AWS::URLSuffix}"}}
    assert publish["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["RotationFailedRule", "Arn"]}}}
    # The topic is encrypted with the stack's key: EventBridge must be able to use it, in this account.
    grants = {s["Sid"]: s for s in resources["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]}
    key = grants["EventBridgePublish"]
    assert key["Principal"] == {"Service": {"Fn::Sub": "events.${AWS::URLSuffix}"}}
    assert set(key["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert key["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_rotation_function_errors_alarm_stays_beside_the_event(monitoring_dict):
    assert monitoring_dict["Resources"]["RotationErrorsAlarm"]["Type"] == "AWS::CloudWatch::Alarm"


def test_failed_missed_and_uncopied_backups_reach_the_alarm_topic(monitoring_dict):
    resources = monitoring_dict["Resources"]
    rule = resources["BackupFailedRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.backup"],
        "detail-type": ["Backup Job State Change", "Copy Job State Change"],
        "detail": {"state": ["FAILED", "ABORTED", "EXPIRED"]},
    }
    assert rule["Targets"][0]["Arn"] == {"Ref": "AlarmTopic"}
    assert "<resource>" in rule["Targets"][0]["InputTransformer"]["InputTemplate"]
    statements = {s["Sid"]: s for s in resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    # Only that rule may publish for it.
    assert statements["BackupFailuresPublish"]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["BackupFailedRule", "Arn"]}}}
