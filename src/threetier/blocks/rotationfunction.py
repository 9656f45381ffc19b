"""The database password rotation the project owns: one Lambda function for both secrets.

Replaces the AWS::SecretsManager-2020-07-23 transform (hosted rotation functions on
python3.9, from a Serverless Application Repository application in a nested stack)
with an AWS::Lambda::Function whose code `threetier package` builds from
src/threetier/rotation/ and uploads with the templates (RotationCodeBucket/Key):
- the runtime is the newest Python in AWS's runtime lifecycle table
  (threetier.facts.lambdaruntimes), never a deprecated one;
- it runs in the app subnets with the rotation security group (the database port,
  and HTTPS to Secrets Manager through NAT), under the stacks' role path and
  permissions boundary, and logs to its own log group with retention and the
  stack's key (Lambda's advanced logging controls);
- RotationSchedule names it by RotationLambdaARN: nothing for a macro to resolve.
The function reads the secret to choose the strategy: one with `masterarn` is
rotated with alternating users (the app's), the master with single user.
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-rotationschedule.html
"""

from __future__ import annotations

import string

from awacs import secretsmanager as sm
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Ref, Sub, Template, awslambda, iam, secretsmanager

from threetier import parameters as P
from threetier.blocks import logstore, naming, policies
from threetier.blocks.suppressions import checkov
from threetier.facts import lambdaruntimes

FUNCTION = "RotationFunction"
HANDLER = "lambda_function.lambda_handler"
# What `threetier package` puts in RotationCodeKey before it uploads the zip.
CODE_PLACEHOLDER = "rotation.zip"
# Letters and digits only in a new password, like the generated ones (RDS refuses / " @).
EXCLUDED_CHARACTERS = string.punctuation
# The master's password changes on the 1st, the app's on the 15th: never both at once.
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html
MASTER_SCHEDULE = "cron(0 3 1 * ? *)"
APP_SCHEDULE = "cron(0 3 15 * ? *)"
TIMEOUT_SECONDS = 60
# The app secret's schedule: its first rotation creates the app's database user.
APP_SCHEDULE_RESOURCE = "DbAppSecretRotation"
WHY_NO_DEAD_LETTER_QUEUE = ("Secrets Manager invokes the function synchronously, step by step, and records a failed "
                            "step itself; a dead-letter queue only takes asynchronous invocations.")
WHY_NO_CODE_SIGNING = ("The zip is built by `threetier package` from hash-pinned requirements and uploaded under its "
                       "sha256; a Lambda code-signing profile is an account-level choice this project leaves out.")
WHY_NO_ENVIRONMENT_KEY = ("The environment holds no secret (the Secrets Manager endpoint and the excluded "
                          "characters); Lambda encrypts it at rest with its own key.")


def function_name() -> Sub:
    """`<project>-<environment>-db-rotation`: named, so the monitoring stack alarms on it without wiring."""
    return naming.name("db-rotation")


def add(t: Template, ca_bundle_url) -> awslambda.Function:
    """The function, its role, log group and the permission for Secrets Manager to invoke it.
    `ca_bundle_url` is where the function fetches the CA bundle it verifies the database with
    (the app servers' own: the region's RDS bundle)."""
    log_group = t.add_resource(logstore.log_group(
        "RotationFunctionLogGroup", "db-rotation-logs", retention_days=Ref(P.APP_LOG_RETENTION_DAYS.name),
        kms_key_arn=Ref(P.LOG_KEY_ARN.name)))
    role = t.add_resource(iam.Role(
        "RotationFunctionRole",
        AssumeRolePolicyDocument=policies.trust("lambda"),
        # ENIs in the VPC: AWS's managed policy for a function in a VPC.
        # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
        ManagedPolicyArns=[policies.aws_managed("service-role/AWSLambdaVPCAccessExecutionRole")],
        Policies=[policies.inline("rotate-the-database-secrets", *_rotation_statements(log_group))],
        Tags=naming.tags("db-rotation-role"),
        **policies.role_placement(),
    ))
    function = t.add_resource(awslambda.Function(
        FUNCTION,
        FunctionName=function_name(),
        Description="Rotates the database master and app secrets (single user, alternating users)",
        Runtime=lambdaruntimes.newest_python(),
        Handler=HANDLER,
        Code=awslambda.Code(S3Bucket=Ref(P.ROTATION_CODE_BUCKET.name), S3Key=Ref(P.ROTATION_CODE_KEY.name)),
        Role=GetAtt(role, "Arn"),
        Timeout=TIMEOUT_SECONDS,
        MemorySize=256,
        # At most the two secrets' rotations at once, and no more of the account's concurrency.
        ReservedConcurrentExecutions=2,
        VpcConfig=awslambda.VPCConfig(SubnetIds=Ref(P.APP_SUBNET_IDS.name),
                                      SecurityGroupIds=[Ref(P.DB_ROTATION_SECURITY_GROUP_ID.name)]),
        Environment=awslambda.Environment(Variables={
            "SECRETS_MANAGER_ENDPOINT": Sub("https://secretsmanager.${AWS::Region}.${AWS::URLSuffix}"),
            "EXCLUDE_CHARACTERS": EXCLUDED_CHARACTERS,
            "DB_CA_BUNDLE_URL": ca_bundle_url,
        }),
        LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(log_group)),
        Tags=naming.tags("db-rotation"),
        Metadata=checkov(("CKV_AWS_116", WHY_NO_DEAD_LETTER_QUEUE), ("CKV_AWS_272", WHY_NO_CODE_SIGNING),
                         ("CKV_AWS_173", WHY_NO_ENVIRONMENT_KEY)),
    ))
    t.add_resource(awslambda.Permission(
        "RotationFunctionPermission",
        Action="lambda:InvokeFunction",
        FunctionName=GetAtt(function, "Arn"),
        Principal=policies.service_principal("secretsmanager"),
        SourceAccount=Ref("AWS::AccountId"),
    ))
    return function


def _rotation_statements(log_group) -> list[Statement]:
    """Exactly the calls of the rotation protocol on the two database secrets.
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html"""
    secrets = [Ref(P.DB_MASTER_SECRET_ARN.name), Ref(P.DB_APP_SECRET_ARN.name)]
    return [
        Statement(Sid="RotateTheDatabaseSecrets", Effect=Allow, Resource=secrets,
                  Action=[sm.DescribeSecret, sm.GetSecretValue, sm.PutSecretValue, sm.UpdateSecretVersionStage]),
        Statement(Sid="NewPasswords", Effect=Allow, Action=[sm.GetRandomPassword], Resource=["*"]),
        policies.write_log_group("WriteItsLogs", GetAtt(log_group, "Arn")),
    ]


def schedules(t: Template, function: awslambda.Function) -> secretsmanager.RotationSchedule:
    """The master's schedule, then the app's, on different days; only the app's rotates at once.
    Returns the app's schedule: whatever needs the app's database user comes after it.

    The app's first rotation creates the app's database user, as the master (the function's
    createSecret and setSecret), so the app's schedule rotates as soon as CloudFormation creates it:
    RotateImmediatelyOnUpdate true, which is also the default ("Determines whether to rotate the
    secret immediately or wait until the next scheduled rotation window when the rotation schedule
    is updated", RotationSchedule reference; creating a schedule calls RotateSecret, whose
    RotateImmediately is true unless set otherwise). The master's does not: its first rotation waits for its
    day, so it never changes the password the app's first rotation logs in with while that one runs
    (the function also refuses to start an app rotation while the master's is pending). Without an
    immediate rotation Secrets Manager only tests the function's testSecret step (RotateSecret
    reference, RotateImmediately).
    RotateSecret "configures and starts the asynchronous process of rotating the secret": the
    schedule can be complete before the user exists, so servers wait for a working login at boot
    (app-boot-steps.sh, wait_for_database_login).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-rotationschedule.html
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
    """
    master = t.add_resource(secretsmanager.RotationSchedule(
        "DbMasterSecretRotation",
        DependsOn=["RotationFunctionPermission"],
        SecretId=Ref(P.DB_MASTER_SECRET_ARN.name),
        RotationLambdaARN=GetAtt(function, "Arn"),
        RotateImmediatelyOnUpdate=False,
        RotationRules=secretsmanager.RotationRules(ScheduleExpression=MASTER_SCHEDULE),
    ))
    return t.add_resource(secretsmanager.RotationSchedule(
        APP_SCHEDULE_RESOURCE,
        DependsOn=[master.title],
        SecretId=Ref(P.DB_APP_SECRET_ARN.name),
        RotationLambdaARN=GetAtt(function, "Arn"),
        RotateImmediatelyOnUpdate=True,
        RotationRules=secretsmanager.RotationRules(ScheduleExpression=APP_SCHEDULE),
    ))
