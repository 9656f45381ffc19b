"""What the templates build for one environment: templates + parameter values -> Architecture.

The diagram and the cost estimate both read an `Architecture`, never the
templates: this module is the one place that knows which resource types and
properties matter to them. stacks.py evaluates the stacks (Conditions decided,
parameters resolved, stand-in ids for what only exists after deploy); the
readers below turn the resources that exist into the description.

Resources under a Condition that is off for the environment never appear.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from threetier import emit
from threetier.insight import stacks
from threetier.insight.architecture import (
    ANYWHERE,
    AliasRecord,
    AppServers,
    Architecture,
    Database,
    Distribution,
    FileSystem,
    IngressRule,
    Instance,
    LoadBalancer,
    MountTarget,
    NatGateway,
    Subnet,
    WebAcl,
)
from threetier.insight.stacks import ROOT_FILE, Stack, Templates  # noqa: F401 (model.ROOT_FILE is used)
from threetier.parameters import paramfile, validate
from threetier.parameters.validate import CLOUDFRONT_PREFIX_LIST_NAME

DEFAULT_REGION = "us-east-1"


class InputError(Exception):
    """Bad input (parameter file, environment name): reported with exit code 2."""


# --- Loading ----------------------------------------------------------------


def load_templates(project: Path) -> Templates:
    files = emit._templates_package(project).STACKS
    return Templates(
        by_module={module: importlib.import_module(f"templates.{module}").build().to_dict()
                   for module in files.values()},
        module_of_file=dict(files),
    )


environments = paramfile.environments


def load_values(project: Path, env: str) -> tuple[Path, dict[str, str]]:
    """The parameter file of `env` and its values; InputError names the file."""
    try:
        return paramfile.load_env(project, env)
    except paramfile.ParameterFileError as error:
        raise InputError(str(error)) from None


def describe(templates: Templates, values: dict[str, str], env: str,
             region: str = DEFAULT_REGION, source: str = "parameters") -> Architecture:
    """The architecture these templates build for these parameter values."""
    root_template = templates.checked_root()
    # The same checks as `threetier validate` (region-independent ones), so a value the
    # templates would refuse is refused here too, before it is drawn or priced.
    # Prod without Multi-AZ is a policy question for a deploy, not a value to refuse here.
    problems = validate.errors(validate.validate(root_template, values, allow_insecure=True))
    if problems:
        lines = validate.report_lines(source, problems)
        raise InputError("\n".join([*lines, f"{source}: {validate.summary(problems)}: nothing was written"]))
    evaluated = stacks.evaluate(templates, values, region)
    return _read_architecture(env, region, evaluated)


# --- Reading the architecture from the evaluated stacks ----------------------------


def _read_architecture(env: str, region: str, evaluated: list[Stack]) -> Architecture:
    by_type: dict[str, list[tuple[str, Stack, dict]]] = {}
    for stack in evaluated:
        for logical_id, resource in stack.resources.items():
            by_type.setdefault(resource["Type"], []).append((logical_id, stack, resource["Properties"]))

    def of_type(resource_type: str):
        return by_type.get(resource_type, [])

    def stack_of(qualified_id: str) -> tuple[Stack, str]:
        stack_name, logical_id = qualified_id.split(".", 1)
        return next(s for s in evaluated if s.name == stack_name), logical_id

    def props_of(qualified_id: str) -> dict:
        stack, logical_id = stack_of(qualified_id)
        return stack.resources[logical_id]["Properties"]

    architecture = Architecture(
        env=env, region=region, values=dict(evaluated[0].evaluation.values),
        stacks=tuple(stack.name for stack in evaluated[1:]),
    )
    vpcs = [props for _, _, props in of_type("AWS::EC2::VPC")]
    architecture.vpc_cidr = vpcs[0].get("CidrBlock") if vpcs else None
    architecture.subnets = _subnets(of_type)
    architecture.ingress_rules, architecture.internet_egress = _security_rules(of_type)
    architecture.nat_gateways = tuple(
        NatGateway(stack.qualified(logical_id), props["SubnetId"])
        for logical_id, stack, props in of_type("AWS::EC2::NatGateway")
    )
    architecture.load_balancers = _load_balancers(of_type)
    architecture.app_servers = _app_servers(of_type, props_of)
    architecture.instances = _instances(of_type, props_of)
    architecture.databases = _databases(of_type, props_of, stack_of)
    architecture.file_systems = _file_systems(of_type)
    architecture.distributions = tuple(
        _distribution(stack.qualified(logical_id), props)
        for logical_id, stack, props in of_type("AWS::CloudFront::Distribution")
    )
    architecture.web_acls = tuple(
        WebAcl(stack.qualified(logical_id), len(props.get("Rules", [])))
        for logical_id, stack, props in of_type("AWS::WAFv2::WebACL")
    )
    architecture.hosted_zones = tuple(
        str(props.get("Name", stack.qualified(logical_id)))
        for logical_id, stack, props in of_type("AWS::Route53::HostedZone")
    )
    known_ids = [stack.qualified(logical_id) for stack in evaluated for logical_id in stack.resources]
    architecture.alias_records = tuple(
        AliasRecord(stack.qualified(logical_id), props.get("Type", ""),
                    _resource_named_in(props.get("AliasTarget", {}).get("DNSName"), known_ids))
        for logical_id, stack, props in of_type("AWS::Route53::RecordSet")
    )
    managed_master_secrets = sum(
        1 for _, _, props in of_type("AWS::RDS::DBInstance") if _true(props.get("ManageMasterUserPassword"))
    )
    architecture.secrets = len(of_type("AWS::SecretsManager::Secret")) + managed_master_secrets
    architecture.flow_logs = sum(
        1 for _, _, props in of_type("AWS::EC2::FlowLog")
        if props.get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs"
    )
    architecture.buckets = tuple(stack.qualified(logical_id) for logical_id, stack, _ in of_type("AWS::S3::Bucket"))
    # A metric-math alarm watches each metric it reads; a plain alarm watches one.
    architecture.alarm_metrics = sum(
        max(1, sum(1 for metric in props.get("Metrics", []) if "MetricStat" in metric))
        for _, _, props in of_type("AWS::CloudWatch::Alarm")
    )
    architecture.dashboards = len(of_type("AWS::CloudWatch::Dashboard"))
    architecture.kms_keys = len(of_type("AWS::KMS::Key"))
    architecture.rotating_kms_keys = sum(
        1 for _, _, props in of_type("AWS::KMS::Key") if _true(props.get("EnableKeyRotation")))
    return architecture


def _subnets(of_type) -> tuple[Subnet, ...]:
    route_table_of = {props["SubnetId"]: props["RouteTableId"]
                      for _, _, props in of_type("AWS::EC2::SubnetRouteTableAssociation")}
    default_route = {
        props["RouteTableId"]: props.get("NatGatewayId") or props.get("GatewayId")
        for _, _, props in of_type("AWS::EC2::Route")
        if props.get("DestinationCidrBlock") == ANYWHERE
    }
    subnets = []
    for logical_id, stack, props in of_type("AWS::EC2::Subnet"):
        subnet_id = stack.qualified(logical_id)
        tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags", []) if isinstance(tag, dict)}
        subnets.append(Subnet(
            id=subnet_id,
            tier=str(tags.get("Tier", "unknown")),
            az=str(props.get("AvailabilityZone")),
            cidr=str(props.get("CidrBlock")),
            default_route=default_route.get(route_table_of.get(subnet_id)),
        ))
    return tuple(subnets)


def _prefix_list(props: dict) -> str | None:
    """The rule's prefix list; an id left empty in the parameter file is the CloudFront list by its
    name, which `plan`/`deploy` look up (prod.json leaves it to them)."""
    if "SourcePrefixListId" not in props:
        return None
    return props["SourcePrefixListId"] or CLOUDFRONT_PREFIX_LIST_NAME


def _security_rules(of_type) -> tuple[tuple[IngressRule, ...], dict[str, tuple[int, ...]]]:
    rules, egress = [], {}

    def rule(group: str, props: dict) -> IngressRule:
        return IngressRule(
            group=group,
            from_port=_port(props.get("FromPort"), 0),
            to_port=_port(props.get("ToPort"), 65535),
            description=str(props.get("Description", "")),
            source_group=props.get("SourceSecurityGroupId"),
            cidr=props.get("CidrIp"),
            prefix_list=_prefix_list(props),
        )

    for logical_id, stack, props in of_type("AWS::EC2::SecurityGroup"):
        group = stack.qualified(logical_id)
        rules.extend(rule(group, inline) for inline in props.get("SecurityGroupIngress", []))
        egress[group] = tuple(sorted(
            _port(out.get("FromPort"), 0) for out in props.get("SecurityGroupEgress", [])
            if out.get("CidrIp") == ANYWHERE
        ))
    for _, _, props in of_type("AWS::EC2::SecurityGroupIngress"):
        rules.append(rule(props["GroupId"], props))
    return tuple(rules), egress


def _load_balancers(of_type) -> tuple[LoadBalancer, ...]:
    listeners: dict[str, list[tuple[str, int]]] = {}
    for _, _, props in of_type("AWS::ElasticLoadBalancingV2::Listener"):
        listeners.setdefault(props["LoadBalancerArn"], []).append((props["Protocol"], _port(props["Port"])))
    return tuple(
        LoadBalancer(
            id=stack.qualified(logical_id),
            scheme=props.get("Scheme", "internet-facing"),
            subnets=tuple(props.get("Subnets", [])),
            security_groups=tuple(props.get("SecurityGroups", [])),
            listeners=tuple(sorted(listeners.get(stack.qualified(logical_id), []), key=lambda pl: pl[1])),
        )
        for logical_id, stack, props in of_type("AWS::ElasticLoadBalancingV2::LoadBalancer")
    )


def _launch_template(stack: Stack, props_of, reference: dict) -> tuple[dict, str | None]:
    """The launch template data an ASG or instance uses, and the parameter behind its instance type."""
    template_id = reference["LaunchTemplateId"]
    data = props_of(template_id)["LaunchTemplateData"]
    raw = stack.raw_properties(template_id.split(".", 1)[1])["LaunchTemplateData"]
    return data, stack.parameter_behind(raw.get("InstanceType"))


def _root_volume_gb(data: dict) -> int:
    for mapping in data.get("BlockDeviceMappings", []):
        if "Ebs" in mapping:
            return int(mapping["Ebs"].get("VolumeSize", 8))
    return 8


def _app_servers(of_type, props_of) -> tuple[AppServers, ...]:
    groups = []
    for logical_id, stack, props in of_type("AWS::AutoScaling::AutoScalingGroup"):
        data, type_parameter = _launch_template(stack, props_of, props["LaunchTemplate"])
        raw = stack.raw_properties(logical_id)
        groups.append(AppServers(
            id=stack.qualified(logical_id),
            instance_type=str(data["InstanceType"]),
            instance_type_parameter=type_parameter,
            minimum=int(props["MinSize"]),
            # Without DesiredCapacity (ours leaves it to target tracking) the group starts at MinSize.
            # https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-capacity-limits.html
            desired=int(props.get("DesiredCapacity", props["MinSize"])),
            maximum=int(props["MaxSize"]),
            desired_parameter=stack.parameter_behind(raw.get("DesiredCapacity", raw["MinSize"])),
            subnets=tuple(props.get("VPCZoneIdentifier", [])),
            security_groups=tuple(data.get("SecurityGroupIds", [])),
            root_volume_gb=_root_volume_gb(data),
            detailed_monitoring=_true(data.get("Monitoring", {}).get("Enabled")),
            cpu_credits=data.get("CreditSpecification", {}).get("CpuCredits"),
            cpu_target_percent=_cpu_target(of_type, stack.qualified(logical_id)),
        ))
    return tuple(groups)


def _cpu_target(of_type, group_id: str) -> float | None:
    for _, _, props in of_type("AWS::AutoScaling::ScalingPolicy"):
        tracking = props.get("TargetTrackingConfiguration", {})
        metric = tracking.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        if props.get("AutoScalingGroupName") == group_id and metric == "ASGAverageCPUUtilization":
            return float(tracking["TargetValue"])
    return None


def _instances(of_type, props_of) -> tuple[Instance, ...]:
    instances = []
    for logical_id, stack, props in of_type("AWS::EC2::Instance"):
        data, type_parameter = {}, None
        if "LaunchTemplate" in props:
            data, type_parameter = _launch_template(stack, props_of, props["LaunchTemplate"])
        if "InstanceType" in props:
            data = {**data, "InstanceType": props["InstanceType"]}
            type_parameter = stack.parameter_behind(stack.raw_properties(logical_id)["InstanceType"])
        interface = (props.get("NetworkInterfaces") or [{}])[0]
        instances.append(Instance(
            id=stack.qualified(logical_id),
            instance_type=str(data.get("InstanceType")),
            instance_type_parameter=type_parameter,
            subnet=interface.get("SubnetId") or props.get("SubnetId"),
            security_groups=tuple(interface.get("GroupSet") or props.get("SecurityGroupIds") or []),
            public_ip=_true(interface.get("AssociatePublicIpAddress")),
            root_volume_gb=_root_volume_gb(data),
        ))
    return tuple(instances)


def _databases(of_type, props_of, stack_of) -> tuple[Database, ...]:
    databases = []
    for logical_id, stack, props in of_type("AWS::RDS::DBInstance"):
        raw = stack.raw_properties(logical_id)
        source = props.get("SourceDBInstanceIdentifier")
        # A replica inherits storage, port and subnets from its source, which may be in another stack.
        storage_props = props_of(source) if source else props
        storage_stack, storage_id = stack_of(source) if source else (stack, logical_id)
        subnet_group = storage_props.get("DBSubnetGroupName")
        databases.append(Database(
            id=stack.qualified(logical_id),
            role="replica" if source else "primary",
            engine=str(props.get("Engine")),
            instance_class=str(props.get("DBInstanceClass")),
            instance_class_parameter=stack.parameter_behind(raw.get("DBInstanceClass")),
            multi_az=_true(props.get("MultiAZ")),
            storage_gb=int(storage_props.get("AllocatedStorage", 0)),
            storage_parameter=storage_stack.parameter_behind(
                storage_stack.raw_properties(storage_id).get("AllocatedStorage")),
            port=_port(storage_props["Port"]) if "Port" in storage_props else None,
            az=props.get("AvailabilityZone") if isinstance(props.get("AvailabilityZone"), str) else None,
            subnets=tuple(props_of(subnet_group).get("SubnetIds", [])) if isinstance(subnet_group, str) else (),
            security_groups=tuple(props.get("VPCSecurityGroups", [])),
            source=source,
            backup_retention_days=int(props.get("BackupRetentionPeriod", 0) or 0),
        ))
    return tuple(databases)


def _file_systems(of_type) -> tuple[FileSystem, ...]:
    targets: dict[str, list[MountTarget]] = {}
    for logical_id, stack, props in of_type("AWS::EFS::MountTarget"):
        targets.setdefault(props["FileSystemId"], []).append(
            MountTarget(stack.qualified(logical_id), props["SubnetId"], tuple(props.get("SecurityGroups", [])))
        )
    return tuple(
        FileSystem(
            id=stack.qualified(logical_id),
            throughput_mode=str(props.get("ThroughputMode", "bursting")),
            mount_targets=tuple(targets.get(stack.qualified(logical_id), [])),
            # EFS's own automatic backups, or the project's AWS Backup plan (templates/backup.py), which
            # selects the file system by its tags and turns the automatic ones off (templates/data.py).
            backed_up=props.get("BackupPolicy", {}).get("Status") == "ENABLED" or bool(of_type(BACKUP_SELECTION)),
        )
        for logical_id, stack, props in of_type("AWS::EFS::FileSystem")
    )


BACKUP_SELECTION = "AWS::Backup::BackupSelection"


def _distribution(distribution_id: str, props: dict) -> Distribution:
    config = props.get("DistributionConfig", {})
    policy = config.get("DefaultCacheBehavior", {}).get("ViewerProtocolPolicy", "allow-all")
    return Distribution(
        id=distribution_id,
        # redirect-to-https answers on 80 only to redirect; viewers still connect there.
        viewer_ports=(443,) if policy == "https-only" else (80, 443),
        price_class=str(config.get("PriceClass", "PriceClass_All")),
        web_acl="WebACLId" in config,
    )


def _resource_named_in(value, known_ids: list[str]) -> str | None:
    """The resource a stand-in such as "edge.Distribution.DomainName" is about."""
    if not isinstance(value, str):
        return None
    return next((rid for rid in known_ids if value == rid or value.startswith(rid + ".")), None)


def _port(value, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    return int(value)


def _true(value) -> bool:
    return str(value).lower() == "true"
