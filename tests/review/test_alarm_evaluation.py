"""The evaluator against every cell of the CloudWatch User Guide's missing-data tables.

Transcribed from "How alarm state is evaluated when data is missing",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
as published in awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md at
b355497 (2023-05-18). Both tables: Evaluation Periods 3, evaluation range 5, the most recent
datapoint on the right; "0 is a non-breaching data point, X is a breaching data point, and - is
a missing data point". Columns: MISSING, IGNORE, BREACHING, NOT BREACHING.
"""

import pytest

from threetier.review import alarmeval
from threetier.review.alarmeval import ALARM, INSUFFICIENT_DATA, OK

RETAIN = "Retain current state"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

# "In the first table, Datapoints to Alarm and Evaluation Periods are both 3."
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, RETAIN, ALARM, OK),
]
# "Datapoints to Alarm is only 2 while Evaluation Periods is 3. This is a 2 out of 3, M out of N alarm."
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - X -", ALARM, RETAIN, ALARM, OK),
]
TABLES = {3: THREE_OF_THREE, 2: TWO_OF_THREE}

# The state before the evaluation, for "Retain current state": any state but the
# ones the evaluation could reach shows that it was kept.
BEFORE = "the state before"

CELLS = [(to_alarm, row[0], treat, row[1 + column])
         for to_alarm, table in TABLES.items() for row in table
         for column, treat in enumerate(TREATMENTS)]


def alarm(to_alarm: int, treat: str) -> dict:
    return {"MetricName": "M", "Statistic": "Maximum", "EvaluationPeriods": 3, "DatapointsToAlarm": to_alarm,
            "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0, "TreatMissingData": treat}


def datapoints(row: str) -> list:
    """'0 - X' -> [0, None, 1]: 1 breaches the alarms' threshold (> 0), 0 does not."""
    return [{"0": 0, "X": 1, "-": None}[symbol] for symbol in row.split()]


def test_every_cell_is_here():
    assert len(CELLS) == 40


@pytest.mark.parametrize("to_alarm,row,treat,expected", CELLS)
def test_the_evaluator_gives_the_state_the_table_gives(to_alarm, row, treat, expected):
    state = alarmeval.evaluate(alarm(to_alarm, treat), {"M": datapoints(row)}, previous=BEFORE).state
    assert state == (BEFORE if expected == RETAIN else expected)


@pytest.mark.parametrize("row", ["- - - - X", "- - - X -"])
def test_a_recent_lone_breach_is_not_a_premature_alarm(row):
    """"the alarm does not go immediately into ALARM state when the data is either - - - - X or
    - - - X - and Datapoints to Alarm is 3" ("Avoiding premature transitions to alarm state")."""
    assert alarmeval.evaluate(alarm(3, "missing"), {"M": datapoints(row)}).state != ALARM


@pytest.mark.parametrize("to_alarm", [3, 2])
def test_the_older_tables_row_of_one_recent_breach(to_alarm):
    """Row "- - - - X" of both tables from 2018-06 to 2019-06 (same page, cd4004c to d444eed):
    Insufficient data, Retain current state, ALARM, OK."""
    expected = dict(zip(TREATMENTS, (INSUFFICIENT_DATA, BEFORE, ALARM, OK)))
    for treat in TREATMENTS:
        state = alarmeval.evaluate(alarm(to_alarm, treat), {"M": datapoints("- - - - X")}, previous=BEFORE).state
        assert state == expected[treat], treat


def test_real_datapoints_count_from_anywhere_in_the_range():
    """"all real data points in the evaluation range are included in the evaluation": two breaching
    datapoints 6 periods apart fire a 2 of 5 alarm that treats missing data as not breaching."""
    sparse = {"M": [1, None, None, None, None, None, 1]}
    two_of_five = {**alarm(2, "notBreaching"), "EvaluationPeriods": 5}
    assert alarmeval.evaluate(two_of_five, sparse).state == ALARM
    # With the range no longer than the evaluation periods, the older one is out of it.
    assert alarmeval.evaluate(two_of_five, sparse, evaluation_range=5).state == OK


def test_enough_real_datapoints_leave_the_missing_ones_out():
    """"the value you set for how to treat missing data is not needed and is ignored": the 3 most
    recent real datapoints decide, even under breaching."""
    assert alarmeval.evaluate(alarm(3, "breaching"), {"M": [0, 0, None, 0, None]}).state == OK


def test_a_one_period_alarm_on_a_sparse_metric_stays_in_alarm_while_its_breach_is_in_the_range():
    """Evaluation Periods 1, notBreaching, a metric that reports only when something runs (Lambda
    Errors, say): the most recent real datapoint decides while one is in the range, and the
    range's missing datapoints read as not breaching once none is."""
    one_period = {**alarm(1, "notBreaching"), "EvaluationPeriods": 1}
    states = alarmeval.timeline(one_period, {"M": [0, 2, None, None, None, None, None]}, 5)
    assert states == [OK, ALARM, ALARM, ALARM, ALARM, ALARM, OK]
    assert alarmeval.timeline(one_period, {"M": [2, None, 0]}, 5) == [ALARM, ALARM, OK]


def test_the_timeline_keeps_the_state_ignore_retains():
    # 2 of 3, ignore, range 5: ALARM on 0 X X, kept through "- - - X -"-like silences.
    states = alarmeval.timeline(alarm(2, "ignore"), {"M": [0, 1, 1, None, None, None, None, None]}, 5)
    assert states == [OK, OK, ALARM, ALARM, ALARM, ALARM, ALARM, ALARM]


# --- Metric math: the examples of "Use metric math" ------------------------------
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
# (same repository and commit); "-" is "no value for that timestamp".

COMPARED = {"metric1": [30, 20, 0, 0], "metric2": [20, None, 20, None]}
IF_INPUTS = {"metric1": [1, 1, 0, 0, None], "metric2": [30, None, 0, 0, 30], "metric3": [0, 0, 20, None, 20]}


@pytest.mark.parametrize("expression,output", [
    # "When comparison operators are used between two time series, and only one of the time
    # series has a value for a particular time stamp, the function treats the missing value in
    # the other time series as 0."
    ("metric1 < metric2", [0, 0, 1, 0]),
    ("metric1 >= 30", [1, 0, 0, 0]),
])
def test_the_comparison_table(expression, output):
    assert alarmeval.Expression(expression).over(COMPARED) == output


@pytest.mark.parametrize("expression,output", [
    ("IF(metric1, metric2, metric3)", [30, 0, 20, None, None]),
    ("IF(metric1, 5, metric3)", [5, 5, 20, None, None]),
    ("IF(metric1, metric2, 5)", [30, 0, 5, 5, None]),
])
def test_the_if_tables(expression, output):
    assert alarmeval.Expression(expression).over(IF_INPUTS) == output


def test_arithmetic_reads_a_missing_value_as_0_beside_a_present_one():
    """"Missing values in a time series are treated as 0." A timestamp where no series has a
    value stays without a datapoint."""
    assert alarmeval.Expression("m1 + m2").over({"m1": [1, None, None], "m2": [None, 2, None]}) == [1, 2, None]
