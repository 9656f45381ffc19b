"""`threetier cost`: monthly on-demand estimate per resource line, offline or with --live."""

import argparse
import json
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from threetier.insight import commands, cost, model, pricing
from threetier.parameters import paramfile

CLOUDFRONT = {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-3b927c52"}
# The commands below price the session's templates, built once (conftest.py).
pytestmark = pytest.mark.usefixtures("templates_built_once")


@pytest.fixture(scope="module")
def table():
    return pricing.PriceTable()


def estimate_for(templates, env_values, table, env, live=None, **overrides):
    arch = model.describe(templates, {**env_values[env], **overrides}, env)
    return cost.estimate(arch, table, live=live)


def line(est, start: str) -> cost.Line:
    (found,) = [item for item in est.lines if item.item.startswith(start)]
    return found


def has_line(est, start: str) -> bool:
    return any(item.item.startswith(start) for item in est.lines)


def test_prod_costs_more_than_dev(templates, env_values, table):
    dev = estimate_for(templates, env_values, table, "dev")
    prod = estimate_for(templates, env_values, table, "prod")
    assert prod.total > dev.total > 0


@pytest.mark.parametrize("env,count", [("dev", 1), ("prod", 3)])
def test_app_servers_are_the_minimum_the_group_starts_at(templates, env_values, table, env, count):
    # No DesiredCapacity in the template: the group starts at AsgMinSize and target tracking scales
    # it from there, so the estimate is the floor, and the line says it can be more.
    est = estimate_for(templates, env_values, table, env)
    servers = line(est, "App servers")
    assert servers.quantity == count == int(env_values[env]["AsgMinSize"])
    assert servers.item.endswith(f"(minimum; up to {env_values[env]['AsgMaxSize']} under load)")
    assert servers.unit_price == Decimal(table.data["ec2_instance_hourly"][env_values[env]["InstanceType"]]) * 730
    assert servers.monthly == (servers.quantity * servers.unit_price).quantize(Decimal("0.01"))
    assert line(est, "App server root volumes").quantity == count * 20
    assert set(servers.parameters) == {"InstanceType", "AsgMinSize"}


def test_changing_the_minimum_changes_the_line(templates, env_values, table):
    est = estimate_for(templates, env_values, table, "prod", AsgMinSize="5", AsgMaxSize="6")
    assert line(est, "App servers").quantity == 5
    fixed = estimate_for(templates, env_values, table, "prod", AsgMinSize="6", AsgMaxSize="6")
    assert line(fixed, "App servers").item.endswith("(fixed size)")


def test_multi_az_doubles_instance_and_storage(templates, env_values, table):
    prod = estimate_for(templates, env_values, table, "prod")
    dev = estimate_for(templates, env_values, table, "dev")
    single = estimate_for(templates, env_values, table, "prod", DbMultiAz="false")

    assert line(prod, "Database primary").quantity == 2 and "Multi-AZ" in line(prod, "Database primary").item
    assert line(prod, "Database storage").quantity == 2 * 100
    assert line(dev, "Database primary").quantity == 1
    assert line(dev, "Database storage").quantity == 20
    assert line(prod, "Database primary").monthly == 2 * line(single, "Database primary").monthly


def test_replica_lines_only_when_the_replica_is_on(templates, env_values, table):
    prod = estimate_for(templates, env_values, table, "prod")
    dev = estimate_for(templates, env_values, table, "dev")
    dev_with_replica = estimate_for(templates, env_values, table, "dev", DbReplicaEnabled="true")

    assert line(prod, "Database read replica").quantity == 1
    assert line(prod, "Read replica storage").quantity == 100, "a replica's storage is its source's"
    assert not has_line(dev, "Database read replica") and not has_line(dev, "Read replica storage")
    assert line(dev_with_replica, "Database read replica").quantity == 1


def test_replica_class_parameter_is_priced_when_given(templates, env_values, table):
    est = estimate_for(templates, env_values, table, "prod", DbReplicaInstanceClass="db.t4g.medium")
    replica = line(est, "Database read replica")
    assert "db.t4g.medium" in replica.item and "DbReplicaInstanceClass" in replica.parameters


@pytest.mark.parametrize("env,nats,addresses", [("dev", 1, 1 + 2), ("prod", 3, 3 + 3)])
def test_nat_gateways_and_public_addresses_follow_the_network(templates, env_values, table, env, nats, addresses):
    est = estimate_for(templates, env_values, table, env)
    assert line(est, "NAT gateways").quantity == nats
    assert line(est, "Public IPv4 addresses").quantity == addresses  # NAT EIPs + one per ALB AZ


def test_bastions_are_priced_only_when_on(templates, env_values, table):
    assert not has_line(estimate_for(templates, env_values, table, "dev"), "Bastion")
    est = estimate_for(templates, env_values, table, "dev", BastionCount="2", AdminCidr="203.0.113.0/24",
                       BastionKeyPairName="ops")
    assert line(est, "Bastion hosts t3.micro").quantity == 2


def test_edge_lines_only_when_the_edge_is_on(templates, env_values, table):
    without = estimate_for(templates, env_values, table, "prod", CloudFrontEnabled="false")
    assert not any(item.service in ("CloudFront", "Route 53", "WAF") for item in without.lines)
    assert has_line(without, "Out to the internet")

    # prod.json as committed: CloudFront on its own name (no domain, so no zone), no WAF.
    prod = estimate_for(templates, env_values, table, "prod")
    assert {item.service for item in prod.lines} & {"CloudFront", "Route 53", "WAF"} == {"CloudFront"}
    assert not has_line(prod, "Out to the internet")

    # A new domain's first pass: the stack creates the zone, CloudFront runs on its own name.
    edge = estimate_for(templates, env_values, table, "prod", DomainName="example.com", WafEnabled="true",
                        **CLOUDFRONT)
    services = {item.service for item in edge.lines}
    assert {"CloudFront", "Route 53", "WAF"} <= services
    assert line(edge, "Hosted zones").quantity == 1
    assert not has_line(edge, "Out to the internet"), "CloudFront carries the traffic to users"


def test_unknown_instance_type_names_the_parameter_and_the_type(templates, env_values, table):
    # Types EC2 and RDS have (validation passes them) that the shipped price table lacks.
    with pytest.raises(pricing.UnknownPrice, match=r"InstanceType=m5\.24xlarge.*'m5\.24xlarge'"):
        estimate_for(templates, env_values, table, "dev", InstanceType="m5.24xlarge", CpuCredits="")
    with pytest.raises(pricing.UnknownPrice, match=r"DbInstanceClass=db\.x2iedn\.32xlarge"):
        estimate_for(templates, env_values, table, "dev", DbInstanceClass="db.x2iedn.32xlarge")


def test_price_table_states_region_currency_and_date(table):
    assert (table.region, table.currency) == ("us-east-1", "USD")
    assert len(table.prices_taken) == 10 and table.prices_taken.startswith("20")
    assert table.assumptions()["hours_per_month"] == 730


def test_assumption_override(table):
    assumed = cost.assumptions_with(table, ["nat_gb_processed=500"])
    assert assumed["nat_gb_processed"] == 500 and assumed["alb_lcus"] == table.assumptions()["alb_lcus"]
    with pytest.raises(cost.UnknownAssumption, match="nat_gb"):
        cost.assumptions_with(table, ["nat_gb=1"])


# --- the command ------------------------------------------------------------------


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="threetier")
    parser.add_argument("--project-dir", type=Path, default=None)
    commands.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_json_parses_and_the_total_is_the_sum_of_the_lines(env, capsys):
    assert run("cost", env, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["env"] == env and data["currency"] == "USD" and data["region"] == "us-east-1"
    assert round(sum(item["monthly"] for item in data["lines"]), 2) == data["total"]
    assert data["assumptions"]["hours_per_month"] == 730


def test_table_prints_prices_date_assumptions_and_total(table, capsys):
    assert run("cost", "prod", "--assume", "nat_gb_processed=200") == 0
    out = capsys.readouterr().out
    assert f"taken {table.prices_taken}" in out and "us-east-1" in out
    assert "hours_per_month = 730" in out and "nat_gb_processed = 200" in out
    assert "Total" in out and "Not included:" in out
    assert "parameters/prod.json" in out


def test_the_totals_the_readme_and_docs_quote_are_the_tools(templates, env_values, table):
    """README: "dev about 129 USD a month, prod about 970 USD"; docs/insight.md: the exact totals."""
    project = Path(__file__).resolve().parents[2]
    totals = {env: estimate_for(templates, env_values, table, env).total for env in ("dev", "prod")}
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert (f"dev about {totals['dev']:,.0f} USD a month, prod about {totals['prod']:,.0f} USD"
            in readme), totals
    per_day = totals["dev"] * 24 / table.assumptions()["hours_per_month"]
    assert f"about {per_day:,.2f} USD a day for dev" in " ".join(readme.split()), per_day
    docs = (project / "docs" / "insight.md").read_text(encoding="utf-8")
    assert f"| **{totals['dev']:,.2f}** | **{totals['prod']:,.2f}** |" in docs, totals
    # The shares the paragraph under the table gives for prod.
    prod = estimate_for(templates, env_values, table, "prod")
    servers = sum(line(prod, start).monthly for start in ("App servers", "CPU above"))
    database = sum(item.monthly for item in prod.lines if item.service == "RDS")
    prose = " ".join(docs.split())
    assert f"with their CPU surplus ({100 * servers / prod.total:.0f} %;" in prose
    assert f"the Multi-AZ database with its replica ({100 * database / prod.total:.0f} %)" in prose


def test_unknown_env_is_exit_2(capsys):
    assert run("cost", "qa") == 2
    assert "parameters/qa.json: no such parameter file" in capsys.readouterr().err


def test_unknown_instance_type_in_a_file_is_exit_2_naming_file_parameter_and_type(monkeypatch, tmp_path, capsys,
                                                                                  env_values):
    odd = tmp_path / "odd.json"
    values = {**env_values["dev"], "InstanceType": "m5.24xlarge", "CpuCredits": ""}
    odd.write_text(json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]))
    monkeypatch.setattr(paramfile, "path_for", lambda project, env: odd)

    assert run("cost", "odd") == 2
    err = capsys.readouterr().err
    assert str(odd) in err and "InstanceType=m5.24xlarge" in err and "--live" in err


# --- --live, with botocore's Stubber (never the network) ----------------------------


def price_list_item(service: str, attributes: dict, usd: str) -> str:
    """One product as the Price List API returns it: a JSON string."""
    sku, term, rate = "SKU123ABC", "JRTCKXETXF", "6YS6EN2CT7"
    return json.dumps({
        "product": {"productFamily": "Compute Instance" if service == "AmazonEC2" else "Database Instance",
                    "attributes": {**attributes, "servicecode": service}, "sku": sku},
        "serviceCode": service,
        "terms": {"OnDemand": {f"{sku}.{term}": {
            "priceDimensions": {f"{sku}.{term}.{rate}": {
                "unit": "Hrs", "endRange": "Inf", "beginRange": "0", "appliesTo": [],
                "description": f"${usd} per On Demand instance hour", "rateCode": f"{sku}.{term}.{rate}",
                "pricePerUnit": {"USD": usd},
            }},
            "sku": sku, "effectiveDate": "2024-05-01T00:00:00Z", "offerTermCode": term, "termAttributes": {},
        }}},
        "version": "20240501000000",
        "publicationDate": "2024-05-01T00:00:00Z",
    })


def expect_products(stubber: Stubber, service: str, filters: dict, usd: str | None) -> None:
    items = [price_list_item(service, filters, usd)] if usd else []
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": items},
        {"ServiceCode": service, "FormatVersion": "aws_v1", "MaxResults": 10,
         "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()]},
    )


EC2_T3_XLARGE = {"instanceType": "t3.xlarge", "regionCode": "us-east-1", "operatingSystem": "Linux",
                 "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
                 "licenseModel": "No License required"}
RDS_M6G_LARGE = {"instanceType": "db.m6g.large", "regionCode": "us-east-1", "databaseEngine": "MySQL",
                 "deploymentOption": "Single-AZ"}


@pytest.fixture()
def pricing_client():
    client = boto3.client("pricing", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_live_prices_replace_the_instance_prices(templates, env_values, table, pricing_client):
    client, stubber = pricing_client
    expect_products(stubber, "AmazonEC2", EC2_T3_XLARGE, "0.2000000000")
    # Asked once: the replica has the primary's class and reuses the answer.
    expect_products(stubber, "AmazonRDS", RDS_M6G_LARGE, "0.1600000000")

    est = estimate_for(templates, env_values, table, "prod", live=pricing.LivePrices(client, "us-east-1"))

    servers, primary = line(est, "App servers"), line(est, "Database primary")
    assert servers.unit_price == Decimal("0.2") * 730 and servers.price_source == "live"
    assert primary.unit_price == Decimal("0.16") * 730 and primary.quantity == 2
    assert line(est, "Database read replica").price_source == "live"
    assert line(est, "NAT gateways").price_source == "table"


def test_live_through_the_command_marks_the_json(monkeypatch, pricing_client, capsys):
    client, stubber = pricing_client
    expect_products(stubber, "AmazonEC2", EC2_T3_XLARGE, "0.1700000000")
    expect_products(stubber, "AmazonRDS", RDS_M6G_LARGE, "0.1520000000")
    monkeypatch.setattr(commands, "make_pricing_client", lambda args: client)

    assert run("cost", "prod", "--live", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["instance_prices"] == "AWS Price List API (live)"
    instance_lines = [item for item in data["lines"] if item["service"] in ("EC2", "RDS") and item["unit"] == "instance"]
    assert {item["price_source"] for item in instance_lines} == {"live"}
    assert {item["price_source"] for item in data["lines"] if item not in instance_lines} == {"table"}
    assert round(sum(item["monthly"] for item in data["lines"]), 2) == data["total"]


def test_live_with_no_product_names_the_parameter(monkeypatch, pricing_client, capsys):
    client, stubber = pricing_client
    expect_products(stubber, "AmazonEC2", {**EC2_T3_XLARGE, "instanceType": "t3.small"}, None)
    monkeypatch.setattr(commands, "make_pricing_client", lambda args: client)

    assert run("cost", "dev", "--live") == 2
    assert "InstanceType=t3.small" in capsys.readouterr().err


def test_live_access_denied_is_exit_1(monkeypatch, pricing_client, capsys):
    client, stubber = pricing_client
    stubber.add_client_error("get_products", service_error_code="AccessDeniedException",
                             service_message="not authorized to perform: pricing:GetProducts", http_status_code=400)
    monkeypatch.setattr(commands, "make_pricing_client", lambda args: client)

    assert run("cost", "dev", "--live") == 1
    assert "AccessDeniedException" in capsys.readouterr().err


def test_live_without_credentials_is_exit_1(monkeypatch, capsys):
    monkeypatch.setattr(commands, "make_pricing_client", lambda args: None)
    assert run("cost", "dev", "--live") == 1
    assert "needs AWS credentials" in capsys.readouterr().err


# --- What the first estimate left out (T unlimited surplus, backups, rotation, logs) ---

def test_unlimited_t_servers_pay_for_cpu_above_the_baseline_at_the_target(templates, env_values, table):
    prod = estimate_for(templates, env_values, table, "prod")  # 2 x t3.xlarge: 4 vCPUs, 40 % baseline
    surplus = line(prod, "CPU above the 40 % baseline at the 50 % target")
    assert surplus.quantity == 3 * 4 * 730 * Decimal("0.10")
    assert surplus.unit_price == Decimal("0.05") and surplus.unit == "vCPU-hour"
    assert set(surplus.parameters) == {"CpuCredits", "CpuTargetPercent", "AsgMinSize"}

    half = cost.estimate(model.describe(templates, env_values["prod"], "prod"), table,
                         cost.assumptions_with(table, ["app_hours_at_cpu_target_percent=50"]))
    assert line(half, "CPU above").quantity == surplus.quantity / 2


@pytest.mark.parametrize("overrides", [
    {},  # dev: standard credits, held at the baseline instead of billed
    {"CpuCredits": "unlimited", "CpuTargetPercent": "20"},  # target at the 20 % baseline of a t3.small
    {"InstanceType": "m6i.large", "CpuCredits": ""},  # not a T type
])
def test_no_surplus_line_when_nothing_above_the_baseline_is_billed(templates, env_values, table, overrides):
    assert not has_line(estimate_for(templates, env_values, table, "dev", **overrides), "CPU above")


def test_dev_in_unlimited_mode_would_pay_for_its_surplus(templates, env_values, table):
    est = estimate_for(templates, env_values, table, "dev", CpuCredits="unlimited")
    assert line(est, "CPU above the 20 % baseline").quantity == 1 * 2 * 730 * Decimal("0.30")


def test_backups_rotation_and_app_logs_have_their_lines(templates, env_values, table):
    prod = estimate_for(templates, env_values, table, "prod")
    # 100 GiB, 5 % changed a day, 14 days kept: beyond the free full copy.
    backups = line(prod, "Backup storage beyond the free amount, 14 days kept")
    assert backups.quantity == 70 and backups.unit_price == Decimal("0.095")
    assert line(prod, "EFS backups").quantity == 10
    assert line(prod, "Key versions kept by yearly rotation").quantity == 3  # 3 keys (logs, alarms, backups), rotated once
    assert line(prod, "App server logs ingested").quantity == 3  # 1 GB for each of the 3 servers (AsgMinSize)
    first_year = cost.estimate(model.describe(templates, env_values["prod"], "prod"), table,
                               cost.assumptions_with(table, ["kms_rotations=0"]))
    assert not has_line(first_year, "Key versions kept")
    later = cost.estimate(model.describe(templates, env_values["prod"], "prod"), table,
                          cost.assumptions_with(table, ["kms_rotations=5"]))
    assert line(later, "Key versions kept").quantity == 6  # only the first two rotations are billed


def test_backups_in_both_regions_and_the_transfer_between_them_have_their_lines(templates, env_values, table):
    """prod.json: BackupRule 1/35/90 to us-west-2; 100 GiB, 5 % changed a day; 10 GB of file system backups."""
    prod = estimate_for(templates, env_values, table, "prod")
    continuous = line(prod, "Database continuous backups, 35 days")
    assert continuous.quantity == 5 * 35 and continuous.unit_price == Decimal("0.095")
    assert line(prod, "Database copies in us-west-2, 90 days").quantity == 100 + 5 * 90
    assert line(prod, "File system copies in us-west-2").quantity == 10
    transfer = line(prod, "Cross-region transfer to us-west-2")
    assert transfer.quantity == 5 * 30 + 10 and transfer.unit_price == Decimal("0.02")
    # No AWS Backup plan, no such line.
    assert not has_line(estimate_for(templates, env_values, table, "prod", BackupRegion=""), "Cross-region transfer")


def test_extended_support_is_named_as_never_billed_with_the_end_of_standard_support(templates, env_values, table):
    est = estimate_for(templates, env_values, table, "prod")
    assert any("RDS Extended Support, never billed" in item and "MySQL 8.4 ends 2029-07-31" in item
               for item in est.not_included)


def test_json_explains_every_assumption_it_used(capsys):
    assert run("cost", "prod", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["assumption_meanings"]) == set(data["assumptions"])
    assert all(data["assumption_meanings"].values())
    assert data["assumptions"]["app_hours_at_cpu_target_percent"] == 100


@pytest.mark.parametrize("changes, message", [
    ({"AsgMaxSize": "1e1"}, "AsgMaxSize='1e1': must be a whole number written in digits"),
    ({"NumberOfAzs": "4"}, "NumberOfAzs='4': must be one of 2, 3"),
])
def test_values_the_templates_refuse_are_refused_before_pricing(odd_env, capsys, changes, message):
    odd_env(changes)

    assert run("cost", "odd") == 2

    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
