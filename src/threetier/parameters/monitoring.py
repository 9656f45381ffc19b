"""Alarms, the address that hears about them, and their thresholds."""

from __future__ import annotations

from threetier.parameters.param import GROUP_ADVANCED_ALARMS, GROUP_NOTIFICATIONS, TRUE_FALSE, Param


def _threshold(name: str, description: str, label: str, default: str, low: int, high: int,
               unit: str) -> Param:
    return Param(
        name, "Number", description, label=label, group=GROUP_ADVANCED_ALARMS, default=default,
        min_value=low, max_value=high, constraint=f"A number of {unit} from {low} to {high}.",
    )



MONITORING_ENABLED = Param(
    "MonitoringEnabled",
    "String",
    "true: alarms on every tier, notifications to an encrypted SNS topic, and a dashboard.",
    label="Alarms and dashboard",
    group=GROUP_NOTIFICATIONS,
    default="true",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

# Who hears the alarms: an email address (the topic's subscriber, once it confirms) or an
# existing SNS topic the alarms notify besides their own (a chat or pager integration's).
# SNS has no protocol that forwards one topic to another (Subscribe's protocols: http(s),
# email, email-json, sms, sqs, application, lambda, firehose), so a topic is an alarm action.
# https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$"
# A standard topic: a FIFO topic's name ends in .fifo, and its messages need a group id.
TOPIC_ARN_PATTERN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[\w-]{1,256}$"

ALARM_EMAIL = Param(
    "AlarmEmail",
    "String",
    "Who hears the alarms. An email address: subscribed to the alarm topic, it receives nothing "
    "until someone confirms the email AWS sends (`threetier status ENV` shows it waiting). Or the ARN "
    "of an existing SNS topic (a chat or pager integration's) that every alarm notifies too: its "
    "access policy, and the key policy of its KMS key if it is encrypted, must let CloudWatch publish "
    "(docs/deploy.md, \"Who hears the alarms\"). Empty: no one (validate refuses that for a protected "
    "environment).",
    hint="Email (confirm it) or SNS topic ARN; empty: none",
    label="Alarm email or topic ARN",
    group=GROUP_NOTIFICATIONS,
    default="",
    allowed_pattern=f"^$|{EMAIL_PATTERN}|{TOPIC_ARN_PATTERN}",
    constraint="Empty, an email address or an SNS topic ARN.",
)

ALB_5XX_PERCENT = _threshold(
    "Alb5xxPercent", "Alarm when more than this share of requests gets a 5xx from the load balancer itself.",
    "Load balancer 5xx (% of requests)", "5", 1, 100, "percent")

TARGET_5XX_PERCENT = _threshold(
    "Target5xxPercent", "Alarm when more than this share of requests gets a 5xx from the app servers.",
    "App 5xx (% of requests)", "5", 1, 100, "percent")

UNHEALTHY_HOST_MINUTES = _threshold(
    "UnhealthyHostMinutes", "Alarm when any app server fails health checks for this many minutes in a row.",
    "Unhealthy server (minutes)", "5", 1, 60, "minutes")

RESPONSE_TIME_P95_MS = _threshold(
    "ResponseTimeP95Ms", "Alarm when the 95th percentile app response time exceeds this.",
    "Response time p95 (ms)", "1500", 50, 60000, "milliseconds")

DB_CPU_PERCENT = _threshold(
    "DbCpuPercent", "Alarm when the database's average CPU stays above this for 15 minutes.",
    "Database CPU (%)", "80", 10, 100, "percent")

DB_FREE_STORAGE_GIB = _threshold(
    "DbFreeStorageGiB", "Alarm when the database's free storage falls below this.",
    "Database free storage (GiB)", "5", 1, 10000, "GiB")

DB_FREEABLE_MEMORY_MIB = _threshold(
    "DbFreeableMemoryMiB", "Alarm when the database's freeable memory falls below this.",
    "Database freeable memory (MiB)", "128", 16, 1000000, "MiB")

DB_CONNECTIONS_MAX = _threshold(
    "DbConnectionsMax", "Alarm when the database has more connections than this; keep it well below "
    "the instance class's max_connections (about 70 %; threetier validate checks).",
    "Database connections", "50", 1, 100000, "connections")

DB_REPLICA_LAG_SECONDS = _threshold(
    "DbReplicaLagSeconds", "Alarm when the read replica lags the primary by more than this.",
    "Replica lag (s)", "300", 1, 86400, "seconds")

EFS_BURST_CREDIT_GIB = _threshold(
    "EfsBurstCreditGiB", "Bursting mode: alarm when EFS burst credits fall below this.",
    "EFS burst credits (GiB)", "100", 1, 1000000, "GiB")

EFS_IO_LIMIT_PERCENT = _threshold(
    "EfsIoLimitPercent", "General Purpose mode: alarm when EFS uses more than this share of its I/O limit.",
    "EFS I/O limit (%)", "90", 10, 100, "percent")

NAT_PORT_ALLOCATION_ERRORS = _threshold(
    "NatPortAllocationErrors", "Alarm when a NAT gateway fails to allocate more source ports than this in 5 minutes.",
    "NAT port allocation errors", "0", 0, 100000, "errors")

THRESHOLDS = (
    ALB_5XX_PERCENT,
    TARGET_5XX_PERCENT,
    UNHEALTHY_HOST_MINUTES,
    RESPONSE_TIME_P95_MS,
    DB_CPU_PERCENT,
    DB_FREE_STORAGE_GIB,
    DB_FREEABLE_MEMORY_MIB,
    DB_CONNECTIONS_MAX,
    DB_REPLICA_LAG_SECONDS,
    EFS_BURST_CREDIT_GIB,
    EFS_IO_LIMIT_PERCENT,
    NAT_PORT_ALLOCATION_ERRORS,
)

ALARMS = (ALARM_EMAIL, *THRESHOLDS)

MONITORING = (MONITORING_ENABLED, *ALARMS)
