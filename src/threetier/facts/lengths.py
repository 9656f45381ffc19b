"""How long EC2 user data may be, and how long each value CloudFormation substitutes into it can be.

EC2 refuses user data over 16 KB in raw form, before base64 ("Work with instance user
data"); the API's own check is on the base64 text (ceil(n/3)*4 characters). A template
whose user data is Fn::Sub of a script fails at deploy time, in the launch template or
instance, once the values substituted make it longer: so the project measures it with
every value at its longest (threetier.blocks.userdata, lint rule E9015), from these
bounds and the parameters' MaxLength.
"""

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html",
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
    "https://docs.aws.amazon.com/efs/latest/ug/API_CreateFileSystem.html",
    "https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4",
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
    "botocore's bundled partitions.json (regions, partitions, DNS suffixes), read at run time by tests/facts/test_lengths.py",
)
CHECKED = "2026-12-06"

# "User data is limited to 16 KB, in raw form, before it is base64-encoded."
USER_DATA_BYTES = 16_384
# The API's check is on the base64 text: "Member must have length less than or equal to 21847".
# n bytes are ceil(n/3)*4 characters, so 16,384 bytes (21,848) are one group too many: the
# most that passes both is 16,383 bytes.
USER_DATA_BASE64_CHARACTERS = 21_847
USER_DATA_MOST_BYTES = min(USER_DATA_BYTES, USER_DATA_BASE64_CHARACTERS // 4 * 3)

# A stack name: 1 to 128 characters, a letter first, then letters, digits and hyphens. A
# nested stack's name (<parent>-<logical id>-<random>) is one too.
STACK_NAME = 128
# Region and partition names: the longest botocore knows are 14 (ap-southeast-4, eu-isoe-west-1)
# and 10 (aws-us-gov); the bounds leave room for regions botocore does not know yet
# (us-isof-south-1 is 15). tests/facts/test_lengths.py holds them against botocore's data.
REGION_NAME = 20
PARTITION_NAME = 12
# The domain suffix of a partition (AWS::URLSuffix): amazonaws.com.cn is the longest.
URL_SUFFIX = 16
ACCOUNT_ID = 12
STACK_ID_UUID = 36

# The longest text each pseudo parameter can be in Fn::Sub. AWS::StackId is
# arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>.
PSEUDO_PARAMETERS = {
    "AWS::StackName": STACK_NAME,
    "AWS::Region": REGION_NAME,
    "AWS::Partition": PARTITION_NAME,
    "AWS::URLSuffix": URL_SUFFIX,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackId": len("arn::cloudformation:::stack//") + PARTITION_NAME + REGION_NAME + ACCOUNT_ID
    + STACK_NAME + STACK_ID_UUID,
}

# A secret's name: up to 512 characters of letters, digits and /_+=.@- ; its ARN adds
# "-" and six random characters: arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-abcdef.
SECRET_NAME = 512
SECRET_ARN = (len("arn::secretsmanager:::secret:") + PARTITION_NAME + REGION_NAME + ACCOUNT_ID
              + SECRET_NAME + len("-abcdef"))
# A host name (a database endpoint): at most 253 characters in its text form.
DNS_NAME = 253
# EFS ids, as the EFS API's patterns give them: fs- or fsap- and 8 to 40 hex digits.
EFS_FILE_SYSTEM_ID = len("fs-") + 40
EFS_ACCESS_POINT_ID = len("fsap-") + 40
# A TCP port in digits.
PORT = 5

# An SSM parameter's value in bytes, as an AWS::SSM::Parameter::Value<String> parameter resolves
# it (advanced tier; standard parameters hold 4 KB).
SSM_PARAMETER_VALUE = 8_192

# What a Ref to a resource of these types returns, at its longest: the name CloudFormation
# generates when the template gives none is no longer than the name the service allows.
RESOURCE_REF = {
    "AWS::Logs::LogGroup": 512,
}

# AWS-specific parameter types whose values are ids of a known length (Ref gives the id).
PARAMETER_TYPES = {
    "AWS::EC2::AvailabilityZone::Name": 20,
    "AWS::EC2::Image::Id": len("ami-") + 17,
    "AWS::EC2::Instance::Id": len("i-") + 17,
    "AWS::EC2::SecurityGroup::Id": len("sg-") + 17,
    "AWS::EC2::Subnet::Id": len("subnet-") + 17,
    "AWS::EC2::Volume::Id": len("vol-") + 17,
    "AWS::EC2::VPC::Id": len("vpc-") + 17,
    "AWS::EC2::KeyPair::KeyName": 255,
    "AWS::Route53::HostedZone::Id": 32,
}
