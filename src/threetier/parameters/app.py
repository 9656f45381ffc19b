"""The app servers, the load balancer, the app's source and the bastion hosts' size and key."""

from __future__ import annotations

from threetier.parameters.param import (
    GROUP_ADVANCED_SERVERS,
    GROUP_APP,
    GROUP_BASTION,
    GROUP_EDGE,
    GROUP_SIZE,
    TRUE_FALSE,
    Param,
    log_retention,
)

AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

REFERENCE_APP_REPOSITORY = "https://github.com/Kelvinskell/terra-tier.git"

# The reference app's master branch as of this writing: a commit pins what
# every instance (and every instance refresh) runs.
REFERENCE_APP_COMMIT = "dcee308c9e85f4ec5cb6b37f1c25b66e948f2455"  # pragma: allowlist secret (a public commit id)

_INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"

AMI_ID = Param(
    "AmiId",
    "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
    "SSM parameter holding the AMI id: Amazon Linux 2023 by default; for Ubuntu "
    "24.04, your own parameter naming an Ubuntu AMI with amazon-efs-utils baked in "
    "(docs/stacks.md, Supported AMIs), with RootDeviceName /dev/sda1.",
    label="AMI (public SSM parameter path)",
    group=GROUP_ADVANCED_SERVERS,
    default=AL2023_AMI_PARAMETER,
)

# CloudFormation fetches an SSM parameter type's latest value on every stack update, even with
# "use existing value" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html#cloudformation-supplied-parameter-types-ssm),
# so a newer image published under AmiId would replace every server on any update. The
# environment keeps the resolved id here; `threetier plan` sets it when empty.
PINNED_AMI_ID = Param(
    "PinnedAmiId",
    "String",
    "AMI id the servers run, resolved once from AmiId and kept (threetier plan sets it when empty; "
    "threetier pin-ami moves it). Empty: AmiId's latest image, fetched again on every stack update.",
    label="Pinned AMI id",
    hint="set by threetier plan; empty: AmiId's latest",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    allowed_pattern=r"^(ami-[0-9a-f]{8}([0-9a-f]{9})?)?$",
    constraint="Empty, or an AMI id such as ami-0abcdef1234567890.",
)

ROOT_DEVICE_NAME = Param(
    "RootDeviceName",
    "String",
    "Root device of the AMI, so the encrypted gp3 settings apply to the root "
    "volume: /dev/xvda on Amazon Linux, /dev/sda1 on Ubuntu.",
    hint="/dev/sda1 for Ubuntu",
    label="Root device name",
    group=GROUP_ADVANCED_SERVERS,
    default="/dev/xvda",
    allowed_values=("/dev/xvda", "/dev/sda1"),
    constraint="/dev/xvda (Amazon Linux) or /dev/sda1 (Ubuntu).",
)

INSTANCE_TYPE = Param(
    "InstanceType",
    "String",
    "EC2 instance type of the app servers (x86_64 to match the default AMI).",
    hint="x86_64 with the default AMI, e.g. t3.small",
    label="App instance type",
    group=GROUP_SIZE,
    default="t3.small",
    allowed_pattern=_INSTANCE_TYPE_PATTERN,
    constraint="An EC2 instance type such as t3.small or t3.xlarge.",
)

ROOT_VOLUME_SIZE = Param(
    "RootVolumeSize",
    "Number",
    "Size of each app server's encrypted gp3 root volume, in GiB.",
    label="Root volume size (GiB)",
    group=GROUP_ADVANCED_SERVERS,
    default="20",
    min_value=8,
    max_value=1024,
    constraint="A whole number of GiB from 8 to 1024.",
)

CPU_CREDITS = Param(
    "CpuCredits",
    "String",
    "T instance types only (empty for others). unlimited: never held back, CPU above the "
    "baseline is billed; standard: no surplus charge, held at the baseline once credits run out, "
    "where CPU scaling above the baseline cannot scale out.",
    hint="T types only; empty for other types",
    label="CPU credits (T types)",
    group=GROUP_SIZE,
    default="standard",
    allowed_values=("unlimited", "standard", ""),
    constraint="unlimited or standard for a T instance type; empty for any other type.",
)

DETAILED_MONITORING = Param(
    "DetailedMonitoring",
    "String",
    "true: 1-minute EC2 metrics (billed), so CPU scaling reacts faster.",
    label="Detailed monitoring",
    group=GROUP_ADVANCED_SERVERS,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

# No desired capacity: CPU target tracking owns the number of servers between AsgMinSize
# and AsgMaxSize. A DesiredCapacity in the template would be applied again on every stack
# update that touches the group (a release included) and undo a scale-out; left out, the
# group starts at MinSize and updates leave its size alone. (validate refuses a parameter
# file that still sets AsgDesiredCapacity, saying so.)
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-autoscaling-autoscalinggroup.html#cfn-autoscaling-autoscalinggroup-desiredcapacity
# https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_autoscaling.AutoScalingGroup.html
ASG_MIN_SIZE = Param(
    "AsgMinSize",
    "Number",
    "App servers the Auto Scaling group starts with and never goes below; CPU target "
    "tracking adds servers up to AsgMaxSize under load and removes them down to this.",
    label="Minimum app servers",
    group=GROUP_SIZE,
    default="1",
    min_value=1,
    max_value=100,
    constraint="A whole number from 1 to 100, at most AsgMaxSize.",
)

ASG_MAX_SIZE = Param(
    "AsgMaxSize",
    "Number",
    "Most app servers the Auto Scaling group may run.",
    label="Maximum app servers",
    group=GROUP_SIZE,
    default="2",
    min_value=1,
    max_value=100,
    constraint="A whole number from 1 to 100, at least AsgMinSize.",
)

CPU_TARGET_PERCENT = Param(
    "CpuTargetPercent",
    "Number",
    "Average CPU utilisation the Auto Scaling group keeps the app servers at.",
    label="Target CPU utilisation (%)",
    group=GROUP_ADVANCED_SERVERS,
    default="50",
    min_value=10,
    max_value=90,
    constraint="A whole number of percent from 10 to 90.",
)

# The boot budget: how long a new app server may take to boot, install the app and
# cfn-signal. templates/app.py makes it the group's CreationPolicy ResourceSignal Timeout and
# its rolling update's PauseTime (WaitOnResourceSignals): the time CloudFormation waits.
BOOT_SIGNAL_SECONDS = 1200

# The grace period covers the boot budget. With ELB health checks, Auto Scaling replaces an
# InService server that fails the load balancer's check once its grace period is over; a server
# still installing the app then is terminated before it can signal, although CloudFormation
# would have waited for it. The creation fails at the timeout, and a scale-out or a replacement
# boots and is terminated over and over. The timeout starts when CloudFormation starts creating
# the group, the grace later (when the server enters InService), so grace >= timeout covers any
# boot CloudFormation accepts. The cost: a server that breaks on boot is replaced that much later.
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-creationpolicy.html
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
HEALTH_CHECK_GRACE_SECONDS = Param(
    "HealthCheckGraceSeconds",
    "Number",
    "Seconds a new server has to boot and install the app before failed load "
    f"balancer health checks get it replaced: at least the {BOOT_SIGNAL_SECONDS} s "
    "CloudFormation waits for its signal.",
    label="Health check grace period (s)",
    group=GROUP_ADVANCED_SERVERS,
    default=str(BOOT_SIGNAL_SECONDS),
    min_value=BOOT_SIGNAL_SECONDS,
    max_value=3600,
    constraint=f"A whole number of seconds from {BOOT_SIGNAL_SECONDS} (the boot's signal timeout) to 3600.",
)

HEALTH_CHECK_PATH = Param(
    "HealthCheckPath",
    "String",
    "Path the load balancer requests to check a server; it must answer 200-399 "
    "without touching the database (the reference app's / does).",
    hint="Must answer 200-399 without the database",
    label="Health check path",
    group=GROUP_APP,
    default="/",
    allowed_pattern=r"^/[A-Za-z0-9._~/-]*$",
    # A health check path is short (/, /health, /api/v1/status); ELB would take 1,024.
    max_length=255,
    constraint="A URL path starting with /, e.g. / or /health.",
)

APP_REPOSITORY_URL = Param(
    "AppRepositoryUrl",
    "String",
    "HTTPS URL of the public Git repository of the app (Python WSGI, "
    "requirements.txt at its root). Default: the tutorial's Flask news app.",
    hint="Public HTTPS Git URL",
    label="App repository URL",
    group=GROUP_APP,
    default=REFERENCE_APP_REPOSITORY,
    allowed_pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._~/-]+$",
    # Room for any hosted Git URL: GitHub's longest (39-character owner, 100-character
    # repository) is 163, CodeCommit's 156, Azure DevOps' (organization, project, repository)
    # about 200; 400 leaves a long self-hosted name and GitLab subgroups room too.
    max_length=400,
    constraint="An https:// Git URL, no credentials or query: e.g. https://github.com/owner/repo.git.",
)

APP_REPOSITORY_REF = Param(
    "AppRepositoryRef",
    "String",
    "Branch, tag or commit of the app to run; a commit pins what every server runs.",
    label="App version (branch, tag or commit)",
    group=GROUP_APP,
    default=REFERENCE_APP_COMMIT,
    allowed_pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
    # Git itself allows longer ref names, but 255 is what most hosts and tools take (a
    # commit id is 40).
    max_length=255,
    constraint="A Git branch, tag or commit: letters, digits, '.', '_', '/' and '-'.",
)

APP_ENTRY_POINT = Param(
    "AppEntryPoint",
    "String",
    "WSGI application gunicorn serves, as module:variable (the reference app: run:app).",
    hint="module:variable",
    label="WSGI entry point",
    group=GROUP_APP,
    default="run:app",
    allowed_pattern=r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$",
    # A dotted module path and a name: myproject.wsgi:application is 26.
    max_length=200,
    constraint="module:variable, e.g. run:app or myproject.wsgi:application.",
)

ALB_CERTIFICATE_ARN = Param(
    "AlbCertificateArn",
    "String",
    "ARN of an ACM certificate in this region for the load balancer. Given: "
    "HTTPS on 443 and HTTP redirects to it. Empty: plain HTTP on 80.",
    hint="ACM, this region; empty: HTTP only",
    label="Load balancer certificate ARN",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$",
    constraint="Empty or an ACM certificate ARN "
    "(arn:aws:acm:<region>:<account>:certificate/<id>).",
)

ALB_DELETION_PROTECTION = Param(
    "AlbDeletionProtection",
    "String",
    "true: the load balancer cannot be deleted until this is turned off.",
    hint="true: a delete fails until an update turns it off",
    label="Load balancer deletion protection",
    group=GROUP_SIZE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

ALB_IDLE_TIMEOUT_SECONDS = Param(
    "AlbIdleTimeoutSeconds",
    "Number",
    "Seconds a connection may stay idle before the load balancer closes it.",
    label="Load balancer idle timeout (s)",
    group=GROUP_ADVANCED_SERVERS,
    default="60",
    min_value=1,
    max_value=4000,
    constraint="A whole number of seconds from 1 to 4000.",
)

ALB_ACCESS_LOGS = Param(
    "AlbAccessLogs",
    "String",
    "true: write load balancer access logs to an encrypted S3 bucket the stack creates.",
    label="Load balancer access logs",
    group=GROUP_ADVANCED_SERVERS,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

ALB_ACCESS_LOG_RETENTION_DAYS = Param(
    "AlbAccessLogRetentionDays",
    "Number",
    "Days to keep load balancer access logs before S3 deletes them.",
    label="Access log retention (days)",
    group=GROUP_ADVANCED_SERVERS,
    default="90",
    min_value=1,
    max_value=3650,
    constraint="A whole number of days from 1 to 3650.",
)

BASTION_KEY_PAIR = Param(
    "BastionKeyPairName",
    "String",
    "Existing EC2 key pair for SSH to the bastion hosts; required when "
    "BastionCount is above 0.",
    hint="Existing EC2 key pair in this region",
    label="Bastion key pair",
    group=GROUP_BASTION,
    default="",
    allowed_pattern=r"^[ -~]{0,255}$",
    constraint="Empty or an EC2 key pair name (printable ASCII, up to 255 characters).",
)

BASTION_INSTANCE_TYPE = Param(
    "BastionInstanceType",
    "String",
    "EC2 instance type of the bastion hosts.",
    label="Bastion instance type",
    group=GROUP_BASTION,
    default="t3.micro",
    allowed_pattern=_INSTANCE_TYPE_PATTERN,
    constraint="An EC2 instance type such as t3.micro.",
)

APP_LOG_RETENTION_DAYS = log_retention(
    "AppLogRetentionDays",
    "Days to keep the app servers' logs (boot, app access and errors) in CloudWatch Logs.",
    label="App log retention (days)", group=GROUP_ADVANCED_SERVERS, default="30",
)

APP = (
    AMI_ID,
    ROOT_DEVICE_NAME,
    INSTANCE_TYPE,
    CPU_CREDITS,
    ROOT_VOLUME_SIZE,
    DETAILED_MONITORING,
    ASG_MIN_SIZE,
    ASG_MAX_SIZE,
    CPU_TARGET_PERCENT,
    HEALTH_CHECK_GRACE_SECONDS,
    HEALTH_CHECK_PATH,
    APP_REPOSITORY_URL,
    APP_REPOSITORY_REF,
    APP_ENTRY_POINT,
    APP_LOG_RETENTION_DAYS,
)

LOAD_BALANCER = (
    ALB_CERTIFICATE_ARN,
    ALB_DELETION_PROTECTION,
    ALB_IDLE_TIMEOUT_SECONDS,
    ALB_ACCESS_LOGS,
    ALB_ACCESS_LOG_RETENTION_DAYS,
)

BASTION = (BASTION_KEY_PAIR, BASTION_INSTANCE_TYPE)
