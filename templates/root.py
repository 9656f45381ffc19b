"""Root stack (output/main.yaml): the parameters a user fills in, and the nested stacks.

Each nested stack's TemplateURL is the relative path of its generated file, the
form `aws cloudformation package` (and `threetier package`) rewrites into an S3
URL. Outputs of one stack reach the next as parameters, which also orders them.
StackLayout chooses between two orders (P.STACK_LAYOUT). The chain, of the
environments created before it:

    network -> security -> data (primary, replica) -> (dns) -> app -> (admin) (edge) (monitoring)

and the parallel one, where nothing waits for what it does not use:

    network -> security -> front (load balancer, origin secret) -> (edge)
                        -> data (primary) -> app, (replica), (monitoring, also after front)

(backup) waits for no stack in either. A stack's outputs are ready only when the whole stack is, so in the chain
CloudFront waits for both databases and the servers, and the alarms for the servers.
"""

from __future__ import annotations

from troposphere import And, Condition, Equals, GetAtt, If, Not, Or, Output, Ref, Sub, Template, cloudformation

from templates.app import ASG_NAME as APP_ASG_NAME
from threetier import parameters as P
from threetier.blocks import naming, rotationfunction
from threetier.facts import architectures
from threetier.parameters import conditions, rules
from threetier.parameters.conditions import (
    DOMAIN_READY,
    HAS_BASTIONS,
    HAS_DOMAIN,
    HAS_SUBDOMAIN,
    IN_US_EAST_1,
    USE_CLOUDFRONT,
)

HAS_EDGE = "HasEdge"
PARALLEL = "Parallel"
PARALLEL_REPLICA = "ParallelReplica"
HAS_PINNED_AMI = "HasPinnedAmi"
USE_MONITORING = "UseMonitoring"

# Top-level outputs: {output name: (nested stack, description)}. Only what a
# person or a command needs after a deploy; the nested stacks' own outputs (VPC,
# subnets, file system, Auto Scaling group) stay on those stacks, which keeps the
# root small.
OUTPUTS = {
    "DbEndpointAddress": ("DataStack", "Database endpoint host name"),
    "DbEndpointPort": ("DataStack", "Database port"),
    "DbMasterSecretArn": ("DataStack", "Database master user secret"),
    "DbAppSecretArn": ("DataStack", "App database user secret"),
    "AppSecretArn": ("DataStack", "Application secret (SECRET_KEY, API_KEY)"),
}


def build() -> Template:
    t = naming.new_template(
        "threetier three-tier web app (root). Defaults: a small dev; prod: parameters/prod.json.",
        root=True,
    )
    P.use(t, *P.ROOT[len(P.PROJECT):], root=True)
    # W3002 ("may only work with package") on every resource here: all are nested
    # stacks whose relative TemplateURL is on purpose (`threetier package` or `aws
    # cloudformation package` rewrites it to S3; cfn-lint checks the parameters
    # against the nested file, E3043). Said once for the template rather than on
    # each nested stack, to keep the root small; template-level cfn-lint
    # config takes no ignore_reasons, so the reason is here.
    t.set_metadata({**t.metadata, "cfn-lint": {"config": {"ignore_checks": ["W3002"]}}})
    conditions.add(t, HAS_BASTIONS, HAS_DOMAIN, HAS_SUBDOMAIN, USE_CLOUDFRONT, DOMAIN_READY)
    t.add_condition(HAS_EDGE, Or(Condition(DOMAIN_READY), Condition(USE_CLOUDFRONT)))
    # Until the domain's zone is given (pass 2, see templates/dns.py), the
    # stacks after dns run as if there were no domain.
    ready_domain = If(DOMAIN_READY, Ref(P.DOMAIN_NAME.name), "")
    t.add_condition(USE_MONITORING, Equals(Ref(P.MONITORING_ENABLED.name), "true"))
    t.add_condition(HAS_PINNED_AMI, Not(Equals(Ref(P.PINNED_AMI_ID.name), "")))
    # The pinned id, when the environment keeps one, wins over AmiId's latest value (see parameters.py).
    image = If(HAS_PINNED_AMI, Ref(P.PINNED_AMI_ID.name), Ref(P.AMI_ID.name))
    t.add_condition(PARALLEL, Equals(Ref(P.STACK_LAYOUT.name), P.PARALLEL_LAYOUT))
    t.add_condition(PARALLEL_REPLICA, And(Condition(PARALLEL), conditions.expression(conditions.HAS_READ_REPLICA)))
    _rules(t)

    network = _nested_stack(t, "NetworkStack", "network", P.PROJECT + P.NETWORK_STACK,
                            VpcCidr=Sub("${VpcNetworkAddress}/${VpcPrefixLength}"))
    security = _nested_stack(
        t, "SecurityStack", "security",
        P.PROJECT + P.SECURITY + (P.DB_ENGINE, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_ONLY, P.CLOUDFRONT_PREFIX_LIST_ID),
        VpcId=_output(network, "VpcId"),
    )
    dns = _nested_stack(
        t, "DnsStack", "dns",
        P.PROJECT + (P.DOMAIN_NAME, P.SITE_SUBDOMAIN, P.HOSTED_ZONE_ID, P.CLOUDFRONT_ENABLED,
                     P.CLOUDFRONT_CERTIFICATE_ARN, P.ALB_CERTIFICATE_ARN),
        condition=HAS_DOMAIN,
    )
    # With a domain the DNS stack makes (or passes on) the ALB certificate.
    alb_certificate = If(DOMAIN_READY, _output(dns, "AlbCertificateArn"), Ref(P.ALB_CERTIFICATE_ARN.name))
    front = _nested_stack(
        t, "FrontStack", "front",
        P.PROJECT + P.LOAD_BALANCER + (P.APP_PORT, P.HEALTH_CHECK_PATH, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_ONLY,
                                       P.ORIGIN_VERIFY_VERSION, P.ORIGIN_VERIFY_PREVIOUS_VERSION),
        AlbCertificateArn=alb_certificate,
        VpcId=_output(network, "VpcId"),
        PublicSubnetIds=_output(network, "PublicSubnetIds"),
        AlbSecurityGroupId=_output(security, "AlbSecurityGroupId"),
        AlbCloudFrontSecurityGroupId=_output(security, "AlbCloudFrontSecurityGroupId"),
        condition=PARALLEL,
    )
    data = _nested_stack(
        t, "DataStack", "data", P.PROJECT + P.DATABASE + P.FILES + P.IAM + (P.NUMBER_OF_AZS, P.CLOUDFRONT_ENABLED),
        # In the parallel layout the front stack has the origin secret and the replica stack the replica.
        DbReplicaEnabled=If(PARALLEL, "false", Ref(P.DB_REPLICA_ENABLED.name)),
        BackupRegion=Ref(P.BACKUP_REGION.name),
        CloudFrontEnabled=If(PARALLEL, "false", Ref(P.CLOUDFRONT_ENABLED.name)),
        AvailabilityZones=_output(network, "AvailabilityZones"),
        DataSubnetIds=_output(network, "DataSubnetIds"),
        AppSubnetIds=_output(network, "AppSubnetIds"),
        DbSecurityGroupId=_output(security, "DbSecurityGroupId"),
        EfsSecurityGroupId=_output(security, "EfsSecurityGroupId"),
        LogKeyArn=_output(network, "LogKeyArn"),
    )
    _nested_stack(
        t, "ReplicaStack", "replica",
        P.PROJECT + (P.DB_ENGINE, P.DB_INSTANCE_CLASS, P.DB_REPLICA_INSTANCE_CLASS, P.DB_ALLOCATED_STORAGE,
                     P.DB_MAX_ALLOCATED_STORAGE, P.DB_MONITORING_INTERVAL, P.DB_PERFORMANCE_INSIGHTS,
                     P.DB_LOG_RETENTION_DAYS),
        AvailabilityZones=_output(network, "AvailabilityZones"),
        DbSecurityGroupId=_output(security, "DbSecurityGroupId"),
        LogKeyArn=_output(network, "LogKeyArn"),
        **{name: _output(data, name) for name in ("DbInstanceIdentifier", "DbParameterGroupName",
                                                  "DbMonitoringRoleArn")},
        condition=PARALLEL_REPLICA,
    )
    app = _nested_stack(
        t, "AppStack", "app",
        P.PROJECT + P.APP + P.LOAD_BALANCER + P.IAM + (P.APP_PORT, P.DB_NAME, P.CLOUDFRONT_ENABLED,
                                               P.CLOUDFRONT_ONLY, P.ORIGIN_VERIFY_VERSION,
                                               P.ORIGIN_VERIFY_PREVIOUS_VERSION),
        AlbCertificateArn=alb_certificate,
        VpcId=_output(network, "VpcId"),
        PublicSubnetIds=_output(network, "PublicSubnetIds"),
        AppSubnetIds=_output(network, "AppSubnetIds"),
        AlbSecurityGroupId=_output(security, "AlbSecurityGroupId"),
        AlbCloudFrontSecurityGroupId=_output(security, "AlbCloudFrontSecurityGroupId"),
        AppSecurityGroupId=_output(security, "AppSecurityGroupId"),
        DbRotationSecurityGroupId=_output(security, "DbRotationSecurityGroupId"),
        LogKeyArn=_output(network, "LogKeyArn"),
        # `threetier package` fills these in when it uploads the function's zip.
        RotationCodeBucket="",
        RotationCodeKey=rotationfunction.CODE_PLACEHOLDER,
        AmiId=image,
        TargetGroupArn=If(PARALLEL, _output(front, "TargetGroupArn"), ""),
        **{name: _output(data, name) for name in (
            "DbEndpointAddress", "DbEndpointPort", "DbMasterSecretArn", "DbAppSecretArn", "AppSecretArn",
            "EfsFileSystemId", "EfsFileSystemArn", "EfsAccessPointId", "EfsAccessPointArn",
            "OriginVerifySecretArn")},
    )
    _nested_stack(
        t, "AdminStack", "admin", P.PROJECT + P.IAM + (P.BASTION_COUNT, *P.BASTION, P.AMI_ID, P.ROOT_DEVICE_NAME),
        PublicSubnetIds=_output(network, "PublicSubnetIds"),
        BastionSecurityGroupId=_output(security, "BastionSecurityGroupId"),
        AmiId=image,
        condition=HAS_BASTIONS,
    )
    def load_balancer(name: str) -> If:
        return If(PARALLEL, _output(front, name), _output(app, name))

    origin_secret = If(PARALLEL, _output(front, "OriginVerifySecretArn"), _output(data, "OriginVerifySecretArn"))
    edge = _nested_stack(
        t, "EdgeStack", "edge",
        P.PROJECT + (P.SITE_SUBDOMAIN, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_PRICE_CLASS,
                     P.CLOUDFRONT_LOGGING, P.WAF_ENABLED, P.ORIGIN_VERIFY_VERSION),
        DomainName=ready_domain,
        ZoneId=If(DOMAIN_READY, _output(dns, "ZoneId"), ""),
        SiteCertificateArn=If(DOMAIN_READY, _output(dns, "SiteCertificateArn"), ""),
        AlbDnsName=load_balancer("AlbDnsName"),
        AlbCanonicalHostedZoneId=load_balancer("AlbCanonicalHostedZoneId"),
        OriginVerifySecretArn=origin_secret,
        WebAclArn=Ref(P.WEB_ACL_ARN.name),  # the us-east-1 companion's, outside us-east-1
        condition=HAS_EDGE,
    )

    monitoring = _nested_stack(
        t, "MonitoringStack", "monitoring",
        P.PROJECT + P.ALARMS + (P.ASG_MIN_SIZE, P.DB_REPLICA_ENABLED, P.EFS_THROUGHPUT_MODE,
                                P.EFS_PERFORMANCE_MODE, P.NUMBER_OF_AZS, P.SINGLE_NAT_GATEWAY),
        NatGatewayIds=_output(network, "NatGatewayIds"),
        **{name: load_balancer(name) for name in ("AlbFullName", "TargetGroupFullName")},
        # Named, not taken from the app stack in the parallel layout, so the alarms need not wait for it.
        AutoScalingGroupName=If(PARALLEL, naming.name(APP_ASG_NAME), _output(app, "AutoScalingGroupName")),
        # Not the database identifiers: the monitoring stack names them as the data stack does
        # (naming.DB_INSTANCE), which keeps the root under its size limit.
        **{name: _output(data, name) for name in ("EfsFileSystemId", "DbMasterSecretArn", "DbAppSecretArn")},
        condition=USE_MONITORING,
    )

    _backup_stack(t)

    for name, (stack, description) in OUTPUTS.items():
        t.add_output(Output(name, Description=description, Value=GetAtt(stack, f"Outputs.{name}")))
    t.add_output(Output("AlbDnsName", Description="Load balancer DNS name", Value=load_balancer("AlbDnsName")))
    site_url = If(DOMAIN_READY, Sub("https://${Site}", Site=naming.site_name()),
                  If(USE_CLOUDFRONT, Sub("https://${Cdn}", Cdn=_output(edge, "DistributionDomainName")),
                     Sub("http://${Alb}", Alb=load_balancer("AlbDnsName"))))
    t.add_output(Output("SiteUrl", Description="Where users reach the app", Value=site_url))
    # What to do after the first create, as the Quick Starts' post-deployment
    # output does. It names SiteUrl, shown beside it, rather than repeat its If.
    t.add_output(Output(
        "NextSteps",
        Description="After the first create",
        Value=Sub("1. Open SiteUrl 10 minutes after CREATE_COMPLETE. 2. API_KEY: Secrets Manager console, "
                  "secret ${Secret}, edit, keep SECRET_KEY; servers read it within 9 minutes. "
                  "3. Confirm the alarm email.",
                  Secret=_output(data, "AppSecretArn")),
    ))
    t.add_output(Output(
        "AlarmTopicArn",
        Description="Alarm SNS topic (empty: monitoring off)",
        Value=If(USE_MONITORING, _output(monitoring, "AlarmTopicArn"), ""),
    ))
    t.add_output(Output(
        "OriginVerifySecretArn",
        Description="Origin header secret (empty: no CloudFront)",
        # Empty without CloudFront: the front and data stacks output it so.
        Value=origin_secret,
    ))
    t.add_output(Output(
        "HostedZoneId",
        Description="Zone of DomainName (empty: no domain)",
        Value=If(HAS_DOMAIN, _output(dns, "ZoneId"), ""),
    ))
    t.add_output(Output(
        "NameServers",
        Description="Name servers (empty: no new zone)",
        Value=If(HAS_DOMAIN, _output(dns, "NameServers"), ""),
    ))
    return t


def _backup_stack(t: Template) -> None:
    """The AWS Backup plan (issue 36), when BackupRegion is set. It takes no stack's outputs, so it
    waits for none: its selection names the database and the file system by name and tags."""
    conditions.add(t, conditions.HAS_BACKUP)
    _nested_stack(t, "BackupStack", "backup", P.PROJECT + P.BACKUP + P.IAM, condition=conditions.HAS_BACKUP)


def _rules(t: Template) -> None:
    """What a console user fills in together, refused before anything is created; the
    checks of advanced settings and regions are the network stack's (threetier.parameters.rules)."""
    cloudfront_on = conditions.expression(USE_CLOUDFRONT)
    domain_ready = conditions.expression(DOMAIN_READY)
    # Messages are read in the console, where no threetier command runs: they
    # say where to find or how to choose the value.
    rules.add(t, "BastionsNeedARestrictedAdminCidr", conditions.expression(HAS_BASTIONS),
              And(Not(rules.is_empty(P.ADMIN_CIDR)), Not(Equals(Ref(P.ADMIN_CIDR.name), "0.0.0.0/0"))),
              "BastionCount above 0 needs AdminCidr, the range allowed to SSH in (e.g. 203.0.113.0/24), "
              "not 0.0.0.0/0.")
    rules.add(t, "BastionsNeedAKeyPair", conditions.expression(HAS_BASTIONS),
              Not(rules.is_empty(P.BASTION_KEY_PAIR)),
              "BastionCount above 0 needs BastionKeyPairName (EC2 console, Key pairs, this region).")
    rules.add(t, "CloudFrontNeedsItsPrefixList", cloudfront_on,
              Not(rules.is_empty(P.CLOUDFRONT_PREFIX_LIST_ID)),
              "CloudFrontEnabled needs CloudFrontPrefixListId: VPC console, Managed prefix lists, the ID of "
              "com.amazonaws.global.cloudfront.origin-facing.")
    # The domain's two tests inline in one And, as the root has few bytes to spare (issue 18).
    rules.add(t, "CloudFrontCertificateOutsideUsEast1",
              And(cloudfront_on, *domain_ready.data["Fn::And"], Not(conditions.expression(IN_US_EAST_1))),
              Not(rules.is_empty(P.CLOUDFRONT_CERTIFICATE_ARN)),
              "Outside us-east-1, CloudFront with a domain needs CloudFrontCertificateArn: the companion "
              "stack's, or a certificate for the site name in the ACM console of us-east-1.")
    rules.add(t, "CloudFrontWithoutDomainUsesHttpOrigin", And(cloudfront_on, Not(domain_ready)),
              rules.is_empty(P.ALB_CERTIFICATE_ARN),
              "Without DomainName and HostedZoneId CloudFront reaches the load balancer over HTTP: leave "
              "AlbCertificateArn empty.")
    # CloudFront web ACLs are made in us-east-1 only: elsewhere in the companion stack (edge-us-east-1.yaml).
    rules.add(t, "WafNeedsCloudFront", Equals(Ref(P.WAF_ENABLED.name), "true"),
              And(cloudfront_on, Or(conditions.expression(IN_US_EAST_1), Not(rules.is_empty(P.WEB_ACL_ARN)))),
              "WafEnabled needs CloudFrontEnabled true, and outside us-east-1 WebAclArn: the companion stack's.")
    # The default AMI is x86_64: a Graviton app server cannot launch it. Rules
    # only test membership, so this knows the common Graviton types; validate
    # checks every type, bastions too, against any AMI parameter naming its
    # architecture. It stays here: only the root sees AmiId's SSM path.
    rules.add(t, "InstanceTypeMatchesTheDefaultAmi", Equals(Ref(P.AMI_ID.name), P.AL2023_AMI_PARAMETER),
              Not(rules.contains(architectures.common_graviton_types(), Ref(P.INSTANCE_TYPE.name))),
              "InstanceType is Graviton (arm64) but the default AmiId is x86_64: use e.g. t3.small, "
              "or an AmiId ending in -arm64.")


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
    )
    if condition is not None:
        nested.Condition = condition
    return t.add_resource(nested)
