"""How long CloudFormation typically spends creating, updating and deleting each resource type the
templates use: the table `threetier timeline` sums along the stack graph (issue 37).

These are typical figures, not promises. AWS publishes few durations: where it gives one, the entry
quotes it; where a public report gives one, the entry dates it (services get faster); where nothing
public gives one, the entry says so ("no published figure; estimate ...") and why the estimate is
what it is. Every figure is in seconds, from the resource's *_IN_PROGRESS event to its *_COMPLETE."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html",
    "https://aws.amazon.com/blogs/networking-and-content-delivery/slashing-cloudfront-change-propagation-times-in-2020-recent-changes-and-looking-forward/",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html",
    "https://aws.amazon.com/blogs/compute/coming-soon-updated-lambda-states-lifecycle-for-vpc-networking/",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-function-vpcconfig.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.Failover.html",
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html",
    "https://docs.aws.amazon.com/efs/latest/ug/mounting-fs-mount-cmd-dns-name.html",
    "https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-kms/pull/61",
    "https://github.com/hashicorp/terraform/issues/498",
    "https://github.com/hashicorp/terraform-provider-aws/issues/43322",
    "https://www.oreilly.com/library/view/aws-administration-cookbook/9781787127630/c388e310-8f84-4769-894b-71d8b9a9eddf.xhtml",
    "https://github.com/kubernetes/kops/pull/944",
    "https://github.com/hashicorp/terraform/issues/15341",
    "https://github.com/hashicorp/terraform/issues/24799",
    "https://github.com/binxio/cfn-certificate-provider/issues/21",
    "https://github.com/go-to-k/cdkd/pull/1311",
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


# One synchronous API call and CloudFormation's own bookkeeping: nothing public times these, and a
# few seconds either way does not move a critical path measured in minutes.
_QUICK = Typical(
    10, 10, 10,
    "no published figure; estimate 10 s: one synchronous API call with no state to wait for "
    "(the CloudFormation User Guide gives no durations per type)")

_ROUTE53 = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html"
_ROUTE53_WORDS = "'Changes generally propagate to all Route 53 name servers within 60 seconds'"
_CLOUDFRONT = ("https://aws.amazon.com/blogs/networking-and-content-delivery/"
               "slashing-cloudfront-change-propagation-times-in-2020-recent-changes-and-looking-forward/")

# RDS creates the instance, then takes its first automated backup before `available`; a Multi-AZ
# instance builds its standby from that backup (terraform#498's event log shows it as a conversion
# to Multi-AZ after "DB instance created").
_RDS_CREATE = ("https://github.com/hashicorp/terraform/issues/498 (2014-10-22), from the RDS event "
               "log: 'It takes up to 5/10 minutes with multi_az off' and 'up to 15/20 minutes ... "
               "with mutli_az on'")
_RDS_MULTI_AZ_BOOK = ("https://www.oreilly.com/library/view/aws-administration-cookbook/9781787127630/"
                      "c388e310-8f84-4769-894b-71d8b9a9eddf.xhtml (AWS Administration Cookbook, 2017), "
                      "a Multi-AZ instance by CloudFormation: 'it will take roughly 20 minutes or more "
                      "for the stack to report completion'")
_FAILOVER = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.Failover.html: "
             "'Failover times are typically 60–120 seconds'")


def _storage_seconds(allocated_gib: int) -> int:
    # Nothing public relates the time to the size of an empty gp3 volume; a minute per 500 GiB above
    # the default 20 keeps a larger volume from ever looking faster without inventing a slope.
    return max(0, allocated_gib - 20) * 60 // 500


def db_instance(multi_az: bool, allocated_gib: int) -> Typical:
    """The RDS primary: create to `available`; update = a DB instance class change applied
    immediately (Multi-AZ: the standby is modified, a failover, then the old primary)."""
    storage = _storage_seconds(allocated_gib)
    if multi_az:
        return Typical(
            1200 + storage, 1500 + storage, 600 + storage,
            _RDS_CREATE + "; " + _RDS_MULTI_AZ_BOOK,
            "create 15-20 min (terraform#498, the cookbook); terraform-provider-aws#43322 "
            "(2025-07-09) saw 36 min for one whose Multi-AZ conversion failed. Update: no published "
            "figure, estimate 25 min for two instance modifications and a failover (" + _FAILOVER +
            "). Delete takes a final snapshot (DeletionPolicy Snapshot): no published figure, "
            "estimate 10 min")
    return Typical(
        600 + storage, 900 + storage, 600 + storage,
        _RDS_CREATE,
        "create 5-10 min (terraform#498). Update: no published figure, estimate 15 min: the one "
        "instance is modified in place, with an outage. Delete takes a final snapshot "
        "(DeletionPolicy Snapshot): no published figure, estimate 10 min")


def db_replica(allocated_gib: int) -> Typical:
    """A read replica of a running primary: RDS snapshots the source, then builds the replica."""
    storage = _storage_seconds(allocated_gib)
    return Typical(
        900 + storage, 900 + storage, 420 + storage,
        "no published figure; estimate 15 min: "
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html says "
        "'When you create a read replica, Amazon RDS takes a DB snapshot of your source DB instance "
        "and begins replication' and gives no duration; a snapshot (incremental after the primary's "
        "first backup) plus a single-AZ instance create (5-10 min, terraform#498)",
        "the same page: 'An active, long-running transaction can slow the process of creating the "
        "read replica'. Update (class change) as a single-AZ instance. Delete: no final snapshot "
        "(DeletionPolicy Delete), estimate 7 min")


# RunInstances to the user data's first line: `pending`, `running`, the kernel's boot. The boot
# time the caller adds is the project's own (docs/rotation.md measures the boot test's).
_LAUNCH = 45


def app_server_boot(boot_seconds: int) -> Typical:
    """One instance an Auto Scaling group launches, until its cfn-signal: launch plus boot_seconds."""
    return Typical(
        _LAUNCH + boot_seconds, _LAUNCH + boot_seconds, 60,
        f"no published figure; estimate {_LAUNCH} s from RunInstances to the user data starting "
        "(EC2 documents no launch time), plus the boot time given",
        "a rolling update replaces instances: the same launch and boot per batch. Delete: "
        "termination, estimate 60 s")


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
    # CloudFormation waits for the gateway to leave `pending`: the network stack's slowest part.
    "AWS::EC2::NatGateway": Typical(
        150, 10, 60,
        "https://github.com/kubernetes/kops/pull/944 (2016-11-18): 'It can take up to 10 min for "
        "NatGateway to go from Pending to Available', and in its code 'up to 5 min'; typical "
        "estimate 2.5 min",
        "the report gives upper bounds, not a typical time; CloudFormation's handler stabilizes on "
        "`available` (aws-cloudformation-resource-providers-ec2-nat-gateway, CreateHandler). "
        "Delete: no published figure, estimate 60 s"),
    # Security.
    "AWS::EC2::SecurityGroup": _QUICK,
    "AWS::EC2::SecurityGroupIngress": _QUICK,
    # The handler's own waits, in its public source: 15 s after create and delete, 60 s after update.
    "AWS::KMS::Key": Typical(
        25, 70, 20,
        "https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-kms/pull/61 "
        "(2024-01-17): the handler waits 15 s for eventual consistency after create and delete "
        "(EventualConsistencyHandlerHelper: 60 s after an update), plus the calls",
        "delete only schedules the key's deletion (7 to 30 days); CloudFormation does not wait for it"),
    "AWS::IAM::Role": Typical(
        20, 10, 10,
        "no published figure; estimate 20 s: CreateRole plus its inline policies and tags"),
    "AWS::IAM::ManagedPolicy": _QUICK,
    "AWS::IAM::Policy": _QUICK,
    # EC2 cannot use a profile for some time after IAM returns it; CloudFormation waits that out.
    "AWS::IAM::InstanceProfile": Typical(
        130, 10, 10,
        "https://github.com/hashicorp/terraform/issues/15341 (comment of 2017-12-20, quoting AWS on "
        "its forum): 'According to AWS there is a hardcoded 2min delay for creating instance "
        "profiles'",
        "IAM eventual consistency; update and delete: no published figure, estimate 10 s"),
    "AWS::SecretsManager::Secret": _QUICK,
    "AWS::SecretsManager::SecretTargetAttachment": _QUICK,
    # The first rotation runs after CREATE_COMPLETE, off the path: the servers' boot waits for the
    # app's login instead (docs/rotation.md).
    "AWS::SecretsManager::RotationSchedule": Typical(
        15, 15, 10,
        "no published figure; estimate 15 s: "
        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html says "
        "RotateSecret 'configures and starts the asynchronous process of rotating the secret', so "
        "the schedule completes without waiting for the rotation function",
        "the rotation itself (the function's four steps, a cold start in the VPC) follows it"),
    # In a VPC the function stays `Pending` while Lambda creates its Hyperplane ENIs; on delete
    # CloudFormation waits for Lambda to remove them, and the subnets and security group wait
    # behind the function.
    "AWS::Lambda::Function": Typical(
        90, 30, 1200,
        "https://aws.amazon.com/blogs/compute/coming-soon-updated-lambda-states-lifecycle-for-vpc-"
        "networking/ (AWS Compute Blog, after the states of 2019-11-27): 'Lambda creates the ENIs required for your function "
        "to connect to your VPCs, which can take 60–90 seconds to complete'; delete: "
        "https://github.com/awslabs/aws-support-tools/pull/174 (2021-06-21): Lambda's ENIs 'may take "
        "up to 20 minutes to be deleted under normal operations'",
        "CloudFormation waits on delete: 'When you delete a function, CloudFormation monitors the "
        "state of its network interfaces and waits for Lambda to delete them before proceeding' "
        "(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-"
        "function-vpcconfig.html); cloudformation-coverage-roadmap#392 (2020-02-25) saw 25-40 "
        "minutes. Update of code or settings without a VPC change: no published figure, estimate 30 s"),
    "AWS::Lambda::Permission": _QUICK,
    # Data.
    "AWS::RDS::DBSubnetGroup": _QUICK,
    "AWS::RDS::DBParameterGroup": _QUICK,
    # The table's row is a Multi-AZ 20 GiB primary; timeline asks db_instance and db_replica.
    "AWS::RDS::DBInstance": db_instance(multi_az=True, allocated_gib=20),
    "AWS::EFS::FileSystem": Typical(
        15, 10, 15,
        "no published figure; estimate 15 s: the file system is `available` seconds after "
        "CreateFileSystem"),
    "AWS::EFS::MountTarget": Typical(
        90, 10, 60,
        "no published figure; estimate 90 s: CloudFormation waits for the mount target's ENI and "
        "its state `available`",
        "after it, the EFS guide still recommends a wait before mounting: 'We recommend that you "
        "wait 90 seconds after creating a mount target before you mount your file system' "
        "(https://docs.aws.amazon.com/efs/latest/ug/mounting-fs-mount-cmd-dns-name.html), which the "
        "servers' boot bears, not this resource"),
    "AWS::EFS::AccessPoint": _QUICK,
    "AWS::S3::Bucket": Typical(
        20, 10, 20,
        "no published figure; estimate 20 s: CreateBucket and its configuration calls (encryption, "
        "versioning, lifecycle, public access block)"),
    "AWS::S3::BucketPolicy": _QUICK,
    # DNS and certificates.
    "AWS::Route53::HostedZone": Typical(
        60, 10, 60, _ROUTE53 + ": " + _ROUTE53_WORDS,
        "a new zone's change is PENDING until INSYNC, as a record's is"),
    "AWS::Route53::RecordSet": Typical(
        60, 60, 60, _ROUTE53 + ": " + _ROUTE53_WORDS,
        "CloudFormation waits for the change to be INSYNC"),
    # CloudFormation writes the validation CNAME in the delegated zone itself (HostedZoneId), then
    # waits for ACM to issue.
    "AWS::CertificateManager::Certificate": Typical(
        180, 10, 10,
        "https://github.com/binxio/cfn-certificate-provider/issues/21 (comment of 2020-02-12): 'When "
        "your route53 hosted zone is accessible from the public internet the validation normally "
        "occurs within a few minutes'; estimate 3 min",
        "the CNAME is INSYNC within 60 s (Route 53 guide). A zone not yet delegated from its parent "
        "never validates: ACM gives up after 72 hours, CloudFormation sooner"),
    # The edge: each change waits for the distribution to be Deployed at every edge location.
    "AWS::CloudFront::Distribution": Typical(
        300, 300, 600,
        _CLOUDFRONT + " (2020): 'Instead of change propagation times that averaged between 17 and "
        "35 minutes, we're now at a point where we are reliably pushing these changes within 5 "
        "minutes'",
        "https://github.com/go-to-k/cdkd/pull/1311 (2026-07-30) gives 3-15 min for Deployed. Delete "
        "disables the distribution, waits for Deployed, then deletes "
        "(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html: "
        "'Before you can delete a distribution, you must disable it'): two propagations, 10 min"),
    "AWS::WAFv2::WebACL": Typical(
        30, 30, 30,
        "no published figure; estimate 30 s: CreateWebACL is synchronous; CloudFront takes the web "
        "ACL up in its own update"),
    # The app tier. CloudFormation waits for the load balancer to go from `provisioning` to `active`.
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Typical(
        180, 30, 60,
        "https://github.com/hashicorp/terraform/issues/24799 (2020-04-28): an application load "
        "balancer 'should take no more than 5 minutes' and 'On most of our ci/cd runs it takes no "
        "more than 5'; estimate 3 min",
        "the same report saw up to 30 minutes at times. Update and delete: no published figure, "
        "estimates"),
    "AWS::ElasticLoadBalancingV2::TargetGroup": _QUICK,
    "AWS::ElasticLoadBalancingV2::Listener": _QUICK,
    "AWS::ElasticLoadBalancingV2::ListenerRule": _QUICK,
    "AWS::EC2::LaunchTemplate": _QUICK,
    # The group's own work: its create waits for its instances' signals (CreationPolicy), which
    # timeline adds as app_server_boot, batch by batch for a rolling update.
    "AWS::AutoScaling::AutoScalingGroup": Typical(
        30, 30, 120,
        "no published figure; estimate 30 s for the group itself, without its instances",
        "delete terminates the instances and waits for them: estimate 2 min"),
    "AWS::AutoScaling::ScalingPolicy": _QUICK,
    "AWS::EC2::Instance": Typical(
        _LAUNCH, 60, 60,
        f"no published figure; estimate {_LAUNCH} s: CloudFormation waits for `running`, not for "
        "the boot (the bastion has no CreationPolicy)",
        "an update that stops and starts the instance (its type) takes about a minute"),
    # Monitoring.
    "AWS::Logs::LogGroup": _QUICK,
    "AWS::Logs::MetricFilter": _QUICK,
    "AWS::CloudWatch::Alarm": _QUICK,
    "AWS::CloudWatch::Dashboard": _QUICK,
    "AWS::SNS::Topic": _QUICK,
    "AWS::SNS::TopicPolicy": _QUICK,
    "AWS::Events::Rule": _QUICK,  # PutRule and PutTargets: no state to wait for
    # AWS Backup's plan, selection and vault are records, not infrastructure: no state to wait for.
    "AWS::Backup::BackupVault": _QUICK,
    "AWS::Backup::BackupPlan": _QUICK,
    "AWS::Backup::BackupSelection": _QUICK,
    "AWS::SNS::Subscription": replace(_QUICK, note="an e-mail subscription stays pending confirmation; "
                                                   "CloudFormation does not wait for it"),
    # A nested stack's own overhead; its resources are summed inside it.
    "AWS::CloudFormation::Stack": Typical(
        20, 20, 20,
        "no published figure; estimate 20 s: the child's CreateStack and the parent noticing its "
        "*_COMPLETE"),
}

FALLBACK = Typical(
    60, 60, 60,
    "no published figure; estimate 60 s for a type not in this table: a minute, as the types here "
    "that wait for a state of their own take about that")
