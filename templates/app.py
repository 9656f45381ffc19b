"""App stack: instance role, launch template, Auto Scaling group, load balancer.

Servers run in the private app subnets and boot with the user data in
src/threetier/blocks/userdata/app-instance.sh; the ALB in the public subnets is the
only way in. Operators reach servers with SSM Session Manager.
"""

from __future__ import annotations

from troposphere import (
    Equals,
    FindInMap,
    GetAtt,
    If,
    NoValue,
    Ref,
    Sub,
    Template,
    autoscaling,
    ec2,
    iam,
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

from templates import front
from threetier import parameters as P
from threetier.blocks import logstore, naming, policies, rotationfunction, userdata
from threetier.facts import engines
from threetier.parameters import conditions
from threetier.parameters.conditions import (
    HAS_CPU_CREDITS,
)

MIN_EQUALS_MAX = "AsgMinEqualsMax"
OWNS_LOAD_BALANCER = "OwnsLoadBalancer"
ASG = "AppAutoScalingGroup"
# The group's name in the parallel layout, which the root gives the monitoring stack so that its
# alarms need not wait for the group (naming.name of it).
ASG_NAME = "app"
LAUNCH_TEMPLATE = "AppLaunchTemplate"
# How long CloudFormation waits for a new server's cfn-signal; HealthCheckGraceSeconds covers it
# (see P.BOOT_SIGNAL_SECONDS).
BOOT_TIMEOUT = f"PT{P.BOOT_SIGNAL_SECONDS // 60}M"  # PT20M


def build() -> Template:
    t = naming.new_template(
        "threetier app tier: instance role, launch template, Auto Scaling group "
        "with CPU target tracking, and (chain layout) the Application Load Balancer"
    )
    P.use(t, *map(P.as_nested, P.APP), *P.LOAD_BALANCER, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_ONLY,
          P.ORIGIN_VERIFY_VERSION, P.ORIGIN_VERIFY_PREVIOUS_VERSION)
    P.use(t, P.APP_PORT, P.DB_NAME, P.VPC_ID, P.PUBLIC_SUBNET_IDS, P.APP_SUBNET_IDS,
          P.ALB_SECURITY_GROUP_ID, P.ALB_CLOUDFRONT_SECURITY_GROUP_ID, P.APP_SECURITY_GROUP_ID, P.DB_ROTATION_SECURITY_GROUP_ID,
          P.DB_ENDPOINT_ADDRESS, P.DB_ENDPOINT_PORT, P.DB_MASTER_SECRET_ARN, P.DB_APP_SECRET_ARN,
          P.APP_SECRET_ARN,
          P.EFS_FILE_SYSTEM_ID, P.EFS_FILE_SYSTEM_ARN, P.EFS_ACCESS_POINT_ID, P.EFS_ACCESS_POINT_ARN,
          P.ORIGIN_VERIFY_SECRET_ARN, P.LOG_KEY_ARN, P.ROTATION_CODE_BUCKET, P.ROTATION_CODE_KEY, P.TARGET_GROUP_ARN,
          *P.IAM)
    conditions.add(t, HAS_CPU_CREDITS, conditions.HAS_PERMISSIONS_BOUNDARY)
    t.add_condition(MIN_EQUALS_MAX, Equals(Ref(P.ASG_MIN_SIZE.name), Ref(P.ASG_MAX_SIZE.name)))
    # The chain layout: no front stack gave a target group, so this stack makes the load balancer.
    t.add_condition(OWNS_LOAD_BALANCER, Equals(Ref(P.TARGET_GROUP_ARN.name), ""))
    # The host that serves the RDS CA bundles in this partition (facts.engines.RDS_CA_BUNDLE_HOSTS).
    t.add_mapping(RDS_CA_BUNDLE_MAPPING, {partition: {"Host": host}
                                          for partition, host in engines.RDS_CA_BUNDLE_HOSTS.items()})

    # Server logs outlive the servers.
    log_group = t.add_resource(logstore.log_group(
        "AppLogGroup", "app-logs", retention_days=Ref(P.APP_LOG_RETENTION_DAYS.name),
        kms_key_arn=Ref(P.LOG_KEY_ARN.name),
    ))
    t.add_resource(logstore.database_errors_filter("DatabaseErrorsMetricFilter", Ref(log_group)))
    own = front.add_load_balancer(t, origin_secret=P.ORIGIN_VERIFY_SECRET_ARN.name, only_if=OWNS_LOAD_BALANCER)
    target_group = If(OWNS_LOAD_BALANCER, Ref(own.target_group), Ref(P.TARGET_GROUP_ARN.name))
    role = _instance_role(t, log_group, target_group)
    profile = t.add_resource(iam.InstanceProfile("InstanceProfile", Roles=[Ref(role)]))
    launch_template = _launch_template(t, profile, log_group, target_group)
    app_user_rotation = _password_rotation(t)
    group = _auto_scaling_group(t, launch_template, target_group, after=app_user_rotation)

    front.add_outputs_if(t, OWNS_LOAD_BALANCER, front.outputs(own))
    naming.add_outputs(t, {
        "AutoScalingGroupName": ("Auto Scaling group name", Ref(group)),
        "InstanceRoleArn": ("App instance role ARN", GetAtt(role, "Arn")),
        "AppLogGroupName": ("Log group of the app servers (boot, access, error)", Ref(log_group)),
    })
    return t


def _instance_role(t: Template, log_group, target_group: If) -> iam.Role:
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
                    *policies.leave_and_rejoin_target_group(target_group),
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


def _launch_template(t: Template, profile: iam.InstanceProfile, log_group, target_group: If) -> ec2.LaunchTemplate:
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
                                         TargetGroupArn=target_group,
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


def _auto_scaling_group(t: Template, launch_template: ec2.LaunchTemplate, target_group: If,
                        after: secretsmanager.RotationSchedule) -> autoscaling.AutoScalingGroup:
    group = t.add_resource(
        autoscaling.AutoScalingGroup(
            ASG,
            # After the app secret's schedule, whose first rotation creates the app's database user:
            # a server signals only once the app logs in with it (threetier.blocks.rotationfunction).
            DependsOn=[after.title],
            AutoScalingGroupName=If(OWNS_LOAD_BALANCER, NoValue, naming.name(ASG_NAME)),
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
            TargetGroupARNs=[target_group],
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
