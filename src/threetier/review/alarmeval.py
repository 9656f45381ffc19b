"""Decide offline what state a CloudWatch alarm reaches for a series of metric values.

The tests feed each alarm of the monitoring stack the metric series of the
failure it exists for, and a healthy one, through the rules CloudWatch
documents. Only what the alarms here use is modelled, each from its page:

- Evaluation: the last EvaluationPeriods datapoints; ALARM when at least
  DatapointsToAlarm of them breach, OK otherwise.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html
- Missing datapoints per TreatMissingData: `breaching` and `notBreaching`
  count them as such; `missing` leaves them out, and only when every datapoint
  is missing is the state INSUFFICIENT_DATA; `ignore` keeps the current state.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
  Not modelled: for `missing`, CloudWatch may look further back than the
  evaluation periods when some are missing; the alarms here that use it
  (database, file system) keep their state on silence either way.
- Statistics over the raw samples of one period (one per load balancer node,
  for instance): Sum, Minimum, Maximum, Average, SampleCount, pNN.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Statistic
- Metric math: + - * /, comparisons (1 or 0), IF(condition, a, b) and
  FILL(series, value). An operation on a missing value has no value at that
  time, so IF over a missing series yields nothing, which is why the rate
  alarms FILL first.
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


@dataclass(frozen=True)
class Outcome:
    state: str
    values: list  # the alarm's datapoints, oldest first (None where missing)


def evaluate(alarm: dict, series: dict[str, list], previous: str = INSUFFICIENT_DATA) -> Outcome:
    """The state of `alarm` (resolved Properties) after the last period of `series`.

    `series` maps a metric name to its periods, oldest first, all the same length;
    a period is a number (already the statistic), a list of samples to
    aggregate, or None (no data).
    """
    values = alarm_values(alarm, series)
    periods = int(alarm["EvaluationPeriods"])
    to_alarm = int(alarm.get("DatapointsToAlarm", periods))
    window = values[-periods:]
    breaches = COMPARISONS[alarm["ComparisonOperator"]]
    threshold = float(alarm["Threshold"])
    treat = alarm.get("TreatMissingData", "missing")

    verdicts = []
    for value in window:
        if value is not None:
            verdicts.append(breaches(value, threshold))
        elif treat == "breaching":
            verdicts.append(True)
        elif treat == "notBreaching":
            verdicts.append(False)
    if not verdicts:
        return Outcome(previous if treat == "ignore" else INSUFFICIENT_DATA, values)
    return Outcome(ALARM if sum(verdicts) >= to_alarm else OK, values)


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
    # The alarms guard every division; an unguarded zero gives no value here.
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
        if name == "IF" and len(arguments) == 3:
            return _pointwise(lambda c, a, b: a if c else b, *arguments)
        if name == "FILL" and len(arguments) == 2:
            series, fill = arguments
            return [fill if value is None else value for value in series]
        raise ValueError(f"{name} with {len(arguments)} arguments is not modelled ({self.text!r})")


def _pointwise(function, *arguments):
    """Apply `function` per period; scalars repeat, and a missing input gives a missing output."""
    series = [a for a in arguments if isinstance(a, list)]
    if not series:
        return function(*arguments)
    result = []
    for index in range(len(series[0])):
        values = [a[index] if isinstance(a, list) else a for a in arguments]
        result.append(None if any(v is None for v in values) else function(*values))
    return result
