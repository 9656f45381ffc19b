"""Schema branches: the handler permissions a resource type needs only when a given property is set.

A provider schema lists, per handler, every action the handler may call for any
configuration of the type (threetier.facts.deployerpolicy). Most schemas do not say
which property brings in which action; the tables here do, type by type, from the
property's name and description in the schema, the service's API reference (the
action that writes the property) and the service's user guide (the permissions a
feature needs). CloudFormation calls each handler with the resource's properties:
an action that only writes a property, or only reads something the property names
(another service's resource), is not called when the property is never set.

Conservative on purpose:
- An action goes in a branch only when one property (or one value of it) clearly
  brings it in. Actions a handler may call for any configuration stay.
- The read and list handlers run for drift detection and before every update. A read
  action that asks about the resource itself (`s3:GetReplicationConfiguration`: is there
  any?) stays even when the property is unset; only read actions that need the
  property's value (`acm-pca:GetCertificate` of the named CA) are branch actions.
- The branches of one type can also depend on another type's property: an Auto Scaling
  group launches from a launch template, which may carry instance requirements.

WILDCARDS replaces a handler's wildcard (`ec2:Get*`) by the concrete actions that
handler calls, KEPT_WILDCARDS names the wildcards that stay and why.
"""

from __future__ import annotations

from dataclasses import dataclass

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers",
    "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html",
    "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-api-permissions.html",
    "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html",
    "https://docs.aws.amazon.com/autoscaling/ec2/userguide/using-systems-manager-parameters.html",
    "https://docs.aws.amazon.com/autoscaling/ec2/userguide/create-mixed-instances-group-attribute-based-instance-type-selection.html",
    "https://docs.aws.amazon.com/acm/latest/userguide/gs-acm-request-private.html",
    "https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/metadata-tables-permissions.html",
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html",
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/working-with-staging-distribution-continuous-deployment-policy.html",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ConnectionGroup.html",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/data-protection-policy-permissions.html",
    "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html",
    "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-create-flow-log.html",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions",
    "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Operations.html",
    "https://docs.aws.amazon.com/efs/latest/ug/efs-replication.html",
    "https://docs.aws.amazon.com/efs/latest/ug/replication-overwrite.html",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html",
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html",
    "https://docs.aws.amazon.com/sns/latest/dg/sns-topic-attributes.html",
    "https://docs.aws.amazon.com/secretsmanager/latest/userguide/create-manage-multi-region-secrets.html",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-secrettargetattachment.html",
    "https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-rds (the DBInstance handlers)",
    "https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-sns (the Topic and Subscription handlers)",
    "https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-kms (the Key handlers)",
    "cfn-lint's provider schemas and table of IAM actions (the release pinned in setup.cfg), read at run time",
)
CHECKED = "2026-12-06"


@dataclass(frozen=True)
class Branch:
    """`actions` are needed only if one of `when` is set on a resource of the type.

    A `when` entry is a property path, keys joined by dots (lists are looked through:
    `DistributionConfig.Origins.VpcOriginConfig`), optionally `=value` for one value of
    a string property, and optionally led by another resource type and a space when
    that type's property decides (`AWS::EC2::LaunchTemplate LaunchTemplateData.X`)."""

    actions: tuple[str, ...]
    when: tuple[str, ...]
    source: str


# API references, one per service: the page that lists the action writing a property.
_S3_API = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html"
_EC2_API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Operations.html"
_ELB_API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Operations.html"
_LOGS_API = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_Operations.html"
_ASG_API = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-api-permissions.html"

# Handlers whose source is published: what they call, and on which property. The commits read.
_RDS_COMMIT = "5a410e843efb90076c1c4d322707bc989e5a058b"  # pragma: allowlist secret (a public commit id)
_SNS_COMMIT = "73bd30ef6e825a18c8e6b8539242dff00dd535be"  # pragma: allowlist secret (a public commit id)
_KMS_COMMIT = "f2d7168529b8c4a3e83e1df5d8f3fc35ff807024"  # pragma: allowlist secret (a public commit id)
_PROVIDERS = "https://github.com/aws-cloudformation/aws-cloudformation-resource-providers"
_RDS_PROVIDER = (f"{_PROVIDERS}-rds/blob/{_RDS_COMMIT}/aws-rds-dbinstance/src/main/java/software/amazon/rds/"
                 "dbinstance/util/ResourceModelHelper.java")
_SNS_SUBSCRIPTION_PROVIDER = (f"{_PROVIDERS}-sns/blob/{_SNS_COMMIT}/aws-sns-subscription/src/main/java/software/"
                              "amazon/sns/subscription/UpdateHandler.java")
_SNS_TOPIC_PROVIDER = (f"{_PROVIDERS}-sns/blob/{_SNS_COMMIT}/aws-sns-topic/src/main/java/software/amazon/sns/"
                       "topic/UpdateHandler.java")
_KMS_PROVIDER = (f"{_PROVIDERS}-kms/blob/{_KMS_COMMIT}/common/src/main/java/software/amazon/kms/common/"
                 "KeyHandlerHelper.java")

# A `when` entry about the launch template an Auto Scaling group launches from.
_LT = "AWS::EC2::LaunchTemplate "

BRANCHES: dict[str, tuple[Branch, ...]] = {
    "AWS::AutoScaling::AutoScalingGroup": (
        # VPC Lattice target groups can only be attached as traffic sources; ELB target
        # groups (TargetGroupARNs) are registered by the group's service-linked role.
        Branch(("vpc-lattice:RegisterTargets", "vpc-lattice:DeregisterTargets", "vpc-lattice:GetTargetGroup",
                "vpc-lattice:ListTargets"), ("TrafficSources",), _ASG_API),
        Branch(("autoscaling:AttachLoadBalancers", "autoscaling:DetachLoadBalancers"), ("LoadBalancerNames",),
               "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AttachLoadBalancers.html"),
        Branch(("autoscaling:PutLifecycleHook", "autoscaling:DeleteLifecycleHook"),
               ("LifecycleHookSpecificationList",), _ASG_API),
        Branch(("autoscaling:PutNotificationConfiguration", "autoscaling:DeleteNotificationConfiguration"),
               ("NotificationConfiguration", "NotificationConfigurations"),
               "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutNotificationConfiguration.html"),
        # From ec2:Get* (WILDCARDS): attribute-based instance type selection, in the group's
        # mixed instances policy or in its launch template.
        Branch(("ec2:GetInstanceTypesFromInstanceRequirements",),
               ("MixedInstancesPolicy", _LT + "LaunchTemplateData.InstanceRequirements"),
               "https://docs.aws.amazon.com/autoscaling/ec2/userguide/"
               "create-mixed-instances-group-attribute-based-instance-type-selection.html"),
        Branch(("ec2:GetCapacityReservationUsage", "ec2:GetGroupsForCapacityReservation"),
               ("CapacityReservationSpecification", _LT + "LaunchTemplateData.CapacityReservationSpecification"),
               "https://docs.aws.amazon.com/autoscaling/ec2/userguide/target-capacity-reservations.html"),
    ),
    "AWS::CertificateManager::Certificate": (
        # A private certificate is issued by the named AWS Private CA.
        Branch(("acm-pca:IssueCertificate", "acm-pca:GetCertificate"), ("CertificateAuthorityArn",),
               "https://docs.aws.amazon.com/acm/latest/userguide/gs-acm-request-private.html"),
        # DNS validation records are written only into the hosted zone named per domain.
        Branch(("route53:ChangeResourceRecordSets",), ("DomainValidationOptions.HostedZoneId",),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
               "aws-properties-certificatemanager-certificate-domainvalidationoption.html"),
    ),
    "AWS::CloudFront::Distribution": (
        Branch(("cloudfront:GetVpcOrigin",), ("DistributionConfig.Origins.VpcOriginConfig",),
               "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html"),
        # Connection groups belong to multi-tenant distributions and anycast static IP lists.
        Branch(("cloudfront:CreateConnectionGroup", "cloudfront:GetConnectionGroup"),
               ("DistributionConfig.ConnectionMode", "DistributionConfig.TenantConfig",
                "DistributionConfig.AnycastIpListId"),
               "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ConnectionGroup.html"),
        # Promoting a staging distribution's configuration: continuous deployment only.
        Branch(("cloudfront:UpdateDistributionWithStagingConfig",),
               ("DistributionConfig.ContinuousDeploymentPolicyId", "DistributionConfig.Staging"),
               "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
               "working-with-staging-distribution-continuous-deployment-policy.html"),
    ),
    "AWS::EC2::EIP": (
        Branch(("ec2:AcceptAddressTransfer",), ("TransferAddress",),
               "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-eips.html#transfer-EIPs-intro"),
        Branch(("ec2:AssociateAddress",), ("InstanceId",), _EC2_API),
    ),
    "AWS::EC2::FlowLog": (
        # Delivery to S3 or Firehose goes through CloudWatch Logs' log delivery, which
        # writes the bucket policy; delivery to a log group uses the role passed instead.
        Branch(("logs:CreateLogDelivery", "logs:DeleteLogDelivery"),
               ("LogDestinationType=s3", "LogDestinationType=kinesis-data-firehose"),
               "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-create-flow-log.html"),
        Branch(("s3:GetBucketPolicy", "s3:PutBucketPolicy"), ("LogDestinationType=s3",),
               "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html"),
    ),
    "AWS::EC2::Instance": (
        Branch(("ssm:CreateAssociation", "ssm:DeleteAssociation"), ("SsmAssociations",),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
               "aws-properties-ec2-instance-ssmassociation.html"),
        Branch(("ec2:AttachVolume", "ec2:DetachVolume"), ("Volumes",), _EC2_API),
        Branch(("ec2:AssociateIamInstanceProfile", "ec2:DisassociateIamInstanceProfile",
                "ec2:ReplaceIamInstanceProfileAssociation"), ("IamInstanceProfile",), _EC2_API),
        Branch(("ec2:ModifyInstanceCreditSpecification",), ("CreditSpecification",), _EC2_API),
        Branch(("ec2:ModifyPrivateDnsNameOptions",), ("PrivateDnsNameOptions",), _EC2_API),
        Branch(("ec2:ModifyInstanceMetadataOptions",), ("MetadataOptions",), _EC2_API),
        Branch(("ec2:ModifyInstancePlacement",),
               ("Affinity", "HostId", "HostResourceGroupArn", "Tenancy", "PlacementGroupName"), _EC2_API),
        Branch(("ec2:MonitorInstances", "ec2:UnmonitorInstances"), ("Monitoring",), _EC2_API),
    ),
    "AWS::EC2::NatGateway": (
        Branch(("ec2:AssociateNatGatewayAddress", "ec2:DisassociateNatGatewayAddress"),
               ("SecondaryAllocationIds", "AvailabilityZoneAddresses"), _EC2_API),
        Branch(("ec2:AssignPrivateNatGatewayAddress", "ec2:UnassignPrivateNatGatewayAddress"),
               ("SecondaryPrivateIpAddresses", "SecondaryPrivateIpAddressCount"), _EC2_API),
    ),
    "AWS::EC2::Subnet": (
        Branch(("ec2:AssociateSubnetCidrBlock", "ec2:DisassociateSubnetCidrBlock"),
               ("Ipv6CidrBlock", "Ipv6IpamPoolId", "Ipv6NetmaskLength", "Ipv6Native"), _EC2_API),
    ),
    "AWS::EC2::VPC": (
        Branch(("ec2:CreateVpcEncryptionControl",), ("VpcEncryptionControl",), _EC2_API),
        Branch(("ec2:ModifyVpcTenancy",), ("InstanceTenancy",), _EC2_API),
    ),
    "AWS::EC2::VPCEndpoint": (
        Branch(("vpc-lattice:CreateServiceNetworkVpcEndpointAssociation",
                "vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation"), ("ServiceNetworkArn",),
               "https://docs.aws.amazon.com/vpc/latest/privatelink/access-with-service-network-endpoint.html"),
        # Cross-region interface endpoints.
        Branch(("vpce:AllowMultiRegion",), ("ServiceRegion",),
               "https://docs.aws.amazon.com/service-authorization/latest/reference/list_vpce.html"),
    ),
    "AWS::EC2::VPCGatewayAttachment": (
        Branch(("ec2:AttachVpnGateway", "ec2:DetachVpnGateway", "ec2:DescribeVpnGateways"), ("VpnGatewayId",),
               _EC2_API),
    ),
    "AWS::EFS::FileSystem": (
        Branch(("elasticfilesystem:CreateReplicationConfiguration",
                "elasticfilesystem:DeleteReplicationConfiguration"), ("ReplicationConfiguration",),
               "https://docs.aws.amazon.com/efs/latest/ug/efs-replication.html"),
        # Replication overwrite protection.
        Branch(("elasticfilesystem:UpdateFileSystemProtection",),
               ("FileSystemProtection", "ReplicationConfiguration"),
               "https://docs.aws.amazon.com/efs/latest/ug/replication-overwrite.html"),
    ),
    "AWS::ElasticLoadBalancingV2::Listener": (
        Branch(("cognito-idp:DescribeUserPoolClient",), ("DefaultActions.AuthenticateCognitoConfig",),
               "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html"),
        Branch(("elasticloadbalancing:ModifyListenerAttributes",), ("ListenerAttributes",), _ELB_API),
    ),
    "AWS::ElasticLoadBalancingV2::ListenerRule": (
        Branch(("cognito-idp:DescribeUserPoolClient",), ("Actions.AuthenticateCognitoConfig",),
               "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html"),
    ),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        Branch(("elasticloadbalancing:ModifyCapacityReservation",), ("MinimumLoadBalancerCapacity",), _ELB_API),
        Branch(("elasticloadbalancing:ModifyIpPools", "ec2:DescribeIpamPools"), ("Ipv4IpamPoolId",), _ELB_API),
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        # Targets listed in the template; an Auto Scaling group registers its own instances.
        Branch(("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"), ("Targets",),
               _ELB_API),
    ),
    "AWS::KMS::Key": (
        # Only when Enabled changes (it defaults to true).
        Branch(("kms:DisableKey", "kms:EnableKey"), ("Enabled",), _KMS_PROVIDER),
    ),
    "AWS::Logs::LogGroup": (
        # A data protection policy's audit findings go to a log group, S3 or Firehose
        # through log delivery.
        Branch(("logs:PutDataProtectionPolicy", "logs:DeleteDataProtectionPolicy", "logs:CreateLogDelivery",
                "s3:REST.PUT.OBJECT", "firehose:TagDeliveryStream"), ("DataProtectionPolicy",),
               "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/data-protection-policy-permissions.html"),
        Branch(("logs:PutIndexPolicy", "logs:DeleteIndexPolicy"), ("FieldIndexPolicies",), _LOGS_API),
        Branch(("logs:PutResourcePolicy", "logs:DeleteResourcePolicy"), ("ResourcePolicyDocument",), _LOGS_API),
        Branch(("logs:PutLogGroupDeletionProtection",), ("DeletionProtectionEnabled",), _LOGS_API),
        Branch(("logs:PutBearerTokenAuthentication",), ("BearerTokenAuthenticationEnabled",), _LOGS_API),
    ),
    "AWS::RDS::DBInstance": (
        Branch(("rds:AddRoleToDBInstance", "rds:RemoveRoleFromDBInstance"), ("AssociatedRoles",), _RDS_PROVIDER),
        Branch(("rds:RestoreDBInstanceFromDBSnapshot",), ("DBSnapshotIdentifier", "DBClusterSnapshotIdentifier"),
               _RDS_PROVIDER),
        # The snapshot's engine is read before restoring from it, and only then.
        Branch(("rds:DescribeDBSnapshots",), ("DBSnapshotIdentifier",), _RDS_PROVIDER),
        Branch(("rds:DescribeDBClusterSnapshots",), ("DBClusterSnapshotIdentifier",), _RDS_PROVIDER),
        # Cluster members and cluster read replicas: the cluster is read to stabilize.
        Branch(("rds:DescribeDBClusters",), ("DBClusterIdentifier", "SourceDBClusterIdentifier"), _RDS_PROVIDER),
        Branch(("rds:CreateDBInstanceReadReplica", "rds:PromoteReadReplica"),
               ("SourceDBInstanceIdentifier", "SourceDBClusterIdentifier"), _RDS_PROVIDER),
        # SourceDBInstanceIdentifier alone makes a read replica; with one of these it is a
        # point-in-time restore.
        Branch(("rds:RestoreDBInstanceToPointInTime",),
               ("RestoreTime", "UseLatestRestorableTime", "SourceDbiResourceId",
                "SourceDBInstanceAutomatedBackupsArn"), _RDS_PROVIDER),
        Branch(("rds:StartDBInstanceAutomatedBackupsReplication", "rds:StopDBInstanceAutomatedBackupsReplication"),
               ("AutomaticBackupReplicationRegion", "AutomaticBackupReplicationKmsKeyId",
                "AutomaticBackupReplicationRetentionPeriod"),
               _RDS_PROVIDER),
        # The master password secret RDS manages.
        Branch(("secretsmanager:CreateSecret", "secretsmanager:TagResource"),
               ("ManageMasterUserPassword", "MasterUserSecret"),
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html"
               "#rds-secrets-manager-permissions"),
    ),
    "AWS::Route53::HostedZone": (
        Branch(("route53:CreateQueryLoggingConfig", "route53:DeleteQueryLoggingConfig"), ("QueryLoggingConfig",),
               "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html"),
        # Private hosted zones.
        Branch(("route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone", "ec2:DescribeVpcs"),
               ("VPCs",), "https://docs.aws.amazon.com/Route53/latest/APIReference/API_AssociateVPCWithHostedZone.html"),
        Branch(("route53:UpdateHostedZoneFeatures",), ("HostedZoneFeatures",),
               "https://docs.aws.amazon.com/Route53/latest/APIReference/API_Operations_Amazon_Route_53.html"),
    ),
    "AWS::S3::Bucket": (
        Branch(("s3:PutBucketAbac",), ("AbacStatus",), _S3_API),
        Branch(("s3:PutAccelerateConfiguration",), ("AccelerateConfiguration",), _S3_API),
        Branch(("s3:PutBucketAcl",), ("AccessControl",), _S3_API),
        Branch(("s3:PutAnalyticsConfiguration", "s3:DeleteBucketAnalyticsConfiguration"),
               ("AnalyticsConfigurations",), _S3_API),
        Branch(("s3:PutBucketCORS", "s3:DeleteBucketCors"), ("CorsConfiguration",), _S3_API),
        Branch(("s3:PutIntelligentTieringConfiguration",), ("IntelligentTieringConfigurations",), _S3_API),
        Branch(("s3:PutInventoryConfiguration",), ("InventoryConfigurations",), _S3_API),
        Branch(("s3:PutBucketLogging",), ("LoggingConfiguration",), _S3_API),
        Branch(("s3:PutMetricsConfiguration", "s3:DeleteBucketMetricsConfiguration"),
               ("MetricsConfigurations",), _S3_API),
        Branch(("s3:PutBucketNotification",), ("NotificationConfiguration",), _S3_API),
        Branch(("s3:PutBucketObjectLockConfiguration", "s3:PutObjectLockConfiguration"),
               ("ObjectLockConfiguration", "ObjectLockEnabled"), _S3_API),
        Branch(("s3:PutReplicationConfiguration", "s3:PutBucketReplication", "s3:DeleteBucketReplication"),
               ("ReplicationConfiguration",), _S3_API),
        Branch(("s3:PutBucketWebsite", "s3:DeleteBucketWebsite"), ("WebsiteConfiguration",), _S3_API),
        # S3 Metadata: journal and inventory tables in an AWS managed table bucket (S3 Tables).
        Branch(("s3:CreateBucketMetadataTableConfiguration", "s3:DeleteBucketMetadataTableConfiguration",
                "s3:UpdateBucketMetadataJournalTableConfiguration",
                "s3:UpdateBucketMetadataInventoryTableConfiguration",
                "s3:UpdateBucketMetadataAnnotationTableConfiguration",
                "s3tables:CreateNamespace", "s3tables:CreateTable", "s3tables:CreateTableBucket", "s3tables:GetTable",
                "s3tables:PutTableBucketPolicy", "s3tables:PutTableEncryption", "s3tables:PutTablePolicy",
                "s3tables:GetTableMetadataLocation", "s3tables:UpdateTableMetadataLocation"),
               ("MetadataConfiguration", "MetadataTableConfiguration"),
               "https://docs.aws.amazon.com/AmazonS3/latest/userguide/metadata-tables-permissions.html"),
    ),
    "AWS::SNS::Subscription": (
        # The role Firehose subscriptions deliver with.
        Branch(("iam:GetRole",), ("SubscriptionRoleArn",),
               "https://docs.aws.amazon.com/sns/latest/dg/prereqs-kinesis-data-firehose.html"),
        # Subscribe sets the attributes at creation; the update handler sets the changed ones.
        Branch(("sns:SetSubscriptionAttributes",),
               ("DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
                "ReplayPolicy", "SubscriptionRoleArn"), _SNS_SUBSCRIPTION_PROVIDER),
    ),
    "AWS::SNS::Topic": (
        Branch(("sns:PutDataProtectionPolicy",), ("DataProtectionPolicy",), _SNS_TOPIC_PROVIDER),
        # Only the subscriptions added to or taken from Subscription.
        Branch(("sns:Subscribe", "sns:Unsubscribe"), ("Subscription",), _SNS_TOPIC_PROVIDER),
        # Delivery status logging names the roles SNS logs with.
        Branch(("iam:GetRole",), ("DeliveryStatusLogging",),
               "https://docs.aws.amazon.com/sns/latest/dg/sns-topic-attributes.html"),
    ),
    "AWS::SecretsManager::Secret": (
        Branch(("secretsmanager:ReplicateSecretToRegions", "secretsmanager:RemoveRegionsFromReplication"),
               ("ReplicaRegions",),
               "https://docs.aws.amazon.com/secretsmanager/latest/userguide/create-manage-multi-region-secrets.html"),
    ),
    "AWS::SecretsManager::SecretTargetAttachment": (
        # The handler reads the target's endpoint from the service TargetType names.
        Branch(("rds:DescribeDBInstances",), ("TargetType=AWS::RDS::DBInstance", "TargetType=AWS::DocDB::DBInstance"),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
               "aws-resource-secretsmanager-secrettargetattachment.html"),
        Branch(("rds:DescribeDBClusters",), ("TargetType=AWS::RDS::DBCluster", "TargetType=AWS::DocDB::DBCluster"),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
               "aws-resource-secretsmanager-secrettargetattachment.html"),
        Branch(("redshift:DescribeClusters",), ("TargetType=AWS::Redshift::Cluster",),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
               "aws-resource-secretsmanager-secrettargetattachment.html"),
        Branch(("redshift-serverless:GetNamespace", "redshift-serverless:ListWorkgroups"),
               ("TargetType=AWS::RedshiftServerless::Namespace",),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
               "aws-resource-secretsmanager-secrettargetattachment.html"),
        Branch(("docdb-elastic:GetCluster",), ("TargetType=AWS::DocDBElastic::Cluster",),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
               "aws-resource-secretsmanager-secrettargetattachment.html"),
    ),
    "AWS::WAFv2::WebACL": (
        Branch(("payments:GetConnectedAccount",), ("MonetizationConfig",),
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-webacl.html"),
    ),
}

# Wildcards in handler permissions, per type: the concrete actions the handler calls in
# their place, for any configuration (BRANCHES then takes out those of unset properties).
WILDCARDS: dict[str, dict[str, tuple[str, ...]]] = {
    "AWS::AutoScaling::AutoScalingGroup": {
        # A launch template's ImageId may be `resolve:ssm:<parameter>`: launching reads that
        # parameter with ssm:GetParameters (and GetParameter for one). No other Systems
        # Manager read (documents, sessions, inventory) is part of launching instances.
        # https://docs.aws.amazon.com/autoscaling/ec2/userguide/using-systems-manager-parameters.html
        "ssm:Get*": ("ssm:GetParameter", "ssm:GetParameters"),
        # The EC2 reads behind launching from a launch template: the account's launch
        # defaults (credit specification of burstable types, EBS encryption and its key,
        # instance metadata defaults), plus attribute-based instance type selection and
        # capacity reservations (BRANCHES). Not password data, console output, IPAM,
        # transit gateways or VPN: no group property concerns them.
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Operations.html
        "ec2:Get*": ("ec2:GetDefaultCreditSpecification", "ec2:GetEbsDefaultKmsKeyId", "ec2:GetEbsEncryptionByDefault",
                     "ec2:GetInstanceMetadataDefaults", "ec2:GetInstanceTypesFromInstanceRequirements",
                     "ec2:GetCapacityReservationUsage", "ec2:GetGroupsForCapacityReservation"),
        # IAM knows no managed-fleets service prefix (cfn-lint's table of actions): no policy
        # can grant these, so the wildcard stands for nothing grantable.
        "managed-fleets:Get*": (),
    },
}

# Wildcards that stay, and why. Describe actions are read-only and grant no resource-level
# access; the Auto Scaling group handler is not published, so which of them it calls cannot
# be listed, and AWS's own example policy for groups with launch templates grants
# autoscaling:Describe* whole.
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html
KEPT_WILDCARDS: dict[str, dict[str, str]] = {
    "AWS::AutoScaling::AutoScalingGroup": {
        "autoscaling:Describe*": "AWS's example policy for launch-template groups grants it whole",
        "ec2:Describe*": "read-only lookups of the launch template, AMI, subnets and instances; the handler's "
                         "calls are not published",
        "elasticloadbalancing:Describe*": "read-only lookups of the target groups and their health; the "
                                          "handler's calls are not published",
    },
}


def branches_of(resource_type: str) -> tuple[Branch, ...]:
    return BRANCHES.get(resource_type, ())


def concrete(resource_type: str, actions: set[str]) -> set[str]:
    """`actions` with each wildcard WILDCARDS knows for `resource_type` replaced by its concrete actions."""
    replacements = WILDCARDS.get(resource_type, {})
    result = set()
    for action in actions:
        result |= set(replacements[action]) if action in replacements else {action}
    return result


def unused_actions(resource_type: str, is_set) -> set[str]:
    """The branch actions of `resource_type` that no set branch needs; `is_set(when)` says
    whether one `when` entry is set in the templates."""
    needed, optional = set(), set()
    for branch in branches_of(resource_type):
        optional |= set(branch.actions)
        if any(is_set(when) for when in branch.when):
            needed |= set(branch.actions)
    return optional - needed


def split_when(resource_type: str, when: str) -> tuple[str, list[str], str | None]:
    """(the type whose property decides, the property path's keys, the value or None)."""
    owner, _, rest = when.rpartition(" ")
    path, equals, value = rest.partition("=")
    return owner or resource_type, path.split("."), value if equals else None
