"""Which parameters the root declares, in console order, and what it passes the network stack."""

from __future__ import annotations

from threetier.parameters.app import (
                 ALB_ACCESS_LOG_RETENTION_DAYS,
                 ALB_ACCESS_LOGS,
                 ALB_CERTIFICATE_ARN,
                 ALB_DELETION_PROTECTION,
                 ALB_IDLE_TIMEOUT_SECONDS,
                 AMI_ID,
                 APP_ENTRY_POINT,
                 APP_LOG_RETENTION_DAYS,
                 APP_REPOSITORY_REF,
                 APP_REPOSITORY_URL,
                 ASG_MAX_SIZE,
                 ASG_MIN_SIZE,
                 BASTION_INSTANCE_TYPE,
                 BASTION_KEY_PAIR,
                 CPU_CREDITS,
                 CPU_TARGET_PERCENT,
                 DETAILED_MONITORING,
                 HEALTH_CHECK_GRACE_SECONDS,
                 HEALTH_CHECK_PATH,
                 INSTANCE_TYPE,
                 PINNED_AMI_ID,
                 ROOT_DEVICE_NAME,
                 ROOT_VOLUME_SIZE,
)
from threetier.parameters.backup import BACKUP
from threetier.parameters.data import (
                 DB_ALLOCATED_STORAGE,
                 DB_BACKUP_RETENTION_DAYS,
                 DB_DELETION_PROTECTION,
                 DB_ENGINE,
                 DB_INSTANCE_CLASS,
                 DB_LOG_RETENTION_DAYS,
                 DB_MASTER_USERNAME,
                 DB_MAX_ALLOCATED_STORAGE,
                 DB_MONITORING_INTERVAL,
                 DB_MULTI_AZ,
                 DB_NAME,
                 DB_PERFORMANCE_INSIGHTS,
                 DB_REPLICA_ENABLED,
                 DB_REPLICA_INSTANCE_CLASS,
                 DB_RESTORE_SNAPSHOT,
                 EFS_PERFORMANCE_MODE,
                 EFS_THROUGHPUT_MODE,
                 EFS_TRANSITION_TO_IA,
)
from threetier.parameters.edge import (
                 CLOUDFRONT_CERTIFICATE_ARN,
                 CLOUDFRONT_ENABLED,
                 CLOUDFRONT_LOGGING,
                 CLOUDFRONT_ONLY,
                 CLOUDFRONT_PREFIX_LIST_ID,
                 CLOUDFRONT_PRICE_CLASS,
                 DOMAIN_NAME,
                 HOSTED_ZONE_ID,
                 ORIGIN_VERIFY_PREVIOUS_VERSION,
                 ORIGIN_VERIFY_VERSION,
                 SITE_SUBDOMAIN,
                 WAF_ENABLED,
                 WEB_ACL_ARN,
)
from threetier.parameters.iam import IAM
from threetier.parameters.monitoring import ALARM_EMAIL, MONITORING_ENABLED, THRESHOLDS
from threetier.parameters.network import (
                 AVAILABILITY_ZONE_NAMES,
                 FLOW_LOG_RETENTION_DAYS,
                 NETWORK_SHARED,
                 NUMBER_OF_AZS,
                 SINGLE_NAT_GATEWAY,
                 SUBNET_CIDR_BITS,
                 VPC_NETWORK_ADDRESS,
                 VPC_PREFIX_LENGTH,
)
from threetier.parameters.project import PROJECT, STACK_LAYOUT
from threetier.parameters.security import ADMIN_CIDR, APP_PORT, BASTION_COUNT

# What the root passes the network stack, besides the VPC block it joins. The
# network stack is the first nested stack, so its Rules also carry the checks
# that do not fit in the root (51,200 bytes, see threetier.parameters.rules), refused
# before any resource is created. VpcPrefixLength, and InstanceType and all
# after it, are there for those checks only.
NETWORK_STACK = (VPC_PREFIX_LENGTH, *NETWORK_SHARED, *IAM, INSTANCE_TYPE, CPU_CREDITS,
                 DB_ENGINE, DB_INSTANCE_CLASS, DB_PERFORMANCE_INSIGHTS, DB_REPLICA_ENABLED,
                 DB_REPLICA_INSTANCE_CLASS, EFS_PERFORMANCE_MODE, EFS_THROUGHPUT_MODE,
                 CLOUDFRONT_ENABLED, CLOUDFRONT_LOGGING, CLOUDFRONT_ONLY, ALB_ACCESS_LOGS)

# Every root parameter in console order: groups show in the order their first
# parameter comes (see GROUP_PROJECT).
ROOT = (
    *PROJECT,
    NUMBER_OF_AZS, SINGLE_NAT_GATEWAY, INSTANCE_TYPE, CPU_CREDITS, ASG_MIN_SIZE, ASG_MAX_SIZE,
    DB_ENGINE, DB_INSTANCE_CLASS, DB_MULTI_AZ, DB_ALLOCATED_STORAGE, DB_REPLICA_ENABLED,
    DB_DELETION_PROTECTION, ALB_DELETION_PROTECTION,
    DOMAIN_NAME, SITE_SUBDOMAIN, HOSTED_ZONE_ID, ALB_CERTIFICATE_ARN, CLOUDFRONT_ENABLED,
    CLOUDFRONT_CERTIFICATE_ARN, CLOUDFRONT_PREFIX_LIST_ID, WAF_ENABLED,
    MONITORING_ENABLED, ALARM_EMAIL,
    APP_REPOSITORY_URL, APP_REPOSITORY_REF, APP_ENTRY_POINT, APP_PORT, HEALTH_CHECK_PATH,
    BASTION_COUNT, ADMIN_CIDR, BASTION_KEY_PAIR, BASTION_INSTANCE_TYPE,
    *IAM,
    VPC_NETWORK_ADDRESS, VPC_PREFIX_LENGTH, SUBNET_CIDR_BITS, AVAILABILITY_ZONE_NAMES, FLOW_LOG_RETENTION_DAYS,
    AMI_ID, PINNED_AMI_ID, ROOT_DEVICE_NAME,
    ROOT_VOLUME_SIZE, STACK_LAYOUT,
    DETAILED_MONITORING, CPU_TARGET_PERCENT, HEALTH_CHECK_GRACE_SECONDS, APP_LOG_RETENTION_DAYS,
    ALB_IDLE_TIMEOUT_SECONDS, ALB_ACCESS_LOGS, ALB_ACCESS_LOG_RETENTION_DAYS, CLOUDFRONT_PRICE_CLASS,
    CLOUDFRONT_LOGGING, CLOUDFRONT_ONLY, WEB_ACL_ARN, ORIGIN_VERIFY_VERSION, ORIGIN_VERIFY_PREVIOUS_VERSION,
    DB_NAME, DB_MASTER_USERNAME, DB_MAX_ALLOCATED_STORAGE, DB_BACKUP_RETENTION_DAYS, DB_REPLICA_INSTANCE_CLASS,
    DB_MONITORING_INTERVAL, DB_PERFORMANCE_INSIGHTS, DB_LOG_RETENTION_DAYS, DB_RESTORE_SNAPSHOT,
    EFS_PERFORMANCE_MODE, EFS_THROUGHPUT_MODE, EFS_TRANSITION_TO_IA, *BACKUP,
    *THRESHOLDS,
)
