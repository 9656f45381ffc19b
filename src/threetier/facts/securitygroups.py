"""Security group rule quotas, and what a reference to a managed prefix list counts against them."""

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html#aws-managed-prefix-list-weights",
    "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups",
)
CHECKED = "2026-12-06"

# Inbound rules per security group, the default quota (adjustable). It is counted
# separately for inbound and outbound, and for IPv4 and IPv6 rules.
INBOUND_RULES_PER_GROUP = 60

# What one rule referencing an AWS-managed prefix list counts as ("weight"). Each
# reference counts: two rules naming the same list count it twice. A
# customer-managed list counts as its MaxEntries.
MANAGED_PREFIX_LIST_WEIGHTS = {
    "com.amazonaws.global.cloudfront.origin-facing": 55,
    "com.amazonaws.global.ipv6.cloudfront.origin-facing": 55,
}
