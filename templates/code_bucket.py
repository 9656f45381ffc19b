"""The rotation function's code bucket of one region (output/code-bucket.yaml).

Lambda reads a function's code only from a bucket in the function's own region, which may be in
another account ("An Amazon S3 bucket in the same AWS Region as your function. The bucket can be in a
different AWS account."). A stack set rolled out to several regions therefore needs one bucket per
target region, named by the `code_bucket` setting ("name-${AWS::Region}"), and `threetier stackset
deploy` copies the packaged zip into each.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html

Not a stack of the application: `threetier stackset bootstrap` deploys it as stack set
`<name>-bootstrap-code` to the administrator account itself, in every target region. One bucket per
region, not per account: bucket names are unique in the whole partition, so the same name cannot be
created in two accounts, and a shared bucket per region is there already for an account that joins an
OU later. The stack instances of every account read it (aws:PrincipalOrgID); only the account that owns
it (the administrator, which copies the zip) may write.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
"""

from __future__ import annotations

from awacs import s3 as s3_actions
from awacs.aws import Condition, Deny, Principal, Statement, StringNotEquals
from troposphere import GetAtt, Parameter, Ref, Sub, Template, s3

from threetier.blocks import naming, policies
from threetier.blocks.suppressions import cfn_lint, checkov

PREFIX, SUFFIX, ORGANIZATION_ID = "CodeBucketPrefix", "CodeBucketSuffix", "OrganizationId"
WHY_NO_ACCESS_LOGS = ("It holds build artifacts that `threetier stackset deploy` copies in; CloudTrail records who "
                      "wrote them, and access logs would need another bucket per region, logged in turn.")
# Lint rule E9033 asks a named bucket for the account and the region in its name; this one is deployed to one
# account, once per region, and its name is the code_bucket setting's, which the packaged root passes too.
WHY_ONE_ACCOUNT = ("threetier stackset bootstrap deploys this template to the administrator account only, once "
                   "per region, and the region is in the name")
# The bucket's name: the code_bucket setting with this region in place of ${AWS::Region}.
BUCKET_NAME = f"${{{PREFIX}}}${{AWS::Region}}${{{SUFFIX}}}"


def build() -> Template:
    t = naming.new_template(
        "threetier rotation code bucket: the region's copy of the rotation function's code, readable by the "
        "organization, written by this account only")
    _parameters(t)
    bucket = t.add_resource(code_bucket())
    t.add_resource(s3.BucketPolicy("CodeBucketPolicy", Bucket=Ref(bucket), PolicyDocument=bucket_policy(bucket)))
    naming.add_outputs(t, {"BucketName": ("The region's code bucket (code_bucket in threetier.toml)", Ref(bucket))})
    return t


def _parameters(t: Template) -> None:
    t.add_parameter(Parameter(
        PREFIX, Type="String", Description="code_bucket's text before the region",
        AllowedPattern=r"^[a-z0-9][a-z0-9.-]*$", ConstraintDescription="Lower-case letters, digits, dots, hyphens."))
    t.add_parameter(Parameter(
        SUFFIX, Type="String", Default="", Description="code_bucket's text after the region",
        AllowedPattern=r"^[a-z0-9.-]*$", ConstraintDescription="Lower-case letters, digits, dots, hyphens."))
    # https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html (Id)
    t.add_parameter(Parameter(
        ORGANIZATION_ID, Type="String", Description="The organization whose accounts read the code (o-...)",
        AllowedPattern=r"^o-[a-z0-9]{10,32}$", ConstraintDescription="An organization id like o-abc123def4."))


def code_bucket() -> s3.Bucket:
    """Private, versioned, kept when the stack goes: deployed stacks' functions point at its objects.

    SSE-S3, not SSE-KMS: the functions of other accounts read the code with their own credentials, and a
    KMS key would have to trust each of them too.
    """
    return s3.Bucket(
        "CodeBucket",
        BucketName=Sub(BUCKET_NAME),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[s3.ServerSideEncryptionRule(
            ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256"))]),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        Tags=naming.tags("rotation-code"),
        Metadata={**cfn_lint("E9033", WHY_ONE_ACCOUNT), **checkov(("CKV_AWS_18", WHY_NO_ACCESS_LOGS))},
    )


def bucket_policy(bucket):
    """Read by the organization's principals, written by this account's only, over TLS only."""
    objects = Sub("${Bucket}/*", Bucket=GetAtt(bucket, "Arn"))
    return policies.document(
        policies.organization_reads([objects], Ref(ORGANIZATION_ID)),
        deny_other_accounts_writes(objects),
        policies.deny_insecure_transport(GetAtt(bucket, "Arn"), objects),
    )


def deny_other_accounts_writes(objects) -> Statement:
    """Only principals of the account that owns the bucket may write its objects. Another account's principal
    needs a grant here to write at all; the Deny keeps a later, broader statement from giving one.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalaccount
    """
    return Statement(
        Sid="OnlyThisAccountWrites",
        Effect=Deny,
        Principal=Principal("AWS", "*"),
        Action=[s3_actions.PutObject, s3_actions.DeleteObject, s3_actions.DeleteObjectVersion],
        Resource=[objects],
        Condition=Condition(StringNotEquals("aws:PrincipalAccount", Ref("AWS::AccountId"))),
    )
