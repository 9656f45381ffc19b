"""Monitoring stack (on by default): alarms on every tier, an encrypted SNS topic, a dashboard.

Every alarm notifies the topic when it fires and when it clears; its
description says when each happens. Missing data is read per alarm: error,
latency and I/O alarms read silence as 0 (no traffic, no errors), with FILL so
that they judge exactly their last N periods (see ZERO_WHEN_QUIET); capacity and
health alarms treat it as trouble (the thing that should report is gone);
database and file-system gauges keep their state. `tests/review/test_alarms_fire.py`
runs every alarm through CloudWatch's documented evaluation rules, with scenarios
for what its description says.
"""

from __future__ import annotations

import json

from awacs import kms as kms_actions, sns as sns_actions
from awacs.aws import Allow, ArnEquals, Condition as PolicyCondition, Principal, Statement, StringEquals
from troposphere import (
    And,
    Condition,
    Equals,
    GetAtt,
    If,
    Join,
    Not,
    NoValue,
    Output,
    Ref,
    Select,
    Split,
    Sub,
    Template,
    cloudwatch,
    events,
    kms,
    sns,
)

from threetier import parameters as P
from threetier.blocks import logstore, naming, policies, rotationfunction
from threetier.parameters import conditions
from threetier.parameters.conditions import (
    CREATE_NAT_GATEWAY_3,
    HAS_READ_REPLICA,
    USE_NAT_PER_AZ,
    USE_THREE_AZS,
)

HAS_ALARM_EMAIL = "HasAlarmEmail"
HAS_ALARM_TOPIC_ARN = "HasAlarmTopicArn"
EFS_BURSTING = "EfsBursting"
EFS_GENERAL_PURPOSE = "EfsGeneralPurpose"

# How each alarm reads a period without data (see the module docstring).
QUIET_IS_FINE = "notBreaching"
QUIET_IS_TROUBLE = "breaching"
QUIET_KEEPS_STATE = "missing"

# A metric that reports only when something happens (a log line matched, a request
# served, a port allocation failed) leaves gaps, and over gaps CloudWatch does not
# judge the last N periods: it reaches back over a longer evaluation range, and
# "all real data points in the evaluation range are included in the evaluation".
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
# So a 2 of 5 alarm fired on two error minutes far more than five minutes apart,
# and an alarm stayed in ALARM after the errors stopped until they left the range.
# FILL gives every period a datapoint ("FILL replaces that missing data point with
# the requested value"), so nothing is missing and the alarm reads the last N.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
ZERO_WHEN_QUIET = "FILL(m1, 0)"

# The gauges (database, file system) treat missing data as missing: CloudWatch keeps
# judging the real datapoints left in the evaluation range, and alarms early on a
# lone breaching one once it is at least DatapointsToAlarm periods old and nothing
# newer disagrees ("Avoiding premature transitions to alarm state", same page).
KEEPS_STATE = (" While the metric reports nothing, the datapoints still in the evaluation range decide, as "
               "CloudWatch documents for missing data; with none left the alarm goes to INSUFFICIENT_DATA.")

ALB = "AWS/ApplicationELB"
RDS = "AWS/RDS"
EFS = "AWS/EFS"
ASG = "AWS/AutoScaling"
NAT = "AWS/NATGateway"
GIB, MIB = 1024 ** 3, 1024 ** 2


def build() -> Template:
    t = naming.new_template(
        "threetier monitoring: alarms for the load balancer, app servers, database, "
        "file system and NAT gateways, an encrypted SNS topic, and a dashboard"
    )
    P.use(t, *P.ALARMS)
    P.use(t, P.ASG_MIN_SIZE, P.DB_REPLICA_ENABLED, P.EFS_THROUGHPUT_MODE, P.EFS_PERFORMANCE_MODE,
          P.NUMBER_OF_AZS, P.SINGLE_NAT_GATEWAY)
    P.use(t, P.ALB_FULL_NAME, P.TARGET_GROUP_FULL_NAME, P.AUTO_SCALING_GROUP_NAME,
          P.EFS_FILE_SYSTEM_ID, P.NAT_GATEWAY_IDS,
          P.DB_MASTER_SECRET_ARN, P.DB_APP_SECRET_ARN)
    conditions.add(t, HAS_READ_REPLICA, USE_THREE_AZS, USE_NAT_PER_AZ, CREATE_NAT_GATEWAY_3)
    _recipient_conditions(t)
    t.add_condition(EFS_BURSTING, Equals(Ref(P.EFS_THROUGHPUT_MODE.name), "bursting"))
    t.add_condition(EFS_GENERAL_PURPOSE, Equals(Ref(P.EFS_PERFORMANCE_MODE.name), "generalPurpose"))

    topic = _alarm_topic(t)
    alarms = Alarms(t, topic)
    _load_balancer_alarms(alarms)
    _app_alarms(alarms)
    _database_alarms(alarms)
    _database_error_alarm(alarms)
    _rotation_alarm(alarms)
    _rotation_failed_events(t, topic)
    _backup_failed_events(t, topic)
    _file_system_alarms(alarms)
    _nat_alarms(alarms)
    dashboard = t.add_resource(
        cloudwatch.Dashboard(
            "Dashboard",
            DashboardName=Sub("${ProjectName}-${EnvironmentName}"),
            DashboardBody=dashboard_body(),
            Tags=naming.tags("dashboard"),
        )
    )

    t.add_output(Output("AlarmTopicArn", Description="SNS topic every alarm notifies", Value=Ref(topic)))
    t.add_output(Output("DashboardName", Description="CloudWatch dashboard", Value=Ref(dashboard)))
    return t


# --- Topic -------------------------------------------------------------------

def _recipient_conditions(t: Template) -> None:
    """AlarmEmail holds an email address or an SNS topic ARN (its AllowedPattern admits exactly
    those): an ARN starts with "arn:", an email address has no colon."""
    recipient = Ref(P.ALARM_EMAIL.name)
    t.add_condition(HAS_ALARM_TOPIC_ARN, Equals(Select(0, Split(":", recipient)), "arn"))
    t.add_condition(HAS_ALARM_EMAIL, And(Not(Equals(recipient, "")), Not(Condition(HAS_ALARM_TOPIC_ARN))))


def alarm_actions(topic: sns.Topic) -> list:
    """The stack's topic, and the user's own topic when AlarmEmail names one. CloudWatch publishes
    to it as the cloudwatch.amazonaws.com service principal, so that topic's access policy (and the
    key policy of a customer managed key encrypting it; the AWS managed aws/sns key cannot allow it)
    must let CloudWatch publish: docs/deploy.md, "Who hears the alarms".
    https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"""
    return [Ref(topic), If(HAS_ALARM_TOPIC_ARN, Ref(P.ALARM_EMAIL.name), NoValue)]

def _alarm_topic(t: Template) -> sns.Topic:
    # CloudWatch cannot publish to a topic encrypted with the AWS managed SNS
    # key (its policy is closed), so the topic has a key that lets it, and EventBridge
    # (the rotation failures, _rotation_failed_events).
    key = t.add_resource(
        kms.Key(
            "AlarmTopicKey",
            # Encrypts notifications in flight only: nothing stored depends on it.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Description=Sub("${ProjectName}-${EnvironmentName} alarm topic encryption"),
            EnableKeyRotation=True,
            PendingWindowInDays=7,
            KeyPolicy=policies.document(
                policies.key_administration(),
                _key_use_by("CloudWatchAlarmsPublish", "cloudwatch"),
                # EventBridge publishing to an encrypted topic needs the key too. Not scoped to the
                # rule's ARN: the rule targets the topic this key encrypts (a cycle); to the account.
                # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
                _key_use_by("EventBridgePublish", "events"),
            ),
            Tags=naming.tags("alarm-key"),
        )
    )
    topic = t.add_resource(
        sns.Topic(
            "AlarmTopic",
            DisplayName=Sub("${ProjectName}-${EnvironmentName} alarms"),
            KmsMasterKeyId=Ref(key),
            Tags=naming.tags("alarms"),
        )
    )
    t.add_resource(
        sns.TopicPolicy(
            "AlarmTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=policies.document(
                Statement(
                    Sid="CloudWatchAlarmsPublish",
                    Effect=Allow,
                    Principal=Principal("Service", policies.service_principal("cloudwatch")),
                    Action=[sns_actions.Publish],
                    Resource=[Ref(topic)],
                    Condition=PolicyCondition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
                ),
                # The rotation-failure and backup-failure rules, and no other rule, may publish.
                # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
                _rule_publishes("RotationFailuresPublish", ROTATION_FAILED_RULE, topic),
                _rule_publishes("BackupFailuresPublish", BACKUP_FAILED_RULE, topic),
                # AWS's own example of enforcing encryption in transit on a topic.
                # https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html#enforce-encryption-data-in-transit
                policies.deny_insecure_transport(Ref(topic), actions=[sns_actions.Publish]),
            ),
        )
    )
    t.add_resource(
        sns.SubscriptionResource(
            "AlarmEmailSubscription",
            Condition=HAS_ALARM_EMAIL,
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(P.ALARM_EMAIL.name),
        )
    )
    return topic


# --- Alarms ------------------------------------------------------------------

class Alarms:
    """Adds alarms that all notify one topic, on alarm and on recovery."""

    def __init__(self, t: Template, topic: sns.Topic):
        self.t, self.topic = t, topic

    def metric(self, title, description, namespace, metric, dimensions, *, statistic, comparison,
               threshold, treat_missing, period=60, periods=5, datapoints=None, condition=None):
        """An alarm on one metric; `statistic` may be a percentile such as p95."""
        stat = {"ExtendedStatistic": statistic} if statistic.startswith("p") else {"Statistic": statistic}
        return self._add(title, description, condition, comparison, threshold, treat_missing, periods,
                         datapoints, Namespace=namespace, MetricName=metric, Period=period,
                         Dimensions=_dimensions(dimensions), **stat)

    def expression(self, title, description, expression, metrics, *, comparison, threshold,
                   treat_missing, period=60, periods=5, datapoints=None, condition=None, steps=None):
        """An alarm on metric math: `metrics` maps ids (m1, m2) to (namespace, metric, dimensions, stat),
        `steps` names intermediate expressions the final one uses."""
        queries = [
            cloudwatch.MetricDataQuery(
                Id=query_id,
                ReturnData=False,
                MetricStat=cloudwatch.MetricStat(
                    Metric=cloudwatch.Metric(Namespace=namespace, MetricName=metric,
                                             Dimensions=_dimensions(dimensions)),
                    Period=period,
                    Stat=stat,
                ),
            )
            for query_id, (namespace, metric, dimensions, stat) in metrics.items()
        ]
        queries += [cloudwatch.MetricDataQuery(Id=step_id, Expression=step, ReturnData=False)
                    for step_id, step in (steps or {}).items()]
        queries.append(cloudwatch.MetricDataQuery(Id="e1", Expression=expression, Label=title, ReturnData=True))
        return self._add(title, description, condition, comparison, threshold, treat_missing, periods,
                         datapoints, Metrics=queries)

    def _add(self, title, description, condition, comparison, threshold, treat_missing, periods,
             datapoints, **metric):
        alarm = cloudwatch.Alarm(
            title,
            AlarmName=Sub("${ProjectName}-${EnvironmentName}-" + _kebab(title)),
            AlarmDescription=description,
            ComparisonOperator=comparison,
            Threshold=threshold,
            EvaluationPeriods=periods,
            DatapointsToAlarm=datapoints or periods,
            TreatMissingData=treat_missing,
            AlarmActions=alarm_actions(self.topic),
            OKActions=alarm_actions(self.topic),
            Tags=naming.tags(_kebab(title)),
            **metric,
        )
        if condition is not None:
            alarm.Condition = condition
        return self.t.add_resource(alarm)


def _database_error_alarm(alarms: Alarms) -> None:
    # From the app stack's metric filter on the servers' logs: what the static
    # health check cannot see (a rejected password after a rotation, a database
    # the servers cannot reach).
    # The metric filter publishes only when a line matches: filled with 0 (see
    # ZERO_WHEN_QUIET), so two error minutes far apart are not "2 of 5".
    alarms.expression(
        "DatabaseErrorsAlarm", "Fires when the app servers' logs (gunicorn's error log, with what the app "
        "prints) had a database login, connection or timeout error in 2 of the last 5 minutes (the load "
        "balancer health check does not see these); clears when fewer than 2 of the last 5 minutes have one. "
        "A minute without a matching line counts as no error; an error the app catches without writing it "
        "is not seen.",
        ZERO_WHEN_QUIET, {"m1": (Sub(logstore.APP_METRICS_NAMESPACE), logstore.DATABASE_ERRORS_METRIC, {}, "Sum")},
        comparison="GreaterThanThreshold", threshold=0, treat_missing=QUIET_IS_FINE, periods=5, datapoints=2,
    )


def _rotation_alarm(alarms: Alarms) -> None:
    # A failed step of a database secret's rotation is an error of the project's rotation
    # function (it raises, Secrets Manager records the failure and keeps the pending version,
    # and the next rotation must not find it half done). Named after the environment, so
    # no wiring from the app stack. https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
    alarms.metric(
        "RotationErrorsAlarm", "Fires when a step of a database password rotation failed in a 5-minute period "
        "(the rotation function raised; the secret keeps a pending version until a rotation completes, see the "
        "function's log group); clears once no error is left in the periods CloudWatch evaluates",
        "AWS/Lambda", "Errors", {"FunctionName": rotationfunction.function_name()}, statistic="Sum",
        comparison="GreaterThanThreshold", threshold=0, treat_missing=QUIET_IS_FINE, period=300, periods=1,
    )


ROTATION_FAILED_RULE = "RotationFailedRule"


def rotation_failed_pattern() -> dict:
    """Secrets Manager's RotationFailed event for this environment's two database secrets. Rotation
    events are CloudTrail service events ("AWS Service Event via CloudTrail"), the secret's ARN in
    additionalEventData.SecretId.
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html#cloudtrail_log_entries_rotation
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html"""
    return {
        "source": ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        "detail": {
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": ["RotationFailed"],
            "additionalEventData": {"SecretId": [Ref(P.DB_MASTER_SECRET_ARN.name), Ref(P.DB_APP_SECRET_ARN.name)]},
        },
    }


def _rotation_failed_events(t: Template, topic: sns.Topic) -> events.Rule:
    """Secrets Manager's own word that a rotation failed, whatever failed (the function's errors alarm
    sees only the function raising; not a function that timed out before it could, nor one Secrets
    Manager could not invoke). To the topic the alarms notify, and the user's own when AlarmEmail
    names one (docs/deploy.md, "Who hears the alarms")."""
    message = events.InputTransformer(
        InputPathsMap={"secret": "$.detail.additionalEventData.SecretId", "error": "$.detail.errorMessage",
                       "time": "$.time"},
        InputTemplate='"Rotation of secret <secret> failed at <time>: <error>. The secret keeps a pending '
                      'version until a rotation completes; see the rotation function\'s log group."',
    )
    return _events_to_alarm_topics(t, topic, ROTATION_FAILED_RULE, "a database secret's rotation failed",
                                   rotation_failed_pattern(), message, "rotation-failed")


def _rule_publishes(sid: str, rule: str, topic: sns.Topic) -> Statement:
    """Topic policy: EventBridge may publish to the topic for the rule `rule` only."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", policies.service_principal("events")),
        Action=[sns_actions.Publish],
        Resource=[Ref(topic)],
        Condition=PolicyCondition(ArnEquals("aws:SourceArn", GetAtt(rule, "Arn"))),
    )


def _events_to_alarm_topics(t: Template, topic: sns.Topic, title: str, what: str, pattern: dict,
                            message: events.InputTransformer, thing: str) -> events.Rule:
    """A rule sending the events `pattern` matches, as `message`, to the alarm topic, and to the user's
    own topic when AlarmEmail names one."""
    return t.add_resource(
        events.Rule(
            title,
            Description=Sub("${ProjectName}-${EnvironmentName}: " + what),
            State="ENABLED",
            EventPattern=pattern,
            Targets=[
                events.Target(Id="AlarmTopic", Arn=Ref(topic), InputTransformer=message),
                If(HAS_ALARM_TOPIC_ARN,
                   events.Target(Id="AlarmRecipientTopic", Arn=Ref(P.ALARM_EMAIL.name), InputTransformer=message),
                   NoValue),
            ],
            Tags=naming.tags(thing),
        )
    )


BACKUP_FAILED_RULE = "BackupFailedRule"


def backup_failed_pattern() -> dict:
    """AWS Backup's word that a backup job or a copy job of this environment's recovery points did not
    complete: FAILED, ABORTED, or EXPIRED (not started within the plan's start window: a missed backup).
    Every AWS Backup job of the account in this region: the events name the file system by its id only,
    which no name prefix matches, so another plan's failures in a shared account reach this topic too
    (the message names the resource).
    https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html"""
    return {
        "source": ["aws.backup"],
        "detail-type": ["Backup Job State Change", "Copy Job State Change"],
        "detail": {"state": ["FAILED", "ABORTED", "EXPIRED"]},
    }


def _backup_failed_events(t: Template, topic: sns.Topic) -> events.Rule:
    """A failed or missed backup, or a copy that did not reach BackupRegion, to the alarm topic (and the
    user's own). With no AWS Backup plan (BackupRegion empty) no such event comes: the rule costs nothing
    and takes no parameter from the root."""
    message = events.InputTransformer(
        InputPathsMap={"kind": "$.detail-type", "state": "$.detail.state", "resource": "$.detail.resourceArn",
                       "time": "$.time"},
        InputTemplate='"AWS Backup: <kind> <state> at <time> for <resource>. See AWS Backup console, Jobs; '
                      'docs/recovery.md says what to do."',
    )
    return _events_to_alarm_topics(t, topic, BACKUP_FAILED_RULE, "an AWS Backup job or copy failed or was missed",
                                   backup_failed_pattern(), message, "backup-failed")


def _dimensions(dimensions: dict) -> list:
    return [cloudwatch.MetricDimension(Name=name, Value=value) for name, value in dimensions.items()]


def _kebab(title: str) -> str:
    words, word = [], ""
    for char in title.removesuffix("Alarm"):
        if char.isupper() and word and not word[-1].isupper():
            words.append(word)
            word = ""
        word += char
    return "-".join(words + [word]).lower()


# RequestCount counts only requests the load balancer could send to a target:
# with no registered or healthy target, its 503s have no RequestCount at all,
# and a plain `m1 / m2` has no value, which notBreaching reads as fine.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
# So both series are filled with 0 and the errors are never more than 100 %.
RATE_STEPS = {"errors": "FILL(m1, 0)", "requests": "FILL(m2, 0)"}
RATE_OF_ERRORS = "IF(errors > 0, 100 * errors / IF(requests > errors, requests, errors), 0)"


def _load_balancer_alarms(alarms: Alarms) -> None:
    alb = {"LoadBalancer": Ref(P.ALB_FULL_NAME.name)}
    alb_and_targets = {**alb, "TargetGroup": Ref(P.TARGET_GROUP_FULL_NAME.name)}
    for title, source, dimensions, param in (
        ("AlbHttp5xxRateAlarm", "HTTPCode_ELB_5XX_Count", alb, P.ALB_5XX_PERCENT),
        ("TargetHttp5xxRateAlarm", "HTTPCode_Target_5XX_Count", alb_and_targets, P.TARGET_5XX_PERCENT),
    ):
        alarms.expression(
            title,
            f"Fires when {source} is above {param.name} % of requests in 3 of the last 5 minutes "
            "(5xx with no request sent to a target count as 100 %, a minute without either as 0 %); "
            "clears when fewer than 3 of the last 5 minutes are above it.",
            RATE_OF_ERRORS,
            {"m1": (ALB, source, dimensions, "Sum"), "m2": (ALB, "RequestCount", dimensions, "Sum")},
            steps=RATE_STEPS,
            comparison="GreaterThanThreshold", threshold=Ref(param.name),
            treat_missing=QUIET_IS_FINE, periods=5, datapoints=3,
        )
    # Each load balancer node health-checks on its own; Minimum across the
    # nodes alarms when they all agree, not on one node's passing view.
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    alarms.metric(
        "UnhealthyHostsAlarm", "Fires when every load balancer node has counted an unhealthy app server "
        "for UnhealthyHostMinutes minutes in a row, or when the count has reported nothing for the whole "
        "evaluation range (missing minutes count as unhealthy only when fewer real ones than "
        "UnhealthyHostMinutes are left in it); clears with the first minute a node counts none.",
        ALB, "UnHealthyHostCount", alb_and_targets, statistic="Minimum",
        comparison="GreaterThanThreshold", threshold=0, treat_missing=QUIET_IS_TROUBLE,
        periods=Ref(P.UNHEALTHY_HOST_MINUTES.name),
    )
    alarms.expression(
        "ResponseTimeP95Alarm", "Fires when the 95th percentile app response time is above ResponseTimeP95Ms "
        "in 3 of the last 5 minutes; clears when fewer than 3 of the last 5 minutes are. A minute without "
        "requests counts as fast.",
        # TargetResponseTime reports only minutes with requests (see ZERO_WHEN_QUIET).
        f"{ZERO_WHEN_QUIET} * 1000",
        {"m1": (ALB, "TargetResponseTime", alb_and_targets, "p95")},
        comparison="GreaterThanThreshold", threshold=Ref(P.RESPONSE_TIME_P95_MS.name),
        treat_missing=QUIET_IS_FINE, periods=5, datapoints=3,
    )


def _app_alarms(alarms: Alarms) -> None:
    alarms.metric(
        "InServiceBelowMinimumAlarm", "Fires when fewer app servers than AsgMinSize have been in service "
        "for 10 minutes in a row, or when the group has reported nothing for the whole evaluation range; "
        "clears with the first minute at or above AsgMinSize.",
        ASG, "GroupInServiceInstances", {"AutoScalingGroupName": Ref(P.AUTO_SCALING_GROUP_NAME.name)},
        statistic="Minimum", comparison="LessThanThreshold", threshold=Ref(P.ASG_MIN_SIZE.name),
        treat_missing=QUIET_IS_TROUBLE, periods=10, datapoints=10,
    )


def _database_alarms(alarms: Alarms) -> None:
    db = {"DBInstanceIdentifier": naming.name(naming.DB_INSTANCE)}
    alarms.metric(
        "DbCpuAlarm", "Fires when database CPU averages above DbCpuPercent in 3 five-minute periods in a row; "
        "clears with the first five minutes at or below it." + KEEPS_STATE,
        RDS, "CPUUtilization", db,
        statistic="Average", comparison="GreaterThanThreshold", threshold=Ref(P.DB_CPU_PERCENT.name),
        treat_missing=QUIET_KEEPS_STATE, period=300, periods=3,
    )
    alarms.expression(
        "DbFreeStorageAlarm", "Fires when the database's free storage falls below DbFreeStorageGiB in a "
        "five-minute period; clears with the first five minutes at or above it." + KEEPS_STATE,
        f"m1 / {GIB}", {"m1": (RDS, "FreeStorageSpace", db, "Minimum")},
        comparison="LessThanThreshold", threshold=Ref(P.DB_FREE_STORAGE_GIB.name),
        treat_missing=QUIET_KEEPS_STATE, period=300, periods=1,
    )
    alarms.expression(
        "DbFreeableMemoryAlarm", "Fires when the database's freeable memory is below DbFreeableMemoryMiB in 3 "
        "five-minute periods in a row; clears with the first five minutes at or above it." + KEEPS_STATE,
        f"m1 / {MIB}", {"m1": (RDS, "FreeableMemory", db, "Minimum")},
        comparison="LessThanThreshold", threshold=Ref(P.DB_FREEABLE_MEMORY_MIB.name),
        treat_missing=QUIET_KEEPS_STATE, period=300, periods=3,
    )
    alarms.metric(
        "DbConnectionsAlarm", "Fires when the database has more connections than DbConnectionsMax in 2 "
        "five-minute periods in a row; clears with the first five minutes at or below it." + KEEPS_STATE,
        RDS, "DatabaseConnections", db,
        statistic="Maximum", comparison="GreaterThanThreshold", threshold=Ref(P.DB_CONNECTIONS_MAX.name),
        treat_missing=QUIET_KEEPS_STATE, period=300, periods=2,
    )
    alarms.metric(
        "DbReplicaLagAlarm", "Fires when the read replica is behind the primary by more than "
        "DbReplicaLagSeconds in 2 five-minute periods in a row, or when it has reported nothing for the whole "
        "evaluation range; clears with the first five minutes at or below it.",
        RDS, "ReplicaLag", {"DBInstanceIdentifier": naming.name(naming.DB_REPLICA)},
        statistic="Maximum", comparison="GreaterThanThreshold", threshold=Ref(P.DB_REPLICA_LAG_SECONDS.name),
        treat_missing=QUIET_IS_TROUBLE, period=300, periods=2, condition=HAS_READ_REPLICA,
    )
    # Stopped replication reports ReplicaLag = -1, which no "greater than" reads as lag.
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MySQL.Replication.ReadReplicas.Monitor.html
    alarms.metric(
        "DbReplicationStoppedAlarm", "Fires when replication to the read replica is not running (ReplicaLag "
        "is -1) in 3 of the last 5 minutes; clears when fewer than 3 of the last 5 minutes are -1." + KEEPS_STATE,
        RDS, "ReplicaLag", {"DBInstanceIdentifier": naming.name(naming.DB_REPLICA)},
        statistic="Minimum", comparison="LessThanThreshold", threshold=0,
        treat_missing=QUIET_KEEPS_STATE, period=60, periods=5, datapoints=3, condition=HAS_READ_REPLICA,
    )


def _file_system_alarms(alarms: Alarms) -> None:
    efs = {"FileSystemId": Ref(P.EFS_FILE_SYSTEM_ID.name)}
    alarms.expression(
        "EfsBurstCreditAlarm", "Fires when EFS burst credits are below EfsBurstCreditGiB in 3 five-minute "
        "periods in a row (bursting throughput mode); clears with the first five minutes at or above it."
        + KEEPS_STATE,
        f"m1 / {GIB}", {"m1": (EFS, "BurstCreditBalance", efs, "Minimum")},
        comparison="LessThanThreshold", threshold=Ref(P.EFS_BURST_CREDIT_GIB.name),
        treat_missing=QUIET_KEEPS_STATE, period=300, periods=3, condition=EFS_BURSTING,
    )
    # PercentIOLimit has no datapoint while nothing does I/O (see ZERO_WHEN_QUIET).
    alarms.expression(
        "EfsIoLimitAlarm", "Fires when EFS is above EfsIoLimitPercent of its I/O limit in 3 five-minute periods "
        "in a row (General Purpose mode); clears with the first five minutes at or below it. Five minutes "
        "without I/O count as 0 %.",
        ZERO_WHEN_QUIET, {"m1": (EFS, "PercentIOLimit", efs, "Maximum")},
        comparison="GreaterThanThreshold", threshold=Ref(P.EFS_IO_LIMIT_PERCENT.name),
        treat_missing=QUIET_IS_FINE, period=300, periods=3, condition=EFS_GENERAL_PURPOSE,
    )


def _nat_alarms(alarms: Alarms) -> None:
    """One alarm per NAT gateway the network stack made (1, 2 or 3)."""
    for number, condition in ((1, None), (2, USE_NAT_PER_AZ), (3, CREATE_NAT_GATEWAY_3)):
        # Filled with 0 (see ZERO_WHEN_QUIET): otherwise, with one evaluation period, the
        # last real datapoint anywhere in the evaluation range decides, and the alarm
        # stayed in ALARM after the errors stopped for as long as the gateway was quiet.
        gateway = {"NatGatewayId": Select(number - 1, Ref(P.NAT_GATEWAY_IDS.name))}
        alarms.expression(
            f"NatGateway{number}PortAllocationAlarm",
            f"Fires when NAT gateway {number} failed to allocate source ports (connections dropped) more than "
            "NatPortAllocationErrors times in five minutes; clears with the next five minutes at or below it.",
            ZERO_WHEN_QUIET, {"m1": (NAT, "ErrorPortAllocation", gateway, "Sum")},
            comparison="GreaterThanThreshold", threshold=Ref(P.NAT_PORT_ALLOCATION_ERRORS.name),
            treat_missing=QUIET_IS_FINE, period=300, periods=1, condition=condition,
        )


# --- Dashboard ---------------------------------------------------------------

def _row_title(text: str) -> dict:
    return {"type": "text", "width": 24, "height": 1, "properties": {"markdown": f"## {text}"}}


def _graph(title: str, metrics: list, stat: str = "Sum", width: int = 6) -> dict:
    return {
        "type": "metric",
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "metrics": metrics,
            "stat": stat,
            "period": 60,
            "view": "timeSeries",
        },
    }


ALB_DIMS = ["LoadBalancer", "${AlbFullName}"]
TG_DIMS = ["TargetGroup", "${TargetGroupFullName}", "LoadBalancer", "${AlbFullName}"]
DB_DIMS = ["DBInstanceIdentifier", naming.name(naming.DB_INSTANCE).to_dict()["Fn::Sub"]]
DB_REPLICA_DIMS = ["DBInstanceIdentifier", naming.name(naming.DB_REPLICA).to_dict()["Fn::Sub"]]
EFS_DIMS = ["FileSystemId", "${EfsFileSystemId}"]
ROTATION_FUNCTION = rotationfunction.function_name().to_dict()["Fn::Sub"]

# Every alarm's metric is on the dashboard, with the alarm's dimensions, so that what an alarm
# watches can be seen before and after it fires (tests/templates/test_monitoring.py checks).
# (condition or None, widget): one row per tier, top to bottom like the stack.
DASHBOARD = [
    (None, _row_title("Load balancer")),
    (None, _graph("Requests", [[ALB, "RequestCount", *ALB_DIMS], [ALB, "RequestCount", *TG_DIMS]])),
    (None, _graph("Response time p95 (s)", [[ALB, "TargetResponseTime", *TG_DIMS]], stat="p95")),
    (None, _graph("5xx responses", [[ALB, "HTTPCode_ELB_5XX_Count", *ALB_DIMS],
                                    [ALB, "HTTPCode_Target_5XX_Count", *TG_DIMS]])),
    (None, _graph("Healthy / unhealthy servers", [[ALB, "HealthyHostCount", *TG_DIMS],
                                                  [ALB, "UnHealthyHostCount", *TG_DIMS]], stat="Maximum")),
    (None, _row_title("App servers")),
    (None, _graph("CPU utilisation (%)", [["AWS/EC2", "CPUUtilization", "AutoScalingGroupName",
                                           "${AutoScalingGroupName}"]], stat="Average", width=12)),
    (None, _graph("Servers in service", [[ASG, "GroupInServiceInstances", "AutoScalingGroupName",
                                          "${AutoScalingGroupName}"]], stat="Minimum", width=12)),
    (None, _row_title("Database")),
    (None, _graph("CPU utilisation (%)", [[RDS, "CPUUtilization", *DB_DIMS]], stat="Average")),
    (None, _graph("Connections", [[RDS, "DatabaseConnections", *DB_DIMS]], stat="Maximum")),
    (None, _graph("Free storage (bytes)", [[RDS, "FreeStorageSpace", *DB_DIMS]], stat="Minimum")),
    (None, _graph("Freeable memory (bytes)", [[RDS, "FreeableMemory", *DB_DIMS]], stat="Minimum")),
    (HAS_READ_REPLICA, _graph("Replica lag (s)", [[RDS, "ReplicaLag", *DB_REPLICA_DIMS]], stat="Maximum")),
    (None, _graph("Database errors in the app logs", [[logstore.APP_METRICS_NAMESPACE,
                                                       logstore.DATABASE_ERRORS_METRIC]])),
    (None, _graph("Password rotation errors", [["AWS/Lambda", "Errors", "FunctionName", ROTATION_FUNCTION]])),
    (None, _row_title("Shared file system")),
    (None, _graph("Throughput (bytes)", [[EFS, "TotalIOBytes", *EFS_DIMS], [EFS, "MeteredIOBytes", *EFS_DIMS]],
                  width=12)),
    (EFS_GENERAL_PURPOSE, _graph("I/O limit used (%)", [[EFS, "PercentIOLimit", *EFS_DIMS]], stat="Maximum")),
    (EFS_BURSTING, _graph("Burst credits (bytes)", [[EFS, "BurstCreditBalance", *EFS_DIMS]], stat="Minimum")),
    (None, _row_title("NAT gateways")),
    *((condition, _graph(f"NAT gateway {number} port allocation errors",
                         [[NAT, "ErrorPortAllocation", "NatGatewayId", f"${{NatGateway{number}Id}}"]]))
      for number, condition in ((1, None), (2, USE_NAT_PER_AZ), (3, CREATE_NAT_GATEWAY_3))),
]


def _nat_gateway_id(number: int) -> Select:
    """The id of NAT gateway `number` from NatGatewayIds, which lists only the gateways that exist.
    Fn::Select fails the stack on an index out of range, and the dashboard body is one property:
    the list is padded so that gateways 2 and 3 stay in range when they do not exist (their
    widgets are left out by their Conditions).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-select.html"""
    padded = Join("", [Join(",", Ref(P.NAT_GATEWAY_IDS.name)), ",,"])
    return Select(number - 1, Split(",", padded))


def _sub_variables(text: str) -> dict:
    """The Sub variables a widget's text uses that are no parameter of the stack: the NAT gateway ids."""
    return {f"NatGateway{number}Id": _nat_gateway_id(number) for number in (1, 2, 3)
            if f"${{NatGateway{number}Id}}" in text}


def dashboard_body() -> Join:
    """The dashboard JSON, built from DASHBOARD; widgets under a Condition appear only when it holds.

    CloudWatch lays widgets out in order, so a missing one leaves no gap.
    """
    parts = []
    for index, (condition, widget) in enumerate(DASHBOARD):
        text = ("," if index else "") + json.dumps(widget, sort_keys=True)
        variables = _sub_variables(text)
        value = Sub(text, variables) if variables else Sub(text) if "${" in text else text
        parts.append(value if condition is None else If(condition, value, ""))
    return Join("", ['{"widgets":[', *parts, "]}"])


def _key_use_by(sid: str, service: str) -> Statement:
    """A key policy statement that lets `service` of this account encrypt for the topic."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", policies.service_principal(service)),
        Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
        Resource=["*"],  # in a key policy, "*" means this key
        Condition=PolicyCondition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
    )
