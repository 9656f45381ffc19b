"""The plain description of what an environment's stacks build.

`model.describe` fills it from the templates; the diagram (dot.py) and the cost
estimate (cost.py) read only this. Ids are stand-ins named after resources,
"<stack>.<LogicalId>" (e.g. "network.AppSubnet1"), so they can refer to each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class Subnet:
    id: str
    tier: str  # "public", "app" or "data": the subnet's Tier tag
    az: str  # e.g. us-east-1a
    cidr: str
    default_route: str | None  # NAT gateway or internet gateway behind 0.0.0.0/0, if any


@dataclass(frozen=True)
class IngressRule:
    group: str  # the security group that admits the traffic
    from_port: int
    to_port: int
    description: str
    source_group: str | None = None
    cidr: str | None = None
    prefix_list: str | None = None


@dataclass(frozen=True)
class NatGateway:
    id: str
    subnet: str


@dataclass(frozen=True)
class LoadBalancer:
    id: str
    scheme: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    listeners: tuple[tuple[str, int], ...]  # (protocol, port)


@dataclass(frozen=True)
class AppServers:
    """An Auto Scaling group and what its launch template starts."""

    id: str
    instance_type: str
    instance_type_parameter: str | None
    minimum: int
    desired: int  # the group's size at creation: DesiredCapacity, else MinSize, as Auto Scaling defaults it
    maximum: int
    desired_parameter: str | None  # the parameter behind `desired` (AsgMinSize in ours)
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    root_volume_gb: int
    detailed_monitoring: bool
    cpu_credits: str | None = None  # the launch template's credit option; None leaves it to EC2
    cpu_target_percent: float | None = None  # CPU target tracking, when the group has it


@dataclass(frozen=True)
class Instance:
    """A stand-alone EC2 instance (the bastion hosts)."""

    id: str
    instance_type: str
    instance_type_parameter: str | None
    subnet: str
    security_groups: tuple[str, ...]
    public_ip: bool
    root_volume_gb: int


@dataclass(frozen=True)
class Database:
    id: str
    role: str  # "primary" or "replica"
    engine: str
    instance_class: str
    instance_class_parameter: str | None
    multi_az: bool
    storage_gb: int  # a replica's is its source's
    storage_parameter: str | None
    port: int | None
    az: str | None  # None: RDS picks (Multi-AZ)
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    source: str | None = None
    backup_retention_days: int = 0


@dataclass(frozen=True)
class MountTarget:
    id: str
    subnet: str
    security_groups: tuple[str, ...]


@dataclass(frozen=True)
class FileSystem:
    id: str
    throughput_mode: str
    mount_targets: tuple[MountTarget, ...]
    backed_up: bool = False  # its backup policy is on (AWS Backup's daily backup)


@dataclass(frozen=True)
class Distribution:
    id: str
    viewer_ports: tuple[int, ...]
    price_class: str
    web_acl: bool


@dataclass(frozen=True)
class WebAcl:
    id: str
    rules: int


@dataclass(frozen=True)
class AliasRecord:
    id: str
    record_type: str
    target: str | None  # the resource it points at (distribution or load balancer), if known


@dataclass
class Architecture:
    env: str
    region: str
    values: dict[str, str]  # every root parameter: the environment's value, else the default
    stacks: tuple[str, ...]  # nested stacks that exist for these values
    vpc_cidr: str | None = None
    subnets: tuple[Subnet, ...] = ()
    ingress_rules: tuple[IngressRule, ...] = ()
    internet_egress: dict[str, tuple[int, ...]] = field(default_factory=dict)  # group -> ports out to 0.0.0.0/0
    nat_gateways: tuple[NatGateway, ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    app_servers: tuple[AppServers, ...] = ()
    instances: tuple[Instance, ...] = ()
    databases: tuple[Database, ...] = ()
    file_systems: tuple[FileSystem, ...] = ()
    distributions: tuple[Distribution, ...] = ()
    web_acls: tuple[WebAcl, ...] = ()
    hosted_zones: tuple[str, ...] = ()
    alias_records: tuple[AliasRecord, ...] = ()
    secrets: int = 0  # Secrets Manager secrets, the ones RDS manages included
    flow_logs: int = 0  # VPC flow logs delivered to CloudWatch Logs
    buckets: tuple[str, ...] = ()
    alarm_metrics: int = 0  # CloudWatch bills alarms per metric they watch
    dashboards: int = 0
    kms_keys: int = 0  # customer managed keys
    rotating_kms_keys: int = 0  # of which rotate automatically

    @property
    def azs(self) -> list[str]:
        return sorted({subnet.az for subnet in self.subnets})

    def subnet(self, subnet_id: str) -> Subnet | None:
        return next((s for s in self.subnets if s.id == subnet_id), None)
