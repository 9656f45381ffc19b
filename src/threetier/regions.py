"""Facts about AWS regions that decide whether a deploy can work."""

# Regions where most accounts get fewer than three Availability Zones. Every
# other commercial region offers at least three.
AZ_COUNTS = {
    "us-west-1": 2,
}


def with_fewer_azs_than(count: int) -> list[str]:
    return sorted(region for region, azs in AZ_COUNTS.items() if azs < count)
