"""Where logs are kept: retained, encrypted, private. One definition for every stack."""

from __future__ import annotations

from troposphere import Sub, logs, s3 as bucket

from threetier.blocks import naming
from threetier.blocks.suppressions import checkov


def log_group(title: str, thing: str, *, retention_days, kms_key_arn, keep: bool = True) -> logs.LogGroup:
    """A log group encrypted with our key, kept when the stack goes (logs are audit evidence).

    keep=False for a group whose name is fixed by another service: a kept one
    would make re-creating the same environment fail ("already exists").
    """
    policy = "Retain" if keep else "Delete"
    return logs.LogGroup(
        title,
        DeletionPolicy=policy,
        UpdateReplacePolicy=policy,
        RetentionInDays=retention_days,
        KmsKeyId=kms_key_arn,
        Tags=naming.tags(thing),
    )


def log_bucket(title: str, thing: str, *, condition: str, expiration_days,
               object_ownership: str = "BucketOwnerEnforced") -> bucket.Bucket:
    """A private, versioned bucket for AWS service access logs, kept when the stack goes.

    SSE-S3, not SSE-KMS: ALB and CloudFront log delivery cannot write to
    KMS-encrypted buckets. CloudFront standard logging writes with an ACL
    grant, so its bucket passes object_ownership="BucketOwnerPreferred".
    """
    return bucket.Bucket(
        title,
        Condition=condition,
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        BucketEncryption=bucket.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                bucket.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=bucket.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
                )
            ]
        ),
        PublicAccessBlockConfiguration=bucket.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
        ),
        OwnershipControls=bucket.OwnershipControls(
            Rules=[bucket.OwnershipControlsRule(ObjectOwnership=object_ownership)]
        ),
        VersioningConfiguration=bucket.VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=bucket.LifecycleConfiguration(
            Rules=[
                bucket.LifecycleRule(
                    Id=f"expire-{thing}",
                    Status="Enabled",
                    ExpirationInDays=expiration_days,
                    NoncurrentVersionExpiration=bucket.NoncurrentVersionExpiration(NoncurrentDays=1),
                )
            ]
        ),
        Tags=naming.tags(thing),
        Metadata=checkov((
            "CKV_AWS_18",
            "It is itself the log bucket of a service (ALB or CloudFront access logs); logging the "
            "access to it would need yet another bucket, logged in turn.",
        )),
    )


# --- What the app servers' logs are watched for ---------------------------

# Where metrics derived from the app's logs go, per environment.
APP_METRICS_NAMESPACE = "threetier/${ProjectName}-${EnvironmentName}"
DATABASE_ERRORS_METRIC = "DatabaseErrors"
# Database authentication, connection and timeout failures, in the words the drivers write them
# (an uncaught exception's last traceback line, or the error the app prints; gunicorn's
# --capture-output puts both in the shipped error log). Case-sensitive, as CloudWatch matches.
# The load balancer's health check (a static page) cannot see these: after a failed rotation
# every query fails while every server stays healthy. Nothing generic such as "Connection
# refused": curl prints that in the boot log while the app starts.
DATABASE_ERROR_TERMS = (
    # MySQL/MariaDB server error 1045 and 1040, whatever the client.
    "Access denied for user",
    "Too many connections",
    # PyMySQL (the reference app's driver, installed as MySQLdb), pymysql/connections.py:
    # 2003 on connect, refused or timed out ("Can't connect to MySQL server on %r (%s)"),
    # 2013 "Lost connection to MySQL server during query (...)", 2006 "MySQL server has gone
    # away (...)". Oracle's libmysqlclient (mysqlclient built on Ubuntu) words 2002/2003/2005/
    # 2006/2013 the same way (libmysql/errmsg.cc).
    "Can't connect to MySQL server",
    "Can't connect to local MySQL server",
    "Lost connection to MySQL server",
    "MySQL server has gone away",
    "Unknown MySQL server host",
    # MariaDB Connector/C 3.x (mysqlclient built on Debian 12 or Amazon Linux 2023 against
    # libmariadb) says "server" where libmysqlclient says "MySQL server", libmariadb/ma_errmsg.c:
    # 2002/2003 "Can't connect to server on '%-.64s' (%d)", 2005 "Unknown server host",
    # 2006 "Server has gone away", 2013 "Lost connection to server during query" / "at '%s'".
    "Can't connect to server on",
    "Can't connect to local server",
    "Unknown server host",
    "Server has gone away",
    "Lost connection to server",
    # PostgreSQL through libpq (psycopg2), fe-connect.c/fe-auth.c/fe-misc.c: libpq 14 and later
    # prefix every connection failure with 'connection to server at "host" (addr), port N
    # failed: ' (or 'on socket'); earlier ones with "could not connect to server"; a
    # connect_timeout ends in "timeout expired"; the server refuses with "password
    # authentication failed for user", "no pg_hba.conf entry" or "too many clients already".
    "connection to server at",
    "connection to server on socket",
    "could not connect to server",
    "timeout expired",
    "password authentication failed for user",
    "no pg_hba.conf entry",
    "too many clients already",
)
# SQLAlchemy (sqlalchemy.exc.OperationalError) repeats the driver's message after the
# driver's class name ("(pymysql.err.OperationalError) (2003, ...)"), so the terms above
# match it; its class name alone is no term: it also names deadlocks and lock wait timeouts.


def database_error_pattern() -> str:
    """A CloudWatch Logs filter pattern matching an event that contains any of the terms
    (`?"term"` ORs terms in unstructured events).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
    """
    return " ".join(f'?"{term}"' for term in DATABASE_ERROR_TERMS)


def database_errors_filter(title: str, log_group) -> logs.MetricFilter:
    """Counts database authentication and connection errors in the app servers' logs."""
    return logs.MetricFilter(
        title,
        LogGroupName=log_group,
        FilterPattern=database_error_pattern(),
        MetricTransformations=[logs.MetricTransformation(
            MetricNamespace=Sub(APP_METRICS_NAMESPACE),
            MetricName=DATABASE_ERRORS_METRIC,
            MetricValue="1",
            Unit="Count",
        )],
    )
