"""IAM policy builders (awacs): one function per purpose, each returning Statements with a Sid.

Resources are always the narrowest ARN the action supports, built with
Ref/GetAtt/Sub so no partition, region or account is hard-coded.
"""

from __future__ import annotations

from awacs import elasticfilesystem, elasticloadbalancing, logs, s3, secretsmanager, ssm, sts
from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import If, NoValue, Ref, Sub, iam

from threetier import parameters as P
from threetier.parameters.conditions import HAS_PERMISSIONS_BOUNDARY

POLICY_VERSION = "2012-10-17"


def document(*statements: Statement) -> PolicyDocument:
    return PolicyDocument(Version=POLICY_VERSION, Statement=list(statements))


def document_with_choices(*statements: Statement | If) -> dict:
    """A policy document some of whose statements are Fn::If choices (awacs takes Statements only)."""
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def inline(name: str, *statements: Statement) -> iam.Policy:
    return iam.Policy(PolicyName=name, PolicyDocument=document(*statements))


def service_principal(service: str) -> Sub:
    """`<service>.amazonaws.com`, or the partition's own domain (amazonaws.com.cn in China).

    AWS::URLSuffix is the partition's domain suffix.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html#cfn-pseudo-param-urlsuffix
    """
    return Sub(f"{service}.${{AWS::URLSuffix}}")


def role_placement() -> dict:
    """Path and permissions boundary every role takes (root parameters IamRolePath and
    PermissionsBoundaryArn; no boundary when empty). A template using it declares
    P.IAM and the HasPermissionsBoundary condition."""
    return {
        "Path": Ref(P.IAM_ROLE_PATH.name),
        "PermissionsBoundary": If(HAS_PERMISSIONS_BOUNDARY, Ref(P.PERMISSIONS_BOUNDARY_ARN.name), NoValue),
    }


def trust(service: str, source_arn: Sub | None = None) -> PolicyDocument:
    """Let one AWS service assume the role, only on behalf of this account.

    With `source_arn`, also only for resources matching it (confused-deputy guard).
    """
    conditions = [StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))]
    if source_arn is not None:
        conditions.append(ArnLike("aws:SourceArn", source_arn))
    return document(
        Statement(
            Sid="TrustService",
            Effect=Allow,
            Principal=Principal("Service", service_principal(service)),
            Action=[sts.AssumeRole],
            Condition=Condition(conditions),
        )
    )


def ec2_trust() -> PolicyDocument:
    """Let EC2 assume the role for an instance profile: the plain trust the console writes.

    No aws:SourceAccount condition: no AWS document says EC2 sends that key when it
    delivers instance-profile credentials, and if it does not, no server gets
    credentials. Who may hand the role to an instance is iam:PassRole's business.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
    (project lint rule E9005).
    """
    return document(
        Statement(
            Sid="TrustEc2",
            Effect=Allow,
            Principal=Principal("Service", service_principal("ec2")),
            Action=[sts.AssumeRole],
        )
    )


def write_log_group(sid: str, log_group_arn: object) -> Statement:
    """Create streams in and write to one existing log group (its GetAtt Arn ends in :*,
    which covers its streams). The stack creates the group, so no logs:CreateLogGroup,
    and no retention or other group's rights.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html
    """
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=[logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
        Resource=[log_group_arn],
    )


def deny_parameter_store_reads() -> Statement:
    """AmazonSSMManagedInstanceCore (Session Manager) also lets an instance read every
    Parameter Store value of the account. The servers read nothing there (their secrets
    come from Secrets Manager), so this account's parameters are denied; AWS's public
    parameters (arn:...:ssm:<region>::parameter/aws/service/..., no account) stay readable.
    https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html
    """
    return Statement(
        Sid="DenyParameterStoreReads",
        Effect=Deny,
        Action=[ssm.GetParameter, ssm.GetParameters, ssm.GetParametersByPath, ssm.GetParameterHistory],
        Resource=[Sub("arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/*")],
    )


def write_flow_logs(log_group_arn: object) -> list[Statement]:
    """What VPC flow logs need to deliver into one existing log group."""
    return [
        write_log_group("WriteFlowLogs", log_group_arn),
        # DescribeLogGroups is a listing call: it takes no single-group ARN.
        Statement(
            Sid="ListLogGroups",
            Effect=Allow,
            Action=[logs.DescribeLogGroups],
            Resource=[
                Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")
            ],
        ),
    ]


def deny_insecure_transport(*resources, actions=None) -> Statement:
    """Resource-policy statement refusing every request not made over TLS.

    Resources are needed in a bucket policy; an EFS file system policy takes none.
    `actions` for services whose resource policies take only their own actions
    (an SNS topic policy refuses "*": project lint rule E9006).
    """
    statement = Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("AWS", "*"),
        Action=list(actions) if actions else [Action("*")],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )
    if resources:
        statement.Resource = list(resources)
    return statement


def aws_managed(name: str) -> Sub:
    """ARN of an AWS managed policy, in whatever partition the stack runs."""
    return Sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{name}")


def read_secrets(*secret_arns) -> Statement:
    """Read exactly these secrets, nothing else in Secrets Manager."""
    return Statement(
        Sid="ReadAppSecrets",
        Effect=Allow,
        Action=[secretsmanager.GetSecretValue],
        Resource=list(secret_arns),
    )


def leave_and_rejoin_target_group(target_group_arn) -> list[Statement]:
    """Take targets out of one target group and put them back, and read their health: what a server
    does around a restart (app-load-secrets.py, restart_out_of_service). Register and deregister
    act on a target group ARN; DescribeTargetHealth takes no resource, so it reads every target
    group's health, which changes nothing.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
    """
    return [
        Statement(
            Sid="LeaveAndRejoinTargetGroup",
            Effect=Allow,
            Action=[elasticloadbalancing.DeregisterTargets, elasticloadbalancing.RegisterTargets],
            Resource=[target_group_arn],
        ),
        Statement(
            Sid="ReadTargetHealth",
            Effect=Allow,
            Action=[elasticloadbalancing.DescribeTargetHealth],
            Resource=["*"],
        ),
    ]


def mount_file_system(file_system_arn, access_point_arn) -> Statement:
    """Mount and write one EFS file system through one access point and its mount targets
    (efs-utils `iam` and `accesspoint=` options). No ClientRootAccess: the access point's
    POSIX user is who writes.
    https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
    """
    return Statement(
        Sid="MountFileSystem",
        Effect=Allow,
        Action=[elasticfilesystem.ClientMount, elasticfilesystem.ClientWrite],
        Resource=[file_system_arn],
        Condition=Condition([
            StringEquals("elasticfilesystem:AccessPointArn", access_point_arn),
            Bool("elasticfilesystem:AccessedViaMountTarget", "true"),
        ]),
    )


def mount_through_access_points() -> Statement:
    """EFS file system policy: this account's principals may mount and write only through an
    access point and a mount target; their IAM policies say which access point.

    A file system policy replaces EFS's default allow-all for IAM-authorised mounts.
    https://docs.aws.amazon.com/efs/latest/ug/access-control-block-public-access.html
    """
    return Statement(
        Sid="MountThroughAccessPoints",
        Effect=Allow,
        Principal=Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
        Action=[elasticfilesystem.ClientMount, elasticfilesystem.ClientWrite],
        Condition=Condition([
            ArnLike("elasticfilesystem:AccessPointArn",
                    Sub("arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:access-point/*")),
            Bool("elasticfilesystem:AccessedViaMountTarget", "true"),
        ]),
    )


def key_administration() -> Statement:
    """The account administers its own key through IAM (the KMS default key policy)."""
    return Statement(
        Sid="AccountAdministersKey",
        Effect=Allow,
        Principal=Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
        Action=[Action("kms", "*")],
        Resource=["*"],  # in a key policy, "*" means this key
    )


def logs_key_use() -> Statement:
    """Key-policy statement: CloudWatch Logs in this region may use the key, for this account's log groups only."""
    return Statement(
        Sid="CloudWatchLogsUseKey",
        Effect=Allow,
        Principal=Principal("Service", service_principal("logs.${AWS::Region}")),
        Action=[
            Action("kms", "Encrypt*"),
            Action("kms", "Decrypt*"),
            Action("kms", "ReEncrypt*"),
            Action("kms", "GenerateDataKey*"),
            Action("kms", "Describe*"),
        ],
        Resource=["*"],  # in a key policy, "*" means this key
        Condition=Condition(ArnLike(
            "kms:EncryptionContext:aws:logs:arn",
            Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"),
        )),
    )


def organization_reads(object_arns, organization_id) -> Statement:
    """Bucket-policy statement letting any principal of one AWS Organization read these objects: the nested
    templates and the rotation function's code that a stack set's instances read from their own accounts.
    aws:PrincipalOrgID holds the requester's organization id
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid)."""
    return Statement(
        Sid="OrganizationReadsTemplates",
        Effect=Allow,
        Principal=Principal("AWS", "*"),
        Action=[s3.GetObject],
        Resource=list(object_arns),
        Condition=Condition(StringEquals("aws:PrincipalOrgID", organization_id)),
    )
