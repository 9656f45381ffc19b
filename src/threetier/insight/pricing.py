"""Where unit prices come from: the table shipped in the package, or the AWS Price List API.

The table (prices_us_east_1.json) states its region, currency and the date the
prices were taken; every estimate prints them. `--live` asks the Price List API
for the EC2 and RDS instance prices instead (the biggest lines, and the ones
most likely to be missing from the table); everything else stays from the table.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

TABLE = Path(__file__).with_name("prices_us_east_1.json")
# The Price List API answers only from a few regions; us-east-1 is one of them.
PRICING_API_REGION = "us-east-1"
RDS_ENGINE_NAMES = {"mysql": "MySQL", "postgres": "PostgreSQL"}


class UnknownPrice(Exception):
    """No price for an instance type: names the parameter and the type."""


class PriceTable:
    def __init__(self, path: Path = TABLE):
        self.path = Path(path)
        # Decimal, so that cents add up exactly.
        self.data = json.loads(self.path.read_text(encoding="utf-8"), parse_float=Decimal)
        self.region: str = self.data["region"]
        self.currency: str = self.data["currency"]
        self.prices_taken: str = self.data["prices_taken"]

    def rate(self, name: str) -> Decimal:
        return Decimal(self.data["rates"][name])

    def assumptions(self) -> dict[str, Decimal]:
        return {name: Decimal(item["value"]) for name, item in self.data["assumptions"].items()}

    def assumption_meanings(self) -> dict[str, str]:
        return {name: item["means"] for name, item in self.data["assumptions"].items()}

    def ec2_hourly(self, instance_type: str, parameter: str | None) -> Decimal:
        prices = self.data["ec2_instance_hourly"]
        if instance_type not in prices:
            raise UnknownPrice(
                f"{parameter or 'instance type'}={instance_type}: no on-demand price for EC2 instance type "
                f"{instance_type!r} in {self.path.name}; add it there, or use --live"
            )
        return Decimal(prices[instance_type])

    def rds_hourly(self, engine: str, instance_class: str, parameter: str | None) -> Decimal:
        prices = self.data["rds_instance_hourly"].get(engine, {})
        if instance_class not in prices:
            raise UnknownPrice(
                f"{parameter or 'instance class'}={instance_class}: no on-demand price for RDS {engine} "
                f"instance class {instance_class!r} in {self.path.name}; add it there, or use --live"
            )
        return Decimal(prices[instance_class])


class LivePrices:
    """On-demand hourly instance prices from the AWS Price List API (boto3 `pricing` client)."""

    def __init__(self, client, region: str):
        self.client = client
        self.region = region
        self._cache: dict[tuple, Decimal] = {}

    def ec2_hourly(self, instance_type: str, parameter: str | None) -> Decimal:
        return self._hourly("AmazonEC2", {
            "instanceType": instance_type,
            "regionCode": self.region,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
            "licenseModel": "No License required",
        }, f"{parameter or 'instance type'}={instance_type} (EC2 instance type)")

    def rds_hourly(self, engine: str, instance_class: str, parameter: str | None) -> Decimal:
        return self._hourly("AmazonRDS", {
            "instanceType": instance_class,
            "regionCode": self.region,
            "databaseEngine": RDS_ENGINE_NAMES.get(engine, engine),
            # Multi-AZ is priced as twice Single-AZ, the same rule as the table.
            "deploymentOption": "Single-AZ",
        }, f"{parameter or 'instance class'}={instance_class} (RDS {engine} instance class)")

    def _hourly(self, service: str, attributes: dict[str, str], what: str) -> Decimal:
        key = (service, *sorted(attributes.items()))
        if key not in self._cache:
            response = self.client.get_products(
                ServiceCode=service,
                Filters=[{"Type": "TERM_MATCH", "Field": field, "Value": value}
                         for field, value in attributes.items()],
                FormatVersion="aws_v1",
                MaxResults=10,
            )
            price = _first_hourly_usd(response.get("PriceList", []))
            if price is None:
                raise UnknownPrice(f"{what}: the AWS Price List API has no on-demand hourly price "
                                   f"for it in {self.region}")
            self._cache[key] = price
        return self._cache[key]


def _first_hourly_usd(price_list: list) -> Decimal | None:
    """The first positive on-demand USD price per hour; each item is a JSON string of one product."""
    for item in price_list:
        product = json.loads(item) if isinstance(item, str) else item
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if dimension.get("unit") == "Hrs" and usd is not None and Decimal(usd) > 0:
                    return Decimal(usd)
    return None


def pricing_client(profile: str | None = None, session=None):
    """A `pricing` client from `session` (else one of `profile`); creating it sends nothing. None when no
    credentials are found."""
    import boto3

    session = session or boto3.Session(profile_name=profile)
    if session.get_credentials() is None:
        return None
    return session.client("pricing", region_name=PRICING_API_REGION)
