"""Decide offline what state a CloudWatch alarm reaches for a series of metric values.

The tests feed each alarm of the monitoring stack the metric series of the
failure it exists for, and a healthy one, through the rules CloudWatch
documents; `tests/review/test_alarm_evaluation.py` replays every cell of the
User Guide's missing-data tables through the same code. Only what the alarms
here use is modelled, each rule from its page:

- The evaluation range, real datapoints before filled ones, M of N, the four
  TreatMissingData values and the early ALARM ("premature alarm state"):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
  (now split into alarm-evaluation.html and alarms-and-missing-data.html), read
  in the text of awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md
  at b355497 (2023-05-18), the last the repository published. The page does not
  say how long the evaluation range is ("depends on the length of the alarm
  period and whether it is based on a metric with standard resolution or high
  resolution"); its examples use 5 datapoints for 3 evaluation periods. So the
  caller gives it: by default, every period of the series passed in.
- Statistics over the raw samples of one period (one per load balancer node,
  for instance): Sum, Minimum, Maximum, Average, SampleCount, pNN.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Statistic
- Metric math: + - * /, comparisons (1 or 0), IF(condition, a, b) and
  FILL(series, value), with the page's rules for missing values (see `_pointwise`
  and `_if`). FILL gives every period a value, which is why the rate, latency,
  error-count, I/O and port-allocation alarms use it: they then judge exactly
  their last N periods.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

ALARM, OK, INSUFFICIENT_DATA = "ALARM", "OK", "INSUFFICIENT_DATA"

COMPARISONS = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}

MISSING, IGNORE, BREACHING, NOT_BREACHING = "missing", "ignore", "breaching", "notBreaching"


@dataclass(frozen=True)
class Outcome:
    state: str
    values: list  # the alarm's datapoints over the evaluation range, oldest first (None where missing)


@dataclass(frozen=True)
class Rule:
    """What decides an alarm's state once its datapoints are known."""

    periods: int  # EvaluationPeriods, N
    to_alarm: int  # DatapointsToAlarm, M
    breaches: object  # value -> bool
    treat: str  # TreatMissingData

    @classmethod
    def of(cls, alarm: dict) -> Rule:
        periods = int(alarm["EvaluationPeriods"])
        compare, threshold = COMPARISONS[alarm["ComparisonOperator"]], float(alarm["Threshold"])
        return cls(
            periods=periods,
            # DatapointsToAlarm "is used only if you are setting an "M out of N" alarm. In
            # that case, this value is the M." Without it: N of N.
            # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
            to_alarm=int(alarm.get("DatapointsToAlarm", periods)),
            breaches=lambda value: compare(value, threshold),
            # "The default behavior is missing."
            treat=alarm.get("TreatMissingData", MISSING),
        )


def evaluate(alarm: dict, series: dict[str, list], previous: str = INSUFFICIENT_DATA,
             evaluation_range: int | None = None) -> Outcome:
    """The state of `alarm` (resolved Properties) after the last period of `series`.

    `series` maps a metric name to its periods, oldest first, all the same length;
    a period is a number (already the statistic), a list of samples to
    aggregate, or None (no data). The evaluation range is the last
    `evaluation_range` periods, or all of them; `previous` is the state
    `ignore` keeps.
    """
    values = alarm_values(alarm, series)
    window = values[-evaluation_range:] if evaluation_range else values
    return Outcome(state_for(Rule.of(alarm), window, previous), window)


def timeline(alarm: dict, series: dict[str, list], evaluation_range: int,
             initial: str = INSUFFICIENT_DATA) -> list[str]:
    """The alarm's state after each period of `series`, as CloudWatch would move it, oldest first.

    Each evaluation sees the periods up to that one, at most `evaluation_range`
    of them (there is no data before the series); `ignore` keeps the state the
    evaluation before reached.
    """
    values, rule = alarm_values(alarm, series), Rule.of(alarm)
    states, state = [], initial
    for end in range(1, len(values) + 1):
        state = state_for(rule, values[max(0, end - evaluation_range):end], state)
        states.append(state)
    return states


# --- Evaluation over the range ----------------------------------------------
# Every rule below is from "How alarm state is evaluated when data is missing":
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data


def state_for(rule: Rule, window: list, previous: str) -> str:
    """The state CloudWatch sets from the datapoints of one evaluation range (oldest first)."""
    # Each real datapoint as (age, breaching): age 1 is the most recent period.
    real = [(len(window) - index, rule.breaches(value)) for index, value in enumerate(window)
            if value is not None]
    if not real:
        return _all_missing(rule.treat, previous)
    if len(real) >= rule.periods:
        # "If no data points in the evaluation range are missing, CloudWatch evaluates
        # the alarm based on the most recent data points collected." and "If some data
        # points in the evaluation range are missing, but the total number of existing
        # data points that were successfully retrieved from the evaluation range is equal
        # to or more than the alarm's Evaluation Periods, CloudWatch evaluates the alarm
        # state based on the most recent real data points [...]. In this case, the value
        # you set for how to treat missing data is not needed and is ignored."
        return _m_of_n(rule, [breaching for _, breaching in real[-rule.periods:]])
    return _fewer_real_than_periods(rule, real, previous)


def _all_missing(treat: str, previous: str) -> str:
    # Row "- - - - -" of both tables: INSUFFICIENT_DATA, Retain current state, ALARM, OK.
    # "missing - If all data points in the alarm evaluation range are missing, the
    # alarm transitions to INSUFFICIENT_DATA." "ignore - The current alarm state is maintained"
    return {MISSING: INSUFFICIENT_DATA, IGNORE: previous, BREACHING: ALARM, NOT_BREACHING: OK}[treat]


def _m_of_n(rule: Rule, verdicts: list[bool]) -> str:
    # "Datapoints to Alarm is the number of data points within the Evaluation Periods
    # that must be breaching to cause the alarm to go to the ALARM state."
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
    # The page's 2018-2020 text said it of the missing-data cases too: "In all of these
    # situations, the number of datapoints evaluated is equal to the value of Evaluation
    # Periods. If fewer than the value of Datapoints to Alarm are breaching, the alarm
    # state is set to OK. Otherwise, the state is set to ALARM."
    return ALARM if sum(verdicts) >= rule.to_alarm else OK


def _fewer_real_than_periods(rule: Rule, real: list[tuple[int, bool]], previous: str) -> str:
    """Some datapoints of the range exist, fewer than Evaluation Periods."""
    verdicts = [breaching for _, breaching in real]
    if rule.treat in (BREACHING, NOT_BREACHING):
        # "CloudWatch fills in the missing data points with the result you specified for
        # how to treat missing data, and then evaluates the alarm. However, all real data
        # points in the evaluation range are included in the evaluation. CloudWatch uses
        # missing data points only as few times as possible."
        fills = [rule.treat == BREACHING] * (rule.periods - len(real))
        return _m_of_n(rule, verdicts + fills)
    # missing and ignore have no value to fill with: the real datapoints decide when
    # they can. Rows "0 - - - -" (3 of 3) and "0 - X - -", "- - - - 0" (2 of 3): a
    # non-breaching datapoint with too few breaching ones is OK under both.
    if sum(verdicts) >= rule.to_alarm:
        return ALARM
    if not all(verdicts):
        return OK
    # Every datapoint present is breaching, but fewer than Datapoints to Alarm.
    if rule.treat == MISSING and _premature_alarm(rule, real):
        return ALARM
    # Rows "- - X - -" (3 of 3) and "- - - X -" (2 of 3): ignore retains the current
    # state. The 2018-2019 tables' row "- - - - X" gave INSUFFICIENT_DATA for missing,
    # and the section on premature alarms says such a range does not go to ALARM.
    return INSUFFICIENT_DATA if rule.treat == MISSING else previous


def _premature_alarm(rule: Rule, real: list[tuple[int, bool]]) -> bool:
    """The early ALARM of "Avoiding premature transitions to alarm state".

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#CloudWatch-alarms-avoiding-premature-transition
    "alarms are designed to always go into ALARM state when the oldest available
    breaching datapoint during the Evaluation Periods number of data points is at
    least as old as the value of Datapoints to Alarm, and all other more recent data
    points are breaching or missing. [...] If the oldest breaching data point during
    the evaluation range is at least as old as the value of Datapoints to Alarm, and
    all of the more recent data points are either breaching or missing, the alarm goes
    into ALARM state no matter the value of M". Only for `missing`: the tables give
    "Retain current state" (ignore) and OK (notBreaching) for the same rows. Only when
    no datapoint present is non-breaching: row "0 - X - -" of the 2 of 3 table is OK.
    The caller checked that every datapoint present breaches. The two sentences differ
    on where that oldest breaching datapoint may be (within Evaluation Periods, or the
    evaluation range); no table row tells them apart, and this follows the second.
    """
    oldest_breaching_age = max(age for age, _ in real)
    return oldest_breaching_age >= rule.to_alarm


# --- Datapoints --------------------------------------------------------------


def alarm_values(alarm: dict, series: dict[str, list]) -> list:
    """The datapoints the alarm compares with its threshold, one per period."""
    if "MetricName" in alarm:
        statistic = alarm.get("Statistic") or alarm["ExtendedStatistic"]
        return [aggregate(statistic, period) for period in _series(series, alarm["MetricName"])]
    results: dict[str, list] = {}
    returned = None
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            stat = query["MetricStat"]
            name = stat["Metric"]["MetricName"]
            results[query["Id"]] = [aggregate(stat["Stat"], period) for period in _series(series, name)]
        else:
            results[query["Id"]] = Expression(query["Expression"]).over(results)
        if query.get("ReturnData", True):
            returned = query["Id"]
    return results[returned]


def _series(series: dict[str, list], name: str) -> list:
    if name not in series:
        raise KeyError(f"no series given for metric {name}")
    return series[name]


def aggregate(statistic: str, period):
    """One period's value under a statistic; a plain number is taken as already aggregated."""
    if period is None or isinstance(period, (int, float)):
        return period
    samples = sorted(period)
    if not samples:
        return None
    if statistic.startswith("p"):
        # Nearest rank: close enough to CloudWatch's percentile for the tests' few samples.
        rank = math.ceil(float(statistic[1:]) / 100 * len(samples))
        return samples[max(rank, 1) - 1]
    return {
        "Sum": sum(samples),
        "Minimum": samples[0],
        "Maximum": samples[-1],
        "Average": sum(samples) / len(samples),
        "SampleCount": len(samples),
    }[statistic]


# --- Metric math -------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/(),<>]))")

_BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    # "If the value of a data point causes a function to attempt to divide by zero, the
    # data point is dropped." (The alarms guard every division.)
    "/": lambda a, b: None if b == 0 else a / b,
    ">": lambda a, b: float(a > b),
    "<": lambda a, b: float(a < b),
    ">=": lambda a, b: float(a >= b),
    "<=": lambda a, b: float(a <= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
}
_LEVELS = (("<", ">", "<=", ">=", "==", "!="), ("+", "-"), ("*", "/"))


class Expression:
    """A metric math expression, evaluated period by period over named series."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokenize(text)

    def over(self, results: dict[str, list]) -> list:
        length = len(next(iter(results.values())))
        self.results = results
        self.position = 0
        value = self._level(0)
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]!r} in {self.text!r}")
        return value if isinstance(value, list) else [value] * length

    @staticmethod
    def _tokenize(text: str) -> list[str]:
        tokens, position = [], 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            if match is None:
                raise ValueError(f"cannot read {text[position:]!r} in {text!r}")
            tokens.append(match.group(match.lastindex))
            position = match.end()
        return tokens

    def _peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'more'} in {self.text!r}")
        self.position += 1
        return token

    def _level(self, level: int):
        if level == len(_LEVELS):
            return self._operand()
        left = self._level(level + 1)
        while self._peek() in _LEVELS[level]:
            symbol = self._take()
            left = _pointwise(_BINARY[symbol], left, self._level(level + 1))
        return left

    def _operand(self):
        token = self._take()
        if token == "(":
            value = self._level(0)
            self._take(")")
            return value
        if token == "-":
            return _pointwise(operator.mul, -1.0, self._operand())
        if token[0].isdigit():
            return float(token)
        if self._peek() == "(":
            return self._function(token)
        if token not in self.results:
            raise ValueError(f"unknown id {token!r} in {self.text!r}")
        return self.results[token]

    def _function(self, name: str):
        self._take("(")
        arguments = [self._level(0)]
        while self._peek() == ",":
            self._take(",")
            arguments.append(self._level(0))
        self._take(")")
        if name == "IF" and len(arguments) in (2, 3):
            return _if(*arguments)
        if name == "FILL" and len(arguments) == 2 and not isinstance(arguments[1], list):
            series, fill = arguments
            return [fill if value is None else value for value in series]
        raise ValueError(f"{name} with {len(arguments)} arguments is not modelled ({self.text!r})")


def _pointwise(function, *arguments):
    """Apply `function` per period to series and scalars (scalars repeat).

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
    "Missing values in a time series are treated as 0." and, for comparisons, "When
    comparison operators are used between two time series, and only one of the time
    series has a value for a particular time stamp, the function treats the missing
    value in the other time series as 0." A period where no series has a value has no
    timestamp at all, so no datapoint.
    """
    series = [a for a in arguments if isinstance(a, list)]
    if not series:
        return function(*arguments)
    result = []
    for index in range(len(series[0])):
        values = [a[index] if isinstance(a, list) else a for a in arguments]
        if all(a[index] is None for a in series):
            result.append(None)
        else:
            result.append(function(*(0.0 if value is None else value for value in values)))
    return result


def _if(condition, when_true, when_false=None):
    """IF(condition, trueValue, falseValue) as "Using IF expressions" defines it per datapoint.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#using-IF-expressions
    "The condition evaluates to FALSE if the value of the condition data point is 0,
    and to TRUE if the value of the condition is any other value". For each datapoint
    of the condition, the output "has the value of 0, if the corresponding data point
    of metric1 is TRUE and the corresponding data point does not exist in metric2",
    and "is dropped, if the corresponding data point of metric1 is FALSE and the
    corresponding data point does not exist in metric3 or if metric3 is omitted";
    a condition without a datapoint gives none ("is dropped if the corresponding data
    point in metric1 does not exist").
    """
    if not isinstance(condition, list):
        return when_true if condition else when_false
    length = len(condition)

    def at(value, index):
        return value[index] if isinstance(value, list) else value

    result = []
    for index in range(length):
        if condition[index] is None:
            result.append(None)
        elif condition[index]:
            value = at(when_true, index)
            result.append(0.0 if value is None else value)
        else:
            result.append(at(when_false, index))
    return result
