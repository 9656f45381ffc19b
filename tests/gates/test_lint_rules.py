"""The project's own cfn-lint rules (src/threetier/gates/lintrules; docs/lint-rules.md: "What the lint gate knows beyond cfn-lint").

Every rule has a fixture that breaks it, written with other names than ours
(tests/gates/fixtures/lintrules/*-bad.yaml): each finding is asserted by line and by
a phrase of its message. The pattern our templates use passes the *whole* gate:
cfn-lint's own rules, informational ones included, and ours.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from cfnlint.decode import decode
from cfnlint.rules import Rules

from templates import app, data, security
from tests.templates.test_security import as_it_was_before_issue_30
from threetier.blocks import userdata
from threetier.cli import main
from threetier.gates.lint import lint_files
from threetier.gates.lintrules import RULES_DIR, _clock
from threetier.gates.lintrules._helpers import Symbolic, TemplateView, iso8601_seconds, pattern_bounds

FIXTURES = Path(__file__).parent / "fixtures" / "lintrules"
REGIONS = ("us-east-1",)
PROJECT_RULES = {"E9001", "E9002", "E9003", "E9004", "E9005", "E9006", "E9007", "W9008", "W9009", "E9010",
                 "E9011", "E9012", "E9013", "W9014", "E9015", "E9016", "E9017", "E9018",
                 "E9031", "E9032", "E9033"}

# The day the RDS fixtures are judged on: W9009 compares against a calendar, and a
# test must not start failing on the day MySQL 8.4 leaves standard support.
FIXED_TODAY = datetime.date(2026, 11, 30)

# Clean under the whole gate. rds-good.yaml (E9007, W9008, W9009) is linted on FIXED_TODAY.
GOOD = (
    "e9001-parent-good.yaml", "e9001-child-by-name.yaml", "e9001-child-by-id.yaml",
    "e9002-good.yaml", "e9003-good.yaml", "e9004-good.yaml", "e9005-good.yaml", "e9006-good.yaml",
    "e9010-good.yaml", "e9011-good.yaml", "e9012-good.yaml", "e9013-good.yaml", "w9014-good.yaml",
    "e9015-good.yaml", "e9016-good.yaml", "e9017-good.yaml", "e9018-good.yaml",
    "e9031-good.yaml", "e9032-good.yaml", "e9033-good.yaml",
)
DATED_GOOD = ("rds-good.yaml",)

# Broken fixture -> (rule, {line: phrase of the message}). The awkward cases:
# Fn::If branches (E9001:41, E9003:38, E9004:65, E9006:55, E9012:73, E9013:87 whose good twin
# picks the grace and the wait on one condition), defaults (E9012:73 no PolicyType is simple
# scaling, E9013:73 no grace is 0 s and no Timeout PT5M), Fn::FindInMap rows with
# an Fn::If choosing the parameter group per engine (E9007:57), a same-region read
# replica inheriting its source's group (E9007:64), Fn::Join log group names (W9008:40),
# an S3 TemplateURL that E9001 must skip (no finding for RemoteFleet), a FileSystemPolicy
# under Fn::If (E9016:156), an account principal that reaches no role (E9016:108).
BROKEN = {
    "e9031-bad.yaml": ("E9031", {
        3: "Transform AWS::Serverless-2016-10-31: a stack set deploys this template",
        7: "TickerFunction (AWS::Serverless::Function, a SAM resource)",
        15: "Fn::Transform at Resources/TickerTopic/Properties",
    }),
    "e9032-bad.yaml": ("E9032", {
        8: "PlainHttpStack: TemplateURL http://queue-templates.s3.eu-west-1.amazonaws.com/queue.yaml is not an "
           "https S3 object URL",
        12: "OtherHostStack: TemplateURL https://templates.example.com/queue.yaml is not an https S3 object URL",
        16: "PerAccountStack: TemplateURL names a bucket per account (AWS::AccountId)",
    }),
    "e9033-bad.yaml": ("E9033", {
        9: "ReportRole (AWS::IAM::Role) has a fixed RoleName: IAM is global",
        20: "ShopZone (AWS::Route53::HostedZone) is created in every region a stack set deploys this template to",
        24: "ShopFirewall (AWS::WAFv2::WebACL) is created in every region",
        34: "ShopExports (AWS::S3::Bucket) has a BucketName without both ${AWS::AccountId} and ${AWS::Region}",
    }),
    "e9017-bad.yaml": ("E9017", {
        30: "ByMapRotation: HostedRotationLambda RotationType is Fn::FindInMap, which the AWS::SecretsManager "
            "transform reads before CloudFormation resolves intrinsic functions",
        39: "ByConditionRotation: HostedRotationLambda RotationType is Fn::If",
    }),
    "e9016-bad.yaml": ("E9016", {
        52: "TranscodeRole can mount MediaStore but never write it: TranscodeRole's statement MountMedia allows "
            "elasticfilesystem:ClientMount (read-only access), and nothing allows it elasticfilesystem:ClientWrite",
        108: "IndexerRole can mount ArchiveVolume but never write it: IndexerRole's statement MountArchive",
        124: "AuditorRole can mount LedgerShare but never write it: LedgerShare's FileSystemPolicy statement "
             "AuditorAccess allows elasticfilesystem:ClientMount (read-only access), and LedgerShare's "
             "FileSystemPolicy statement NobodyWrites denies elasticfilesystem:ClientWrite",
        156: "ReportRole can mount ReportShare but never write it: ReportShare's FileSystemPolicy statement "
             "ReportersRead allows",
    }),
    "e9015-bad.yaml": ("E9015", {
        46: "WorkerTemplate: UserData can be any length: it substitutes Ref BatchSize: a Number parameter without "
            "MinValue and MaxValue or AllowedValues; Ref BundleUrl: a String parameter without MaxLength",
        56: "ReportLaunchConfig: UserData can be 20,472 bytes with every value at its longest, more than the 16,383 "
            "EC2 takes (16 KB raw, 21,847 base64 characters); the longest values: Ref ReportSettings (16,384), "
            "Layout (4,000)",
        70: "BuildBox: UserData can be 24,614 bytes with every value at its longest",
    }),
    "w9014-bad.yaml": ("W9014", {
        6: "Parameters/RetryBudget/Default: '1e3' is a string to YAML 1.1",
        10: "Mappings/PartnerAccounts/eu-central-1/Delivery: '054676820928' is a string to YAML 1.1, so "
            "`aws cloudformation package` writes it back unquoted, and then YAML 1.2 reads it as int",
        14: "Mappings/PartnerAccounts/us-east-2/Delivery: '033677994240'",
        16: "Mappings/ByAccount/098369216593: '098369216593'",
        51: "Outputs/PartnerTier/Value/Fn::FindInMap/1: '098369216593'",
    }),
    "e9011-bad.yaml": ("E9011", {
        46: "PortalEdgeRule: FromPort depends on Fn::If on the condition ServesTls",
        47: "PortalEdgeRule: ToPort depends on Fn::If on the condition ServesTls",
        58: "MediaEdgeRule: IpProtocol depends on Ref OriginProtocol, a parameter",
        59: "MediaEdgeRule: FromPort depends on Fn::FindInMap keyed by Ref Tier, a parameter",
        75: "UploadEdgeRule: SourcePrefixListId depends on Fn::If on the condition OnBackupEdge",
        99: "ApiTlsEdgeRule names the same prefix list in the same security group as ApiPlainEdgeRule",
        114: "StreamEdgeGroup (inline rule 2) names the same prefix list in the same security group",
    }),
    "e9010-bad.yaml": ("E9010", {
        31: "OrdersReader is a read replica of OrdersDb, whose master password Secrets Manager manages",
    }),
    "e9018-bad.yaml": ("E9018", {
        37: "LedgerMirror is a read replica (SourceDBInstanceIdentifier) and sets BackupRetentionPeriod",
        38: "LedgerMirror is a read replica (SourceDBInstanceIdentifier) and sets PreferredBackupWindow",
        46: "LedgerReportCopy is a read replica (SourceDBInstanceIdentifier) and sets DBName",
        47: "LedgerReportCopy is a read replica (SourceDBInstanceIdentifier) and sets BackupRetentionPeriod",
    }),
    "e9012-bad.yaml": ("E9012", {
        35: "WebFleet sets DesiredCapacity 3 while WebFleetCpuPolicy (TargetTrackingScaling) scales it",
        54: "WorkerFleet sets DesiredCapacity Ref WorkerCount while WorkerFleetStepPolicy (StepScaling)",
        73: "ReportFleet sets DesiredCapacity 4 while ReportFleetPolicy (SimpleScaling)",
    }),
    "e9013-bad.yaml": ("E9013", {
        41: "OrderFleet: HealthCheckGracePeriod 300 s is shorter than its CreationPolicy ResourceSignal Timeout "
            "PT15M (900 s)",
        55: "QueueFleet: HealthCheckGracePeriod Ref WarmupSeconds (as low as 60 s) is shorter than its "
            "CreationPolicy ResourceSignal Timeout Ref BootWait (up to 1800 s)",
        59: "is shorter than its rolling update PauseTime (WaitOnResourceSignals) PT1H (3600 s)",
        73: "ScanFleet: HealthCheckGracePeriod not set (0 s) is shorter than its CreationPolicy ResourceSignal "
            "Timeout PT5M (300 s)",
        87: "ReportFleet: HealthCheckGracePeriod as low as 600 s is shorter than its rolling update PauseTime",
    }),
    "e9001-parent-bad.yaml": ("E9001", {
        31: "passes Ref ImagePath, which is itself of type AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
        41: "passes Ref PinnedImage, a parameter of type AWS::EC2::Image::Id",
        50: "passes the result of Fn::Sub",
    }),
    "e9002-bad.yaml": ("E9002", {
        40: "is not ordered after its bucket policy WebLogsPolicy",
        56: "no AWS::S3::BucketPolicy in this template is on ArchiveBucket",
    }),
    "e9003-bad.yaml": ("E9003", {
        27: "SiteCertificate is validated by DNS in hosted zone SiteZone",
        38: "ApiCertificate is validated by DNS in hosted zone SiteZone",
    }),
    "e9004-bad.yaml": ("E9004", {
        41: "PinnedFleet: MinInstancesInService 2 can reach MaxSize (2, as low as 2)",
        53: "ElasticFleet: MinInstancesInService Ref FleetMin (up to 10) can reach MaxSize (Ref FleetMax, as low as 2)",
        65: "SizedFleet: MinInstancesInService 3 can reach MaxSize",
    }),
    "e9005-bad.yaml": ("E9005", {
        17: "WebInstanceRole trusts ec2.amazonaws.com only when aws:SourceAccount matches",
        32: "BatchInstanceRole trusts ec2.amazonaws.com only when aws:SourceArn matches",
        34: "only when aws:sourceorgpaths matches",
        47: "ChinaInstanceRole trusts ec2.amazonaws.com only when AWS:SourceOrgID matches",
    }),
    "e9006-bad.yaml": ("E9006", {
        33: "AlertsPolicy: Action sqs:SendMessage, not an SNS action",
        38: 'AlertsPolicy: Action "*", which covers every topic action',
        55: "EventsPolicy: Action kms:Decrypt, not an SNS action",
        59: "EventsPolicy: NotAction sns:*, a wildcard",
    }),
    "e9007-bad.yaml": ("E9007", {
        34: "LedgerDb exports the general log to CloudWatch Logs without a DBParameterGroupName",
        57: "CatalogDb exports the general and slowquery logs, but its parameter group HalfSwitched does not "
            "set general_log = 1, log_output = FILE",
        64: "CatalogReplica exports the slowquery log, but its parameter group HalfSwitched does not set "
            "log_output = FILE",
    }),
    "w9008-bad.yaml": ("W9008", {
        25: "no AWS::Logs::LogGroup in this template is named /aws/rds/instance/orders/upgrade",
        40: "log group BillingLog (/aws/rds/instance/billing/postgresql) is not created before the instance",
        54: "log group AuditLog (/aws/rds/instance/audit/postgresql) has no RetentionInDays",
        66: "AnonymousDb exports logs (postgresql) but sets no DBInstanceIdentifier",
    }),
}


def _by_file(findings) -> dict[str, list]:
    grouped = defaultdict(list)
    for finding in findings:
        grouped[Path(finding.file).name].append(finding)
    return grouped


@pytest.fixture(scope="module")
def gate_findings(lint_workers):
    """Every undated fixture through the real gate, once: lint_files, in parallel processes."""
    return _by_file(lint_files([FIXTURES / name for name in (*GOOD, *BROKEN)], REGIONS))


def _lint_on(day: datetime.date, name: str) -> list:
    """One fixture through the gate in this process, with the rules' today set to `day`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_clock, "today", lambda: day)
        return lint_files([FIXTURES / name], REGIONS)  # a single file is linted in-process


def test_the_folder_loads_every_rule_once_each_with_its_aws_source():
    rules = Rules.create_from_directory(str(RULES_DIR))  # what append_rules does
    assert set(rules.data) == PROJECT_RULES  # helpers (_helpers, _clock) are not loaded, nothing twice
    rule_files = [p for p in RULES_DIR.glob("*.py") if not p.name.startswith("_")]
    assert len(rule_files) == len(PROJECT_RULES), "one rule per file"
    for rule in rules.data.values():
        assert rule.shortdesc and rule.description and rule.tags
        assert rule.source_url.startswith("https://docs.aws.amazon.com/"), rule.id


@pytest.mark.parametrize("name", GOOD)
def test_the_fixed_pattern_passes_the_whole_gate(gate_findings, name):
    assert gate_findings[name] == []


@pytest.mark.parametrize("name", DATED_GOOD)
def test_the_fixed_database_pattern_passes_the_whole_gate(name):
    assert _lint_on(FIXED_TODAY, name) == []


@pytest.mark.parametrize("name", BROKEN)
def test_the_broken_fixture_is_caught_at_each_line(gate_findings, name):
    rule, expected = BROKEN[name]
    ours = [f for f in gate_findings[name] if f.rule in PROJECT_RULES]
    assert {f.rule for f in ours} == {rule}, "each broken fixture trips only its own rule"
    assert sorted(f.line for f in ours) == sorted(expected)
    for finding in ours:
        assert expected[finding.line] in finding.message
        assert "Fix:" in finding.message, "every message says how to fix it"


def test_w9009_warns_from_the_day_standard_support_ends():
    before = _lint_on(datetime.date(2026, 7, 31), "w9009-bad.yaml")
    after = _lint_on(datetime.date(2026, 8, 1), "w9009-bad.yaml")
    assert [(f.line, f.rule) for f in before] == [(34, "W9009"), (38, "W9009")]
    assert "CatalogDb can be created on postgres 13, whose RDS standard support ended on 2026-02-28" in before[1].message
    assert "CatalogDb does not set EngineLifecycleSupport" in before[0].message
    assert [(f.line, f.rule) for f in after] == [(28, "W9009"), (34, "W9009"), (38, "W9009")]
    assert "LegacyDb can be created on mysql 8.0, whose RDS standard support ended on 2026-07-31" in after[0].message
    assert "paid RDS Extended Support" in after[0].message


def test_e9011_catches_the_security_stack_as_it_was_before_issue_30(tmp_path):
    before = tmp_path / "security-before.json"  # JSON is YAML: cfn-lint reads either
    before.write_text(json.dumps(as_it_was_before_issue_30(security.build().to_dict())))
    found = [(f.rule, f.message.split(":")[0:2]) for f in lint_files([before], REGIONS)]
    assert found == [("E9011", ["AlbFromCloudFrontIngress", " FromPort depends on Fn"]),
                     ("E9011", ["AlbFromCloudFrontIngress", " ToPort depends on Fn"])]


def test_e9015_catches_the_app_stack_as_it_was_before_issue_30(tmp_path):
    """Its repository URL without a MaxLength; its boot steps and secrets loader in the user data."""
    unbounded = app.build().to_dict()
    del unbounded["Parameters"]["AppRepositoryUrl"]["MaxLength"]
    whole = app.build().to_dict()
    user_data = whole["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    script = user_data["Fn::Base64"]["Fn::Sub"][0]
    user_data["Fn::Base64"]["Fn::Sub"][0] = script + "".join(
        userdata.text(file.source).replace("${", "${!") for file in userdata.APP_BOOT_FILES)
    found = {}
    for name, template in (("unbounded", unbounded), ("whole", whole)):
        path = tmp_path / f"app-{name}.json"
        path.write_text(json.dumps(template))
        found[name] = [(f.rule, f.message) for f in lint_files([path], REGIONS)]
    ((rule, message),) = found["unbounded"]
    assert rule == "E9015" and "it substitutes Ref AppRepositoryUrl: a String parameter without MaxLength" in message
    ((rule, message),) = found["whole"]
    longest = re.search(r"AppLaunchTemplate: UserData can be ([\d,]+) bytes", message)
    assert rule == "E9015" and longest and int(longest.group(1).replace(",", "")) > 16_383, message


def our_file_system_and_app_role(role_writes: bool) -> dict:
    """Our data stack's file system and access point with the app stack's instance role, in one
    template: the role names them directly instead of through the root stack's parameters. With
    `role_writes` False, the role's statement as it would be without ClientWrite: our file system
    policy allows ClientWrite only to the account, which reaches no role by itself."""
    data_template, app_template = data.build().to_dict(), app.build().to_dict()
    role = json.loads(json.dumps(app_template["Resources"]["InstanceRole"])
                      .replace('{"Ref": "EfsFileSystemArn"}', '{"Fn::GetAtt": ["EfsFileSystem", "Arn"]}')
                      .replace('{"Ref": "EfsAccessPointArn"}', '{"Fn::GetAtt": ["EfsAppAccessPoint", "Arn"]}'))
    (policy,) = role["Properties"]["Policies"]
    (mount,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "MountFileSystem"]
    assert mount["Resource"] == [{"Fn::GetAtt": ["EfsFileSystem", "Arn"]}]
    if not role_writes:
        mount["Action"] = [a for a in mount["Action"] if a != "elasticfilesystem:ClientWrite"]
    return {
        "Parameters": {**data_template["Parameters"], **app_template["Parameters"]},
        "Conditions": {**data_template.get("Conditions", {}), **app_template.get("Conditions", {})},
        "Resources": {"EfsFileSystem": data_template["Resources"]["EfsFileSystem"],
                      "EfsAppAccessPoint": data_template["Resources"]["EfsAppAccessPoint"], "InstanceRole": role},
    }


@pytest.mark.parametrize("role_writes", [True, False])
def test_e9016_judges_our_file_system_with_our_app_role(tmp_path, role_writes):
    joined = tmp_path / "data-and-app.json"  # JSON is YAML: cfn-lint reads either
    joined.write_text(json.dumps(our_file_system_and_app_role(role_writes)))
    found = [f.message for f in lint_files([joined], REGIONS) if f.rule == "E9016"]
    if role_writes:
        assert found == []
    else:
        (message,) = found
        assert message.startswith("InstanceRole can mount EfsFileSystem but never write it: InstanceRole's "
                                  "statement MountFileSystem allows elasticfilesystem:ClientMount")


def test_threetier_lint_runs_the_project_rules(capsys):
    broken = FIXTURES / "e9005-bad.yaml"
    assert main(["lint", "--regions", "us-east-1", str(broken)]) == 1
    assert f"{broken}:17 E9005 WebInstanceRole trusts ec2.amazonaws.com" in capsys.readouterr().out


def _view(name: str) -> TemplateView:
    template, errors = decode(str(FIXTURES / name))
    assert not errors
    return TemplateView(template)


def test_ordering_follows_a_reference_then_a_depends_on():
    view = _view("e9002-good.yaml")
    # InternalBalancer -> (Ref) InternalBalancerSecurityGroup -> (DependsOn) ArchiveBucketPolicy
    assert "ArchiveBucketPolicy" not in view.dependencies("InternalBalancer")
    assert "ArchiveBucketPolicy" in view.ordered_after("InternalBalancer")
    # A reference inside Metadata, in one Fn::If branch, orders too.
    assert "WebLogsPolicy" in view.ordered_after("WebBalancer")


def test_values_resolve_map_rows_and_keep_deploy_time_parts_symbolic():
    view = _view("rds-good.yaml")
    orders = view.properties("Orders")
    assert view.values(orders["EnableCloudwatchLogsExports"]) == [["error", "slowquery"], ["postgresql", "upgrade"]]
    assert view.values(orders["EnableCloudwatchLogsExports"], {"Engine": "postgres"}) == [["postgresql", "upgrade"]]
    name = view.values(view.properties("OrdersLogSecond")["LogGroupName"], {"Engine": "mysql"})
    assert name == ["/aws/rds/instance/${Stage}-orders/slowquery"] and isinstance(name[0], Symbolic)
    assert view.values(orders["DBInstanceIdentifier"]) == ["${Stage}-orders"]
    assert view.scenarios(orders["Engine"], orders["DBParameterGroupName"]) == [{"Engine": "mysql"},
                                                                               {"Engine": "postgres"}]


def test_iso_8601_durations_as_cloudformation_takes_them():
    assert [iso8601_seconds(text) for text in ("PT20M", "PT1H30M", "PT90S", "P1DT2H", "pt5m")] == [
        1200, 5400, 90, 93600, 300]
    assert [iso8601_seconds(text) for text in ("PT", "P", "20", "PTM", "20M", None, 1200)] == [None] * 7


def test_durations_and_numbers_follow_parameters_and_bindings():
    bad, good = _view("e9013-bad.yaml"), _view("e9013-good.yaml")
    timeout = bad.resources["QueueFleet"]["CreationPolicy"]["ResourceSignal"]["Timeout"]
    assert bad.duration_bounds(timeout) == (600, 1800)  # AllowedValues PT10M, PT30M
    assert bad.duration_bounds(timeout, {"BootWait": "PT30M"}) == (1800, 1800)
    assert good.duration_bounds({"Ref": "BootWait"}) == (1500, 1500)  # no AllowedValues: its Default, PT25M
    grace = good.properties("ReportFleet")["HealthCheckGracePeriod"]
    assert good.number_bounds(grace) == (600, 3600)
    assert good.number_bounds(grace, {"Tier": "large"}) == (3600, 3600)
    assert good.scenarios(grace) == [{"Tier": "small"}, {"Tier": "large"}]


def test_lengths_follow_max_length_allowed_values_patterns_and_pseudo_parameters():
    view = _view("e9015-good.yaml")
    assert view.parameter_length("BundleUrl").most == 400  # MaxLength, an ASCII pattern: a byte a character
    assert view.parameter_length("ReportSettings").most == 4 * 1024  # no pattern: up to four bytes a character
    assert view.parameter_length("ReportLayout").most == 2000  # the pattern bounds it
    assert view.parameter_length("BatchSize").most == 3  # MaxValue 100 written out
    assert view.parameter_length("UseBuilderScript").most == 5  # 'false'
    assert view.parameter_length("BuilderScript").most == 21  # an AMI id, resolved from Parameter Store
    assert view.longest({"Fn::Sub": "${AWS::StackName}-${!Literal}"}).most == 128 + len("-${Literal}")
    branch = {"Fn::If": ["WithBuilderScript", "short", {"Fn::Join": ["--", ["a", {"Ref": "BundleUrl"}]]}]}
    assert view.longest(branch).most == 1 + 2 + 400
    assert view.longest({"Fn::Select": [1, ["a", "bcd"]]}).most == 3
    assert view.longest({"Fn::GetAtt": ["Db", "Endpoint.Address"]}).uncounted == ("Fn::GetAtt Db.Endpoint.Address",)


def test_pattern_bounds_read_width_and_ascii():
    assert pattern_bounds(r"^fs-[0-9a-f]{8,40}$") == (43, True)
    assert pattern_bounds(r"^https://[A-Za-z0-9.-]+$") == (None, True)
    assert pattern_bounds(r"^[^/]{1,3}$") == (3, False)  # a negated class admits any character
    assert pattern_bounds(r"^\w{0,9}$") == (9, True)  # \w is ASCII in Java, as CloudFormation reads it
    assert pattern_bounds(r"^(ok|é)$") == (2, False)
    assert pattern_bounds(r"\p{Alpha}+") == (None, False)  # Java only: unknown width

