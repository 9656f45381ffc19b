"""Where logs are kept: retained, encrypted, private. One definition for every stack."""

from __future__ import annotations

from troposphere import logs
from troposphere import s3 as bucket

from threetier import naming


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
