"""Every alarm fires on the failure it exists for, and stays OK when things are healthy.

Each scenario feeds the metric series of one failure (or of a healthy system)
through CloudWatch's documented evaluation rules (threetier.review.alarmeval, checked
cell by cell against the User Guide's tables in test_alarm_evaluation.py) for the
alarm as the monitoring stack defines it, with these parameter values.
A period is a number (the statistic), a list of raw samples (one per load
balancer node, say) or None (no data that period); oldest first. The series is
the evaluation range: CloudWatch reaches back further than EvaluationPeriods when
datapoints are missing, by a length its page does not give, so scenarios with
gaps give more periods than the alarm evaluates.
"""

import itertools

import pytest

from templates import monitoring
from threetier.parameters.evaluate import Evaluation
from threetier.review import alarmeval
from threetier.review.alarmeval import ALARM, INSUFFICIENT_DATA, OK

GIB, MIB = 1024 ** 3, 1024 ** 2
VALUES = {
    "DbReplicaEnabled": "true", "EfsThroughputMode": "bursting", "EfsPerformanceMode": "generalPurpose",
    "NumberOfAzs": "3", "SingleNatGateway": "false", "AsgMinSize": "2",
    "Alb5xxPercent": "5", "Target5xxPercent": "5", "UnhealthyHostMinutes": "5", "ResponseTimeP95Ms": "1500",
    "DbCpuPercent": "80", "DbFreeStorageGiB": "5", "DbFreeableMemoryMiB": "128", "DbConnectionsMax": "450",
    "DbReplicaLagSeconds": "300", "EfsBurstCreditGiB": "100", "EfsIoLimitPercent": "90",
    "NatPortAllocationErrors": "0",
}


def repeat(value, times):
    return [value] * times


def nat(number):
    return {
        "stops connections": ({"ErrorPortAllocation": [0, 12]}, ALARM),
        "allocates every port": ({"ErrorPortAllocation": [None, None]}, OK),
        "quiet since the errors": ({"ErrorPortAllocation": [12, None, None]}, OK),
    }


# alarm: {scenario: (series by metric name, expected state)}
SCENARIOS = {
    "AlbHttp5xxRateAlarm": {
        # No registered or healthy target: the load balancer answers 503 and
        # RequestCount reports nothing (it counts only requests sent to a target).
        "no target to send requests to": (
            {"HTTPCode_ELB_5XX_Count": repeat(40, 5), "RequestCount": repeat(None, 5)}, ALARM),
        "10 % of requests get a 502": (
            {"HTTPCode_ELB_5XX_Count": repeat(10, 5), "RequestCount": repeat(100, 5)}, ALARM),
        "a single bad minute": (
            {"HTTPCode_ELB_5XX_Count": [None, None, 50, None, None], "RequestCount": repeat(100, 5)}, OK),
        "busy and healthy": ({"HTTPCode_ELB_5XX_Count": repeat(None, 5), "RequestCount": repeat(1000, 5)}, OK),
        "no traffic at all": ({"HTTPCode_ELB_5XX_Count": repeat(None, 5), "RequestCount": repeat(None, 5)}, OK),
    },
    "TargetHttp5xxRateAlarm": {
        "the app fails 20 % of requests": (
            {"HTTPCode_Target_5XX_Count": repeat(20, 5), "RequestCount": repeat(100, 5)}, ALARM),
        "1 % of requests fail": ({"HTTPCode_Target_5XX_Count": repeat(1, 5), "RequestCount": repeat(100, 5)}, OK),
        "no traffic at all": (
            {"HTTPCode_Target_5XX_Count": repeat(None, 5), "RequestCount": repeat(None, 5)}, OK),
    },
    "UnhealthyHostsAlarm": {
        # One sample per load balancer node (three AZs).
        "every node sees a failing server for 5 minutes": ({"UnHealthyHostCount": repeat([1, 1, 1], 5)}, ALARM),
        "one node's passing view of a flapping check": ({"UnHealthyHostCount": repeat([1, 0, 0], 5)}, OK),
        "the load balancer stopped reporting": ({"UnHealthyHostCount": repeat(None, 5)}, ALARM),
        # Missing minutes are filled as breaching only where real ones are too few, and
        # every real one counts: healthy minutes still in the range keep it OK.
        "stopped reporting 5 minutes ago, healthy before": (
            {"UnHealthyHostCount": repeat([0, 0, 0], 3) + repeat(None, 5)}, OK),
        "all servers healthy": ({"UnHealthyHostCount": repeat([0, 0, 0], 5)}, OK),
    },
    "ResponseTimeP95Alarm": {
        "slow responses for 3 minutes": (
            {"TargetResponseTime": [[0.1] * 19 + [0.2]] * 2 + [[2.0] * 20] * 3}, ALARM),
        "a single slow minute": ({"TargetResponseTime": [[0.1] * 20] * 4 + [[3.0] * 20]}, OK),
        # Minutes without requests have no TargetResponseTime; filled, they count as fast.
        "three slow requests in a quiet hour": (
            {"TargetResponseTime": ([[2.0]] + repeat(None, 9)) * 2 + [[2.0]] + repeat(None, 4)}, OK),
        "slow, then no requests": ({"TargetResponseTime": repeat([2.0] * 20, 3) + repeat(None, 5)}, OK),
        "fast responses": ({"TargetResponseTime": [[0.05] * 19 + [0.4]] * 5}, OK),
    },
    "InServiceBelowMinimumAlarm": {
        "one of two servers gone for 10 minutes": ({"GroupInServiceInstances": repeat(1, 10)}, ALARM),
        "the group stopped reporting": ({"GroupInServiceInstances": repeat(None, 10)}, ALARM),
        "a rolling update replaces one server for 5 minutes": (
            {"GroupInServiceInstances": repeat(2, 5) + repeat(1, 5)}, OK),
        "minimum in service": ({"GroupInServiceInstances": repeat(2, 10)}, OK),
    },
    "DbCpuAlarm": {
        "CPU pinned for 15 minutes": ({"CPUUtilization": [95, 96, 97]}, ALARM),
        "a 5 minute spike": ({"CPUUtilization": [30, 99, 30]}, OK),
        "idle": ({"CPUUtilization": [10, 12, 11]}, OK),
        "no data yet": ({"CPUUtilization": [None, None, None]}, INSUFFICIENT_DATA),
    },
    "DbFreeStorageAlarm": {
        "storage almost full": ({"FreeStorageSpace": [2 * GIB]}, ALARM),
        "plenty of room": ({"FreeStorageSpace": [40 * GIB]}, OK),
    },
    "DbFreeableMemoryAlarm": {
        "memory exhausted for 15 minutes": ({"FreeableMemory": repeat(64 * MIB, 3)}, ALARM),
        "enough memory": ({"FreeableMemory": repeat(900 * MIB, 3)}, OK),
    },
    "DbConnectionsAlarm": {
        "connections pile up": ({"DatabaseConnections": [600, 640]}, ALARM),
        "normal load": ({"DatabaseConnections": [80, 90]}, OK),
    },
    "DbReplicaLagAlarm": {
        "replica 15 minutes behind": ({"ReplicaLag": [900, 960]}, ALARM),
        "the replica stopped reporting": ({"ReplicaLag": [None, None]}, ALARM),
        "replica in step": ({"ReplicaLag": [1, 0]}, OK),
        # Not this alarm's failure: DbReplicationStoppedAlarm catches -1.
        "replication stopped (-1)": ({"ReplicaLag": [-1, -1]}, OK),
    },
    "DbReplicationStoppedAlarm": {
        "replication stopped (-1)": ({"ReplicaLag": repeat([-1], 5)}, ALARM),
        "replication restarted and catching up": ({"ReplicaLag": [-1, -1, 120, 60, 5]}, OK),
        "replica in step": ({"ReplicaLag": repeat([0, 1], 5)}, OK),
    },
    "EfsBurstCreditAlarm": {
        "credits draining": ({"BurstCreditBalance": repeat(20 * GIB, 3)}, ALARM),
        "credits to spare": ({"BurstCreditBalance": repeat(2000 * GIB, 3)}, OK),
    },
    "EfsIoLimitAlarm": {
        "at the I/O limit for 15 minutes": ({"PercentIOLimit": [95, 98, 99]}, ALARM),
        "three busy periods between idle ones": ({"PercentIOLimit": [95, None, 98, None, 99]}, OK),
        "light I/O": ({"PercentIOLimit": [20, 25, 22]}, OK),
    },
    "DatabaseErrorsAlarm": {
        # The rotated password is rejected by a server that has not refreshed it.
        "authentication errors in 2 of 5 minutes": ({"DatabaseErrors": [None, 3, None, 1, None]}, ALARM),
        "one error in 5 minutes": ({"DatabaseErrors": [None, None, 1, None, None]}, OK),
        # Without FILL, CloudWatch counted both: fewer real datapoints than 5, all included.
        "two error minutes 9 minutes apart": ({"DatabaseErrors": [3] + repeat(None, 8) + [1]}, OK),
        "errors stopped 4 minutes ago": ({"DatabaseErrors": [2, 5, 1, None, None, None, None]}, OK),
        "no errors logged": ({"DatabaseErrors": repeat(None, 5)}, OK),
    },
    "RotationErrorsAlarm": {
        # A rotation step raised (the database unreachable, the master's rotation pending).
        "a failed rotation step": ({"Errors": [1]}, ALARM),
        "no rotation running": ({"Errors": [None]}, OK),
        "a rotation that completed": ({"Errors": [0]}, OK),
    },
    **{f"NatGateway{n}PortAllocationAlarm": nat(n) for n in (1, 2, 3)},
}


@pytest.fixture(scope="module")
def alarms():
    resources = Evaluation(monitoring.build().to_dict(), VALUES).resources()
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_alarm_has_a_firing_and_a_healthy_scenario(alarms):
    assert set(SCENARIOS) == set(alarms)
    for name, scenarios in SCENARIOS.items():
        states = {expected for _, expected in scenarios.values()}
        assert {ALARM, OK} <= states, name


@pytest.mark.parametrize("name,scenario", [(name, scenario) for name, scenarios in SCENARIOS.items()
                                           for scenario in scenarios])
def test_alarm_reaches_the_expected_state(alarms, name, scenario):
    series, expected = SCENARIOS[name][scenario]
    outcome = alarmeval.evaluate(alarms[name], series)
    assert outcome.state == expected, f"{name}, {scenario}: datapoints {outcome.values}"


def test_every_description_says_when_the_alarm_fires_and_when_it_clears(alarms):
    for name, alarm in alarms.items():
        description = alarm["AlarmDescription"]
        assert description.startswith("Fires when ") and "clears " in description, name
        assert len(description) <= 1024, f"{name}: CloudWatch takes 1024 characters"


def _filled(alarm: dict) -> bool:
    return "Metrics" in alarm and any(q.get("ReturnData") and q["Expression"].startswith("FILL(m1, 0)")
                                      for q in alarm["Metrics"])


def test_alarms_that_fill_judge_the_last_periods_whatever_the_evaluation_range(alarms):
    """With every period filled, no datapoint is missing, so the range CloudWatch reaches back
    over never matters: every pattern of quiet, fine and bad periods gives the state the last
    EvaluationPeriods alone give."""
    filled = {name: alarm for name, alarm in alarms.items() if _filled(alarm)}
    assert {"DatabaseErrorsAlarm", "ResponseTimeP95Alarm", "EfsIoLimitAlarm",
            "NatGateway1PortAllocationAlarm"} <= set(filled)
    for name, alarm in filled.items():
        metric = next(q for q in alarm["Metrics"] if q["Id"] == "m1")["MetricStat"]["Metric"]["MetricName"]
        periods = int(alarm["EvaluationPeriods"])
        for pattern in itertools.product((None, 0, 10 ** 6), repeat=periods + 3):
            whole_range = alarmeval.evaluate(alarm, {metric: list(pattern)}).state
            assert whole_range == alarmeval.evaluate(alarm, {metric: list(pattern)}, evaluation_range=periods).state, (
                name, pattern)


def test_unfilled_the_errors_alarm_fired_on_errors_far_apart(alarms):
    """Why DatabaseErrorsAlarm fills: as a plain alarm with notBreaching, CloudWatch includes every
    real datapoint of the evaluation range when fewer than 5 exist, so two error minutes 9 minutes
    apart were "2 of 5", and the alarm stayed in ALARM while the log was quiet."""
    filled = alarms["DatabaseErrorsAlarm"]
    plain = {key: value for key, value in filled.items() if key != "Metrics"}
    plain.update(MetricName="DatabaseErrors", Statistic="Sum", Period=60)
    far_apart = {"DatabaseErrors": [3] + repeat(None, 8) + [1]}
    assert alarmeval.evaluate(plain, far_apart).state == ALARM
    assert alarmeval.evaluate(filled, far_apart).state == OK
    assert alarmeval.timeline(plain, {"DatabaseErrors": [2, 5] + repeat(None, 8)}, 10)[-1] == ALARM


@pytest.mark.parametrize("evaluation_range", [5, 7, 10, 15])
def test_the_errors_alarm_fires_on_the_second_error_minute_and_clears_when_the_first_leaves_the_last_5(
        alarms, evaluation_range):
    errors = {"DatabaseErrors": [None, None, 4, None, 1] + repeat(None, 6)}
    states = alarmeval.timeline(alarms["DatabaseErrorsAlarm"], errors, evaluation_range)
    assert states == [OK] * 4 + [ALARM] * 3 + [OK] * 4


def test_the_old_rate_expression_reads_no_targets_as_healthy(alarms):
    """Why the rate alarms FILL: without it, no RequestCount means no datapoint, read as fine."""
    alarm = {**alarms["AlbHttp5xxRateAlarm"]}
    alarm["Metrics"] = [q for q in alarm["Metrics"] if "MetricStat" in q] + [
        {"Id": "e1", "Expression": "IF(m2 > 0, 100 * m1 / m2, 0)", "ReturnData": True}]
    no_targets = {"HTTPCode_ELB_5XX_Count": repeat(40, 5), "RequestCount": repeat(None, 5)}
    assert alarmeval.evaluate(alarm, no_targets).state == OK
    assert alarmeval.evaluate(alarms["AlbHttp5xxRateAlarm"], no_targets).state == ALARM


def test_a_greater_than_lag_alarm_reads_stopped_replication_as_healthy(alarms):
    stopped = {"ReplicaLag": [-1, -1]}
    assert alarmeval.evaluate(alarms["DbReplicaLagAlarm"], stopped).state == OK
    assert alarmeval.evaluate(alarms["DbReplicationStoppedAlarm"], {"ReplicaLag": repeat(-1, 5)}).state == ALARM


def test_maximum_would_page_on_one_nodes_view_of_a_flapping_check(alarms):
    one_node = {"UnHealthyHostCount": repeat([1, 0, 0], 5)}
    as_maximum = {**alarms["UnhealthyHostsAlarm"], "Statistic": "Maximum"}
    assert alarmeval.evaluate(as_maximum, one_node).state == ALARM
    assert alarmeval.evaluate(alarms["UnhealthyHostsAlarm"], one_node).state == OK


@pytest.mark.parametrize("treat,expected", [
    ("breaching", ALARM), ("notBreaching", OK), ("missing", INSUFFICIENT_DATA), ("ignore", "previous"),
])
def test_missing_data_follows_treat_missing_data(treat, expected):
    alarm = {"MetricName": "M", "Statistic": "Sum", "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
             "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0, "TreatMissingData": treat}
    assert alarmeval.evaluate(alarm, {"M": [None, None, None]}, previous="previous").state == expected


def test_missing_leaves_out_the_absent_datapoints():
    """2 of 3, range 5: rows "0 - X - -" and "- - - X -" of the User Guide's M of N table
    (every cell is in test_alarm_evaluation.py). A lone breach old enough alarms early."""
    alarm = {"MetricName": "M", "Statistic": "Sum", "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
             "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0, "TreatMissingData": "missing"}
    assert alarmeval.evaluate(alarm, {"M": [1, None, 1]}).state == ALARM
    assert alarmeval.evaluate(alarm, {"M": [0, None, 1, None, None]}).state == OK
    assert alarmeval.evaluate(alarm, {"M": [None, None, None, 1, None]}).state == ALARM


@pytest.mark.parametrize("expression,expected", [
    ("m1 * 1000", [1000.0, None]),
    ("FILL(m1, 0) + 1", [2.0, 1.0]),
    ("IF(m1 > 0, 1, 2)", [1.0, None]),
    ("-m1 / (1 + 1)", [-0.5, None]),
])
def test_metric_math_subset(expression, expected):
    assert alarmeval.Expression(expression).over({"m1": [1.0, None]}) == expected


def test_metric_math_refuses_what_it_does_not_model():
    with pytest.raises(ValueError, match="not modelled"):
        alarmeval.Expression("RATE(m1)").over({"m1": [1.0]})
