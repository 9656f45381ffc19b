import dataclasses
import datetime
import importlib
import json
import re
from pathlib import Path

import pytest

import templates
from templates import app
from tests import logfilter
from threetier.blocks import logstore, userdata
from threetier.parameters import paramfile
from threetier.parameters.evaluate import Evaluation

USER_DATA = "app-instance.sh"
BOOT_STEPS, SECRETS_LOADER, DB_TLS_HOOK = (file.source for file in userdata.APP_BOOT_FILES)


def boot_text() -> str:
    """Everything a server runs at boot: the user data and the files cfn-init writes for it."""
    return "\n".join(userdata.text(name) for name in (USER_DATA, BOOT_STEPS, SECRETS_LOADER, DB_TLS_HOOK))


@pytest.fixture(scope="module")
def app_dict():
    return app.build().to_dict()


def resources(template: dict, region: str = "us-east-1", **values) -> dict:
    return Evaluation(template, values, region=region).resources()


def test_instance_role_reads_two_secrets_mounts_one_file_system_and_leaves_only_its_own_target_group(app_dict):
    role = app_dict["Resources"]["InstanceRole"]["Properties"]
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements == {
        # The CloudWatch agent ships the app's logs (the user data has no metrics section).
        "ShipAppLogs": {
            "Sid": "ShipAppLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [{"Fn::GetAtt": ["AppLogGroup", "Arn"]}],
        },
        # Session Manager's managed policy reads any Parameter Store value: not this account's.
        "DenyParameterStoreReads": {
            "Sid": "DenyParameterStoreReads",
            "Effect": "Deny",
            "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
                       "ssm:GetParameterHistory"],
            "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/*"}],
        },
        "ReadAppSecrets": {
            "Sid": "ReadAppSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            # The app's database user, never the master: the rotation creates that user.
            "Resource": [{"Ref": "DbAppSecretArn"}, {"Ref": "AppSecretArn"}],
        },
        "MountFileSystem": {
            "Sid": "MountFileSystem",
            "Effect": "Allow",
            "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
            "Resource": [{"Ref": "EfsFileSystemArn"}],
            "Condition": {
                "StringEquals": {"elasticfilesystem:AccessPointArn": {"Ref": "EfsAccessPointArn"}},
                "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
            },
        },
        # A secret refresh restarts the app out of service: its own target group, no other.
        "LeaveAndRejoinTargetGroup": {
            "Sid": "LeaveAndRejoinTargetGroup",
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
            # Its own group, or in the parallel layout the front stack's.
            "Resource": [{"Fn::If": ["OwnsLoadBalancer", {"Ref": "AppTargetGroup"}, {"Ref": "TargetGroupArn"}]}],
        },
        # DescribeTargetHealth has no resource type (Service Authorization Reference): "*" or nothing.
        "ReadTargetHealth": {
            "Sid": "ReadTargetHealth",
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:DescribeTargetHealth"],
            "Resource": ["*"],
        },
    }
    # Session Manager only: CloudWatchAgentServerPolicy would let a server create log
    # groups, change any group's retention and put metrics anywhere.
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"},
    ]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # The partition's domain: amazonaws.com.cn in China.
    assert trust["Principal"] == {"Service": {"Fn::Sub": "ec2.${AWS::URLSuffix}"}}
    assert trust["Action"] == ["sts:AssumeRole"]
    # EC2 is not documented to send aws:SourceAccount: a condition on it could
    # leave every server without credentials.
    assert "Condition" not in trust


def policy_documents(template: dict):
    """(resource, document) for every IAM and resource policy; key policies are left out,
    as there "*" means the key itself."""
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []):
            yield name, policy["PolicyDocument"]
        for key in ("PolicyDocument", "FileSystemPolicy"):
            if key in props:
                yield name, props[key]


# The deployer role is CloudFormation's own: its handler permissions apply to whatever the
# stacks create, so it grants them on "*" within the deploy regions (tests/templates/test_deployer_role.py).
@pytest.mark.parametrize("module", sorted(set(templates.STACKS.values()) - {"deployer_role"}))
def test_no_allow_statement_grants_every_resource(module):
    template = importlib.import_module(f"templates.{module}").build().to_dict()
    for name, document in policy_documents(template):
        statements = document["Statement"]
        for statement in statements:
            statement = statement.get("Fn::If", [None, statement])[1] if "Fn::If" in statement else statement
            # Actions IAM authorizes on no resource at all (GetRandomPassword, DescribeTargetHealth) can
            # only be on "*".
            resourceless = {"secretsmanager:GetRandomPassword", "elasticloadbalancing:DescribeTargetHealth"}
            if statement["Effect"] == "Allow" and not set(statement["Action"]) <= resourceless:
                assert statement.get("Resource") not in ("*", ["*"]), f"{module}: {name} {statement.get('Sid')}"


def test_the_policy_walk_sees_the_app_role(app_dict):
    assert "InstanceRole" in {name for name, _ in policy_documents(app_dict)}


def test_launch_template_requires_imdsv2_and_encrypts_the_root_volume(app_dict):
    data = app_dict["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {"HttpEndpoint": "enabled", "HttpTokens": "required",
                                       "HttpPutResponseHopLimit": 1}
    (root,) = data["BlockDeviceMappings"]
    assert root["DeviceName"] == {"Ref": "RootDeviceName"}
    assert root["Ebs"]["Encrypted"] is True and root["Ebs"]["VolumeType"] == "gp3"
    assert data["ImageId"] == {"Ref": "AmiId"}
    assert data["SecurityGroupIds"] == [{"Ref": "AppSecurityGroupId"}]
    assert data["Monitoring"] == {"Enabled": {"Ref": "DetailedMonitoring"}}
    assert {spec["ResourceType"] for spec in data["TagSpecifications"]} == {"instance", "volume"}


def test_ami_is_resolved_from_the_public_ssm_parameter_in_the_root_only(app_dict, root_template):
    ami = root_template.to_dict()["Parameters"]["AmiId"]
    assert ami["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert ami["Default"] == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    # The root passes the resolved ami-... id (or the environment's pinned one): the nested
    # stacks must not look it up again.
    resources = root_template.to_dict()["Resources"]
    for stack in ("AppStack", "AdminStack"):
        assert resources[stack]["Properties"]["Parameters"]["AmiId"] == {
            "Fn::If": ["HasPinnedAmi", {"Ref": "PinnedAmiId"}, {"Ref": "AmiId"}]}
    assert app_dict["Parameters"]["AmiId"]["Type"] == "AWS::EC2::Image::Id"
    assert "Default" not in app_dict["Parameters"]["AmiId"]
    from templates import admin
    assert admin.build().to_dict()["Parameters"]["AmiId"]["Type"] == "AWS::EC2::Image::Id"


def test_auto_scaling_group_sizes_and_scaling_come_from_parameters(app_dict):
    asg = resources(app_dict, AsgMinSize="3", AsgMaxSize="9")["AppAutoScalingGroup"]
    props = asg["Properties"]
    assert (props["MinSize"], props["MaxSize"]) == ("3", "9")
    assert props["VPCZoneIdentifier"] == {"Ref": "AppSubnetIds"}
    assert props["HealthCheckType"] == "ELB"
    assert props["HealthCheckGracePeriod"] == "1200"
    assert props["TargetGroupARNs"] == [{"Ref": "AppTargetGroup"}]  # as evaluated alone: its own
    signal = app_dict["Resources"]["AppAutoScalingGroup"]["CreationPolicy"]["ResourceSignal"]
    assert signal["Count"] == {"Ref": "AsgMinSize"}  # the servers the group starts with
    rolling = asg["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["MinInstancesInService"] == "3"
    assert rolling["MaxBatchSize"] == 1 and rolling["WaitOnResourceSignals"] is True

    policy = app_dict["Resources"]["CpuTargetTrackingPolicy"]["Properties"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    tracking = policy["TargetTrackingConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {"PredefinedMetricType": "ASGAverageCPUUtilization"}
    assert tracking["TargetValue"] == {"Ref": "CpuTargetPercent"}
    assert app_dict["Parameters"]["CpuTargetPercent"]["Default"] == "50"


@pytest.mark.parametrize("low,high,in_service", [("2", "6", "2"), ("1", "2", "1"), ("3", "3", "0"), ("1", "1", "0")])
def test_rolling_updates_keep_fewer_servers_in_service_than_the_maximum(app_dict, low, high, in_service):
    # CloudFormation refuses MinInstancesInService >= MaxSize; with min == max
    # one server at a time is replaced (MaxBatchSize 1) from 0 kept in service.
    asg = resources(app_dict, AsgMinSize=low, AsgMaxSize=high)["AppAutoScalingGroup"]
    rolling = asg["UpdatePolicy"]["AutoScalingRollingUpdate"]
    expected = 0 if in_service == "0" else in_service  # the literal 0, or the AsgMinSize value
    assert rolling["MinInstancesInService"] == expected
    assert int(rolling["MinInstancesInService"]) < int(high)
    assert rolling["MaxBatchSize"] == 1


def test_no_update_resets_a_scaled_group(app_dict):
    # A DesiredCapacity would be applied again on every stack update that touches the group
    # (a release included) and undo what target tracking did: the group owns its size.
    group = app_dict["Resources"]["AppAutoScalingGroup"]["Properties"]
    assert "DesiredCapacity" not in group
    assert "AsgDesiredCapacity" not in app_dict["Parameters"]
    policy = app_dict["Resources"]["CpuTargetTrackingPolicy"]["Properties"]
    assert policy["AutoScalingGroupName"] == {"Ref": "AppAutoScalingGroup"}


def test_the_grace_period_covers_the_boot_the_signal_timeouts_allow(app_dict):
    # A server still booting when its grace period ends fails the load balancer's check and is
    # replaced before it signals: the grace, as low as its parameter allows, covers both timeouts.
    group = app_dict["Resources"]["AppAutoScalingGroup"]
    assert group["Properties"]["HealthCheckType"] == "ELB"
    assert group["Properties"]["HealthCheckGracePeriod"] == {"Ref": "HealthCheckGraceSeconds"}
    grace = app_dict["Parameters"]["HealthCheckGraceSeconds"]
    rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["WaitOnResourceSignals"] is True
    assert group["CreationPolicy"]["ResourceSignal"]["Timeout"] == rolling["PauseTime"] == "PT20M"
    assert int(grace["MinValue"]) == int(grace["Default"]) == 20 * 60


def test_prod_runs_3_to_6_t3_xlarge_one_per_az_at_least_and_dev_is_small(project):
    prod = paramfile.load(paramfile.path_for(project, "prod"))
    # Without a desired capacity the group sits at its minimum until CPU scales it out:
    # prod's floor keeps a server in each of its three AZs.
    assert (prod["AsgMinSize"], prod["AsgMaxSize"]) == ("3", "6")
    assert int(prod["AsgMinSize"]) >= int(prod["NumberOfAzs"])
    assert "AsgDesiredCapacity" not in prod
    assert prod["InstanceType"] == "t3.xlarge"
    dev = paramfile.load(paramfile.path_for(project, "dev"))
    assert dev["InstanceType"] in {"t3.micro", "t3.small"}


def listeners(app_dict, certificate: str) -> dict:
    active = resources(app_dict, AlbCertificateArn=certificate)
    return {k: r["Properties"] for k, r in active.items() if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"}


def test_without_a_certificate_http_forwards_to_the_app(app_dict):
    found = listeners(app_dict, "")
    assert set(found) == {"HttpListener"}
    (action,) = found["HttpListener"]["DefaultActions"]
    assert action == {"Type": "forward", "TargetGroupArn": {"Ref": "AppTargetGroup"}}


def test_with_a_certificate_http_redirects_to_https_with_tls_1_2_or_later(app_dict):
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    found = listeners(app_dict, arn)
    (redirect,) = found["HttpListener"]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"] == {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    https = found["HttpsListener"]
    assert https["Port"] == 443 and https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"] == [{"CertificateArn": arn}]
    assert https["DefaultActions"][0]["Type"] == "forward"


def test_load_balancer_is_public_and_drops_invalid_headers(app_dict):
    alb = resources(app_dict, AlbDeletionProtection="true")["LoadBalancer"]["Properties"]
    assert alb["Scheme"] == "internet-facing"
    assert alb["Subnets"] == {"Ref": "PublicSubnetIds"}
    assert alb["SecurityGroups"] == [{"Ref": "AlbSecurityGroupId"}]
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["access_logs.s3.enabled"] == "false"
    assert "access_logs.s3.bucket" not in attributes


def test_target_group_checks_health_on_the_app_port(app_dict):
    tg = resources(app_dict)["AppTargetGroup"]["Properties"]
    assert tg["Port"] == "5000" and tg["Protocol"] == "HTTP"
    assert tg["HealthCheckPath"] == "/"
    assert tg["Matcher"] == {"HttpCode": "200-399"}
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in tg["TargetGroupAttributes"]


@pytest.mark.parametrize("region,principal", [
    ("us-east-1", {"AWS": "arn:aws:iam::127311923021:root"}),
    ("eu-south-2", {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
])
def test_access_logs_go_to_an_encrypted_bucket_the_regions_elb_may_write(app_dict, region, principal):
    active = resources(app_dict, region=region, AlbAccessLogs="true")
    bucket = active["AccessLogBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    deliver, deny = active["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deliver["Principal"] == principal
    assert deliver["Action"] == ["s3:PutObject"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    attributes = {a["Key"]: a["Value"] for a in active["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.bucket"] == {"Ref": "AccessLogBucket"}


@pytest.mark.parametrize("logs_on", [True, False])
def test_the_load_balancer_comes_after_the_log_bucket_policy_only_when_logs_are_on(app_dict, logs_on):
    # ELB checks it may write to the bucket when access logs are switched on;
    # DependsOn cannot name the conditional policy, a Ref in Fn::If can.
    active = resources(app_dict, AlbAccessLogs=str(logs_on).lower())
    alb = active["LoadBalancer"]
    assert "DependsOn" not in alb
    expected = {"Ref": "AccessLogBucketPolicy"} if logs_on else ""
    assert alb["Metadata"]["OrderedAfter"] == expected
    assert ("AccessLogBucketPolicy" in active) is logs_on


def test_user_data_fills_ids_and_secret_arns_from_the_stack(app_dict):
    user_data = app_dict["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    script, variables = user_data["Fn::Base64"]["Fn::Sub"]
    assert variables == {"SignalResource": "AppAutoScalingGroup", "AppLogGroup": {"Ref": "AppLogGroup"},
                         "AppUserId": "1500", "BootFilesResource": "AppLaunchTemplate",
                         "BootFilesSha256": userdata.boot_files_digest(userdata.APP_BOOT_FILES),
                         "DbCaBundleUrl": app.rds_ca_bundle_url().to_dict(),
                         # The refresh takes the server out of this target group while the app restarts.
                         "TargetGroupArn": {"Fn::If": ["OwnsLoadBalancer", {"Ref": "AppTargetGroup"}, {"Ref": "TargetGroupArn"}]}}
    for placeholder in ("${EfsFileSystemId}", "${EfsAccessPointId}", "${DbAppSecretArn}",
                        "${AppSecretArn}",
                        "${DbEndpointAddress}", "${AppPort}", "${AWS::StackName}", "${AWS::Region}"):
        assert placeholder in script
    known = set(app_dict["Parameters"]) | set(variables) | {"AWS::StackName", "AWS::Region"}
    assert userdata.placeholders(USER_DATA) <= known


def test_the_boot_carries_no_secret_values(app_dict):
    script = boot_text()
    assert "get-secret-value" in script, "secrets are fetched at service start"
    for line in script.splitlines():
        assert "echo" not in line or "SECRET" not in line.upper(), line
    # The only place a secret value is written is the root-only file the loader makes.
    assert '0o600' in script and "/run/app/app.env" in script
    assert "SECRET_KEY=" not in script and "DATABASE_PASSWORD=" not in script


def test_the_boot_is_strict_mounts_efs_with_tls_and_signals(app_dict):
    script = boot_text()
    assert "set -Eeuo pipefail" in userdata.text(USER_DATA)
    assert '"$EFS_ID:/ /efs efs _netdev,tls,iam,accesspoint=$EFS_ACCESS_POINT 0 0"' in script
    # The app user has the uid/gid the access point writes as.
    assert 'useradd --system --uid "$APP_USER_ID"' in script
    assert "cfn-signal" in script and "trap 'on_error $LINENO' ERR" in script
    assert "gunicorn --bind 0.0.0.0:$APP_PORT" in script


def test_cfn_signal_is_there_before_anything_can_fail_and_nothing_is_compiled_for_efs():
    script = userdata.text(USER_DATA)
    ubuntu = script[script.index("install_packages_ubuntu() {"):script.index("fetch_boot_files() {")]
    # No Rust toolchain, no efs-utils build inside the CreationPolicy timeout.
    for build_step in ("cargo", "rustc", "build-deb", "git clone"):
        assert build_step not in ubuntu, build_step
    # Ubuntu: cfn-signal is baked into the AMI and checked before any apt run.
    assert ubuntu.index("require_baked cfn-signal") < ubuntu.index("apt-get")
    assert "Supported AMIs" in script
    # Amazon Linux 2023: cfn-signal alone, first, retried.
    dnf = script[script.index("install_packages() {"):script.index("require_baked() {")]
    first, second = [line.strip() for line in dnf.splitlines() if "dnf install" in line]
    assert first == "retry dnf install -y aws-cfn-bootstrap"
    assert "aws-cfn-bootstrap" not in second


def test_the_error_trap_names_the_failing_step_and_health_checks_time_out():
    script = userdata.text(USER_DATA)
    # ${!...}: Fn::Sub writes a literal ${...} for the shell.
    assert 'log "failed in step $STEP (call stack: ${!FUNCNAME[*]:1}; line $1) with exit code $status"' in script
    assert "curl -fsS --max-time 5" in userdata.text(BOOT_STEPS)


def test_every_brace_in_the_script_is_a_placeholder_or_escaped_for_fn_sub():
    # Fn::Sub reads every ${...}: a shell expansion must be written ${!...}, or
    # CloudFormation refuses the template (or substitutes something else).
    script = userdata.text(USER_DATA)
    for match in re.finditer(r"\$\{", script):
        rest = script[match.start():]
        assert rest.startswith("${!") or userdata.PLACEHOLDER.match(rest), rest[:40]


def test_the_boot_files_are_the_launch_templates_metadata_written_as_they_are(app_dict):
    metadata = app_dict["Resources"]["AppLaunchTemplate"]["Metadata"]["AWS::CloudFormation::Init"]
    files = metadata["config"]["files"]
    assert files == {
        "/usr/local/lib/threetier-boot-steps.sh": {"content": userdata.text(BOOT_STEPS), "mode": "000644",
                                                   "owner": "root", "group": "root"},
        "/usr/local/sbin/app-load-secrets": {"content": userdata.text(SECRETS_LOADER), "mode": "000700",
                                             "owner": "root", "group": "root"},
        "/usr/local/lib/threetier-db-tls.py": {"content": userdata.text(DB_TLS_HOOK), "mode": "000644",
                                               "owner": "root", "group": "root"},
    }
    # Plain text, no Fn::Sub: CloudFormation writes them as they are, so their digest is known now.
    assert all(isinstance(spec["content"], str) for spec in files.values())


def test_a_change_to_a_boot_file_is_a_change_to_the_user_data(app_dict):
    """Metadata is no launch template version of its own: a new digest in the user data makes one,
    so the rolling update takes a change to the boot steps or the loader to every server."""
    _, variables = app_dict["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"][
        "Fn::Base64"]["Fn::Sub"]
    changed = (userdata.BootFile(userdata.APP_BOOT_FILES[0].path, USER_DATA, "000644"), userdata.APP_BOOT_FILES[1])
    moved = (userdata.APP_BOOT_FILES[0], dataclasses.replace(userdata.APP_BOOT_FILES[1], mode="000755"))
    digests = {userdata.boot_files_digest(files) for files in (userdata.APP_BOOT_FILES, changed, moved)}
    assert variables["BootFilesSha256"] == userdata.boot_files_digest(userdata.APP_BOOT_FILES)
    assert len(digests) == 3


def test_the_user_data_fetches_the_boot_files_before_any_step_that_needs_them():
    script = userdata.text(USER_DATA)
    steps = re.findall(r"^  step (\w+)$", script, re.MULTILINE)
    assert steps[:2] == ["install_packages", "fetch_boot_files"]
    defined_here = set(re.findall(r"^(\w+)\(\) \{", script, re.MULTILINE))
    defined_there = set(re.findall(r"^(\w+)\(\) \{", userdata.text(BOOT_STEPS), re.MULTILINE))
    assert set(steps[:2]) <= defined_here and set(steps[2:]) <= defined_there, steps
    assert not defined_here & defined_there
    # The paths the digest reads are the paths cfn-init writes, in the same order.
    assert re.search(r'for file in "\$BOOT_STEPS" "\$SECRETS_LOADER" "\$DB_TLS_HOOK"; do', script)
    assert [f"readonly BOOT_STEPS={userdata.APP_BOOT_FILES[0].path}",
            f"readonly SECRETS_LOADER={userdata.APP_BOOT_FILES[1].path}",
            f"readonly DB_TLS_HOOK={userdata.APP_BOOT_FILES[2].path}"] == [
        line for line in script.splitlines()
        if line.startswith(("readonly BOOT_STEPS=", "readonly SECRETS_LOADER=", "readonly DB_TLS_HOOK="))]


@pytest.mark.parametrize("partition,region,url", [
    ("aws", "eu-west-1", "https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem"),
    ("aws-us-gov", "us-gov-east-1",
     "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/us-gov-east-1/us-gov-east-1-bundle.pem"),
    ("aws-cn", "cn-northwest-1",
     "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/cn-northwest-1/cn-northwest-1-bundle.pem"),
])
def test_servers_fetch_the_rds_ca_bundle_of_their_own_partition_and_region(app_dict, partition, region, url):
    """As CloudFormation resolves the user data's DbCaBundleUrl: the mapping by AWS::Partition, then
    AWS::Region, so no partition or region is written into the template."""
    _, variables = app_dict["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"][
        "Fn::Base64"]["Fn::Sub"]
    text, names = variables["DbCaBundleUrl"]["Fn::Sub"]
    mapping, key, field = names["Host"]["Fn::FindInMap"]
    assert key == {"Ref": "AWS::Partition"}
    host = app_dict["Mappings"][mapping][partition][field]
    assert text.replace("${Host}", host).replace("${AWS::Region}", region) == url
    assert "DB_CA_BUNDLE_URL='${DbCaBundleUrl}'" in userdata.text(USER_DATA)


def cloudwatch_matches(pattern: str, event: str) -> bool:
    return logfilter.matches(pattern, event)


# What the drivers write when the database is unreachable, refuses the login or times out: the last
# line of the traceback Flask logs for an uncaught error, or what the app prints (str(error)).
DATABASE_ERRORS = {
    # MySQL/MariaDB server errors, whatever the client.
    "1045 login refused": """pymysql.err.OperationalError: (1045, "Access denied for user 'app'@'10.0.17.9' (using password: YES)")""",
    "1040 too many": """MySQLdb.OperationalError: (1040, 'Too many connections')""",
    # PyMySQL, the reference app's driver (pymysql/connections.py: connect, _read_bytes, _write_bytes).
    "pymysql refused": """pymysql.err.OperationalError: (2003, "Can't connect to MySQL server on '10.0.17.9' ([Errno 111] Connection refused)")""",
    "pymysql connect timeout": """(2003, "Can't connect to MySQL server on 'db.internal' (timed out)")""",
    "pymysql read timeout": """pymysql.err.OperationalError: (2013, 'Lost connection to MySQL server during query (timed out)')""",
    "pymysql gone away": """pymysql.err.OperationalError: (2006, "MySQL server has gone away (BrokenPipeError(32, 'Broken pipe'))")""",
    # mysqlclient on Oracle's libmysqlclient (Ubuntu's default-libmysqlclient-dev).
    "libmysqlclient refused": """MySQLdb.OperationalError: (2003, "Can't connect to MySQL server on '10.0.17.9:3306' (111)")""",
    "libmysqlclient socket": """MySQLdb.OperationalError: (2002, "Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)")""",
    "libmysqlclient unknown host": """MySQLdb.OperationalError: (2005, "Unknown MySQL server host 'db.internal' (-2)")""",
    "libmysqlclient lost": """MySQLdb.OperationalError: (2013, 'Lost connection to MySQL server during query')""",
    # mysqlclient on MariaDB Connector/C 3.3 (Debian 12; the first line is what this machine's
    # `mariadb -h 127.0.0.1 -P 1` printed, 2026-12-06).
    "libmariadb refused": """MySQLdb.OperationalError: (2002, "Can't connect to server on '127.0.0.1' (115)")""",
    "libmariadb socket": """MySQLdb.OperationalError: (2002, "Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)")""",
    "libmariadb lost": """MySQLdb.OperationalError: (2013, 'Lost connection to server during query')""",
    "libmariadb gone away": """MySQLdb.OperationalError: (2006, 'Server has gone away')""",
    "libmariadb unknown host": """MySQLdb.OperationalError: (2005, "Unknown server host 'db.internal' (-2)")""",
    # SQLAlchemy repeats the driver's message (sqlalchemy/exc.py, DBAPIError).
    "sqlalchemy": """sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)")""",
    # PostgreSQL through libpq (psycopg2): libpq 14 and later, then earlier.
    "libpq refused": 'psycopg2.OperationalError: connection to server at "db.internal" (10.0.17.9), port 5432 failed: Connection refused',
    "libpq password": 'psycopg2.OperationalError: connection to server at "db.internal" (10.0.17.9), port 5432 failed: FATAL:  password authentication failed for user "app"',
    "libpq socket": 'psycopg2.OperationalError: connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: No such file or directory',
    "libpq 13 refused": "psycopg2.OperationalError: could not connect to server: Connection timed out",
    "libpq 13 timeout": "psycopg2.OperationalError: timeout expired",
    "libpq too many": "psycopg2.OperationalError: FATAL:  sorry, too many clients already",
    "libpq hba": 'FATAL:  no pg_hba.conf entry for host "10.0.17.9", user "app", database "newsreadb", no encryption',
}
HARMLESS = [
    "curl: (7) Failed to connect to 127.0.0.1 port 5000 after 0 ms: Connection refused",
    "2026-11-30T09:40:07+00:00 threetier-boot: app not answering on port 5000 yet (attempt 17 of 30)",
    '10.0.1.5 - - [30/Nov/2026:09:41:02 +0000] "GET / HTTP/1.1" 200 3 "-" "ELB-HealthChecker/2.0"',
    '10.0.1.5 - - [30/Nov/2026:09:41:03 +0000] "POST /visit/x HTTP/1.1" 500 265 "-" "curl/7.88.1"',
    "[2026-11-30 09:41:02 +0000] [1234] [INFO] Booting worker with pid: 1234",
    "[2026-11-30 09:41:02 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)",
    "[2026-11-30 09:41:02,123] ERROR in app: Exception on /visit/x [POST]",
    "pymysql.err.IntegrityError: (1062, \"Duplicate entry 'x' for key 'PRIMARY'\")",
]


def test_the_database_errors_filter_counts_database_failures_and_nothing_else(app_dict):
    metric_filter = app_dict["Resources"]["DatabaseErrorsMetricFilter"]["Properties"]
    assert metric_filter["LogGroupName"] == {"Ref": "AppLogGroup"}
    (transformation,) = metric_filter["MetricTransformations"]
    assert transformation == {"MetricNamespace": {"Fn::Sub": "threetier/${ProjectName}-${EnvironmentName}"},
                              "MetricName": "DatabaseErrors", "MetricValue": "1", "Unit": "Count"}
    pattern = metric_filter["FilterPattern"]
    assert len(pattern) <= 1024, "CloudWatch Logs' limit for a filter pattern"
    for name, event in DATABASE_ERRORS.items():
        assert cloudwatch_matches(pattern, event), name
    for event in HARMLESS:
        assert not cloudwatch_matches(pattern, event), event


def test_every_term_of_the_filter_is_one_a_driver_writes():
    """No term the samples above do not need (a typo would make it one that never matches)."""
    for term in logstore.DATABASE_ERROR_TERMS:
        assert any(term in event for event in DATABASE_ERRORS.values()), term


def test_both_database_secrets_rotate_with_the_projects_own_function_on_different_days(app_dict):
    assert "Transform" not in app_dict, "no macro: nothing for CAPABILITY_AUTO_EXPAND to expand"
    schedules = {name: app_dict["Resources"][name] for name in ("DbMasterSecretRotation", "DbAppSecretRotation")}
    master, app_user = schedules["DbMasterSecretRotation"], schedules["DbAppSecretRotation"]
    for schedule in schedules.values():
        props = schedule["Properties"]
        assert props["RotationLambdaARN"] == {"Fn::GetAtt": ["RotationFunction", "Arn"]}
        assert "HostedRotationLambda" not in props
    assert master["Properties"]["SecretId"] == {"Ref": "DbMasterSecretArn"}
    assert app_user["Properties"]["SecretId"] == {"Ref": "DbAppSecretArn"}
    # The master's schedule first, the app's on another day.
    assert master["DependsOn"] == ["RotationFunctionPermission"]
    assert app_user["DependsOn"] == ["DbMasterSecretRotation"]
    assert master["Properties"]["RotationRules"] == {"ScheduleExpression": "cron(0 3 1 * ? *)"}
    assert app_user["Properties"]["RotationRules"] == {"ScheduleExpression": "cron(0 3 15 * ? *)"}


def test_the_app_secrets_first_rotation_creates_the_app_user_before_any_server_boots(app_dict):
    resources = app_dict["Resources"]
    master, app_user = resources["DbMasterSecretRotation"], resources["DbAppSecretRotation"]
    # The app's rotates when created (its first rotation creates the user); the master's waits for
    # its day, so the two never overlap at creation.
    assert app_user["Properties"].get("RotateImmediatelyOnUpdate", True) is True
    assert master["Properties"]["RotateImmediatelyOnUpdate"] is False
    # The servers come after the app's schedule, so their signal can rest on a working login...
    assert resources["AppAutoScalingGroup"]["DependsOn"] == ["DbAppSecretRotation"]
    # ...and nothing the group needs waits on the schedules (no cycle through them).
    assert "AppAutoScalingGroup" not in json.dumps([master, app_user])


def test_the_servers_can_never_read_the_master_secret(app_dict):
    role = app_dict["Resources"]["InstanceRole"]["Properties"]
    assert "DbMasterSecretArn" not in json.dumps(role)
    launch_template = app_dict["Resources"]["AppLaunchTemplate"]
    assert "DbMasterSecretArn" not in json.dumps(launch_template)
    # Nor does what the server runs ask for it: no ARN of it, no variable, no read.
    for name in (USER_DATA, BOOT_STEPS, SECRETS_LOADER):
        assert re.search(r"master[_ ]?secret|DbMasterSecretArn", userdata.text(name), re.IGNORECASE) is None, name


def test_the_rotation_function_runs_in_the_app_subnets_on_a_supported_runtime(app_dict):
    from threetier.facts import lambdaruntimes

    function = app_dict["Resources"]["RotationFunction"]["Properties"]
    assert function["Runtime"] == lambdaruntimes.newest_python()
    assert lambdaruntimes.deprecated_on(function["Runtime"]) > datetime.date.today()
    assert function["Code"] == {"S3Bucket": {"Ref": "RotationCodeBucket"}, "S3Key": {"Ref": "RotationCodeKey"}}
    assert function["VpcConfig"] == {"SubnetIds": {"Ref": "AppSubnetIds"},
                                     "SecurityGroupIds": [{"Ref": "DbRotationSecurityGroupId"}]}
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "RotationFunctionLogGroup"}}
    # RDS refuses / " @ in a password.
    assert set(function["Environment"]["Variables"]["EXCLUDE_CHARACTERS"]) >= set('/@"')
    # It verifies the database with the bundle the app servers verify it with: the region's RDS bundle.
    launch_data = app_dict["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    servers_bundle = launch_data["UserData"]["Fn::Base64"]["Fn::Sub"][1]["DbCaBundleUrl"]
    assert function["Environment"]["Variables"]["DB_CA_BUNDLE_URL"] == servers_bundle
    assert servers_bundle["Fn::Sub"][0] == "${Host}/${AWS::Region}/${AWS::Region}-bundle.pem"
    log_group = app_dict["Resources"]["RotationFunctionLogGroup"]["Properties"]
    assert log_group["KmsKeyId"] == {"Ref": "LogKeyArn"}
    assert log_group["RetentionInDays"] == {"Ref": "AppLogRetentionDays"}
    role = app_dict["Resources"]["RotationFunctionRole"]["Properties"]
    assert role["Path"] == {"Ref": "IamRolePath"}
    assert "PermissionsBoundary" in role
    permission = app_dict["Resources"]["RotationFunctionPermission"]["Properties"]
    assert permission["Principal"] == {"Fn::Sub": "secretsmanager.${AWS::URLSuffix}"}
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_the_rotation_function_may_rotate_the_two_database_secrets_only(app_dict):
    (policy,) = app_dict["Resources"]["RotationFunctionRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["RotateTheDatabaseSecrets"]["Resource"] == [{"Ref": "DbMasterSecretArn"},
                                                                  {"Ref": "DbAppSecretArn"}]
    assert sorted(statements["RotateTheDatabaseSecrets"]["Action"]) == [
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage"]
    # GetRandomPassword acts on no resource.
    assert statements["NewPasswords"] == {"Sid": "NewPasswords", "Effect": "Allow",
                                          "Action": ["secretsmanager:GetRandomPassword"], "Resource": ["*"]}


def test_the_agent_config_ships_logs_only(project):
    """What the instance role grants the agent (logs, no cloudwatch:PutMetricData) holds only while
    the agent configuration in the user data has no metrics section."""
    script = (project / "src" / "threetier" / "blocks" / "userdata" / BOOT_STEPS).read_text()
    agent_config = script.split("amazon-cloudwatch-agent.json\" <<AGENT", 1)[1].split("\nAGENT\n", 1)[0]
    assert '"logs_collected"' in agent_config and '"metrics"' not in agent_config


@pytest.mark.parametrize("module", ["app", "admin", "data", "network"])
def test_every_role_takes_the_path_and_the_optional_permissions_boundary(module):
    template = importlib.import_module(f"templates.{module}").build().to_dict()
    roles = {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert roles
    for name, role in roles.items():
        assert role["Path"] == {"Ref": "IamRolePath"}, name
        assert role["PermissionsBoundary"] == {
            "Fn::If": ["HasPermissionsBoundary", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]}, name
    without = Evaluation(template, {"PermissionsBoundaryArn": ""}).resources()
    with_boundary = Evaluation(template, {"PermissionsBoundaryArn": BOUNDARY}).resources()
    for name in roles:
        if name in without:
            assert "PermissionsBoundary" not in without[name]["Properties"], "absent when empty"
            assert with_boundary[name]["Properties"]["PermissionsBoundary"] == BOUNDARY


BOUNDARY = "arn:aws:iam::123456789012:policy/Boundary"


def _connect_through_the_tls_hook(monkeypatch, bundle: str | None, **options) -> dict:
    """The keyword arguments PyMySQL's Connection receives once the app venv's TLS hook has run."""
    import importlib.util

    from pymysql import connections
    received = {}
    monkeypatch.setattr(connections.Connection, "__init__", lambda self, *a, **kw: received.update(kw))
    if bundle is None:
        monkeypatch.delenv("DB_CA_BUNDLE", raising=False)
    else:
        monkeypatch.setenv("DB_CA_BUNDLE", bundle)
    spec = importlib.util.spec_from_file_location("threetier_db_tls", Path(userdata.__file__).parent / DB_TLS_HOOK)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    connections.Connection(host="db.example", user="app", password="x", **options)  # pragma: allowlist secret
    return received


def test_the_tls_hook_gives_the_apps_mysql_connections_the_bundle_with_verification(monkeypatch):
    """The boot test proves it against a server; here, what it asks of PyMySQL in each case."""
    assert _connect_through_the_tls_hook(monkeypatch, "/etc/app/db-ca-bundle.pem") == {
        "host": "db.example", "user": "app", "password": "x",  # pragma: allowlist secret
        "ssl_ca": "/etc/app/db-ca-bundle.pem", "ssl_verify_cert": True, "ssl_verify_identity": True}
    # An app's own TLS settings stand; outside the app's units (no DB_CA_BUNDLE) nothing changes.
    own = {"ssl": {"ca": "/srv/own.pem"}}
    assert _connect_through_the_tls_hook(monkeypatch, "/etc/app/db-ca-bundle.pem", **own)["ssl"] == own["ssl"]
    assert "ssl_ca" not in _connect_through_the_tls_hook(monkeypatch, "/etc/app/db-ca-bundle.pem", **own)
    assert "ssl_ca" not in _connect_through_the_tls_hook(monkeypatch, None)


def test_gunicorn_writes_what_the_app_prints_to_the_error_log_the_agent_ships():
    steps = userdata.text("app-boot-steps.sh")
    unit = steps[steps.index("cat > /etc/systemd/system/app.service"):]
    unit = unit[:unit.index("\nUNIT\n")]
    (start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    # gunicorn redirects stdout/stderr only into an error log that is a file, not "-".
    error_log = re.search(r"--error-logfile (\S+)", start).group(1)
    assert "--capture-output" in start.split() and error_log != "-"
    # Unbuffered: a printed line reaches the file when printed, not when a buffer fills.
    assert "Environment=PYTHONUNBUFFERED=1" in unit.splitlines()
    agent = steps[steps.index('"collect_list"'):steps.index("AGENT\n", steps.index('"collect_list"'))]
    assert f'"file_path": "{error_log}"' in agent
