"""Root stack (output/main.yaml): the parameters a user fills in, and the nested stacks.

Each nested stack's TemplateURL is the relative path of its generated file, the
form `aws cloudformation package` (and `threetier package`) rewrites into an S3
URL. Outputs of one stack reach the next as parameters, which also orders them:

    network -> security -> data -> (dns) -> app -> (admin) (edge) (monitoring)
"""

from __future__ import annotations

from troposphere import And, Condition, Equals, GetAtt, If, Not, Or, Output, Ref, Sub, Template, cloudformation

from threetier import architectures, conditions, naming, regions
from threetier.engines import NO_PERFORMANCE_INSIGHTS
from threetier import parameters as P
from threetier.conditions import (
    DOMAIN_READY,
    HAS_BASTIONS,
    HAS_DOMAIN,
    HAS_SUBDOMAIN,
    IN_US_EAST_1,
    USE_CLOUDFRONT,
    USE_THREE_AZS,
)
from threetier.suppressions import cfn_lint

HAS_EDGE = "HasEdge"
HAS_PINNED_AMI = "HasPinnedAmi"
USE_MONITORING = "UseMonitoring"

# Top-level outputs: {output name: (nested stack, description)}.
OUTPUTS = {
    "VpcId": ("NetworkStack", "VPC id"),
    "PublicSubnetIds": ("NetworkStack", "Public subnet ids"),
    "AppSubnetIds": ("NetworkStack", "Private app subnet ids"),
    "DataSubnetIds": ("NetworkStack", "Private data subnet ids"),
    "DbEndpointAddress": ("DataStack", "Database endpoint host name"),
    "DbEndpointPort": ("DataStack", "Database port"),
    "DbReplicaEndpointAddress": ("DataStack", "Read replica endpoint (empty without a replica)"),
    "DbMasterSecretArn": ("DataStack", "Secret holding the database master user and password"),
    "DbAppSecretArn": ("DataStack", "Secret of the app's own database user (rotated with alternating users)"),
    "AppSecretArn": ("DataStack", "Application secret (SECRET_KEY, API_KEY)"),
    "EfsFileSystemId": ("DataStack", "EFS file system id"),
    "AlbDnsName": ("AppStack", "Load balancer DNS name"),
    "AutoScalingGroupName": ("AppStack", "Auto Scaling group of the app servers"),
}


def build() -> Template:
    t = naming.new_template(
        "threetier: highly available three-tier web application (root stack)"
    )
    P.use(t, *P.NETWORK, *P.SECURITY, *P.DATABASE, *P.FILES, *P.APP, *P.LOAD_BALANCER,
          *P.EDGE, *P.MONITORING, *P.BASTION, P.PINNED_AMI_ID)
    conditions.add(t, HAS_BASTIONS, HAS_DOMAIN, HAS_SUBDOMAIN, USE_CLOUDFRONT, DOMAIN_READY)
    t.add_condition(HAS_EDGE, Or(Condition(DOMAIN_READY), Condition(USE_CLOUDFRONT)))
    # Until the domain's zone is given (pass 2, see templates/dns.py), the
    # stacks after dns run as if there were no domain.
    ready_domain = If(DOMAIN_READY, Ref(P.DOMAIN_NAME.name), "")
    t.add_condition(USE_MONITORING, Equals(Ref(P.MONITORING_ENABLED.name), "true"))
    t.add_condition(HAS_PINNED_AMI, Not(Equals(Ref(P.PINNED_AMI_ID.name), "")))
    # The pinned id, when the environment keeps one, wins over AmiId's latest value (see parameters.py).
    image = If(HAS_PINNED_AMI, Ref(P.PINNED_AMI_ID.name), Ref(P.AMI_ID.name))
    _rules(t)

    network = _nested_stack(t, "NetworkStack", "network", P.PROJECT + P.NETWORK)
    security = _nested_stack(
        t, "SecurityStack", "security",
        P.PROJECT + P.SECURITY + (P.DB_ENGINE, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_PREFIX_LIST_ID),
        DomainName=ready_domain,
        VpcId=_output(network, "VpcId"),
    )
    data = _nested_stack(
        t, "DataStack", "data", P.PROJECT + P.DATABASE + P.FILES + (P.NUMBER_OF_AZS, P.CLOUDFRONT_ENABLED),
        AvailabilityZones=_output(network, "AvailabilityZones"),
        DataSubnetIds=_output(network, "DataSubnetIds"),
        AppSubnetIds=_output(network, "AppSubnetIds"),
        DbSecurityGroupId=_output(security, "DbSecurityGroupId"),
        EfsSecurityGroupId=_output(security, "EfsSecurityGroupId"),
        LogKeyArn=_output(network, "LogKeyArn"),
    )
    dns = _nested_stack(
        t, "DnsStack", "dns",
        P.PROJECT + (P.DOMAIN_NAME, P.SITE_SUBDOMAIN, P.HOSTED_ZONE_ID, P.CLOUDFRONT_ENABLED,
                     P.CLOUDFRONT_CERTIFICATE_ARN, P.ALB_CERTIFICATE_ARN),
        condition=HAS_DOMAIN,
    )
    app = _nested_stack(
        t, "AppStack", "app",
        P.PROJECT + P.APP + P.LOAD_BALANCER + (P.APP_PORT, P.DB_NAME, P.DB_ENGINE, P.CLOUDFRONT_ENABLED,
                                               P.ORIGIN_VERIFY_VERSION, P.ORIGIN_VERIFY_PREVIOUS_VERSION),
        # With a domain the DNS stack makes (or passes on) the ALB certificate.
        AlbCertificateArn=If(DOMAIN_READY, _output(dns, "AlbCertificateArn"), Ref(P.ALB_CERTIFICATE_ARN.name)),
        VpcId=_output(network, "VpcId"),
        PublicSubnetIds=_output(network, "PublicSubnetIds"),
        AppSubnetIds=_output(network, "AppSubnetIds"),
        AlbSecurityGroupId=_output(security, "AlbSecurityGroupId"),
        AppSecurityGroupId=_output(security, "AppSecurityGroupId"),
        DbRotationSecurityGroupId=_output(security, "DbRotationSecurityGroupId"),
        LogKeyArn=_output(network, "LogKeyArn"),
        AmiId=image,
        **{name: _output(data, name) for name in (
            "DbEndpointAddress", "DbEndpointPort", "DbMasterSecretArn", "DbAppSecretArn", "AppSecretArn",
            "EfsFileSystemId", "EfsFileSystemArn", "EfsAccessPointId", "EfsAccessPointArn",
            "OriginVerifySecretArn")},
    )
    _nested_stack(
        t, "AdminStack", "admin", P.PROJECT + (P.BASTION_COUNT, *P.BASTION, P.AMI_ID, P.ROOT_DEVICE_NAME),
        PublicSubnetIds=_output(network, "PublicSubnetIds"),
        BastionSecurityGroupId=_output(security, "BastionSecurityGroupId"),
        AmiId=image,
        condition=HAS_BASTIONS,
    )
    edge = _nested_stack(
        t, "EdgeStack", "edge",
        P.PROJECT + (P.SITE_SUBDOMAIN, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_PRICE_CLASS,
                     P.CLOUDFRONT_LOGGING, P.WAF_ENABLED, P.ORIGIN_VERIFY_VERSION),
        DomainName=ready_domain,
        ZoneId=If(DOMAIN_READY, _output(dns, "ZoneId"), ""),
        SiteCertificateArn=If(DOMAIN_READY, _output(dns, "SiteCertificateArn"), ""),
        AlbDnsName=_output(app, "AlbDnsName"),
        AlbCanonicalHostedZoneId=_output(app, "AlbCanonicalHostedZoneId"),
        OriginVerifySecretArn=_output(data, "OriginVerifySecretArn"),
        condition=HAS_EDGE,
    )

    monitoring = _nested_stack(
        t, "MonitoringStack", "monitoring",
        P.PROJECT + P.ALARMS + (P.ASG_MIN_SIZE, P.DB_REPLICA_ENABLED, P.EFS_THROUGHPUT_MODE,
                                P.EFS_PERFORMANCE_MODE, P.NUMBER_OF_AZS, P.SINGLE_NAT_GATEWAY),
        NatGatewayIds=_output(network, "NatGatewayIds"),
        **{name: _output(app, name) for name in ("AlbFullName", "TargetGroupFullName", "AutoScalingGroupName")},
        **{name: _output(data, name) for name in ("DbInstanceIdentifier", "DbReplicaIdentifier", "EfsFileSystemId")},
        condition=USE_MONITORING,
    )

    for name, (stack, description) in OUTPUTS.items():
        t.add_output(Output(name, Description=description, Value=GetAtt(stack, f"Outputs.{name}")))
    t.add_output(Output(
        "SiteUrl",
        Description="Where users reach the application",
        Value=If(DOMAIN_READY, Sub("https://${Site}", Site=naming.site_name()),
                 If(USE_CLOUDFRONT, Sub("https://${Cdn}", Cdn=_output(edge, "DistributionDomainName")),
                    Sub("http://${Alb}", Alb=_output(app, "AlbDnsName")))),
    ))
    t.add_output(Output(
        "AlarmTopicArn",
        Description="SNS topic the alarms notify (empty with monitoring off)",
        Value=If(USE_MONITORING, _output(monitoring, "AlarmTopicArn"), ""),
    ))
    t.add_output(Output(
        "OriginVerifySecretArn",
        Description="Secret of the header CloudFront sends the load balancer (empty without CloudFront); "
                    "threetier rotate-origin-secret rotates it",
        Value=If(USE_CLOUDFRONT, _output(data, "OriginVerifySecretArn"), ""),
    ))
    t.add_output(Output(
        "HostedZoneId",
        Description="Hosted zone of DomainName: the one this stack created, or HostedZoneId (empty without a domain)",
        Value=If(HAS_DOMAIN, _output(dns, "ZoneId"), ""),
    ))
    t.add_output(Output(
        "NameServers",
        Description="Name servers of the hosted zone this stack created, to delegate to at the registrar "
                    "(empty with HostedZoneId given)",
        Value=If(HAS_DOMAIN, _output(dns, "NameServers"), ""),
    ))
    return t


def _rules(t: Template) -> None:
    """Combinations no single parameter constraint can catch, refused before anything is created."""
    def rule(name: str, when, holds, message: str) -> None:
        t.add_rule(name, {"RuleCondition": when,
                          "Assertions": [{"Assert": holds, "AssertDescription": message}]})

    def is_empty(param: P.Param):
        return Equals(Ref(param.name), "")

    cloudfront_on = conditions.expression(USE_CLOUDFRONT)
    domain_ready = conditions.expression(DOMAIN_READY)
    rule("BastionsNeedARestrictedAdminCidr", conditions.expression(HAS_BASTIONS),
         And(Not(is_empty(P.ADMIN_CIDR)), Not(Equals(Ref(P.ADMIN_CIDR.name), "0.0.0.0/0"))),
         "BastionCount above 0 needs AdminCidr: the one IPv4 range allowed to SSH in "
         "(e.g. 203.0.113.0/24), never 0.0.0.0/0.")
    rule("BastionsNeedAKeyPair", conditions.expression(HAS_BASTIONS),
         Not(is_empty(P.BASTION_KEY_PAIR)),
         "BastionCount above 0 needs BastionKeyPairName: an existing EC2 key pair in this region.")
    rule("CloudFrontNeedsItsPrefixList", cloudfront_on,
         Not(is_empty(P.CLOUDFRONT_PREFIX_LIST_ID)),
         "CloudFrontEnabled needs CloudFrontPrefixListId: the id of "
         "com.amazonaws.global.cloudfront.origin-facing in this region (threetier plan looks it up).")
    rule("CloudFrontCertificateOutsideUsEast1", And(cloudfront_on, domain_ready, Not(conditions.expression(IN_US_EAST_1))),
         Not(is_empty(P.CLOUDFRONT_CERTIFICATE_ARN)),
         "Outside us-east-1, CloudFront with a domain needs CloudFrontCertificateArn: an ACM "
         "certificate for the site name in us-east-1 (CloudFront uses no other region's).")
    rule("CloudFrontWithoutDomainUsesHttpOrigin", And(cloudfront_on, Not(domain_ready)),
         is_empty(P.ALB_CERTIFICATE_ARN),
         "Without a ready domain (DomainName and its delegated HostedZoneId), CloudFront reaches the "
         "load balancer by its AWS name over HTTP, which no certificate matches: leave "
         "AlbCertificateArn empty, or set DomainName and HostedZoneId.")
    two_az_regions = regions.with_fewer_azs_than(3)
    # Fn::Contains is one of the functions only Rules may use; troposphere has no class for it.
    rule("ThreeAzsNeedARegionWithThree", conditions.expression(USE_THREE_AZS),
         Not({"Fn::Contains": [two_az_regions, Ref("AWS::Region")]}),
         f"NumberOfAzs 3 needs a region with three Availability Zones; {', '.join(two_az_regions)} "
         "has two for most accounts: use 2 there.")
    mysql_with_insights = And(Equals(Ref(P.DB_ENGINE.name), "mysql"),
                              Equals(Ref(P.DB_PERFORMANCE_INSIGHTS.name), "true"))
    rule("PerformanceInsightsNeedsALargerMySqlClass", mysql_with_insights,
         Not(Or(*[Equals(Ref(P.DB_INSTANCE_CLASS.name), name) for name in NO_PERFORMANCE_INSIGHTS["mysql"]])),
         "RDS for MySQL has no Performance Insights on db.t3/db.t4g micro and small: set "
         "DbPerformanceInsights to false or use db.t4g.medium or larger.")
    # The replica inherits the setting, so its own class must support it too.
    rule("PerformanceInsightsNeedsALargerMySqlReplicaClass",
         And(mysql_with_insights, Equals(Ref(P.DB_REPLICA_ENABLED.name), "true")),
         Not(Or(*[Equals(Ref(P.DB_REPLICA_INSTANCE_CLASS.name), name) for name in NO_PERFORMANCE_INSIGHTS["mysql"]])),
         "The read replica has Performance Insights like the primary, and RDS for MySQL has none on "
         "db.t3/db.t4g micro and small: use db.t4g.medium or larger for DbReplicaInstanceClass.")
    # https://docs.aws.amazon.com/efs/latest/ug/performance.html: Elastic
    # throughput is only for General Purpose file systems.
    rule("EfsMaxIoNeedsBurstingThroughput", Equals(Ref(P.EFS_PERFORMANCE_MODE.name), "maxIO"),
         Not(Equals(Ref(P.EFS_THROUGHPUT_MODE.name), "elastic")),
         "EfsPerformanceMode maxIO cannot use elastic throughput (EFS refuses the file system): "
         "set EfsThroughputMode to bursting, or EfsPerformanceMode to generalPurpose.")
    rule("CloudFrontLogsNeedASupportedRegion",
         And(cloudfront_on, Equals(Ref(P.CLOUDFRONT_LOGGING.name), "true")),
         Not({"Fn::Contains": [list(regions.CLOUDFRONT_LOGS_UNSUPPORTED), Ref("AWS::Region")]}),
         "CloudFrontLogging keeps the logs in a bucket in this region, and CloudFront cannot deliver "
         f"standard logs to buckets in {', '.join(regions.CLOUDFRONT_LOGS_UNSUPPORTED)}: set "
         "CloudFrontLogging to false here.")
    # The default AMI is x86_64: a Graviton app server cannot launch it. Rules
    # only test membership, so this knows the common Graviton types; validate
    # checks every type, bastions too, against any AMI parameter naming its architecture.
    rule("InstanceTypeMatchesTheDefaultAmi", Equals(Ref(P.AMI_ID.name), P.AL2023_AMI_PARAMETER),
         Not({"Fn::Contains": [architectures.common_graviton_types(), Ref(P.INSTANCE_TYPE.name)]}),
         "InstanceType is an arm64 (Graviton) type, but the default AmiId is the x86_64 Amazon Linux "
         "2023 image: use an x86_64 type (e.g. t3.small), or set AmiId to "
         "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64.")
    # The credit option is for T instances only; what EC2 does with it on
    # another type is not documented, so it is never sent for one.
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ec2-launchtemplate-creditspecification.html
    # validate also flags a T type left without one (T3, T3a, T4g then run unlimited).
    rule("CpuCreditsOnlyForTInstanceTypes", conditions.expression(conditions.HAS_CPU_CREDITS),
         {"Fn::Contains": [sorted(architectures.BURSTABLE), Ref(P.INSTANCE_TYPE.name)]},
         "CpuCredits applies to T instance types (t3, t3a, t4g, t2) only: leave it empty for "
         "an InstanceType of another family.")
    rule("WafNeedsCloudFrontInUsEast1", Equals(Ref(P.WAF_ENABLED.name), "true"),
         And(cloudfront_on, conditions.expression(IN_US_EAST_1)),
         "WafEnabled protects the CloudFront distribution, whose web ACL must be created in "
         "us-east-1: turn CloudFrontEnabled on and deploy in us-east-1, or turn WafEnabled off.")


def _output(stack: cloudformation.Stack, name: str) -> GetAtt:
    return GetAtt(stack, f"Outputs.{name}")


def _nested_stack(
    t: Template, title: str, stack: str, params: tuple[P.Param, ...], condition: str | None = None, **values
) -> cloudformation.Stack:
    """A nested stack fed with the root parameters it shares plus `values` from other stacks."""
    parameters = {param.name: Ref(param.name) for param in params}
    parameters.update(values)
    nested = cloudformation.Stack(
        title,
        TemplateURL=f"{stack}.yaml",
        Parameters=parameters,
        # Deleting the root deletes the nested stacks; their stateful
        # resources carry their own Retain/Snapshot policies.
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
        Tags=naming.tags(),
        Metadata=cfn_lint(
            "W3002",
            "Relative TemplateURL on purpose: `threetier package` or "
            "`aws cloudformation package` rewrites it to S3, and cfn-lint "
            "checks the parameters against the nested file (E3043).",
        ),
    )
    if condition is not None:
        nested.Condition = condition
    return t.add_resource(nested)
