"""How long CloudFormation typically spends creating, updating and deleting each resource type the
templates use: the table `threetier timeline` sums along the stack graph (issue 37).

These are typical figures, not promises: AWS publishes few durations, and where it gives none an
entry says so ("no published figure; estimate ...") and why the estimate is what it is. A public
report (a GitHub issue quoting an event log or an apply) gives its date, since services get faster.
Every figure is in seconds, from the resource's *_IN_PROGRESS event to its *_COMPLETE."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html",
    "https://aws.amazon.com/blogs/networking-and-content-delivery/slashing-cloudfront-change-propagation-times-in-2020-recent-changes-and-looking-forward/",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.Failover.html",
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html",
    "https://github.com/hashicorp/terraform/issues/498",
    "https://github.com/hashicorp/terraform-provider-aws/issues/43322",
    "https://github.com/kubernetes/kops/pull/944",
    "https://github.com/hashicorp/terraform/issues/15341",
    "https://github.com/awslabs/aws-support-tools/pull/174",
    "https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/392",
)
CHECKED = "2026-12-06"


@dataclass(frozen=True)
class Typical:
    create: int  # seconds from CREATE_IN_PROGRESS to CREATE_COMPLETE
    update: int  # seconds for a typical in-place update of this type (no replacement)
    delete: int  # seconds to delete
    source: str  # an AWS doc URL with its words, "measured <date> <how>", or a dated public report URL
    note: str = ""  # what the figure depends on, the range a source gives


# One synchronous API call and CloudFormation's own bookkeeping: AWS documents no duration for
# these, and a few seconds either way does not move a critical path measured in minutes.
_QUICK_SOURCE = ("no published figure; estimate 10 s: a single synchronous API call with no state to "
                 "wait for; the CloudFormation User Guide gives no per-type durations")
_QUICK = Typical(10, 10, 10, _QUICK_SOURCE)

_ROUTE53 = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html"
_CLOUDFRONT = ("https://aws.amazon.com/blogs/networking-and-content-delivery/"
               "slashing-cloudfront-change-propagation-times-in-2020-recent-changes-and-looking-forward/")

# RDS creates the instance, then takes its first automated backup before `available`; with
# Multi-AZ, the standby is built from that (terraform#498's events show it as a conversion).
_RDS_CREATE = ("https://github.com/hashicorp/terraform/issues/498 (2014-10-22), the RDS event log: "
               "'It takes up to 5/10 minutes with multi_az off' and '15/20 minutes ... with multi_az "
               "on'")
_FAILOVER = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.Failover.html"


def db_instance(multi_az: bool, allocated_gib: int) -> Typical:
    """The RDS primary: create to `available`; update = a DB instance class change applied
    immediately (Multi-AZ: the standby is modified, then a failover, then the old primary)."""
    # No published figure relates the time to the storage size for an empty gp3 volume; a slow
    # rise (a minute per 500 GiB) keeps a larger volume from ever looking faster.
    storage = max(0, allocated_gib - 20) * 60 // 500
    if multi_az:
        return Typical(
            1200 + storage, 1500 + storage, 600 + storage,
            _RDS_CREATE + "; update: no published figure, estimate 25 min: two instance "
            "modifications and a failover (" + _FAILOVER + ": 'Failover times are typically 60–120 "
            "seconds')",
            "create 15-20 min (terraform#498); terraform-provider-aws#43322 (2025-07-09) saw 36 min "
            "for one whose conversion failed. Delete takes a final snapshot (DeletionPolicy "
            "Snapshot): estimate 10 min")
    return Typical(
        600 + storage, 900 + storage, 600 + storage,
        _RDS_CREATE + "; update: no published figure, estimate 15 min: the instance is modified in "
        "place, with an outage",
        "create 5-10 min (terraform#498). Delete takes a final snapshot (DeletionPolicy Snapshot): "
        "estimate 10 min")


def db_replica(allocated_gib: int) -> Typical:
    """A read replica of a running primary: RDS snapshots the source, then builds the replica."""
    storage = max(0, allocated_gib - 20) * 60 // 500
    return Typical(
        900 + storage, 900 + storage, 420 + storage,
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html: 'When you "
        "create a read replica, Amazon RDS takes a DB snapshot of your source DB instance and begins "
        "replication'; no published duration, estimate 15 min: a snapshot (incremental on the "
        "primary's first backup) and a single-AZ instance create (5-10 min, terraform#498)",
        "'An active, long-running transaction can slow the process'. Delete: no final snapshot "
        "(DeletionPolicy Delete), estimate 7 min")


# The launch of one instance before its user data runs: `pending` to `running` and the kernel's
# boot; the boot_seconds the caller gives is its own measurement (docs/rotation.md's boot test).
_LAUNCH = 45


def app_server_boot(boot_seconds: int) -> Typical:
    """One instance an Auto Scaling group launches, until its cfn-signal: launch plus boot_seconds."""
    return Typical(
        _LAUNCH + boot_seconds, _LAUNCH + boot_seconds, 60,
        f"no published figure; estimate {_LAUNCH} s from RunInstances to the user data starting, "
        "plus the given boot time",
        "delete: termination, estimate 60 s")


TYPICAL: dict[str, Typical] = {
    # The network, bottom up.
    "AWS::EC2::VPC": _QUICK,
    "AWS::EC2::InternetGateway": _QUICK,
    "AWS::EC2::VPCGatewayAttachment": _QUICK,
    "AWS::EC2::Subnet": _QUICK,
    "AWS::EC2::RouteTable": _QUICK,
    "AWS::EC2::Route": _QUICK,
    "AWS::EC2::SubnetRouteTableAssociation": _QUICK,
    "AWS::EC2::VPCEndpoint": replace(_QUICK, note="a Gateway endpoint (S3): route table entries, no ENIs"),
    "AWS::EC2::EIP": _QUICK,
    "AWS::EC2::FlowLog": _QUICK,
    # CloudFormation waits for the gateway to leave `pending`; the kops report says "up to 5 min"
    # in one place and "up to 10 min" in another.
    "AWS::EC2::NatGateway": Typical(
        150, 10, 60,
        "https://github.com/kubernetes/kops/pull/944 (2016-11-18): 'It can take up to 10 min for "
        "NatGateway to go from Pending to Available', and in its code 'up to 5 min'",
        "typical 2-3 min; the report's figures are upper bounds. Delete waits for `deleted`: "
        "no published figure; estimate 60 s"),
    # Security.
    "AWS::EC2::SecurityGroup": _QUICK,
    "AWS::EC2::SecurityGroupIngress": _QUICK,
    "AWS::KMS::Key": Typical(
        30, 10, 10,
        "no published figure; estimate 30 s: CreateKey, then the key policy and rotation settings; "
        "delete only schedules the deletion (7 to 30 days), it does not wait for it"),
    "AWS::IAM::Role": Typical(
        20, 10, 10,
        "no published figure; estimate 20 s: CreateRole plus its inline policies; IAM is eventually "
        "consistent, and CloudFormation does not wait out a fixed delay for a role"),
    "AWS::IAM::ManagedPolicy": _QUICK,
    "AWS::IAM::Policy": _QUICK,
    # An instance profile is only usable by EC2 some time after IAM returns it; CloudFormation waits.
    "AWS::IAM::InstanceProfile": Typical(
        130, 10, 10,
        "https://github.com/hashicorp/terraform/issues/15341 (comment of 2017-12-20, quoting AWS on "
        "its forum): 'there is a hardcoded 2min delay for creating instance profiles'",
        "IAM eventual consistency: CloudFormation waits about 2 minutes after the profile is created"),
    "AWS::SecretsManager::Secret": _QUICK,
    "AWS::SecretsManager::SecretTargetAttachment": _QUICK,
    # RotateSecret returns once rotation has started: the schedule completes before the function
    # has run (docs/rotation.md: the servers' boot waits for the login instead).
    "AWS::SecretsManager::RotationSchedule": Typical(
        15, 15, 10,
        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html: "
        "RotateSecret 'configures and starts the asynchronous process of rotating the secret'; "
        "no published figure for the call itself, estimate 15 s",
        "the first rotation (the Lambda's four steps) runs after CREATE_COMPLETE, off the path"),
    # Lambda in a VPC: the function is `Pending` while Lambda creates its Hyperplane ENIs, and on
    # delete CloudFormation "is waiting for NetworkInterfaces associated with the Lambda Function
    # to be cleaned up" (roadmap#392); AWS Support puts that at up to 20 minutes.
    "AWS::Lambda::Function": Typical(
        90, 30, 1200,
        "https://github.com/awslabs/aws-support-tools/pull/174 (2021-06-21): Lambda's ENIs 'may "
        "take up to 20 minutes to be deleted under normal operations'; create: no published "
        "figure, estimate 90 s for the Hyperplane ENIs",
        "delete: https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/392 "
        "(2020-02-25) saw 25-40 minutes; the security group and subnets wait behind it"),
    "AWS::Lambda::Permission": _QUICK,
    # Data.
    "AWS::RDS::DBSubnetGroup": _QUICK,
    "AWS::RDS::DBParameterGroup": _QUICK,
    "AWS::EFS::FileSystem": Typical(
        15, 10, 15,
        "no published figure; estimate 15 s: CreateFileSystem returns `creating` and is `available` "
        "within seconds"),
    "AWS::EFS::MountTarget": Typical(
        90, 10, 60,
        "no published figure; estimate 90 s: CloudFormation waits for the mount target's ENI and "
        "its state `available`"),
    "AWS::EFS::AccessPoint": _QUICK,
    "AWS::S3::Bucket": Typical(
        20, 10, 20,
        "no published figure; estimate 20 s: CreateBucket and its configuration calls (encryption, "
        "versioning, lifecycle, public access block)"),
    "AWS::S3::BucketPolicy": _QUICK,
    # DNS and certificates.
    "AWS::Route53::HostedZone": Typical(
        60, 10, 60, _ROUTE53 + ": 'Changes generally propagate to all Route 53 name servers within "
        "60 seconds'", "a new zone's change is PENDING until INSYNC, as for records"),
    "AWS::Route53::RecordSet": Typical(
        60, 60, 60, _ROUTE53 + ": 'Changes generally propagate to all Route 53 name servers within "
        "60 seconds'", "CloudFormation waits for the change to be INSYNC"),
    "AWS::CertificateManager::Certificate": Typical(
        180, 10, 10,
        "no published figure; estimate 3 min: CloudFormation writes the validation CNAME in the "
        "delegated zone (INSYNC within 60 s, " + _ROUTE53 + "), then ACM polls DNS and issues",
        "ACM times DNS validation out after 72 hours; a zone not yet delegated waits until then "
        "(CloudFormation gives up first)"),
    # The edge: every change waits for the distribution to be Deployed at every edge location.
    "AWS::CloudFront::Distribution": Typical(
        300, 300, 600,
        _CLOUDFRONT + " (2020): 'Instead of change propagation times that averaged between 17 and "
        "35 minutes, we're now at a point where we are reliably pushing these changes within 5 "
        "minutes'",
        "delete disables the distribution, waits for Deployed again, then deletes: two propagations"),
    "AWS::WAFv2::WebACL": Typical(
        30, 30, 30,
        "no published figure; estimate 30 s: CreateWebACL is synchronous; CloudFront picks up the "
        "association through the distribution's own update"),
    # The app tier.
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Typical(
        180, 30, 60,
        "no published figure; estimate 3 min: CloudFormation waits for the state to go from "
        "`provisioning` to `active`"),
    "AWS::ElasticLoadBalancingV2::TargetGroup": _QUICK,
    "AWS::ElasticLoadBalancingV2::Listener": _QUICK,
    "AWS::ElasticLoadBalancingV2::ListenerRule": _QUICK,
    "AWS::EC2::LaunchTemplate": _QUICK,
    # The group's own work, without its instances: timeline adds app_server_boot per batch.
    "AWS::AutoScaling::AutoScalingGroup": Typical(
        30, 30, 120,
        "no published figure; estimate 30 s for the group itself; delete terminates its instances "
        "and waits for them (estimate 2 min)",
        "create waits for the instances' cfn-signal (CreationPolicy): add app_server_boot; a "
        "rolling update adds one app_server_boot per batch"),
    "AWS::AutoScaling::ScalingPolicy": _QUICK,
    "AWS::EC2::Instance": Typical(
        40, 60, 60,
        "no published figure; estimate 40 s: CloudFormation waits for `running`, not for the boot",
        "update with a stop and start (instance type) takes about a minute more"),
    # Monitoring.
    "AWS::Logs::LogGroup": _QUICK,
    "AWS::Logs::MetricFilter": _QUICK,
    "AWS::CloudWatch::Alarm": _QUICK,
    "AWS::CloudWatch::Dashboard": _QUICK,
    "AWS::SNS::Topic": _QUICK,
    "AWS::SNS::TopicPolicy": _QUICK,
    "AWS::SNS::Subscription": replace(_QUICK, note="an e-mail subscription is created pending "
                                                   "confirmation; CloudFormation does not wait for it"),
    # A nested stack's own overhead; its resources are summed inside it.
    "AWS::CloudFormation::Stack": Typical(
        20, 20, 20,
        "no published figure; estimate 20 s: CreateStack of the child and the parent noticing its "
        "*_COMPLETE"),
    # RDS: timeline uses db_instance() and db_replica(); this row is a Multi-AZ 20 GiB primary.
    "AWS::RDS::DBInstance": db_instance(multi_az=True, allocated_gib=20),
}

FALLBACK = Typical(
    60, 60, 60,
    "no published figure; estimate 60 s for a type not in this table (durations.TYPICAL): "
    "one minute, as most types with a state to wait for take about that")

