"""`threetier validate ENV`: every mistake in a parameter file, all at once, before any AWS call.

The bad files are a good base plus one mistake each, written to a small project
in a temporary directory whose output/main.yaml is the root template the code
builds now. Nothing here may reach AWS: the `no_aws` fixture fails any boto3
call or socket connection and checks that none was attempted.
"""

from __future__ import annotations

import json
import socket

import botocore.client
import pytest

from threetier import cli, emit
from threetier.emit import manifest
from threetier.deploy import inputs
from threetier.deploy.package import parse_template
from threetier.parameters import paramfile, validate

US_EAST_1_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
EU_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
TOPIC = "arn:aws:sns:us-east-1:123456789012:pager"

BASE = {
    "ProjectName": "shop", "EnvironmentName": "dev", "VpcNetworkAddress": "10.0.0.0", "VpcPrefixLength": "16",
    "SubnetCidrBits": "12",
    "NumberOfAzs": "2", "SingleNatGateway": "true", "BastionCount": "0", "DbEngine": "mysql",
    "DbInstanceClass": "db.t4g.micro", "DbMultiAz": "false", "DbAllocatedStorage": "20",
    "DbMaxAllocatedStorage": "50", "DbDeletionProtection": "false", "DbPerformanceInsights": "false",
    "InstanceType": "t3.small", "AsgMinSize": "1", "AsgMaxSize": "3",
    "DbConnectionsMax": "50", "CpuCredits": "unlimited", "AlarmEmail": TOPIC,
}
PROD = {**BASE, "EnvironmentName": "prod", "NumberOfAzs": "3", "DbMultiAz": "true",
        "DbDeletionProtection": "true", "DbInstanceClass": "db.m6g.large"}


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    """Record and refuse every AWS API call and network connection; none may happen."""
    attempts = []

    def api_call(client, operation, params):
        attempts.append(operation)
        raise AssertionError(f"AWS call {operation} during validation")

    def connect(sock, address):
        attempts.append(f"connect {address}")
        raise AssertionError(f"network connection to {address} during validation")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", api_call)
    monkeypatch.setattr(socket.socket, "connect", connect)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    yield attempts
    assert attempts == [], "validation must not talk to AWS"


@pytest.fixture(scope="module")
def root_dict(root_template):
    """The root template as validate reads it: rendered to YAML by the code, then parsed."""
    return parse_template(emit.render(root_template, "root"), "main.yaml")


@pytest.fixture(scope="module")
def tmp_project(tmp_path_factory, root_template):
    root = tmp_path_factory.mktemp("validate-project")
    (root / "templates").mkdir()
    (root / "templates" / "__init__.py").write_text("STACKS = {}\n")
    (root / "setup.cfg").write_text("[metadata]\nname = validate-test\n")
    (root / "output").mkdir()
    (root / "output" / "main.yaml").write_text(emit.render(root_template, "root"))
    (root / "output" / manifest.FILE_NAME).write_text(manifest.render(root))  # output/ as generated
    (root / "parameters").mkdir()
    return root


@pytest.fixture
def parsed_once(monkeypatch, root_dict):
    """Skip re-parsing the 1,300-line root for every file of the table (0.1 s each)."""
    monkeypatch.setattr(inputs, "load_root_template", lambda project: root_dict)


def write(project, env: str, values: dict[str, str | None]) -> None:
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if v is not None]
    (project / "parameters" / f"{env}.json").write_text(json.dumps(entries, indent=2) + "\n")


def run(project, env: str, *extra: str) -> int:
    return cli.main(["--project-dir", str(project), "validate", env, *extra])


# ----------------------------------------------------------------------------- one mistake per file

BAD = [
    # (id, changes to BASE, the parameter the error names, region)
    ("unknown-key-typo", {"InstanceTyp": "t3.small"}, "InstanceTyp", None),
    # Backups (issue 36): the root declares these bare, validate holds their constraints.
    ("backup-region-is-the-stacks", {"BackupRegion": "eu-west-1"}, "BackupRegion", "eu-west-1"),
    ("backup-region-unknown", {"BackupRegion": "eu-westish-9"}, "BackupRegion", "us-east-1"),
    ("backup-region-other-partition", {"BackupRegion": "cn-north-1"}, "BackupRegion", "us-east-1"),
    ("backup-rule-keeps-too-long-for-point-in-time", {"BackupRegion": "us-west-2", "BackupRule": "24/60/60"},
     "BackupRule", "us-east-1"),
    ("backup-rule-hours", {"BackupRegion": "us-west-2", "BackupRule": "6/7/7"}, "BackupRule", "us-east-1"),
    ("backup-rule-kept-no-longer-than-its-interval", {"BackupRegion": "us-west-2", "BackupRule": "24/1/7"},
     "BackupRule", "us-east-1"),
    ("vault-lock-without-explicit-yes", {"BackupRegion": "us-west-2", "BackupVaultLock": "true"},
     "BackupVaultLock", "us-east-1"),
    ("account-copy-without-plan", {"BackupAccountVaultArn":
                                   "arn:aws:backup:us-west-2:210987654321:backup-vault:shop-dev-backup-copy"},
     "BackupAccountVaultArn", "us-east-1"),
    ("restore-snapshot-pattern", {"DbRestoreSnapshot": "not a snapshot"}, "DbRestoreSnapshot", None),
    ("unknown-key-case", {"vpcprefixlength": "16"}, "vpcprefixlength", None),
    ("replaced-parameter", {"VpcCidr": "10.0.0.0/16"}, "VpcCidr", None),
    ("wired-parameter", {"VpcId": "vpc-0123456789abcdef0"}, "VpcId", None),
    ("project-name-pattern", {"ProjectName": "Shop_X"}, "ProjectName", None),
    ("environment-name-pattern", {"EnvironmentName": "Dev!"}, "EnvironmentName", None),
    ("vpc-address-public", {"VpcNetworkAddress": "8.8.0.0"}, "VpcNetworkAddress", None),
    ("vpc-prefix-too-long", {"VpcPrefixLength": "24"}, "VpcPrefixLength", None),
    ("vpc-too-small-for-nine-subnets", {"VpcPrefixLength": "20"}, "VpcPrefixLength", None),
    ("vpc-address-off-its-boundary", {"VpcNetworkAddress": "10.0.1.0"}, "VpcNetworkAddress", None),
    ("subnet-bits-out-of-range", {"SubnetCidrBits": "13"}, "SubnetCidrBits", None),
    ("subnet-bits-not-a-number", {"SubnetCidrBits": "twelve"}, "SubnetCidrBits", None),
    ("az-count-not-allowed", {"NumberOfAzs": "4"}, "NumberOfAzs", None),
    ("three-azs-in-us-west-1", {"NumberOfAzs": "3"}, "NumberOfAzs", "us-west-1"),
    ("flow-log-retention", {"FlowLogRetentionDays": "45"}, "FlowLogRetentionDays", None),
    ("app-port-privileged", {"AppPort": "80"}, "AppPort", None),
    ("bastion-without-key-pair", {"BastionCount": "1", "AdminCidr": "203.0.113.0/24"}, "BastionKeyPairName", None),
    ("bastion-without-admin-cidr", {"BastionCount": "1", "BastionKeyPairName": "ops"}, "AdminCidr", None),
    ("admin-cidr-world", {"AdminCidr": "0.0.0.0/0"}, "AdminCidr", None),
    ("admin-cidr-any-slash-zero", {"BastionCount": "2", "BastionKeyPairName": "ops", "AdminCidr": "10.0.0.0/0"},
     "AdminCidr", None),
    ("admin-cidr-not-a-cidr", {"AdminCidr": "my office"}, "AdminCidr", None),
    ("db-engine", {"DbEngine": "oracle"}, "DbEngine", None),
    ("db-class-unknown-family", {"DbInstanceClass": "db.m4.large"}, "DbInstanceClass", None),
    ("db-class-not-rds", {"DbInstanceClass": "m6g.large"}, "DbInstanceClass", None),
    ("db-class-size", {"DbInstanceClass": "db.m6g.micro"}, "DbInstanceClass", None),
    ("db-replica-class-family", {"DbReplicaEnabled": "true", "DbReplicaInstanceClass": "db.z9.large"},
     "DbReplicaInstanceClass", None),
    ("db-postgres-class", {"DbEngine": "postgres", "DbInstanceClass": "db.t2.micro"}, "DbInstanceClass", None),
    ("db-storage-below-minimum", {"DbAllocatedStorage": "10"}, "DbAllocatedStorage", None),
    ("db-max-storage-not-above", {"DbAllocatedStorage": "100", "DbMaxAllocatedStorage": "80"},
     "DbMaxAllocatedStorage", None),
    ("db-backup-retention", {"DbBackupRetentionDays": "0"}, "DbBackupRetentionDays", None),
    ("db-monitoring-interval", {"DbMonitoringInterval": "2"}, "DbMonitoringInterval", None),
    ("performance-insights-on-micro", {"DbPerformanceInsights": "true"}, "DbPerformanceInsights", None),
    ("asg-min-above-max", {"AsgMinSize": "4"}, "AsgMinSize", None),
    ("asg-max-out-of-range", {"AsgMaxSize": "0"}, "AsgMaxSize", None),
    ("asg-min-above-default-max", {"AsgMaxSize": None, "AsgMinSize": "3"}, "AsgMinSize", None),
    # Removed: target tracking owns the group's size (an older file may still set it).
    ("asg-desired-capacity-removed", {"AsgDesiredCapacity": "2"}, "AsgDesiredCapacity", None),
    ("instance-type-pattern", {"InstanceType": "T3.small"}, "InstanceType", None),
    ("graviton-type-with-the-x86-ami", {"InstanceType": "t4g.small"}, "InstanceType", None),
    ("x86-type-with-an-arm64-ami", {"AmiId": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"},
     "InstanceType", None),
    ("graviton-bastion-with-the-x86-ami", {"BastionCount": "1", "BastionKeyPairName": "ops",
                                           "AdminCidr": "203.0.113.0/24", "BastionInstanceType": "c7gn.medium"},
     "BastionInstanceType", None),
    ("cpu-target", {"CpuTargetPercent": "95"}, "CpuTargetPercent", None),
    # The old default: shorter than the boot's signal timeout (1200 s).
    ("grace-shorter-than-the-boot", {"HealthCheckGraceSeconds": "900"}, "HealthCheckGraceSeconds", None),
    ("grace-above-its-maximum", {"HealthCheckGraceSeconds": "3601"}, "HealthCheckGraceSeconds", None),
    ("health-check-path", {"HealthCheckPath": "health"}, "HealthCheckPath", None),
    ("repository-not-https", {"AppRepositoryUrl": "http://github.com/owner/app.git"}, "AppRepositoryUrl", None),
    # Every free-text value of the user data is bounded, so that the user data fits EC2's 16 KB.
    ("repository-url-too-long", {"AppRepositoryUrl": "https://git.example.com/" + "a" * 377}, "AppRepositoryUrl",
     None),
    ("repository-ref-too-long", {"AppRepositoryRef": "release/" + "x" * 248}, "AppRepositoryRef", None),
    ("alb-certificate-other-region", {"AlbCertificateArn": EU_CERT}, "AlbCertificateArn", "us-east-1"),
    ("cloudfront-certificate-outside-us-east-1", {"CloudFrontCertificateArn": EU_CERT},
     "CloudFrontCertificateArn", None),
    # No us-east-1 in the other partitions: no companion stack for CloudFront's certificate or web ACL.
    ("cloudfront-waf-outside-the-commercial-partition",
     {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-3b927c52", "WafEnabled": "true"},
     "WafEnabled", "cn-north-1"),
    ("cloudfront-domain-outside-the-commercial-partition",
     {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-3b927c52", "DomainName": "example.com",
      "HostedZoneId": "Z0123456789ABCDEFGHIJ"}, "DomainName", "us-gov-west-1"),
    ("waf-without-cloudfront-elsewhere", {"WafEnabled": "true"}, "WafEnabled", "eu-west-1"),
    ("cloudfront-logs-in-a-region-cloudfront-cannot-deliver-to",
     {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-3b927c52", "CloudFrontLogging": "true"},
     "CloudFrontLogging", "af-south-1"),
    ("cloudfront-without-domain-with-alb-certificate",
     {"CloudFrontEnabled": "true", "AlbCertificateArn": US_EAST_1_CERT}, "AlbCertificateArn", "us-east-1"),
    ("waf-without-cloudfront", {"WafEnabled": "true"}, "WafEnabled", "us-east-1"),
    ("domain-name-upper-case", {"DomainName": "Example.COM"}, "DomainName", None),
    ("hosted-zone-id", {"HostedZoneId": "z123"}, "HostedZoneId", None),
    ("alarm-email", {"AlarmEmail": "ops at example.com"}, "AlarmEmail", None),
    ("efs-throughput-mode", {"EfsThroughputMode": "provisioned"}, "EfsThroughputMode", None),
    ("efs-max-io-with-elastic-throughput", {"EfsPerformanceMode": "maxIO", "EfsThroughputMode": "elastic"},
     "EfsThroughputMode", None),
    ("project-name-double-hyphen", {"ProjectName": "my--shop"}, "ProjectName", None),
    ("prod-without-multi-az", {**PROD, "DbMultiAz": "false"}, "DbMultiAz", None),
    # RDS refuses an autoscaling limit less than 10 % above the storage ("Invalid max storage size").
    ("max-storage-less-than-ten-percent-above", {"DbAllocatedStorage": "100", "DbMaxAllocatedStorage": "105"},
     "DbMaxAllocatedStorage", None),
    # The replica inherits Performance Insights, so its class must support it too.
    ("performance-insights-on-a-small-replica",
     {**PROD, "DbPerformanceInsights": "true", "DbReplicaEnabled": "true", "DbReplicaInstanceClass": "db.t4g.small"},
     "DbPerformanceInsights", None),
    # origin.<site> is the load balancer's name: a site called origin collides with an apex site's.
    ("site-subdomain-origin", {"SiteSubdomain": "origin"}, "SiteSubdomain", None),
    ("cpu-credits-on-a-non-t-type", {"InstanceType": "m6i.large", "CpuCredits": "unlimited"}, "CpuCredits", None),
    # db.t4g.micro allows at most 85 MySQL connections: an alarm at 200 never fires.
    ("connections-alarm-out-of-reach", {"DbConnectionsMax": "200"}, "DbConnectionsMax", None),
    ("connections-alarm-out-of-reach-postgres", {"DbEngine": "postgres", "DbConnectionsMax": "120"},
     "DbConnectionsMax", None),
    ("prod-without-deletion-protection", {**PROD, "DbDeletionProtection": "false"}, "DbDeletionProtection", None),
]


@pytest.mark.parametrize("changes, parameter, region", [pytest.param(*case[1:], id=case[0]) for case in BAD])
def test_one_mistake_exits_2_and_names_the_parameter(tmp_project, parsed_once, capsys, changes, parameter, region):
    write(tmp_project, "case", {**BASE, **changes})

    assert run(tmp_project, "case", *(["--region", region] if region else [])) == 2

    out, err = capsys.readouterr()
    *problem_lines, summary = out.splitlines()  # the report and its summary, all on stdout
    error_lines = [line for line in problem_lines if ": warning: " not in line and ": note: " not in line]
    assert len(error_lines) == 1, out  # one mistake, one message
    assert parameter in error_lines[0]
    assert "1 error" in summary and "nothing was sent to AWS" in summary
    assert err == ""


def test_the_message_names_parameter_value_and_what_is_allowed(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "AsgMinSize": "5"})
    run(tmp_project, "case")
    assert "case.json: AsgMinSize='5': must be at most AsgMaxSize=3\n" in capsys.readouterr().out


def test_a_value_too_long_is_named_with_the_limit_though_its_form_is_right(tmp_project, parsed_once, capsys):
    url = "https://git.example.com/" + "a" * 377  # 401 characters of a valid URL
    write(tmp_project, "case", {**BASE, "AppRepositoryUrl": url, "AppRepositoryRef": "release/" + "x" * 247})
    assert run(tmp_project, "case") == 2
    out = capsys.readouterr().out
    assert f"case.json: AppRepositoryUrl='{url}': 401 characters, more than the 400 allowed\n" in out
    assert "AppRepositoryRef" not in out, "255 characters are allowed"


@pytest.mark.parametrize("changes, line", [
    # The old default of the grace period: a server still booting after it would be replaced.
    ({"HealthCheckGraceSeconds": "900"},
     "case.json: HealthCheckGraceSeconds='900': shorter than the 1200 s CloudFormation waits for a new server's "
     "cfn-signal: the load balancer health check would get a server that is still booting replaced before it "
     "signals; use 1200 or more\n"),
    # Removed: a desired capacity in the template would reset what target tracking scaled.
    ({"AsgDesiredCapacity": "2"},
     "case.json: AsgDesiredCapacity: no longer a parameter: CPU target tracking sets the number of app servers "
     "between AsgMinSize and AsgMaxSize, and a desired capacity in the template would reset it on every stack "
     "update; remove it, and set AsgMinSize to the servers to start with and never go below\n"),
], ids=["grace-shorter-than-the-boot", "desired-capacity"])
def test_a_refused_value_says_why_and_what_to_set_instead(tmp_project, parsed_once, capsys, changes, line):
    write(tmp_project, "case", {**BASE, **changes})
    assert run(tmp_project, "case") == 2
    assert line in capsys.readouterr().out


def test_a_backup_region_equal_to_the_stack_s_and_a_lock_without_yes_are_refused_with_why(
        tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "BackupRegion": "eu-west-1", "BackupVaultLock": "yes"})
    assert run(tmp_project, "case", "--region", "eu-west-1") == 2
    out = capsys.readouterr().out
    assert ("case.json: BackupRegion='eu-west-1': is the environment's own region (eu-west-1): the copies must be "
            "in another region to outlive it; choose a second region, e.g. us-west-2\n") in out
    assert ("case.json: BackupVaultLock='yes': is not an explicit yes. A vault lock cannot be undone 3 days after "
            "it is set, not even by AWS, and no recovery point can then be deleted before its retention "
            "(BackupRule). To lock the vaults, write exactly yes-cannot-be-undone-after-3-days; otherwise off\n") in out
    write(tmp_project, "case", {**BASE, "BackupRegion": "us-west-2",
                                "BackupVaultLock": "yes-cannot-be-undone-after-3-days"})
    assert run(tmp_project, "case", "--region", "eu-west-1") == 0


def test_an_unknown_key_gets_a_suggestion(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "vpcprefixlength": "16", "InstanceTyp": "t3.small", "Colour": "blue",
                                "VpcCidr": "10.0.0.0/16"})
    run(tmp_project, "case")
    out = capsys.readouterr().out
    assert "vpcprefixlength: not a parameter of the template; did you mean VpcPrefixLength?" in out
    assert ("VpcCidr: no longer a parameter: split into VpcNetworkAddress and VpcPrefixLength "
            "(10.0.0.0/16 is 10.0.0.0 and 16)") in out
    assert "InstanceTyp: not a parameter of the template; did you mean InstanceType?" in out
    assert "Colour: not a parameter of the template (parameters/README.md lists them all)" in out


def test_every_mistake_is_reported_at_once(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**PROD, "Colour": "blue", "VpcPrefixLength": "22", "AsgMinSize": "9",
                            "DbInstanceClass": "db.m4.large", "DbMultiAz": "false", "AdminCidr": "0.0.0.0/0",
                            "DbMaxAllocatedStorage": "20"})

    assert run(tmp_project, "case", "--region", "us-west-1") == 2

    out, err = capsys.readouterr()
    *problem_lines, summary = out.splitlines()
    named = [line.split(": ")[1].split("=")[0] for line in problem_lines]
    # Per-value checks first (AdminCidr's pattern refuses any /0), then the cross-field ones.
    assert named == ["Colour", "AdminCidr", "DbMaxAllocatedStorage", "AsgMinSize", "VpcPrefixLength", "NumberOfAzs",
                     "DbInstanceClass", "DbMultiAz"]
    assert "8 errors" in summary


def test_a_bad_value_is_reported_once_not_again_by_the_checks_that_read_it(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "AsgMinSize": "two", "BastionCount": "3"})
    assert run(tmp_project, "case") == 2
    out = capsys.readouterr().out
    assert out.count("AsgMinSize") == 1 and out.count("BastionCount") == 1
    assert "BastionKeyPairName" not in out


def test_prod_without_multi_az_is_a_warning_with_allow_insecure(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**PROD, "DbMultiAz": "false", "DbDeletionProtection": "false"})

    assert run(tmp_project, "case", "--region", "us-east-1") == 2
    assert "pass --allow-insecure to accept it" in capsys.readouterr().out

    assert run(tmp_project, "case", "--region", "us-east-1", "--allow-insecure") == 0
    out = capsys.readouterr().out
    assert "case.json: warning: DbMultiAz='false': prod keeps a standby database in a second AZ" in out
    assert "case.json: warning: DbDeletionProtection='false'" in out
    assert "valid" in out and "2 warnings" in out


def test_cpu_credits_are_a_deliberate_choice_for_t_types(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "CpuCredits": ""})
    assert run(tmp_project, "case") == 0
    assert ("warning: CpuCredits='': t3.small is a T type: choose unlimited (CPU above the baseline is billed) "
            "or standard") in capsys.readouterr().out
    write(tmp_project, "case", {**BASE, "CpuCredits": "standard", "CpuTargetPercent": "50"})
    assert run(tmp_project, "case") == 0
    assert ("note: CpuCredits='standard': t3.small is held at its 20 % baseline once its credits run out, "
            "so CpuTargetPercent=50 cannot scale out then") in capsys.readouterr().out
    write(tmp_project, "case", {**BASE, "InstanceType": "m6i.large", "CpuCredits": ""})
    assert run(tmp_project, "case") == 0
    assert "CpuCredits" not in capsys.readouterr().out


def test_a_connections_alarm_near_the_class_maximum_is_a_warning_with_a_number(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "DbConnectionsMax": "75"})
    assert run(tmp_project, "case") == 0
    assert ("case.json: warning: DbConnectionsMax='75': MySQL 8.4 on db.t4g.micro allows at most 85 "
            "connections (default max_connections, less the memory RDS keeps), so this alarm may never fire: "
            "use about 70 % of it, e.g. 59") in capsys.readouterr().out
    write(tmp_project, "case", {**BASE, "DbInstanceClass": "db.r6g.large", "DbConnectionsMax": "1000"})
    assert run(tmp_project, "case") == 0
    assert "DbConnectionsMax" not in capsys.readouterr().out


# ----------------------------------------------------------------------------- region

def test_the_region_comes_from_the_option_then_aws_region_then_aws_default_region(
        tmp_project, parsed_once, capsys, monkeypatch):
    write(tmp_project, "case", {**BASE, "NumberOfAzs": "3"})
    assert run(tmp_project, "case") == 0
    assert "note: AWS::Region: no region given" in capsys.readouterr().out

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-1")
    assert run(tmp_project, "case") == 2
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert run(tmp_project, "case") == 0
    assert run(tmp_project, "case", "--region", "us-west-1") == 2
    assert "us-west-1 has only 2 Availability Zones" in capsys.readouterr().out


def test_a_new_domain_is_a_first_pass_that_says_what_comes_next(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "DomainName": "example.com"})
    assert run(tmp_project, "case") == 0
    out = capsys.readouterr().out
    assert "note: HostedZoneId='': empty with DomainName=example.com: this deploy creates the hosted zone only" in out
    assert "threetier delegation ENV" in out


def test_cloudfront_without_a_prefix_list_is_only_a_note_for_validate(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "CloudFrontEnabled": "true"})
    assert run(tmp_project, "case", "--region", "eu-west-1") == 0
    out = capsys.readouterr().out
    assert "note: CloudFrontPrefixListId='': empty with CloudFrontEnabled true" in out
    assert "CloudFrontNeedsItsPrefixList" not in out  # the root's Rule says the same: not repeated


# ----------------------------------------------------------------------------- good files

@pytest.fixture(scope="module")
def committed_root(project):
    return inputs.load_root_template(project)


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("region", [None, "us-east-1", "eu-west-1"])
def test_the_committed_parameter_files_are_valid_but_for_who_hears_the_alarms(
        project, committed_root, monkeypatch, env, region, capsys):
    """Who answers the alarms only the user knows, so the committed files leave AlarmEmail out: dev is
    warned, prod (protected) refused until it is set; nothing else is wrong with either."""
    # As parsed_once: the committed output/main.yaml, read by the same function once for the six cases.
    monkeypatch.setattr(inputs, "load_root_template", lambda _project: committed_root)
    assert run(project, env, *(["--region", region] if region else [])) == (2 if env == "prod" else 0)
    *lines, summary = capsys.readouterr().out.splitlines()
    problems = [line for line in lines if ": note: " not in line]
    assert len(problems) == 1 and f"{env}.json: " in problems[0]
    assert (": warning: " in problems[0]) is (env == "dev") and "AlarmEmail='': empty" in problems[0]
    assert summary.endswith("nothing was sent to AWS") if env == "prod" else f"{env}.json: valid" in summary

    monkeypatch.setattr(inputs, "load_values", lambda _project, name: (
        project / "parameters" / f"{name}.json",
        {**paramfile.load(paramfile.path_for(project, name)), "AlarmEmail": TOPIC}))
    assert run(project, env, *(["--region", region] if region else [])) == 0
    out = capsys.readouterr().out
    assert f"{env}.json: valid" in out
    assert "error" not in out and "warning" not in out


# ----------------------------------------------------------------------------- who hears the alarms


NOBODY = {**PROD, "AlarmEmail": None}


@pytest.fixture(autouse=True)
def environments_removed(request):
    """The environments these tests write into the shared project (prod, qa, a threetier.toml) are gone
    after each test: other tests list the project's environments."""
    yield
    if "tmp_project" in request.fixturenames:
        project = request.getfixturevalue("tmp_project")
        for path in (project / "parameters" / "prod.json", project / "parameters" / "qa.json",
                     project / "threetier.toml"):
            path.unlink(missing_ok=True)


@pytest.fixture
def toml(tmp_project):
    return tmp_project / "threetier.toml"


def test_a_protected_environment_without_a_recipient_is_refused_with_what_to_set(tmp_project, parsed_once, capsys):
    write(tmp_project, "prod", NOBODY)

    assert run(tmp_project, "prod") == 2

    out = capsys.readouterr().out
    assert ("prod.json: AlarmEmail='': empty: the alarms notify a topic no one subscribes to, so no one hears "
            "them, and this is a protected environment: set it to an email address of whoever answers the "
            "alarms") in out
    assert "or the ARN of an existing SNS topic" in out and "docs/deploy.md" in out
    assert "1 error" in out


def test_other_environments_are_warned(tmp_project, parsed_once, capsys):
    write(tmp_project, "qa", NOBODY)
    assert run(tmp_project, "qa") == 0
    out = capsys.readouterr().out
    assert "qa.json: warning: AlarmEmail='': empty: the alarms notify a topic no one subscribes to" in out
    assert "(a protected environment must)" in out and "1 warning" in out


@pytest.mark.parametrize("recipient", ["oncall@shop-ops.net", TOPIC])
def test_an_address_or_a_topic_satisfies_a_protected_environment(tmp_project, parsed_once, capsys, recipient):
    write(tmp_project, "prod", {**PROD, "AlarmEmail": recipient})
    assert run(tmp_project, "prod") == 0
    assert "AlarmEmail" not in capsys.readouterr().out


@pytest.mark.parametrize("address", ["ops@example.com", "ops@mail.example.org", "ops@alerts.test",
                                     "ops@EXAMPLE.NET", "ops@pager.invalid"])
def test_an_address_in_a_domain_reserved_for_examples_tells_no_one(tmp_project, parsed_once, capsys, address):
    write(tmp_project, "prod", {**PROD, "AlarmEmail": address})
    assert run(tmp_project, "prod") == 2
    assert "is reserved for examples (RFC 2606): no mail is delivered there" in capsys.readouterr().out
    write(tmp_project, "qa", {**PROD, "AlarmEmail": address})
    assert run(tmp_project, "qa") == 0
    assert "warning: AlarmEmail=" in capsys.readouterr().out


def test_without_monitoring_there_is_no_alarm_to_hear(tmp_project, parsed_once, capsys):
    write(tmp_project, "prod", {**PROD, "MonitoringEnabled": "false"})
    assert run(tmp_project, "prod") == 0
    assert "AlarmEmail" not in capsys.readouterr().out


def test_threetier_toml_decides_which_environment_is_protected(tmp_project, parsed_once, capsys, toml):
    write(tmp_project, "qa", NOBODY)
    write(tmp_project, "prod", NOBODY)
    toml.write_text('[qa]\nprotected = true\n\n[prod]\nprotected = false\n')
    assert run(tmp_project, "qa") == 2
    assert run(tmp_project, "prod") == 0
    assert "prod.json: warning: AlarmEmail=''" in capsys.readouterr().out
    # An environment without a table keeps the default: validate needs no pins.
    toml.write_text('[dev]\nregion = "us-east-1"\n')
    assert run(tmp_project, "prod") == 2
    toml.write_text('[prod]\nprotected = "yes"\n')
    assert run(tmp_project, "prod") == 2
    assert "[prod] protected must be true or false (no quotes)" in capsys.readouterr().err


GOOD = {
    "base": ({}, "us-east-1"),
    "prod": (PROD, "us-east-1"),
    "two-azs-in-us-west-1": ({"NumberOfAzs": "2"}, "us-west-1"),
    "bastions": ({"BastionCount": "2", "BastionKeyPairName": "ops", "AdminCidr": "203.0.113.0/24"}, None),
    "postgres": ({"DbEngine": "postgres", "DbInstanceClass": "db.r6g.large", "DbPerformanceInsights": "true",
                  "DbReplicaEnabled": "true", "DbReplicaInstanceClass": "db.r7g.xlarge"}, None),
    "small-vpc": ({"VpcNetworkAddress": "192.168.0.0", "VpcPrefixLength": "23", "SubnetCidrBits": "5"}, None),
    "cloudfront-domain-us-east-1": ({"CloudFrontEnabled": "true", "DomainName": "example.com",
                                     "HostedZoneId": "Z0123456789ABCDEFGHIJ",
                                     "CloudFrontPrefixListId": "pl-3b927c52", "WafEnabled": "true"}, "us-east-1"),
    "new-zone-first-pass": ({"CloudFrontEnabled": "true", "DomainName": "example.com",
                             "CloudFrontPrefixListId": "pl-3b927c52"}, "eu-west-1"),
    "graviton-with-the-arm64-ami": ({"AmiId": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
                                     "InstanceType": "m7g.large", "CpuCredits": "", "BastionInstanceType": "t4g.micro"}, None),
    "own-ami-parameter-any-type": ({"AmiId": "/threetier/ubuntu-ami", "InstanceType": "m7g.large", "CpuCredits": ""}, None),
    "efs-max-io-bursting": ({"EfsPerformanceMode": "maxIO", "EfsThroughputMode": "bursting"}, None),
    "cloudfront-logs-in-a-supported-region": ({"CloudFrontEnabled": "true", "CloudFrontLogging": "true",
                                               "CloudFrontPrefixListId": "pl-3b927c52"}, "eu-west-1"),
    "cloudfront-domain-elsewhere": ({"CloudFrontEnabled": "true", "DomainName": "example.com",
                                     "HostedZoneId": "Z0123456789ABCDEFGHIJ",
                                     "CloudFrontCertificateArn": US_EAST_1_CERT, "AlbCertificateArn": EU_CERT,
                                     "CloudFrontPrefixListId": "pl-3b927c52"}, "eu-west-1"),
    # Outside us-east-1 plan/deploy take the certificate and the web ACL from the us-east-1 companion stack.
    "cloudfront-domain-and-waf-elsewhere": ({"CloudFrontEnabled": "true", "DomainName": "example.com",
                                             "HostedZoneId": "Z0123456789ABCDEFGHIJ", "WafEnabled": "true",
                                             "CloudFrontPrefixListId": "pl-3b927c52"}, "eu-west-1"),
    "defaults-only": ({key: None for key in BASE}, None),
}


def test_outside_us_east_1_validate_says_the_companion_stack_makes_the_certificate_and_web_acl(
        tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, **GOOD["cloudfront-domain-and-waf-elsewhere"][0]})
    assert run(tmp_project, "case", "--region", "eu-west-1") == 0
    out = capsys.readouterr().out
    assert ("case.json: note: WebAclArn='': empty with WafEnabled=true and CloudFront in eu-west-1: `threetier "
            "plan`/`deploy` create the web ACL in the companion stack in us-east-1 and pass it on; for a console "
            "deploy, create output/edge-us-east-1.yaml in us-east-1 first and set this to its WebAclArn output\n"
            in out)
    assert "note: CloudFrontCertificateArn='': empty with DomainName=example.com" in out


def test_in_us_east_1_no_companion_stack_is_mentioned(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, **GOOD["cloudfront-domain-us-east-1"][0]})
    assert run(tmp_project, "case", "--region", "us-east-1") == 0
    assert "companion" not in capsys.readouterr().out


def test_outside_the_commercial_partition_the_refusal_names_the_setting_and_the_way_out(
        tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-3b927c52",
                                "WafEnabled": "true"})
    assert run(tmp_project, "case", "--region", "cn-north-1") == 2
    assert ("case.json: WafEnabled='true': with CloudFrontEnabled true needs WebAclArn from the companion stack in "
            "us-east-1, and cn-north-1 is in the aws-cn partition, which has no us-east-1: set this to false, or "
            "CloudFrontEnabled to false\n") in capsys.readouterr().out


@pytest.mark.parametrize("changes, region", [pytest.param(*v, id=k) for k, v in GOOD.items()])
def test_good_variants_are_valid(tmp_project, parsed_once, capsys, changes, region):
    write(tmp_project, "case", {**BASE, **changes})
    assert run(tmp_project, "case", *(["--region", region] if region else [])) == 0, capsys.readouterr().out


# ----------------------------------------------------------------------------- files and templates

def test_malformed_json_names_file_line_and_column(tmp_project, capsys):
    (tmp_project / "parameters" / "case.json").write_text('[\n  {"ParameterKey": "VpcPrefixLength",\n}\n]\n')
    assert run(tmp_project, "case") == 2
    assert "case.json:3:1: not valid JSON" in capsys.readouterr().err


def test_a_missing_parameter_file_is_named(tmp_project, capsys):
    assert run(tmp_project, "nosuchenv") == 2
    assert "nosuchenv.json: no such parameter file (environments: " in capsys.readouterr().err


def test_without_generated_templates_it_says_to_generate(tmp_path, capsys):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "__init__.py").write_text("")
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "parameters").mkdir()
    write(tmp_path, "dev", {"ProjectName": "shop"})
    assert run(tmp_path, "dev") == 2
    assert "run `python generate.py` first" in capsys.readouterr().err


SMALL_ROOT = {"Parameters": {
    "ProjectName": {"Type": "String", "AllowedPattern": "^[a-z]+$"},
    "EnvironmentName": {"Type": "String", "Default": "dev"},
    "AsgMinSize": {"Type": "Number", "Default": "2"},
}}


def test_another_projects_root_gets_the_checks_its_parameters_allow():
    assert [str(p) for p in validate.validate(SMALL_ROOT, {"EnvironmentName": "prod", "AsgMinSize": "9"})] == [
        "ProjectName: required (the template gives it no default)",
    ]  # no AsgMaxSize or DbMultiAz here: those checks do not apply


def test_a_template_rule_is_evaluated_when_no_check_covers_it():
    root = {
        "Parameters": {"Colour": {"Type": "String", "Default": "red"}, "Size": {"Type": "String", "Default": "1"}},
        "Rules": {"BlueIsBig": {
            "RuleCondition": {"Fn::Equals": [{"Ref": "Colour"}, "blue"]},
            "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "Size"}, "3"]},
                            "AssertDescription": "Blue needs Size 3."}],
        }},
    }
    assert validate.validate(root, {"Colour": "red"}) == []
    [problem] = validate.validate(root, {"Colour": "blue"})
    assert str(problem) == "Size='1': Blue needs Size 3 (template rule BlueIsBig)"
    assert problem.related == ("Colour",)


def test_the_deploy_wrapper_uses_the_same_per_value_checks(root_dict):
    values = {**BASE, "AsgMaxSize": "0", "Colour": "blue"}
    assert inputs.check_parameters(root_dict["Parameters"], values) == [
        str(p) for p in validate.validate(root_dict, values) if p.severity == validate.ERROR
    ]


# ----------------------------------------------------------------------------- issue 18: stricter values

def write_raw(project, env: str, entries: list[dict]) -> None:
    (project / "parameters" / f"{env}.json").write_text(json.dumps(entries, indent=2) + "\n")


@pytest.mark.parametrize("value, written, fix", [
    (2, "2", 'write it as a string: "2"'),
    (False, "false", 'write it as a string: "false"'),
    (None, "null", 'write "" for an empty value'),
    (2.5, "2.5", 'write it as a string: "2.5"'),
])
def test_values_must_be_json_strings_quoted_as_written(tmp_project, parsed_once, capsys, value, written, fix):
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in BASE.items() if v is not None]
    entries.append({"ParameterKey": "SingleNatGateway", "ParameterValue": value})
    write_raw(tmp_project, "case", entries)

    assert run(tmp_project, "case") == 2

    err = capsys.readouterr().err
    assert (f"case.json: SingleNatGateway: ParameterValue {written} is ") in err
    assert "the AWS CLI accepts only strings" in err and fix in err
    assert "'False'" not in err and "None" not in err


@pytest.mark.parametrize("parameter, value", [
    ("AsgMinSize", "2.5"), ("AsgMaxSize", "1e1"), ("DbAllocatedStorage", "20.0"), ("SubnetCidrBits", " 8"),
])
def test_counts_and_sizes_must_be_whole_numbers(tmp_project, parsed_once, capsys, parameter, value):
    write(tmp_project, "case", {**BASE, parameter: value})

    assert run(tmp_project, "case") == 2

    assert f"{parameter}={value!r}: must be a whole number written in digits" in capsys.readouterr().out


def test_an_unknown_region_is_an_error_with_the_closest_name(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", BASE)

    assert run(tmp_project, "case", "--region", "us-east-9") == 2

    out = capsys.readouterr().out
    assert "AWS::Region='us-east-9': not an AWS region botocore knows: did you mean us-east-2?" in out


@pytest.mark.parametrize("changes, region, message", [
    ({"InstanceType": "t3.gigantic"}, None, "InstanceType='t3.gigantic': not an EC2 instance type"),
    ({"InstanceType": "t3.smal"}, None, "(did you mean t3.small?)"),
    ({"BastionCount": "1", "BastionKeyPairName": "ops", "AdminCidr": "203.0.113.0/24",
      "BastionInstanceType": "t3.nanoo"}, None, "BastionInstanceType='t3.nanoo': not an EC2 instance type"),
    # u7in-32tb.224xlarge exists, but not in af-south-1 (cfn-lint's offerings data).
    ({"InstanceType": "u7in-32tb.224xlarge"}, "af-south-1", "not offered in af-south-1"),
])
def test_instance_types_are_checked_against_ec2_and_the_region(tmp_project, parsed_once, capsys, changes, region,
                                                                message):
    write(tmp_project, "case", {**BASE, **changes})

    assert run(tmp_project, "case", *(["--region", region] if region else [])) == 2

    assert message in capsys.readouterr().out


def test_an_unknown_environment_lists_the_known_ones(tmp_project, capsys):
    write(tmp_project, "dev", BASE)

    assert run(tmp_project, "staging") == 2

    err = capsys.readouterr().err
    assert "staging.json: no such parameter file (environments: " in err
    assert "dev" in err.split("environments: ")[1].rstrip(")\n").split(", ")


def test_the_report_and_its_summary_go_to_stdout(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "AsgMinSize": "2.5"})

    assert run(tmp_project, "case") == 2

    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[-1].endswith("1 error, 1 note (no region); nothing was sent to AWS")


def test_the_root_defaults_pass(tmp_project, parsed_once, capsys):
    """An empty parameter file takes every default: what a console user gets without typing anything."""
    write(tmp_project, "defaults", {})
    assert run(tmp_project, "defaults", "--region", "eu-west-1") == 0, capsys.readouterr().out


@pytest.mark.parametrize("region, code", [("us-gov-west-1", 2), ("cn-north-1", 2), ("eu-west-1", 0)])
def test_access_logs_are_refused_outside_the_commercial_partition(tmp_project, parsed_once, capsys, region, code):
    write(tmp_project, "case", {**BASE, "AlbAccessLogs": "true"})
    assert run(tmp_project, "case", "--region", region) == code
    if code:
        assert "AlbAccessLogs='true'" in capsys.readouterr().out


@pytest.mark.parametrize("values,region,rule", [
    ({"EfsPerformanceMode": "maxIO", "EfsThroughputMode": "elastic"}, "us-east-1", "EfsMaxIoNeedsBurstingThroughput"),
    ({"CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-3b927c52", "CloudFrontLogging": "true"},
     "me-south-1", "CloudFrontLogsNeedASupportedRegion"),
    ({"VpcPrefixLength": "22", "SubnetCidrBits": "8"}, "us-east-1", "NineSubnetsFitTheVpc"),
])
def test_validate_checks_the_first_nested_stack_s_rules_as_well(project, values, region, rule):
    """The checks that do not fit in the root live in the network stack (threetier.parameters.rules); validate
    reads them too, over the root's parameters, as the root passes them."""
    template = inputs.load_root_template(project)
    network = parse_template((project / "output" / "network.yaml").read_text(), "network.yaml")
    assert set(network["Rules"]) <= set(template["Rules"])
    checked = validate.Inputs(declared=template["Parameters"], given=values, region=region, rules=template["Rules"])
    assert any(f"(template rule {rule})" in problem.message for problem in validate.template_rules(checked))
    clean = validate.Inputs(declared=template["Parameters"], given={}, region=region, rules=template["Rules"])
    assert validate.template_rules(clean) == []


def test_a_missing_network_template_is_named_with_the_command_that_makes_it(project, tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "main.yaml").write_text((project / "output" / "main.yaml").read_text())
    with pytest.raises(inputs.InputError, match=r"network\.yaml: no such template; run `python generate.py`"):
        inputs.load_root_template(tmp_path)


# ----------------------------------------------------------------------------- only the real fault, and the fix

@pytest.mark.parametrize("length", ["33", "abc", "8"])
def test_a_bad_prefix_length_names_only_the_prefix_length(tmp_project, parsed_once, capsys, length):
    write(tmp_project, "case", {**BASE, "VpcPrefixLength": length})

    assert run(tmp_project, "case") == 2

    out = capsys.readouterr().out
    assert f"VpcPrefixLength='{length}': must be one of 16" in out
    assert "VpcNetworkAddress" not in out


def test_a_prefix_length_the_template_does_not_constrain_is_named_not_the_address():
    declared = {"VpcNetworkAddress": {"Type": "String"}, "VpcPrefixLength": {"Type": "String"}}
    problems = validate.validate({"Parameters": declared}, {"VpcNetworkAddress": "10.0.0.0", "VpcPrefixLength": "33"})
    assert [(p.parameter, p.message) for p in validate.errors(problems)] == [
        ("VpcPrefixLength", "not a prefix length such as 16")]


def test_a_cidr_block_in_the_address_field_gets_how_to_split_it(tmp_project, parsed_once, capsys):
    write(tmp_project, "case", {**BASE, "VpcNetworkAddress": "10.0.0.0/16"})

    assert run(tmp_project, "case") == 2

    out = capsys.readouterr().out
    assert ("VpcNetworkAddress='10.0.0.0/16': a CIDR block, but this field takes the address alone: split it into "
            "VpcNetworkAddress=10.0.0.0 and VpcPrefixLength=16") in out
    assert "1 error" in out


@pytest.mark.parametrize("region", ["US-EAST-1", "us-east-1 ", " Us-East-1"])
def test_a_region_in_capitals_or_with_spaces_gets_did_you_mean(tmp_project, parsed_once, capsys, region):
    write(tmp_project, "case", BASE)

    assert run(tmp_project, "case", "--region", region) == 2

    assert (f"AWS::Region='{region}': not an AWS region botocore knows: did you mean us-east-1 (lower case, "
            "no spaces)?") in capsys.readouterr().out


@pytest.mark.parametrize("typed, meant", [("VpcPrefixLenght", "VpcPrefixLength"), ("InstanceTyp", "InstanceType"),
                                          ("NumberOfAz", "NumberOfAzs")])
def test_a_parameter_name_one_edit_away_gets_did_you_mean(tmp_project, parsed_once, capsys, typed, meant):
    write(tmp_project, "case", {**{k: v for k, v in BASE.items() if k != meant}, typed: BASE.get(meant, "2")})

    assert run(tmp_project, "case") == 2

    assert f"{typed}: not a parameter of the template; did you mean {meant}?" in capsys.readouterr().out


def test_every_entry_of_the_wrong_type_is_named_at_once(tmp_project, parsed_once, capsys):
    write_raw(tmp_project, "case", [{"ParameterKey": "ProjectName", "ParameterValue": "shop"},
                                    {"ParameterKey": "VpcPrefixLength", "ParameterValue": 16},
                                    {"ParameterKey": "SingleNatGateway", "ParameterValue": True},
                                    {"ParameterKey": "ProjectName", "ParameterValue": "again"}])

    assert run(tmp_project, "case") == 2

    err = capsys.readouterr().err
    assert 'VpcPrefixLength: ParameterValue 16 is a number; the AWS CLI accepts only strings: write it as a string: "16"' in err
    assert 'SingleNatGateway: ParameterValue true is a boolean' in err
    assert "ProjectName is given twice" in err


def test_a_copy_to_a_backup_account_warns_that_the_database_cannot_go(root_dict):
    """The database's recovery points keep its aws/rds encryption, which RDS shares with no other account."""
    values = {**BASE, "BackupRegion": "us-west-2",
              "BackupAccountVaultArn": "arn:aws:backup:us-west-2:210987654321:backup-vault:shop-dev-backup-copy"}
    found = [p for p in validate.validate(root_dict, values) if p.parameter == "BackupAccountVaultArn"]
    assert [p.severity for p in found] == [validate.WARNING]
    assert "only the file system's recovery points reach the other account" in str(found[0])
    assert "aws/rds" in str(found[0])
