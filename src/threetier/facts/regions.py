"""Facts about AWS regions that decide whether a deploy can work."""

import functools

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html#access-logs-choosing-s3-bucket",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html",
    "botocore's bundled endpoints data (regions and partitions), read at run time",
)
CHECKED = "2026-11-30"

# Regions where most accounts get fewer than three Availability Zones. Every
# other commercial region offers at least three.
AZ_COUNTS = {
    "us-west-1": 2,
}


def with_fewer_azs_than(count: int) -> list[str]:
    return sorted(region for region, azs in AZ_COUNTS.items() if azs < count)


# Regions whose S3 buckets CloudFront standard logging (legacy) cannot deliver
# to. The edge stack's log bucket is in the stack's region, so CloudFront logs
# there are refused (root Rule and `threetier validate`).
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html#access-logs-choosing-s3-bucket
CLOUDFRONT_LOGS_UNSUPPORTED = (
    "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ca-west-1",
    "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1",
)


# Regions outside the commercial partition (aws), where the load balancer's log
# delivery account is not in templates/app.py's table (GovCloud, China): access
# logs are refused there (root Rule and `threetier validate`).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
OUTSIDE_LOG_DELIVERY_TABLE = ("cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1")
COMMERCIAL_PARTITION = "aws"


@functools.lru_cache(maxsize=1)
def _endpoints() -> dict:
    import botocore.session

    return botocore.session.get_session().get_data("endpoints")


def partition_of(region: str) -> str | None:
    """The partition (aws, aws-cn, aws-us-gov, ...) botocore's bundled data puts `region` in, or None."""
    for partition in _endpoints()["partitions"]:
        if region in partition["regions"]:
            return partition["partition"]
    return None


def url_suffix_of(partition: str) -> str:
    """The partition's domain suffix (AWS::URLSuffix): amazonaws.com, amazonaws.com.cn in China, ..."""
    for known in _endpoints()["partitions"]:
        if known["partition"] == partition:
            return known["dnsSuffix"]
    raise KeyError(f"no partition {partition!r} in botocore's endpoint data")


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's bundled endpoint data (offline)."""
    return frozenset(region for partition in _endpoints()["partitions"] for region in partition["regions"])


def _did_you_mean(region: str, known: frozenset[str]) -> str:
    """`did you mean us-east-1? ` for a known region typed in capitals or with spaces (US-EAST-1,
    "us-east-1 "), or the closest known name; "" when nothing is close."""
    tidy = region.strip().lower()
    if tidy in known:
        return f"did you mean {tidy} (lower case, no spaces)? "
    import difflib  # here: only a mistake needs it, and generate imports this module

    close = difflib.get_close_matches(tidy, sorted(known), n=1)
    return f"did you mean {close[0]}? " if close else ""


def unknown_region_problem(region: str) -> str | None:
    """Why `region` is not one to deploy to (with the closest known name), or None when botocore knows it."""
    known = known_regions()
    if region in known:
        return None
    hint = _did_you_mean(region, known)
    return (f"not an AWS region botocore knows: {hint}Check --region, AWS_REGION or your profile's region "
            "(a region newer than your botocore needs `pip install -U boto3`)")
