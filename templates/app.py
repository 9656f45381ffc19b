"""App stack: instance role, launch template, Auto Scaling group, load balancer.

Servers run in the private app subnets and boot with the user data in
src/threetier/blocks/userdata/app-instance.sh; the ALB in the public subnets is the
only way in. Operators reach servers with SSM Session Manager.
"""

from __future__ import annotations

from awacs import s3
from awacs.aws import Allow, Principal, Statement
from troposphere import (
    Equals,
    FindInMap,
    GetAtt,
    If,
    Join,
    Not,
    NoValue,
    Or,
    Ref,
    Sub,
    Template,
    autoscaling,
    ec2,
    elasticloadbalancingv2 as elb,
    iam,
    s3 as bucket,
    secretsmanager,
)
from troposphere.policies import (
    AutoScalingCreationPolicy,
    AutoScalingRollingUpdate,
    AutoScalingScheduledAction,
    CreationPolicy,
    ResourceSignal,
    UpdatePolicy,
)

from threetier import parameters as P
from threetier.blocks import logstore, naming, policies, rotationfunction, secrets, userdata
from threetier.blocks.suppressions import checkov
from threetier.facts import engines
from threetier.parameters import conditions
from threetier.parameters.conditions import (
    CLOUDFRONT_ONLY,
    HAS_CPU_CREDITS,
    HAS_ORIGIN_VERSION,
    HAS_PREVIOUS_ORIGIN_VERSION,
    USE_CLOUDFRONT,
)

HAS_CERTIFICATE = "HasCertificate"
HAS_ACCESS_LOGS = "HasAccessLogs"
MIN_EQUALS_MAX = "AsgMinEqualsMax"
USE_ELB_ACCOUNT = "UseElbAccountForLogDelivery"
ASG = "AppAutoScalingGroup"
LAUNCH_TEMPLATE = "AppLaunchTemplate"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# How long CloudFormation waits for a new server's cfn-signal; HealthCheckGraceSeconds covers it
# (see P.BOOT_SIGNAL_SECONDS).
BOOT_TIMEOUT = f"PT{P.BOOT_SIGNAL_SECONDS // 60}M"  # PT20M

# Regions opened before August 2022 deliver ALB access logs from a regional
# Elastic Load Balancing account; newer ones from the log delivery service
# principal. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240",
    "us-west-1": "027434742980", "us-west-2": "797873946194",
    "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-south-1": "718504428378", "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806",
    "eu-west-2": "652711504416", "eu-west-3": "009996457667",
    "eu-south-1": "635631232127", "eu-north-1": "897822967062",
    "me-south-1": "076674570225", "sa-east-1": "507241528517",
}
LOG_DELIVERY_SERVICE = policies.service_principal("logdelivery.elasticloadbalancing")


def build() -> Template:
    t = naming.new_template(
        "threetier app tier: instance role, launch template, Auto Scaling group "
        "with CPU target tracking, and the Application Load Balancer"
    )
    P.use(t, *map(P.as_nested, P.APP), *P.LOAD_BALANCER, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_ONLY,
          P.ORIGIN_VERIFY_VERSION, P.ORIGIN_VERIFY_PREVIOUS_VERSION)
    P.use(t, P.APP_PORT, P.DB_NAME, P.VPC_ID, P.PUBLIC_SUBNET_IDS, P.APP_SUBNET_IDS,
          P.ALB_SECURITY_GROUP_ID, P.ALB_CLOUDFRONT_SECURITY_GROUP_ID, P.APP_SECURITY_GROUP_ID, P.DB_ROTATION_SECURITY_GROUP_ID,
          P.DB_ENDPOINT_ADDRESS, P.DB_ENDPOINT_PORT, P.DB_MASTER_SECRET_ARN, P.DB_APP_SECRET_ARN,
          P.APP_SECRET_ARN,
          P.EFS_FILE_SYSTEM_ID, P.EFS_FILE_SYSTEM_ARN, P.EFS_ACCESS_POINT_ID, P.EFS_ACCESS_POINT_ARN,
          P.ORIGIN_VERIFY_SECRET_ARN, P.LOG_KEY_ARN, P.ROTATION_CODE_BUCKET, P.ROTATION_CODE_KEY, *P.IAM)
    conditions.add(t, USE_CLOUDFRONT, CLOUDFRONT_ONLY, HAS_ORIGIN_VERSION, HAS_PREVIOUS_ORIGIN_VERSION, HAS_CPU_CREDITS,
                   conditions.HAS_PERMISSIONS_BOUNDARY)
    t.add_condition(HAS_CERTIFICATE, Not(Equals(Ref(P.ALB_CERTIFICATE_ARN.name), "")))
    t.add_condition(HAS_ACCESS_LOGS, Equals(Ref(P.ALB_ACCESS_LOGS.name), "true"))
    t.add_condition(MIN_EQUALS_MAX, Equals(Ref(P.ASG_MIN_SIZE.name), Ref(P.ASG_MAX_SIZE.name)))
    # The account's root principal, not its bare id: a tool that writes the template back
    # (`aws cloudformation package`) writes a 1.1 string such as 054676820928 unquoted, and
    # CloudFormation then reads a number (threetier.facts.yamlreaders); iam::...:root is a
    # string to every reader, quoted or not.
    t.add_mapping("ElbLogDelivery", {region: {"AccountRoot": f"iam::{account}:root"}
                                     for region, account in ELB_LOG_ACCOUNTS.items()})
    t.add_condition(USE_ELB_ACCOUNT, _region_in(sorted(ELB_LOG_ACCOUNTS)))
    # The host that serves the RDS CA bundles in this partition (facts.engines.RDS_CA_BUNDLE_HOSTS).
    t.add_mapping(RDS_CA_BUNDLE_MAPPING, {partition: {"Host": host}
                                          for partition, host in engines.RDS_CA_BUNDLE_HOSTS.items()})

    # Server logs outlive the servers.
    log_group = t.add_resource(logstore.log_group(
        "AppLogGroup", "app-logs", retention_days=Ref(P.APP_LOG_RETENTION_DAYS.name),
        kms_key_arn=Ref(P.LOG_KEY_ARN.name),
    ))
    t.add_resource(logstore.database_errors_filter("DatabaseErrorsMetricFilter", Ref(log_group)))
    target_group = _target_group(t)
    role = _instance_role(t, log_group, target_group)
    profile = t.add_resource(iam.InstanceProfile("InstanceProfile", Roles=[Ref(role)]))
    launch_template = _launch_template(t, profile, log_group, target_group)
    log_bucket, log_bucket_policy = _access_log_bucket(t)
    alb = _load_balancer(t, log_bucket, log_bucket_policy)
    _listeners(t, alb, target_group)
    app_user_rotation = _password_rotation(t)
    group = _auto_scaling_group(t, launch_template, target_group, after=app_user_rotation)

    outputs = {
        "AlbDnsName": ("Load balancer DNS name", GetAtt(alb, "DNSName")),
        "AlbCanonicalHostedZoneId": ("Load balancer hosted zone id (for alias records)",
                                     GetAtt(alb, "CanonicalHostedZoneID")),
        "AlbFullName": ("Load balancer name for CloudWatch metrics", GetAtt(alb, "LoadBalancerFullName")),
        "AutoScalingGroupName": ("Auto Scaling group name", Ref(group)),
        "TargetGroupArn": ("Target group ARN", Ref(target_group)),
        "TargetGroupFullName": ("Target group name for CloudWatch metrics",
                                GetAtt(target_group, "TargetGroupFullName")),
        "InstanceRoleArn": ("App instance role ARN", GetAtt(role, "Arn")),
        "AppLogGroupName": ("Log group of the app servers (boot, access, error)", Ref(log_group)),
    }
    naming.add_outputs(t, outputs)
    return t


def _instance_role(t: Template, log_group, target_group: elb.TargetGroup) -> iam.Role:
    return t.add_resource(
        iam.Role(
            "InstanceRole",
            AssumeRolePolicyDocument=policies.ec2_trust(),
            # Session Manager (the way in; no SSH). The CloudWatch agent only ships
            # logs (no metrics section in the user data), so instead of
            # CloudWatchAgentServerPolicy it may write to the app log group only.
            ManagedPolicyArns=[policies.aws_managed("AmazonSSMManagedInstanceCore")],
            Policies=[
                policies.inline(
                    "app-runtime",
                    policies.write_log_group("ShipAppLogs", GetAtt(log_group, "Arn")),
                    policies.deny_parameter_store_reads(),
                    # Never the master secret: the rotation creates the app's database user.
                    policies.read_secrets(Ref(P.DB_APP_SECRET_ARN.name), Ref(P.APP_SECRET_ARN.name)),
                    policies.mount_file_system(Ref(P.EFS_FILE_SYSTEM_ARN.name),
                                               Ref(P.EFS_ACCESS_POINT_ARN.name)),
                    # Its own target group only: a secret refresh restarts the app out of service.
                    *policies.leave_and_rejoin_target_group(Ref(target_group)),
                )
            ],
            Tags=naming.tags("app-role"),
            **policies.role_placement(),
        )
    )


RDS_CA_BUNDLE_MAPPING = "RdsCaBundle"


def rds_ca_bundle_url() -> Sub:
    """The region's RDS CA bundle, which the app's database connections verify the server with
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html): the region's,
    not the global one, so a server trusts only the CAs that sign its own region's databases."""
    return Sub("${Host}/${AWS::Region}/${AWS::Region}-bundle.pem",
               Host=FindInMap(RDS_CA_BUNDLE_MAPPING, Ref("AWS::Partition"), "Host"))


def _launch_template(t: Template, profile: iam.InstanceProfile, log_group,
                     target_group: elb.TargetGroup) -> ec2.LaunchTemplate:
    instance_tags = naming.tags("app")
    return t.add_resource(
        ec2.LaunchTemplate(
            LAUNCH_TEMPLATE,
            # The boot steps and the secrets loader, which the user data fetches with cfn-init:
            # the user data stays well within EC2's 16 KB with every value at its longest.
            Metadata=userdata.init_metadata(userdata.APP_BOOT_FILES),
            LaunchTemplateData=ec2.LaunchTemplateData(
                ImageId=Ref(P.AMI_ID.name),
                InstanceType=Ref(P.INSTANCE_TYPE.name),
                # Chosen per environment, never left to the T3 default (unlimited):
                # what a CPU target above the baseline costs or holds back is a decision.
                CreditSpecification=If(HAS_CPU_CREDITS, ec2.LaunchTemplateCreditSpecification(CpuCredits=Ref(P.CPU_CREDITS.name)),
                                       Ref("AWS::NoValue")),
                IamInstanceProfile=ec2.IamInstanceProfile(Arn=GetAtt(profile, "Arn")),
                SecurityGroupIds=[Ref(P.APP_SECURITY_GROUP_ID.name)],
                # IMDSv2 only, and one hop: containers on the host cannot reach it.
                MetadataOptions=ec2.MetadataOptions(
                    HttpEndpoint="enabled", HttpTokens="required", HttpPutResponseHopLimit=1
                ),
                BlockDeviceMappings=[
                    ec2.LaunchTemplateBlockDeviceMapping(
                        DeviceName=Ref(P.ROOT_DEVICE_NAME.name),
                        Ebs=ec2.EBSBlockDevice(
                            VolumeType="gp3",
                            VolumeSize=Ref(P.ROOT_VOLUME_SIZE.name),
                            Encrypted=True,
                            DeleteOnTermination=True,
                        ),
                    )
                ],
                Monitoring=ec2.Monitoring(Enabled=Ref(P.DETAILED_MONITORING.name)),
                TagSpecifications=[
                    ec2.TagSpecifications(ResourceType="instance", Tags=instance_tags),
                    ec2.TagSpecifications(ResourceType="volume", Tags=instance_tags),
                ],
                UserData=userdata.render("app-instance.sh", SignalResource=ASG, AppLogGroup=Ref(log_group),
                                         TargetGroupArn=Ref(target_group),
                                         AppUserId=str(userdata.APP_USER_ID), BootFilesResource=LAUNCH_TEMPLATE,
                                         BootFilesSha256=userdata.boot_files_digest(userdata.APP_BOOT_FILES),
                                         DbCaBundleUrl=rds_ca_bundle_url()),
            ),
            TagSpecifications=[
                ec2.TagSpecifications(
                    ResourceType="launch-template", Tags=naming.tags("app-lt")
                )
            ],
        )
    )


def _access_log_bucket(t: Template) -> tuple[bucket.Bucket, bucket.BucketPolicy]:
    log_bucket = t.add_resource(logstore.log_bucket(
        "AccessLogBucket", "alb-logs", condition=HAS_ACCESS_LOGS,
        expiration_days=Ref(P.ALB_ACCESS_LOG_RETENTION_DAYS.name),
    ))
    log_objects = Sub("arn:${AWS::Partition}:s3:::${%s}/AWSLogs/${AWS::AccountId}/*" % log_bucket.title)
    deliver = Statement(
        Sid="DeliverAlbAccessLogs",
        Effect=Allow,
        Principal=Principal("Service", LOG_DELIVERY_SERVICE),
        Action=[s3.PutObject],
        Resource=[log_objects],
    )
    deliver_from_elb_account = Statement(
        Sid="DeliverAlbAccessLogsFromElbAccount",
        Effect=Allow,
        Principal=Principal("AWS", Sub("arn:${AWS::Partition}:${AccountRoot}", AccountRoot=FindInMap(
            "ElbLogDelivery", Ref("AWS::Region"), "AccountRoot"))),
        Action=[s3.PutObject],
        Resource=[log_objects],
    )
    bucket_arn = GetAtt(log_bucket, "Arn")
    policy = t.add_resource(
        bucket.BucketPolicy(
            "AccessLogBucketPolicy",
            Condition=HAS_ACCESS_LOGS,
            Bucket=Ref(log_bucket),
            PolicyDocument={
                "Version": policies.POLICY_VERSION,
                "Statement": [
                    If(USE_ELB_ACCOUNT, deliver_from_elb_account, deliver),
                    policies.deny_insecure_transport(bucket_arn, Sub("${%s.Arn}/*" % log_bucket.title)),
                ],
            },
        )
    )
    return log_bucket, policy


def _load_balancer(t: Template, log_bucket: bucket.Bucket, log_bucket_policy: bucket.BucketPolicy) -> elb.LoadBalancer:
    attributes = [
        elb.LoadBalancerAttributes(Key=key, Value=value) for key, value in {
            "routing.http.drop_invalid_header_fields.enabled": "true",
            "deletion_protection.enabled": Ref(P.ALB_DELETION_PROTECTION.name),
            "idle_timeout.timeout_seconds": Ref(P.ALB_IDLE_TIMEOUT_SECONDS.name),
            "access_logs.s3.enabled": Ref(P.ALB_ACCESS_LOGS.name),
        }.items()
    ]
    attributes.append(If(
        HAS_ACCESS_LOGS,
        elb.LoadBalancerAttributes(Key="access_logs.s3.bucket", Value=Ref(log_bucket)),
        NoValue,
    ))
    return t.add_resource(
        elb.LoadBalancer(
            "LoadBalancer",
            Type="application",
            Scheme="internet-facing",
            IpAddressType="ipv4",
            Subnets=Ref(P.PUBLIC_SUBNET_IDS.name),
            SecurityGroups=[Ref(P.ALB_SECURITY_GROUP_ID.name),
                            If(USE_CLOUDFRONT, Ref(P.ALB_CLOUDFRONT_SECURITY_GROUP_ID.name), NoValue)],
            LoadBalancerAttributes=attributes,
            Tags=naming.tags("alb"),
            Metadata={
                # ELB checks it may write to the log bucket when access logs are
                # switched on ("Access Denied for bucket"), so the load balancer
                # comes after the bucket policy. DependsOn cannot name a resource
                # whose condition is false; a Ref inside Fn::If orders it only
                # when access logs are on: a Ref makes an implicit dependency
                # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html),
                # also from Metadata (https://cloudonaut.io/optional-dependson-with-cloudformation-metadata-to-the-rescue).
                # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
                "OrderedAfter": If(HAS_ACCESS_LOGS, Ref(log_bucket_policy), ""),
                **checkov((
                    "CKV_AWS_91",
                    "Access logs are the AlbAccessLogs parameter: on in prod.json, off in dev.json "
                    "to save cost.",
                )),
            },
        )
    )


def _target_group(t: Template) -> elb.TargetGroup:
    return t.add_resource(
        elb.TargetGroup(
            "AppTargetGroup",
            VpcId=Ref(P.VPC_ID.name),
            TargetType="instance",
            Protocol="HTTP",
            Port=Ref(P.APP_PORT.name),
            HealthCheckEnabled=True,
            HealthCheckProtocol="HTTP",
            HealthCheckPath=Ref(P.HEALTH_CHECK_PATH.name),
            HealthCheckIntervalSeconds=15,
            HealthCheckTimeoutSeconds=5,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=3,
            Matcher=elb.Matcher(HttpCode="200-399"),
            TargetGroupAttributes=[
                elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30"),
            ],
            Tags=naming.tags("app-tg"),
        )
    )


def _listeners(t: Template, alb: elb.LoadBalancer, target_group: elb.TargetGroup) -> None:
    """HTTP forwards, or redirects to HTTPS when there is a certificate.

    With CloudFront on, the listener CloudFront uses answers 403 unless the
    request carries the secret origin header, so the ALB's own name is no way in.
    In the first step of turning CloudFront on for a live site (CloudFrontOnly
    false) it still forwards requests without the header: viewers reach the
    load balancer directly until the site's records point at the distribution
    (threetier.review.cloudfrontsteps). A listener tries its rules in priority
    order and takes the default action when none matches
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html).
    """
    forward = elb.Action(Type="forward", TargetGroupArn=Ref(target_group))
    redirect = elb.Action(
        Type="redirect",
        RedirectConfig=elb.RedirectConfig(Protocol="HTTPS", Port="443", StatusCode="HTTP_301"),
    )
    deny = elb.Action(
        Type="fixed-response",
        FixedResponseConfig=elb.FixedResponseConfig(
            StatusCode="403", ContentType="text/plain", MessageBody="Forbidden"
        ),
    )
    forward_unless_cloudfront = If(CLOUDFRONT_ONLY, deny, forward)
    http = t.add_resource(
        elb.Listener(
            "HttpListener",
            LoadBalancerArn=Ref(alb),
            Protocol="HTTP",
            Port=80,
            DefaultActions=[If(HAS_CERTIFICATE, redirect, forward_unless_cloudfront)],
            Tags=naming.tags("http-listener"),
            Metadata=checkov(*(
                (check, "Port 80 only redirects to HTTPS when a certificate is given; without a "
                        "domain there is no certificate to serve, so HTTP is the only way in.")
                for check in ("CKV_AWS_2", "CKV_AWS_103")
            )),
        )
    )
    https = t.add_resource(
        elb.Listener(
            "HttpsListener",
            Condition=HAS_CERTIFICATE,
            LoadBalancerArn=Ref(alb),
            Protocol="HTTPS",
            Port=443,
            SslPolicy=TLS_POLICY,
            Certificates=[elb.Certificate(CertificateArn=Ref(P.ALB_CERTIFICATE_ARN.name))],
            DefaultActions=[forward_unless_cloudfront],
            Tags=naming.tags("https-listener"),
        )
    )
    t.add_resource(
        elb.ListenerRule(
            "CloudFrontOriginRule",
            Condition=USE_CLOUDFRONT,
            ListenerArn=If(HAS_CERTIFICATE, Ref(https), Ref(http)),
            Priority=1,
            Conditions=[
                elb.Condition(
                    Field="http-header",
                    HttpHeaderConfig=elb.HttpHeaderConfig(
                        HttpHeaderName=secrets.ORIGIN_VERIFY_HEADER,
                        # The current value CloudFront sends, and during a rotation the
                        # previous one, which edges still send until they have the new one.
                        Values=[
                            secrets.resolve_version(P.ORIGIN_VERIFY_SECRET_ARN.name, secrets.ORIGIN_VERIFY_KEY,
                                                    P.ORIGIN_VERIFY_VERSION.name, HAS_ORIGIN_VERSION),
                            If(HAS_PREVIOUS_ORIGIN_VERSION,
                               secrets.pinned(P.ORIGIN_VERIFY_SECRET_ARN.name, secrets.ORIGIN_VERIFY_KEY,
                                              P.ORIGIN_VERIFY_PREVIOUS_VERSION.name),
                               NoValue),
                        ],
                    ),
                )
            ],
            Actions=[elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))],
            Tags=naming.tags("cloudfront-origin-rule"),
        )
    )


def _auto_scaling_group(t: Template, launch_template: ec2.LaunchTemplate, target_group: elb.TargetGroup,
                        after: secretsmanager.RotationSchedule) -> autoscaling.AutoScalingGroup:
    group = t.add_resource(
        autoscaling.AutoScalingGroup(
            ASG,
            # After the app secret's schedule, whose first rotation creates the app's database user:
            # a server signals only once the app logs in with it (threetier.blocks.rotationfunction).
            DependsOn=[after.title],
            VPCZoneIdentifier=Ref(P.APP_SUBNET_IDS.name),
            LaunchTemplate=autoscaling.LaunchTemplateSpecification(
                LaunchTemplateId=Ref(launch_template),
                Version=GetAtt(launch_template, "LatestVersionNumber"),
            ),
            # No DesiredCapacity: the group starts at MinSize and CPU target tracking owns its
            # size; a template value would reset a scaled-out group on every update (see
            # P.ASG_MIN_SIZE). A new MinSize above the group's size raises it to MinSize.
            # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html
            MinSize=Ref(P.ASG_MIN_SIZE.name),
            MaxSize=Ref(P.ASG_MAX_SIZE.name),
            HealthCheckType="ELB",
            HealthCheckGracePeriod=Ref(P.HEALTH_CHECK_GRACE_SECONDS.name),
            TargetGroupARNs=[Ref(target_group)],
            MetricsCollection=[autoscaling.MetricsCollection(Granularity="1Minute")],
            Tags=autoscaling.Tags(
                Name=(naming.name("app"), True),
                Project=(Ref(P.PROJECT_NAME.name), True),
                Environment=(Ref(P.ENVIRONMENT_NAME.name), True),
            ),
            # Created only when every server it starts with (MinSize) has booted and answered
            # its health check.
            CreationPolicy=CreationPolicy(
                AutoScalingCreationPolicy=AutoScalingCreationPolicy(MinSuccessfulInstancesPercent=100),
                ResourceSignal=ResourceSignal(Count=Ref(P.ASG_MIN_SIZE.name), Timeout=BOOT_TIMEOUT),
            ),
            # A launch template change replaces servers one at a time, each new
            # one signalling healthy before the next goes, never below the minimum.
            # MinInstancesInService must be less than MaxSize, so with min == max
            # it is 0: one server at a time (MaxBatchSize) still leaves max - 1 serving.
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
            UpdatePolicy=UpdatePolicy(
                AutoScalingRollingUpdate=AutoScalingRollingUpdate(
                    MinInstancesInService=If(MIN_EQUALS_MAX, 0, Ref(P.ASG_MIN_SIZE.name)),
                    MaxBatchSize=1,
                    PauseTime=BOOT_TIMEOUT,
                    WaitOnResourceSignals=True,
                    SuspendProcesses=["HealthCheck", "ReplaceUnhealthy", "AZRebalance",
                                      "AlarmNotification", "ScheduledActions"],
                ),
                AutoScalingScheduledAction=AutoScalingScheduledAction(
                    IgnoreUnmodifiedGroupSizeProperties=True
                ),
            ),
        )
    )
    t.add_resource(
        autoscaling.ScalingPolicy(
            "CpuTargetTrackingPolicy",
            AutoScalingGroupName=Ref(group),
            PolicyType="TargetTrackingScaling",
            TargetTrackingConfiguration=autoscaling.TargetTrackingConfiguration(
                PredefinedMetricSpecification=autoscaling.PredefinedMetricSpecification(
                    PredefinedMetricType="ASGAverageCPUUtilization"
                ),
                TargetValue=Ref(P.CPU_TARGET_PERCENT.name),
            ),
        )
    )
    return group


def _password_rotation(t: Template) -> secretsmanager.RotationSchedule:
    """Both database secrets rotate with the project's own function (threetier.blocks.rotationfunction):
    the app's user with alternating users (the rotation gives the other user, `app_clone`, a new
    password and makes it current; the previous user keeps working, and each server's refresh timer
    restarts the app on the new one), the master with single user (only operators and the rotation
    use it). The app's first rotation, when its schedule is created, creates the app's user from the
    master secret: no server reads the master secret. Returns the app's schedule.
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html
    """
    function = rotationfunction.add(t, ca_bundle_url=rds_ca_bundle_url())
    return rotationfunction.schedules(t, function)


def _region_in(regions: list[str]):
    """A condition true when the stack's region is one of `regions` (Fn::Or takes at most 10)."""
    tests = [Equals(Ref("AWS::Region"), region) for region in regions]
    chunks = [Or(*tests[i:i + 10]) if len(tests[i:i + 10]) > 1 else tests[i] for i in range(0, len(tests), 10)]
    return Or(*chunks) if len(chunks) > 1 else chunks[0]
