"""Database engines: the one table of versions, classes, logs and support dates.

The security stack reads the port and the data stack everything else, both
from the CloudFormation Mapping built from ENGINES (threetier.blocks.engine_mapping),
so the DB security group always opens the engine's port. `validate`, the root Rules and the project lint
rule on end of support read the other tables here.
"""

from __future__ import annotations

from datetime import date

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html#MySQL.Concepts.VersionMgmt.ReleaseCalendar",
    "https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html",
    "https://docs.amazonaws.cn/en_us/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html",
)
CHECKED = "2026-12-06"

# The app's own database user: created by the app secret's first rotation with the
# grants the app needs, then rotated with alternating users (docs/security.md, Secrets).
APP_DB_USER = "app"

# MySQL 8.4 is the LTS line; 8.0 left RDS standard support on 2026-07-31 and a
# new 8.0 instance would enrol in paid Extended Support (dates: STANDARD_SUPPORT_ENDS).
# EngineLifecycleSupport is set explicitly, never left to the default, which
# enrols the instance in Extended Support (billed once standard support ends).
# Disabled: creating an instance past its end of standard support fails instead
# of billing, and RDS upgrades the engine at that date; plan the major upgrade
# before it (the project lint rule W9009 warns from the table below).
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (EngineLifecycleSupport)
EXTENDED_SUPPORT_DISABLED = "open-source-rds-extended-support-disabled"

ENGINES = {
    "mysql": {
        "Engine": "mysql",
        "EngineVersion": "8.4",
        "Label": "MySQL 8.4",
        "Port": "3306",
        "ParameterGroupFamily": "mysql8.4",
        # Secrets Manager's hosted rotation functions for this engine.
        "SingleUserRotation": "MySQLSingleUser",
        "MultiUserRotation": "MySQLMultiUser",
        # Exported logs: each one exported is switched on by the parameter group
        # below (error is always on). general stays off: it logs every query.
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html
        "LogExports": ["error", "slowquery"],
    },
    "postgres": {
        "Engine": "postgres",
        "EngineVersion": "16",
        "Label": "PostgreSQL 16",
        "Port": "5432",
        "ParameterGroupFamily": "postgres16",
        "SingleUserRotation": "PostgreSQLSingleUser",
        "MultiUserRotation": "PostgreSQLMultiUser",
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.html
        "LogExports": ["postgresql", "upgrade"],
    },
}

# What each engine's DB parameter group sets so that the exported logs have
# content: the slow query log at one second, written to files (RDS publishes
# files, not tables, to CloudWatch Logs); and that both refuse connections
# without TLS. PostgreSQL's rds.force_ssl is its RDS default since 15, made
# explicit. MySQL's require_secure_transport is off by default up to 8.4 and can
# be set to 1 (ON), no reboot needed:
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html
# The app's connections use TLS (the app server's venv hook and libpq's PGSSL*
# variables, docs/rotation.md "Encryption in transit"), the rotation function's always.
PARAMETER_GROUP_SETTINGS = {
    "mysql": {"slow_query_log": "1", "long_query_time": "1", "log_output": "FILE",
              "require_secure_transport": "1"},
    "postgres": {"log_min_duration_statement": "1000", "rds.force_ssl": "1"},
}

# Where RDS publishes the CA bundle of a region's database certificates, by partition: the region's
# bundle is <host>/<region>/<region>-bundle.pem. Each partition has its own host; China's is
# documented on docs.amazonaws.cn only ("Certificate bundles by AWS Region" in "Using SSL/TLS to
# encrypt a connection to a DB instance or cluster", RDS User Guide; SOURCES).
RDS_CA_BUNDLE_HOSTS = {
    "aws": "https://truststore.pki.rds.amazonaws.com",
    "aws-us-gov": "https://truststore.pki.us-gov-west-1.rds.amazonaws.com",
    "aws-cn": "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn",
}


def rds_ca_bundle_url(partition: str, region: str) -> str:
    """The region's RDS CA bundle, e.g. https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem."""
    return f"{RDS_CA_BUNDLE_HOSTS[partition]}/{region}/{region}-bundle.pem"


# RDS for MySQL has no Performance Insights on these classes.
NO_PERFORMANCE_INSIGHTS = {
    "mysql": ("db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"),
}

# The default max_connections of the engines' default parameter groups, as RDS
# documents it: MySQL {DBInstanceClassMemory/12582880}, PostgreSQL
# LEAST({DBInstanceClassMemory/9531392},5000).
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
# DBInstanceClassMemory is the class's memory less what the OS and RDS keep, so
# the figure from the class's full memory is an upper bound: a connections alarm
# at or above it can never fire.
MAX_CONNECTIONS_DIVISOR = {"mysql": 12582880, "postgres": 9531392}
MAX_CONNECTIONS_CAP = {"postgres": 5000}

# Memory (GiB) of the general purpose (t, m) classes by size; memory optimized
# (r) classes have twice as much. Other families (x2g...) are not in the table.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html
GENERAL_PURPOSE_MEMORY_GIB = {
    "micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64,
    "8xlarge": 128, "12xlarge": 192, "16xlarge": 256, "24xlarge": 384,
}


def class_memory_gib(instance_class: str) -> int | None:
    """db.t4g.micro -> 1, db.r6g.large -> 16; None for a class outside the table."""
    parts = instance_class.split(".")
    if len(parts) != 3 or parts[0] != "db" or parts[1][:1] not in ("t", "m", "r"):
        return None
    memory = GENERAL_PURPOSE_MEMORY_GIB.get(parts[2])
    if memory is None:
        return None
    return memory * 2 if parts[1].startswith("r") else memory


def max_connections_at_most(engine: str, instance_class: str) -> int | None:
    """The most connections the engine's default parameter group can allow on this class."""
    memory = class_memory_gib(instance_class)
    if memory is None or engine not in MAX_CONNECTIONS_DIVISOR:
        return None
    connections = memory * 1024 ** 3 // MAX_CONNECTIONS_DIVISOR[engine]
    return min(connections, MAX_CONNECTIONS_CAP.get(engine, connections))


# End of RDS standard support by (engine, major version). After it, a new
# instance is enrolled in RDS Extended Support (billed per vCPU-hour) unless
# EngineLifecycleSupport says otherwise. Sources:
# MySQL: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html#MySQL.Concepts.VersionMgmt.ReleaseCalendar
# PostgreSQL: https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html
STANDARD_SUPPORT_ENDS = {
    ("mysql", "5.7"): date(2024, 2, 29),
    ("mysql", "8.0"): date(2026, 7, 31),
    ("mysql", "8.4"): date(2029, 7, 31),
    ("postgres", "11"): date(2024, 2, 29),
    ("postgres", "12"): date(2025, 2, 28),
    ("postgres", "13"): date(2026, 2, 28),
    ("postgres", "14"): date(2027, 2, 28),
    ("postgres", "15"): date(2028, 2, 29),
    ("postgres", "16"): date(2029, 2, 28),
    ("postgres", "17"): date(2030, 2, 28),
}


def major_version(engine: str, version: str) -> str:
    """The major version RDS support dates are kept by: 8.0.35 -> 8.0 (MySQL), 16.4 -> 16 (PostgreSQL)."""
    parts = str(version).split(".")
    return ".".join(parts[:2]) if engine == "mysql" else parts[0]


def standard_support_ends(engine: str, version: str) -> date | None:
    return STANDARD_SUPPORT_ENDS.get((engine, major_version(engine, version)))

