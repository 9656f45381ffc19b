"""Values the root stack wires from one nested stack's outputs to the next; users never type them."""

from __future__ import annotations

from threetier.facts import lengths
from threetier.parameters.param import GROUP_WIRED, Param, wired

# The values the app user data substitutes get a pattern and a MaxLength that hold for any value
# the data stack can output, so that the user data's longest rendering is known
# (threetier.blocks.userdata; threetier.facts.lengths says where each bound comes from).
_SECRET_ARN = dict(
    allowed_pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$",
    max_length=lengths.SECRET_ARN,
    constraint="A Secrets Manager secret ARN.",
)

VPC_ID = wired("VpcId", "AWS::EC2::VPC::Id", "VPC of the stack (network stack output).")

VPC_CIDR = Param("VpcCidr", "String", "IPv4 CIDR block of the VPC: VpcNetworkAddress/VpcPrefixLength.",
                 label="VpcCidr", group=GROUP_WIRED, default="10.0.0.0/16")

AVAILABILITY_ZONES = wired(
    "AvailabilityZones", "CommaDelimitedList", "AZs in use (network stack output)."
)

PUBLIC_SUBNET_IDS = wired(
    "PublicSubnetIds", "List<AWS::EC2::Subnet::Id>", "Public subnets, one per AZ."
)

APP_SUBNET_IDS = wired(
    "AppSubnetIds", "List<AWS::EC2::Subnet::Id>", "Private app subnets, one per AZ."
)

DATA_SUBNET_IDS = wired(
    "DataSubnetIds", "List<AWS::EC2::Subnet::Id>", "Private data subnets, one per AZ."
)

ALB_SECURITY_GROUP_ID = wired(
    "AlbSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the load balancer."
)

ALB_CLOUDFRONT_SECURITY_GROUP_ID = wired(
    "AlbCloudFrontSecurityGroupId", "String",
    "Second security group of the load balancer: CloudFront's origin-facing servers (empty without CloudFront)."
)

APP_SECURITY_GROUP_ID = wired(
    "AppSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the app instances."
)

EFS_SECURITY_GROUP_ID = wired(
    "EfsSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the EFS mount targets."
)

DB_SECURITY_GROUP_ID = wired(
    "DbSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the database."
)

BASTION_SECURITY_GROUP_ID = wired(
    "BastionSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "Security group of the bastion hosts."
)

DB_ENDPOINT_ADDRESS = wired("DbEndpointAddress", "String", "Database endpoint host name.",
                            allowed_pattern=r"^[A-Za-z0-9.-]+$", max_length=lengths.DNS_NAME,
                            constraint="A host name.")

DB_ENDPOINT_PORT = wired("DbEndpointPort", "String", "Database port.",
                         allowed_pattern=r"^[0-9]+$", max_length=lengths.PORT, constraint="A TCP port.")

DB_MASTER_SECRET_ARN = wired(
    "DbMasterSecretArn", "String", "ARN of the database master user secret.", **_SECRET_ARN
)

APP_SECRET_ARN = wired("AppSecretArn", "String", "ARN of the application secret.", **_SECRET_ARN)

EFS_FILE_SYSTEM_ID = wired("EfsFileSystemId", "String", "EFS file system id.",
                           allowed_pattern=r"^fs-[0-9a-f]{8,40}$", max_length=lengths.EFS_FILE_SYSTEM_ID,
                           constraint="An EFS file system id (fs-...).")

EFS_FILE_SYSTEM_ARN = wired("EfsFileSystemArn", "String", "EFS file system ARN.")

EFS_ACCESS_POINT_ID = wired("EfsAccessPointId", "String", "EFS access point the app servers mount.",
                            allowed_pattern=r"^fsap-[0-9a-f]{8,40}$", max_length=lengths.EFS_ACCESS_POINT_ID,
                            constraint="An EFS access point id (fsap-...).")

EFS_ACCESS_POINT_ARN = wired("EfsAccessPointArn", "String", "ARN of the EFS access point the app servers mount.")

ORIGIN_VERIFY_SECRET_ARN = wired(
    "OriginVerifySecretArn", "String",
    "ARN of the secret holding the header value CloudFront sends to the load balancer.",
)

ZONE_ID = wired("ZoneId", "String", "Hosted zone of the domain (dns stack output).")

ALB_DNS_NAME = wired("AlbDnsName", "String", "Load balancer DNS name (app stack output).")

ALB_HOSTED_ZONE_ID = wired(
    "AlbCanonicalHostedZoneId", "String", "Load balancer hosted zone id (app stack output)."
)

SITE_CERTIFICATE_ARN = wired(
    "SiteCertificateArn", "String", "CloudFront certificate (us-east-1) for the site name."
)

ALB_FULL_NAME = wired("AlbFullName", "String", "Load balancer name for CloudWatch (app/...).")

# Empty in the chain layout, where the app stack makes its own load balancer (templates/app.py).
TARGET_GROUP_ARN = wired("TargetGroupArn", "String", "Target group of the front stack (empty: the app stack's own).",
                         default="")

TARGET_GROUP_FULL_NAME = wired("TargetGroupFullName", "String", "Target group name for CloudWatch.")

AUTO_SCALING_GROUP_NAME = wired("AutoScalingGroupName", "String", "Auto Scaling group of the app servers.")

DB_INSTANCE_IDENTIFIER = wired("DbInstanceIdentifier", "String", "Primary database instance id.")

DB_PARAMETER_GROUP_NAME = wired("DbParameterGroupName", "String", "DB parameter group (data stack output).")

DB_MONITORING_ROLE_ARN = wired("DbMonitoringRoleArn", "String",
                               "Enhanced monitoring role (data stack output; empty: monitoring off).")

DB_REPLICA_IDENTIFIER = wired("DbReplicaIdentifier", "String", "Read replica instance id (empty without one).")

NAT_GATEWAY_IDS = wired("NatGatewayIds", "CommaDelimitedList", "NAT gateway ids.")

DB_ROTATION_SECURITY_GROUP_ID = wired(
    "DbRotationSecurityGroupId", "AWS::EC2::SecurityGroup::Id",
    "Security group of the database password rotation functions.")

DB_APP_SECRET_ARN = wired("DbAppSecretArn", "String", "ARN of the app's own database user secret.", **_SECRET_ARN)

# Where `threetier package` uploaded the rotation function's zip (the generated root has
# an empty bucket and the file name; package writes the bucket and the content key).
ROTATION_CODE_BUCKET = wired("RotationCodeBucket", "String", "S3 bucket of the rotation function's code.")
ROTATION_CODE_KEY = wired("RotationCodeKey", "String", "S3 key of the rotation function's code (a zip).")

LOG_KEY_ARN = wired("LogKeyArn", "String", "KMS key that encrypts the stack's log groups (network stack output).")
