"""Where logs are kept: retained, encrypted, private. One definition for every stack."""

from __future__ import annotations

from troposphere import Sub, logs, s3 as bucket

from threetier.blocks import naming


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
    )


# --- What the app servers' logs are watched for ---------------------------

# Where metrics derived from the app's logs go, per environment.
APP_METRICS_NAMESPACE = "threetier/${ProjectName}-${EnvironmentName}"
DATABASE_ERRORS_METRIC = "DatabaseErrors"
# Database authentication and connection failures as the MySQL/MariaDB and
# PostgreSQL client libraries word them (server error 1045, client errors
# 2002/2003/2005/2006/2013, libpq's connection messages). The load balancer's
# health check (a static page) cannot see these: after a failed rotation every
# query fails while every server stays healthy. Nothing generic such as
# "Connection refused": curl prints that in the boot log while the app starts.
DATABASE_ERROR_TERMS = (
    "Access denied for user",
    "Can't connect to MySQL server",
    "Can't connect to local MySQL server",
    "Lost connection to MySQL server",
    "MySQL server has gone away",
    "Unknown MySQL server host",
    "Too many connections",
    "password authentication failed for user",
    "could not connect to server",
    "no pg_hba.conf entry",
    "too many clients already",
)


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
