"""Network stack: VPC, three subnet tiers in 2 or 3 AZs, NAT, S3 endpoint, flow logs.

Subnets are carved from the VPC block with Fn::Cidr in a fixed order (public,
app, data; AZ 1 to 3), so switching between 2 and 3 AZs adds or removes the
third AZ's subnets without renumbering the others.
"""

from __future__ import annotations

from troposphere import (
    And,
    Cidr,
    Equals,
    GetAtt,
    GetAZs,
    If,
    Join,
    Not,
    NoValue,
    Or,
    Output,
    Ref,
    Select,
    Split,
    Sub,
    Template,
    ec2,
    iam,
    kms,
)

from threetier import parameters as P
from threetier.blocks import logstore, naming, policies
from threetier.facts import architectures, regions
from threetier.facts.engines import NO_PERFORMANCE_INSIGHTS
from threetier.parameters import conditions, rules
from threetier.parameters.conditions import CREATE_NAT_GATEWAY_3, USE_NAT_PER_AZ, USE_THREE_AZS

AZ_NUMBERS = (1, 2, 3)
TIERS = ("Public", "App", "Data")
SUBNET_COUNT = len(TIERS) * len(AZ_NUMBERS)
ANYWHERE = "0.0.0.0/0"
HAS_AZ_NAMES = "HasAvailabilityZoneNames"


def build() -> Template:
    t = naming.new_template(
        "threetier network: VPC with public, private app and private data subnets "
        "in 2 or 3 AZs, NAT gateways, S3 gateway endpoint and VPC flow logs"
    )
    P.use(t, P.VPC_CIDR, *P.NETWORK_STACK)
    conditions.add(t, USE_THREE_AZS, USE_NAT_PER_AZ, CREATE_NAT_GATEWAY_3, conditions.HAS_PERMISSIONS_BOUNDARY)
    _rules(t)
    t.add_condition(HAS_AZ_NAMES, Not(Equals(Ref(P.AVAILABILITY_ZONE_NAMES.name), "")))

    vpc = t.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=Ref(P.VPC_CIDR.name),
            EnableDnsSupport=True,
            EnableDnsHostnames=True,
            Tags=naming.tags("vpc"),
        )
    )
    igw = t.add_resource(ec2.InternetGateway("InternetGateway", Tags=naming.tags("igw")))
    attachment = t.add_resource(
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw)
        )
    )

    public_route_table = t.add_resource(
        ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=naming.tags("public-rt"))
    )
    t.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment,
            RouteTableId=Ref(public_route_table),
            DestinationCidrBlock=ANYWHERE,
            GatewayId=Ref(igw),
        )
    )
    # The data tier never talks to the internet: its route table has no
    # default route, only the VPC-local route and the S3 endpoint.
    data_route_table = t.add_resource(
        ec2.RouteTable("DataRouteTable", VpcId=Ref(vpc), Tags=naming.tags("data-rt"))
    )

    subnets = {tier: [] for tier in TIERS}
    app_route_tables = []
    nat_gateways = []
    for az in AZ_NUMBERS:
        for tier in TIERS:
            subnets[tier].append(_subnet(t, vpc, tier, az))
        _associate(t, subnets["Public"][-1], public_route_table)
        _associate(t, subnets["Data"][-1], data_route_table)
        nat_gateways.append(_nat_gateway(t, az, subnets["Public"][-1], attachment))
        app_route_table = _app_route_table(t, vpc, az, nat_gateways)
        _associate(t, subnets["App"][-1], app_route_table)
        app_route_tables.append(app_route_table)

    t.add_resource(
        ec2.VPCEndpoint(
            "S3GatewayEndpoint",
            VpcId=Ref(vpc),
            VpcEndpointType="Gateway",
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            RouteTableIds=[
                Ref(app_route_tables[0]),
                Ref(app_route_tables[1]),
                If(USE_THREE_AZS, Ref(app_route_tables[2]), NoValue),
                Ref(data_route_table),
            ],
            Tags=naming.tags("s3-endpoint"),
        )
    )
    log_key = _log_key(t)
    _flow_logs(t, vpc, log_key)

    _output(t, "VpcId", "VPC id", Ref(vpc))
    _output(t, "VpcCidr", "VPC IPv4 CIDR block", GetAtt(vpc, "CidrBlock"))
    _output(t, "AvailabilityZones", "AZs in use, comma-separated",
            _per_az([GetAtt(s, "AvailabilityZone") for s in subnets["Public"]]))
    for tier in TIERS:
        _output(t, f"{tier}SubnetIds", f"{tier} subnet ids, one per AZ, comma-separated",
                _per_az([Ref(s) for s in subnets[tier]]))
    _output(t, "PublicRouteTableId", "Public route table id", Ref(public_route_table))
    _output(t, "AppRouteTableIds", "App route table ids, one per AZ, comma-separated",
            _per_az([Ref(r) for r in app_route_tables]))
    _output(t, "DataRouteTableId", "Data route table id", Ref(data_route_table))
    _output(t, "LogKeyArn", "KMS key of the stack's log groups", GetAtt(log_key, "Arn"))
    _output(t, "NatGatewayIds", "NAT gateway ids, comma-separated",
            If(CREATE_NAT_GATEWAY_3, Join(",", [Ref(n) for n in nat_gateways]),
               If(USE_NAT_PER_AZ, Join(",", [Ref(n) for n in nat_gateways[:2]]),
                  Ref(nat_gateways[0]))))
    return t


def az_condition(az: int) -> str | None:
    """The Condition a resource of AZ `az` needs: the third AZ exists only with 3 AZs."""
    return USE_THREE_AZS if az == 3 else None


def nat_condition(az: int) -> str | None:
    """AZ 1 always has a NAT gateway; the others only when there is one per AZ."""
    return {1: None, 2: USE_NAT_PER_AZ, 3: CREATE_NAT_GATEWAY_3}[az]


def _conditional(resource, condition: str | None):
    if condition is not None:
        resource.Condition = condition
    return resource


def _subnet(t: Template, vpc: ec2.VPC, tier: str, az: int) -> ec2.Subnet:
    block = TIERS.index(tier) * len(AZ_NUMBERS) + az - 1
    return t.add_resource(
        _conditional(
            ec2.Subnet(
                f"{tier}Subnet{az}",
                VpcId=Ref(vpc),
                AvailabilityZone=If(HAS_AZ_NAMES,
                                    Select(az - 1, Split(",", Ref(P.AVAILABILITY_ZONE_NAMES.name))),
                                    Select(az - 1, GetAZs(""))),
                CidrBlock=Select(
                    block,
                    Cidr(Ref(P.VPC_CIDR.name), SUBNET_COUNT, Ref(P.SUBNET_CIDR_BITS.name)),
                ),
                # Nothing launched here needs a public IP by default: the ALB and
                # NAT gateways get theirs explicitly.
                MapPublicIpOnLaunch=False,
                Tags=naming.tags(f"{tier.lower()}-{az}", Tier=tier.lower()),
            ),
            az_condition(az),
        )
    )


def _associate(t: Template, subnet: ec2.Subnet, route_table: ec2.RouteTable) -> None:
    t.add_resource(
        _conditional(
            ec2.SubnetRouteTableAssociation(
                f"{subnet.title}RouteTableAssociation",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(route_table),
            ),
            getattr(subnet, "Condition", None),
        )
    )


def _nat_gateway(t: Template, az: int, public_subnet, attachment) -> ec2.NatGateway:
    condition = nat_condition(az)
    eip = t.add_resource(
        _conditional(
            ec2.EIP(
                f"NatEip{az}",
                DependsOn=attachment,
                Domain="vpc",
                Tags=naming.tags(f"nat-eip-{az}"),
            ),
            condition,
        )
    )
    return t.add_resource(
        _conditional(
            ec2.NatGateway(
                f"NatGateway{az}",
                AllocationId=GetAtt(eip, "AllocationId"),
                SubnetId=Ref(public_subnet),
                Tags=naming.tags(f"nat-{az}"),
            ),
            condition,
        )
    )


def _app_route_table(t: Template, vpc, az: int, nat_gateways: list) -> ec2.RouteTable:
    route_table = t.add_resource(
        _conditional(
            ec2.RouteTable(f"AppRouteTable{az}", VpcId=Ref(vpc), Tags=naming.tags(f"app-rt-{az}")),
            az_condition(az),
        )
    )
    own_nat, shared_nat = nat_gateways[az - 1], nat_gateways[0]
    nat = Ref(shared_nat) if az == 1 else If(USE_NAT_PER_AZ, Ref(own_nat), Ref(shared_nat))
    t.add_resource(
        _conditional(
            ec2.Route(
                f"AppDefaultRoute{az}",
                RouteTableId=Ref(route_table),
                DestinationCidrBlock=ANYWHERE,
                NatGatewayId=nat,
            ),
            az_condition(az),
        )
    )
    return route_table


def _log_key(t: Template) -> kms.Key:
    """One customer managed key for every log group the stacks create."""
    return t.add_resource(
        kms.Key(
            "LogKey",
            # Retained log groups stay readable only while their key exists.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            Description=Sub("${ProjectName}-${EnvironmentName} CloudWatch Logs encryption"),
            EnableKeyRotation=True,
            KeyPolicy=policies.document(policies.key_administration(), policies.logs_key_use()),
            Tags=naming.tags("log-key"),
        )
    )


def _flow_logs(t: Template, vpc: ec2.VPC, log_key: kms.Key) -> None:
    # Flow logs are audit evidence.
    log_group = t.add_resource(logstore.log_group(
        "FlowLogGroup", "flow-logs", retention_days=Ref(P.FLOW_LOG_RETENTION_DAYS.name),
        kms_key_arn=GetAtt(log_key, "Arn"),
    ))
    role = t.add_resource(
        iam.Role(
            "FlowLogRole",
            AssumeRolePolicyDocument=policies.trust(
                "vpc-flow-logs",
                Sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*"),
            ),
            Policies=[
                policies.inline("deliver-flow-logs", *policies.write_flow_logs(GetAtt(log_group, "Arn")))
            ],
            Tags=naming.tags("flow-log-role"),
            **policies.role_placement(),
        )
    )
    t.add_resource(
        ec2.FlowLog(
            "VpcFlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(log_group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
            MaxAggregationInterval=60,
            Tags=naming.tags("flow-log"),
        )
    )


def _per_az(values: list) -> If:
    """A comma-separated list of the per-AZ values that exist."""
    return If(USE_THREE_AZS, Join(",", values), Join(",", values[:2]))


def _output(t: Template, name: str, description: str, value) -> None:
    t.add_output(Output(name, Description=description, Value=value))


def _rules(t: Template) -> None:
    """Checks of advanced settings and regions that do not fit in the root (see
    threetier.parameters.rules). This is the first nested stack, so they refuse before any
    resource is created; `threetier validate` refuses the same offline."""
    # Fn::Cidr carves nine subnets of SubnetCidrBits host bits out of the VPC:
    # 9 x 2^bits must fit in 2^(32 - prefix), so bits <= 28 - prefix.
    rules.add(t, "NineSubnetsFitTheVpc", None, Or(*[_subnets_fit(prefix) for prefix in P.VPC_PREFIX_LENGTHS]),
              "SubnetCidrBits may be at most 28 minus VpcPrefixLength (12 for a /16, 5 for a /23).")
    two_az_regions = regions.with_fewer_azs_than(3)
    rules.add(t, "ThreeAzsNeedARegionWithThree", conditions.expression(conditions.USE_THREE_AZS),
              Not(rules.contains(two_az_regions, Ref("AWS::Region"))),
              f"NumberOfAzs 3: {', '.join(two_az_regions)} has two Availability Zones for most accounts; use 2.")
    # The credit option is for T instances only; what EC2 does with it on
    # another type is not documented, so it is never sent for one.
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ec2-launchtemplate-creditspecification.html
    rules.add(t, "CpuCreditsOnlyForTInstanceTypes", conditions.expression(conditions.HAS_CPU_CREDITS),
              rules.contains(sorted(architectures.BURSTABLE), Ref(P.INSTANCE_TYPE.name)),
              "CpuCredits is for T instance types (t2, t3, t3a, t4g): leave it empty for this InstanceType.")
    no_insights = NO_PERFORMANCE_INSIGHTS["mysql"]
    rules.add(t, "PerformanceInsightsNeedsALargerMySqlClass",
              And(Equals(Ref(P.DB_ENGINE.name), "mysql"), Equals(Ref(P.DB_PERFORMANCE_INSIGHTS.name), "true")),
              Not(rules.contains(no_insights, Ref(P.DB_INSTANCE_CLASS.name))),
              "DbPerformanceInsights: RDS for MySQL has none on db.t3/db.t4g micro and small. Use "
              "db.t4g.medium or larger, or false.",
              # The replica inherits the setting, so its own class must support it too.
              (Or(Not(conditions.expression(conditions.HAS_READ_REPLICA)),
                  Not(rules.contains(no_insights, Ref(P.DB_REPLICA_INSTANCE_CLASS.name)))),
               "DbPerformanceInsights: the read replica has it too; use db.t4g.medium or larger for "
               "DbReplicaInstanceClass."))
    # https://docs.aws.amazon.com/efs/latest/ug/performance.html: Elastic
    # throughput is only for General Purpose file systems.
    rules.add(t, "EfsMaxIoNeedsBurstingThroughput", Equals(Ref(P.EFS_PERFORMANCE_MODE.name), "maxIO"),
              Not(Equals(Ref(P.EFS_THROUGHPUT_MODE.name), "elastic")),
              "EfsPerformanceMode maxIO cannot use elastic throughput: set EfsThroughputMode to bursting.")
    rules.add(t, "CloudFrontLogsNeedASupportedRegion",
              And(conditions.expression(conditions.USE_CLOUDFRONT), Equals(Ref(P.CLOUDFRONT_LOGGING.name), "true")),
              Not(rules.contains(regions.CLOUDFRONT_LOGS_UNSUPPORTED, Ref("AWS::Region"))),
              "CloudFrontLogging: CloudFront cannot deliver logs to a bucket in this region; set it to false.")
    # CloudFrontOnly false is the first step of turning CloudFront on (threetier.review.cloudfrontsteps);
    # without CloudFront it would wait unseen and leave the load balancer open on the day CloudFront is on.
    rules.add(t, "CloudFrontOnlyFalseNeedsCloudFront", Equals(Ref(P.CLOUDFRONT_ONLY.name), "false"),
              conditions.expression(conditions.USE_CLOUDFRONT),
              "CloudFrontOnly false needs CloudFrontEnabled true: set CloudFrontOnly to true.")
    # The load balancer's log delivery account table covers the commercial
    # partition only (templates/app.py, ELB_LOG_ACCOUNTS).
    rules.add(t, "AccessLogsNeedACommercialRegion", Equals(Ref(P.ALB_ACCESS_LOGS.name), "true"),
              Not(rules.contains(regions.OUTSIDE_LOG_DELIVERY_TABLE, Ref("AWS::Region"))),
              "AlbAccessLogs: this template knows the log delivery accounts of commercial AWS regions only; "
              "set it to false in GovCloud and China.")


def _subnets_fit(prefix: str):
    """VpcPrefixLength is `prefix` and nine subnets of SubnetCidrBits fit: bits <= 28 - prefix.

    Written with the shorter of the allowed and the refused lists (Rules only test membership).
    """
    is_prefix = Equals(Ref(P.VPC_PREFIX_LENGTH.name), prefix)
    bits = Ref(P.SUBNET_CIDR_BITS.name)
    allowed = [str(b) for b in range(P.SUBNET_CIDR_BITS.min_value, P.SUBNET_CIDR_BITS.max_value + 1)
               if b <= 28 - int(prefix)]
    refused = [str(b) for b in range(P.SUBNET_CIDR_BITS.min_value, P.SUBNET_CIDR_BITS.max_value + 1)
               if b > 28 - int(prefix)]
    if not refused:
        return is_prefix
    if len(refused) < len(allowed):
        return And(is_prefix, Not({"Fn::Contains": [refused, bits]}))
    return And(is_prefix, {"Fn::Contains": [allowed, bits]})
