"""output/code-bucket.yaml: the rotation code's bucket of one region, as `threetier stackset bootstrap` creates it
in every target region: its name comes from code_bucket, the organization reads, only its account writes, over
TLS only, and it stays when its stack goes."""

from __future__ import annotations

import pytest

from templates import code_bucket
from threetier.deploy import stacksettargets

OBJECTS = {"Fn::Sub": ["${Bucket}/*", {"Bucket": {"Fn::GetAtt": ["CodeBucket", "Arn"]}}]}


@pytest.fixture(scope="module")
def template():
    return code_bucket.build().to_dict()


def statement(template, sid):
    document = template["Resources"]["CodeBucketPolicy"]["Properties"]["PolicyDocument"]
    return next(s for s in document["Statement"] if s["Sid"] == sid)


def test_the_name_is_code_bucket_with_the_stacks_region_in_place_of_the_variable(template):
    name = template["Resources"]["CodeBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    prefix, suffix = stacksettargets.code_bucket_parts("shop-code-${AWS::Region}-v1")

    resolved = (name.replace("${CodeBucketPrefix}", prefix).replace("${CodeBucketSuffix}", suffix)
                .replace("${AWS::Region}", "eu-west-1"))

    assert resolved == "shop-code-eu-west-1-v1"
    assert template["Parameters"]["CodeBucketSuffix"]["Default"] == ""


def test_only_principals_of_the_organization_read_the_objects(template):
    read = statement(template, "OrganizationReadsTemplates")

    assert read["Effect"] == "Allow" and read["Action"] == ["s3:GetObject"]
    assert read["Principal"] == {"AWS": "*"} and read["Resource"] == [OBJECTS]
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    assert template["Parameters"]["OrganizationId"]["AllowedPattern"] == "^o-[a-z0-9]{10,32}$"
    # Nothing else is allowed: the owner account writes through its own IAM policies.
    document = template["Resources"]["CodeBucketPolicy"]["Properties"]["PolicyDocument"]
    assert [s["Sid"] for s in document["Statement"] if s["Effect"] == "Allow"] == ["OrganizationReadsTemplates"]


def test_principals_of_other_accounts_may_not_write(template):
    deny = statement(template, "OnlyThisAccountWrites")

    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"} and deny["Resource"] == [OBJECTS]
    assert deny["Action"] == ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}


def test_requests_without_tls_are_refused_on_the_bucket_and_its_objects(template):
    deny = statement(template, "DenyInsecureTransport")

    assert deny["Effect"] == "Deny" and deny["Action"] == ["*"]
    assert deny["Resource"] == [{"Fn::GetAtt": ["CodeBucket", "Arn"]}, OBJECTS]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_bucket_is_private_versioned_encrypted_and_retained(template):
    bucket = template["Resources"]["CodeBucket"]
    properties = bucket["Properties"]

    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_the_policy_as_deployed_passes_the_check_stackset_deploy_makes_of_a_code_bucket(template):
    """The organization-only read `threetier stackset deploy` requires of each code bucket (threetier.deploy.stackset):
    the policy the template gives, resolved for one region, has it and no read for everyone."""
    import json

    from threetier.deploy import stackset
    from threetier.parameters.evaluate import Evaluation

    values = {"CodeBucketPrefix": "shop-code-", "OrganizationId": "o-abc123def4"}
    evaluation = Evaluation(template, values, region="eu-west-1", account_id="111111111111")
    # The bucket's Arn as CloudFormation gives it: arn:<partition>:s3:::<its name>.
    arn = {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + template["Resources"]["CodeBucket"]["Properties"]["BucketName"]["Fn::Sub"]}
    text = json.dumps(template["Resources"]["CodeBucketPolicy"]["Properties"]["PolicyDocument"])
    document = evaluation.resolve(json.loads(text.replace(json.dumps({"Fn::GetAtt": ["CodeBucket", "Arn"]}),
                                                          json.dumps(arn))))

    class S3:
        def get_bucket_policy(self, Bucket):
            return {"Policy": json.dumps(document)}

    assert document["Statement"][0]["Resource"] == ["arn:aws:s3:::shop-code-eu-west-1/*"]
    assert stackset.bucket_read_problem(S3(), "shop-code-eu-west-1") is None
