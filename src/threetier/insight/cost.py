"""Monthly on-demand cost of an Architecture, one line per billed item.

Quantities come from the architecture (so from the parameter file: the app
servers are the group's size at creation, AsgMinSize 2 is 2 instances, the
floor target tracking never goes under; Multi-AZ doubles the database, the
replica line exists only with a replica); unit prices from the price table or, for
instances with --live, the AWS Price List API; usage nobody can know in advance
(GB processed, LCUs, storage) from named assumptions printed under the table.

Money is Decimal and every line is rounded to the cent, so the total is exactly
the sum of the lines.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from threetier.facts import architectures, engines
from threetier.insight.architecture import AppServers, Architecture
from threetier.insight.pricing import LivePrices, PriceTable

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: Decimal
    unit: str
    unit_price: Decimal  # per unit per month
    monthly: Decimal
    parameters: tuple[str, ...] = ()  # the parameters the quantity or price follows
    price_source: str = "table"  # or "live"


@dataclass
class Estimate:
    env: str
    region: str
    currency: str
    prices_taken: str
    price_table: str
    live: bool
    lines: list[Line]
    assumptions: dict[str, Decimal]
    assumption_meanings: dict[str, str]
    not_included: list[str]
    parameters: dict[str, str] = field(default_factory=dict)  # values of the parameters the lines follow

    @property
    def total(self) -> Decimal:
        return sum((line.monthly for line in self.lines), Decimal("0"))


class UnknownAssumption(ValueError):
    pass


def assumptions_with(table: PriceTable, overrides: list[str]) -> dict[str, Decimal]:
    """The table's assumptions, with NAME=NUMBER overrides from the command line."""
    assumptions = table.assumptions()
    for override in overrides:
        name, _, number = override.partition("=")
        if name not in assumptions:
            raise UnknownAssumption(f"--assume {override}: unknown assumption {name!r} "
                                    f"(known: {', '.join(assumptions)})")
        try:
            value = Decimal(number)
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite() or value < 0:
            raise UnknownAssumption(f"--assume {override}: {number!r} is not a number of 0 or more")
        assumptions[name] = value
    return assumptions


def estimate(arch: Architecture, table: PriceTable, assumptions: dict[str, Decimal] | None = None,
             live: LivePrices | None = None) -> Estimate:
    assumed = assumptions if assumptions is not None else table.assumptions()
    lines = _Pricer(arch, table, assumed, live).lines()
    used = sorted({name for line in lines for name in line.parameters})
    return Estimate(
        env=arch.env,
        region=table.region,
        currency=table.currency,
        prices_taken=table.prices_taken,
        price_table=table.path.name,
        live=live is not None,
        lines=lines,
        assumptions=assumed,
        assumption_meanings=table.assumption_meanings(),
        not_included=[*table.data.get("not_included", []), *_extended_support(arch)],
        parameters={name: arch.values[name] for name in used if name in arch.values},
    )


class _Pricer:
    def __init__(self, arch: Architecture, table: PriceTable, assumed: dict[str, Decimal],
                 live: LivePrices | None):
        self.arch, self.table, self.assumed, self.live = arch, table, assumed, live
        self.hours = assumed["hours_per_month"]
        self.result: list[Line] = []

    def lines(self) -> list[Line]:
        self.compute()
        self.network()
        self.load_balancers()
        self.databases()
        self.storage_and_logs()
        self.backups()
        self.edge()
        return self.result

    def add(self, service: str, item: str, quantity, unit: str, unit_price: Decimal,
            parameters: tuple[str | None, ...] = (), price_source: str = "table") -> None:
        quantity = Decimal(quantity)
        if quantity == 0:
            return
        monthly = (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        self.result.append(Line(service, item, quantity, unit, unit_price, monthly,
                                tuple(p for p in parameters if p), price_source))

    def per_month(self, hourly: Decimal) -> Decimal:
        return hourly * self.hours

    # --- lines, in the order of the table ---------------------------------------

    def compute(self) -> None:
        for group in self.arch.app_servers:
            hourly, source = self.ec2(group.instance_type, group.instance_type_parameter)
            self.add("EC2", f"App servers {group.instance_type} ({_size_meaning(group)})", group.desired, "instance",
                     self.per_month(hourly), (group.instance_type_parameter, group.desired_parameter), source)
            self.add("EBS", f"App server root volumes, gp3 {group.root_volume_gb} GiB each",
                     group.desired * group.root_volume_gb, "GB-month", self.table.rate("ebs_gp3_gb_month"),
                     ("RootVolumeSize", group.desired_parameter))
            if group.detailed_monitoring:
                self.add("CloudWatch", "Detailed monitoring of the app servers", group.desired, "instance",
                         self.table.rate("cloudwatch_detailed_monitoring_instance_month"),
                         ("DetailedMonitoring", group.desired_parameter))
            self.cpu_credit_surplus(group)
            self.add("CloudWatch", "App server logs ingested (assumed)",
                     group.desired * self.assumed["app_log_gb_per_server"], "GB",
                     self.table.rate("cloudwatch_logs_ingested_gb"), (group.desired_parameter,))
        by_type: dict[tuple[str, str | None], list] = {}
        for instance in self.arch.instances:
            by_type.setdefault((instance.instance_type, instance.instance_type_parameter), []).append(instance)
        for (instance_type, parameter), instances in by_type.items():
            hourly, source = self.ec2(instance_type, parameter)
            self.add("EC2", f"Bastion hosts {instance_type}", len(instances), "instance",
                     self.per_month(hourly), (parameter, "BastionCount"), source)
            self.add("EBS", "Bastion root volumes, gp3",
                     sum(i.root_volume_gb for i in instances), "GB-month", self.table.rate("ebs_gp3_gb_month"),
                     ("BastionCount",))

    def cpu_credit_surplus(self, group: AppServers) -> None:
        """Unlimited T instances held at a CPU target above their baseline pay for the surplus vCPU time."""
        vcpus, baseline = architectures.BURSTABLE.get(group.instance_type, (0, 0))
        credits = group.cpu_credits or architectures.default_cpu_credits(group.instance_type)
        target = group.cpu_target_percent
        if not vcpus or credits != "unlimited" or target is None or target <= baseline:
            return
        share_at_target = self.assumed["app_hours_at_cpu_target_percent"] / 100
        vcpu_hours = (group.desired * vcpus * self.hours * Decimal(str(target - baseline)) / 100 * share_at_target)
        self.add("EC2", f"CPU above the {baseline:g} % baseline at the {target:g} % target, unlimited (assumed)",
                 vcpu_hours, "vCPU-hour", self.table.rate("ec2_cpu_credit_surplus_vcpu_hour"),
                 ("CpuCredits", "CpuTargetPercent", group.desired_parameter))

    def network(self) -> None:
        nats = len(self.arch.nat_gateways)
        nat_parameters = ("NumberOfAzs", "SingleNatGateway")
        self.add("VPC", "NAT gateways", nats, "gateway",
                 self.per_month(self.table.rate("nat_gateway_hour")), nat_parameters)
        if nats:
            self.add("VPC", "NAT data processed (assumed)", self.assumed["nat_gb_processed"], "GB",
                     self.table.rate("nat_gateway_gb_processed"))
        addresses = (nats
                     + sum(len(alb.subnets) for alb in self.arch.load_balancers if alb.scheme == "internet-facing")
                     + sum(1 for instance in self.arch.instances if instance.public_ip))
        self.add("VPC", "Public IPv4 addresses (NAT, load balancer, bastions)", addresses, "address",
                 self.per_month(self.table.rate("public_ipv4_address_hour")), nat_parameters)

    def load_balancers(self) -> None:
        count = len(self.arch.load_balancers)
        self.add("ELB", "Application Load Balancer", count, "load balancer",
                 self.per_month(self.table.rate("alb_hour")))
        self.add("ELB", "Load balancer capacity units (assumed)", count * self.assumed["alb_lcus"], "LCU",
                 self.per_month(self.table.rate("alb_lcu_hour")))

    def databases(self) -> None:
        storage_rate = self.table.rate("rds_gp3_gb_month")
        for db in self.arch.databases:
            hourly, source = self.rds(db.engine, db.instance_class, db.instance_class_parameter)
            # Multi-AZ runs a standby of the same class with its own storage: billed twice.
            copies = 2 if db.multi_az else 1
            if db.role == "primary":
                title, storage_title = "Database primary", "Database storage, gp3"
            else:
                title, storage_title = "Database read replica", "Read replica storage, gp3"
            multi = ", Multi-AZ x2" if db.multi_az else ""
            self.add("RDS", f"{title} {db.instance_class} {db.engine}{multi}", copies, "instance",
                     self.per_month(hourly), (db.instance_class_parameter, "DbMultiAz", _replica_switch(db)), source)
            self.add("RDS", f"{storage_title} {db.storage_gb} GiB{multi}", copies * db.storage_gb, "GB-month",
                     storage_rate, (db.storage_parameter, "DbMultiAz", _replica_switch(db)))
            if db.role == "primary":
                # The free amount covers one full copy; each day kept adds the day's changes.
                changed = db.storage_gb * self.assumed["db_daily_change_percent"] / 100
                self.add("RDS", f"Backup storage beyond the free amount, {db.backup_retention_days} days kept "
                         "(assumed)", changed * db.backup_retention_days, "GB-month",
                         self.table.rate("rds_backup_gb_month"), ("DbBackupRetentionDays", db.storage_parameter))
        self.add("Secrets Manager", "Secrets (app, database master, others)", self.arch.secrets, "secret",
                 self.table.rate("secrets_manager_secret_month"))

    def storage_and_logs(self) -> None:
        self.add("EFS", "Standard storage (assumed)", len(self.arch.file_systems) * self.assumed["efs_storage_gb"],
                 "GB-month", self.table.rate("efs_standard_gb_month"))
        if self.arch.flow_logs:
            self.add("CloudWatch", "VPC flow logs ingested (assumed)",
                     self.arch.flow_logs * self.assumed["flow_log_gb_ingested"], "GB",
                     self.table.rate("cloudwatch_logs_ingested_gb"))
        self.add("CloudWatch", "Alarms (per metric watched)", self.arch.alarm_metrics, "alarm metric",
                 self.table.rate("cloudwatch_alarm_metric_month"))
        self.add("CloudWatch", "Dashboards", self.arch.dashboards, "dashboard",
                 self.table.rate("cloudwatch_dashboard_month"))
        self.add("KMS", "Customer managed keys", self.arch.kms_keys, "key", self.table.rate("kms_key_month"))
        self.add("KMS", "Key versions kept by yearly rotation (assumed)",
                 self.arch.rotating_kms_keys * min(self.assumed["kms_rotations"], Decimal(2)), "key version",
                 self.table.rate("kms_key_rotation_month"))
        backed_up = sum(1 for fs in self.arch.file_systems if fs.backed_up)
        self.add("AWS Backup", "EFS backups, warm storage (assumed)", backed_up * self.assumed["efs_backup_gb"],
                 "GB-month", self.table.rate("backup_efs_warm_gb_month"))
        self.add("S3", "Log buckets (assumed size)", len(self.arch.buckets) * self.assumed["log_bucket_gb_stored"],
                 "GB-month", self.table.rate("s3_standard_gb_month"), ("AlbAccessLogs", "CloudFrontLogging"))

    def backups(self) -> None:
        """The AWS Backup plan (BackupStack, when BackupRegion is set): the database's continuous backups
        in the region, the copies of the database and the file system in BackupRegion, and the transfer
        there. Daily changes as the automated backups' line assumes; the copies are incremental after a
        first full one. https://aws.amazon.com/backup/pricing/"""
        if "backup" not in self.arch.stacks:
            return
        rule = self.arch.values.get("BackupRule") or "24/7/7"
        _, days, copy_days = (Decimal(part) for part in rule.split("/"))
        region = self.arch.values.get("BackupRegion", "")
        changed_gb = sum(db.storage_gb for db in self.arch.databases if db.role == "primary") \
            * self.assumed["db_daily_change_percent"] / 100
        full_gb = sum(db.storage_gb for db in self.arch.databases if db.role == "primary")
        files_gb = len(self.arch.file_systems) * self.assumed["efs_backup_gb"]
        rds_rate, efs_rate = self.table.rate("rds_backup_gb_month"), self.table.rate("backup_efs_warm_gb_month")
        self.add("AWS Backup", f"Database continuous backups, {days} days (assumed changes)", changed_gb * days,
                 "GB-month", rds_rate, ("BackupRule", "DbAllocatedStorage"))
        self.add("AWS Backup", f"Database copies in {region}, {copy_days} days (a full one plus changes)",
                 full_gb + changed_gb * copy_days, "GB-month", rds_rate, ("BackupRule", "BackupRegion"))
        self.add("AWS Backup", f"File system copies in {region}, warm storage (assumed)", files_gb, "GB-month",
                 efs_rate, ("BackupRule", "BackupRegion"))
        self.add("AWS Backup", f"Cross-region transfer to {region} (a month of changes, assumed)",
                 changed_gb * 30 + files_gb, "GB", self.table.rate("inter_region_transfer_gb"),
                 ("BackupRule", "BackupRegion"))

    def edge(self) -> None:
        """CloudFront, WAF and Route 53 only when the edge resources exist for this environment."""
        if self.arch.distributions:
            self.add("CloudFront", "Data transfer out to users (assumed)",
                     len(self.arch.distributions) * self.assumed["internet_egress_gb"], "GB",
                     self.table.rate("cloudfront_egress_gb"), ("CloudFrontEnabled",))
            self.add("CloudFront", "HTTPS requests (assumed)",
                     len(self.arch.distributions) * self.assumed["requests_million"], "million",
                     self.table.rate("cloudfront_https_requests_million"), ("CloudFrontEnabled",))
        elif self.arch.load_balancers:
            self.add("Data transfer", "Out to the internet from the load balancer (assumed)",
                     self.assumed["internet_egress_gb"], "GB", self.table.rate("internet_egress_gb"))
        for acl in self.arch.web_acls:
            self.add("WAF", "Web ACL", 1, "web ACL", self.table.rate("waf_web_acl_month"), ("WafEnabled",))
            self.add("WAF", "Rules and managed rule groups", acl.rules, "rule",
                     self.table.rate("waf_rule_month"), ("WafEnabled",))
            self.add("WAF", "Requests inspected (assumed)", self.assumed["requests_million"], "million",
                     self.table.rate("waf_requests_million"), ("WafEnabled",))
        self.add("Route 53", "Hosted zones", len(self.arch.hosted_zones), "zone",
                 self.table.rate("route53_hosted_zone_month"), ("DomainName", "HostedZoneId"))

    # --- instance prices -----------------------------------------------------------

    def ec2(self, instance_type: str, parameter: str | None) -> tuple[Decimal, str]:
        if self.live is not None:
            return self.live.ec2_hourly(instance_type, parameter), "live"
        return self.table.ec2_hourly(instance_type, parameter), "table"

    def rds(self, engine: str, instance_class: str, parameter: str | None) -> tuple[Decimal, str]:
        if self.live is not None:
            return self.live.rds_hourly(engine, instance_class, parameter), "live"
        return self.table.rds_hourly(engine, instance_class, parameter), "table"


def _extended_support(arch: Architecture) -> list[str]:
    """RDS Extended Support is never billed here: the data stack disables it (engines.py)."""
    notes = []
    for engine in sorted({db.engine for db in arch.databases if db.engine in engines.ENGINES}):
        row = engines.ENGINES[engine]
        ends = engines.standard_support_ends(engine, row["EngineVersion"])
        until = f"; standard support for {row['Label']} ends {ends.isoformat()}" if ends else ""
        notes.append(f"RDS Extended Support, never billed: the database sets EngineLifecycleSupport to "
                     f"{engines.EXTENDED_SUPPORT_DISABLED}{until}")
    return notes


def _replica_switch(db) -> str | None:
    return "DbReplicaEnabled" if db.role == "replica" else None


def _size_meaning(group: AppServers) -> str:
    """What the app server count is: a group without DesiredCapacity starts at, and is billed here
    at, its minimum; scaling out under load costs more, up to MaxSize."""
    if group.minimum == group.maximum:
        return "fixed size"
    if group.desired == group.minimum:
        return f"minimum; up to {group.maximum} under load"
    return "desired capacity"


# --- Output ---------------------------------------------------------------------


def as_json(est: Estimate) -> dict:
    return {
        "env": est.env,
        "region": est.region,
        "currency": est.currency,
        "prices_taken": est.prices_taken,
        "price_table": est.price_table,
        "instance_prices": "AWS Price List API (live)" if est.live else "price table",
        "lines": [
            {
                "service": line.service,
                "item": line.item,
                "quantity": _number(line.quantity),
                "unit": line.unit,
                "unit_price": _number(line.unit_price),
                "monthly": _number(line.monthly),
                "parameters": list(line.parameters),
                "price_source": line.price_source,
            }
            for line in est.lines
        ],
        "total": _number(est.total),
        "parameters": est.parameters,
        "assumptions": {name: _number(value) for name, value in est.assumptions.items()},
        "assumption_meanings": {name: est.assumption_meanings.get(name, "") for name in est.assumptions},
        "not_included": est.not_included,
    }


def format_table(est: Estimate, parameter_file: str) -> str:
    headers = ("Service", "Item", "Quantity", "Unit price", "Monthly")
    rows = [(line.service, line.item, f"{_plain(line.quantity)} {line.unit}",
             _money(line.unit_price, places=4) + ("*" if line.price_source == "live" else ""),
             _money(line.monthly)) for line in est.lines]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def row(cells) -> str:
        left = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1]), cells[2].ljust(widths[2])]
        right = [cells[3].rjust(widths[3]), cells[4].rjust(widths[4])]
        return "  ".join(left + right).rstrip()

    prices = f"{est.price_table}, {est.region} on-demand list prices taken {est.prices_taken}"
    if est.live:
        prices += "; instance prices (*) live from the AWS Price List API"
    out = [
        f"Monthly cost estimate for {est.env} ({parameter_file}), in {est.currency}",
        f"Prices: {prices}",
        "",
        row(headers),
        row(tuple("-" * w for w in widths)),
        *(row(r) for r in rows),
        row(("", "", "", "Total", _money(est.total))),
        "",
        *textwrap.wrap("Parameters the lines follow: " + ", ".join(f"{k}={v}" for k, v in est.parameters.items()),
                       width=100, subsequent_indent="  "),
        "",
        "Assumptions (change with --assume NAME=NUMBER):",
        *_assumption_lines(est),
        "",
        *textwrap.wrap("Not included: " + "; ".join(est.not_included) + ".", width=100, subsequent_indent="  "),
    ]
    return "\n".join(out) + "\n"


def _assumption_lines(est: Estimate) -> list[str]:
    settings = {name: f"{name} = {_plain(value)}" for name, value in est.assumptions.items()}
    width = max(map(len, settings.values()), default=0)
    return [f"  {setting.ljust(width)}  {est.assumption_meanings.get(name, '')}"
            for name, setting in settings.items()]


def _money(value: Decimal, places: int = 2) -> str:
    """1234.5 -> '1,234.50'; unit prices keep up to `places` decimals (0.045, 121.472)."""
    text = f"{value:,.{places}f}"
    if places > 2:
        whole, _, decimals = text.partition(".")
        decimals = decimals.rstrip("0").ljust(2, "0")
        text = f"{whole}.{decimals}"
    return text


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


def _number(value: Decimal):
    """JSON number: int when whole, else float."""
    return int(value) if value == value.to_integral() else float(value)
