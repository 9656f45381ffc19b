"""Pure parts of the deploy wrapper, from plain data: no server, no stubs."""

from __future__ import annotations

import hashlib
import json

import pytest
from botocore.exceptions import ClientError
from cfn_tools import load_yaml

from tests.deploy.fixtures import responses as r
from threetier.deploy import advice, events
from threetier.deploy.changeset import Change, Review, change_from_api, changed_property_names
from threetier.deploy.errors import InputError
from threetier.deploy.inputs import check_parameters, stack_name_for
from threetier.deploy.package import (
    Destination,
    content_key,
    object_url,
    package,
    rewrite_template_urls,
)
from threetier.deploy.session import make_clients
from threetier.review import danger, table as review


class FakeS3:
    """head_object/put_object over a dict, enough for package()."""

    def __init__(self):
        self.objects: dict[tuple[str, str], bytes] = {}
        self.puts: list[str] = []

    def head_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {}

    def put_object(self, Bucket, Key, Body, ContentType):
        self.objects[(Bucket, Key)] = Body
        self.puts.append(Key)
        return {}


def destination(s3=None, **overrides) -> Destination:
    values = dict(s3=s3 or FakeS3(), bucket="bkt", prefix="p", region="eu-west-1", endpoint_url=None)
    values.update(overrides)
    return Destination(**values)


# ----------------------------------------------------------------------------- URLs and keys

@pytest.mark.parametrize("bucket, region, endpoint, url", [
    ("bkt", "eu-west-1", None, "https://bkt.s3.eu-west-1.amazonaws.com/p/k.yaml"),
    ("my.bkt", "eu-west-1", None, "https://s3.eu-west-1.amazonaws.com/my.bkt/p/k.yaml"),
    ("bkt", "cn-north-1", None, "https://bkt.s3.cn-north-1.amazonaws.com.cn/p/k.yaml"),
    ("bkt", "us-east-1", "http://127.0.0.1:5000", "http://localhost:5000/bkt/p/k.yaml"),
    ("bkt", "us-east-1", "http://[::1]:5000/", "http://localhost:5000/bkt/p/k.yaml"),
    ("bkt", "us-east-1", "https://s3.internal.example:8443/api", "https://s3.internal.example:8443/api/bkt/p/k.yaml"),
])
def test_object_url(bucket, region, endpoint, url):
    assert object_url(bucket, "p/k.yaml", region, endpoint) == url


def test_object_url_quotes_the_key():
    assert object_url("bkt", "a b/c+d.yaml", "eu-west-1") == "https://bkt.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd.yaml"


def test_content_key_is_the_sha256_of_the_bytes():
    digest = hashlib.sha256(b"body").hexdigest()
    assert content_key("p/", "network.yaml", b"body") == f"p/network-{digest}.yaml"
    assert content_key("", "network.yaml", b"body") == f"network-{digest}.yaml"
    assert content_key("p", "network.yaml", b"other") != content_key("p", "network.yaml", b"body")


# ----------------------------------------------------------------------------- rewriting the root

ROOT = """\
# header comment stays
Resources:
  Net:
    Properties:
      Parameters:
        Name: !Sub '${AWS::StackName}-net'
      TemplateURL: 'network.yaml'
    Type: AWS::CloudFormation::Stack
  Other:
    Metadata:
      TemplateURL: network.yaml
    Type: AWS::SNS::Topic
"""


def test_rewrite_falls_back_to_a_dump_when_a_line_rewrite_would_touch_something_else():
    # The Metadata line has the same text; rewriting it would change a non-stack value.
    text = rewrite_template_urls(ROOT, load_yaml(ROOT), {"network.yaml": "https://b/k.yaml"})
    data = load_yaml(text)
    assert data["Resources"]["Net"]["Properties"]["TemplateURL"] == "https://b/k.yaml"
    assert data["Resources"]["Other"]["Metadata"]["TemplateURL"] == "network.yaml"
    assert "!Sub" in text  # short form survives the dump too


def test_rewrite_changes_only_the_template_url_line():
    root = ROOT.split("  Other:")[0]
    text = rewrite_template_urls(root, load_yaml(root), {"network.yaml": "https://b/k.yaml"})
    assert text == root.replace("TemplateURL: 'network.yaml'", "TemplateURL: https://b/k.yaml")


def test_a_json_root_is_rewritten_too():
    root = json.dumps({"Resources": {"Net": {"Type": "AWS::CloudFormation::Stack",
                                             "Properties": {"TemplateURL": "network.yaml"}}}}, indent=1)
    text = rewrite_template_urls(root, load_yaml(root), {"network.yaml": "https://b/k.yaml"})
    assert load_yaml(text)["Resources"]["Net"]["Properties"]["TemplateURL"] == "https://b/k.yaml"


def stack_resource(url: str) -> str:
    return f"Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"


def test_nested_stacks_of_nested_stacks_are_packaged_first(tmp_path):
    (tmp_path / "main.yaml").write_text(stack_resource("app.yaml"))
    (tmp_path / "app.yaml").write_text(stack_resource("parts/inner.yaml"))
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "inner.yaml").write_text("Resources: {}\n")
    s3 = FakeS3()

    packaged = package(tmp_path, destination(s3))

    inner_key = content_key("p", "inner.yaml", b"Resources: {}\n")
    app_text = stack_resource(f"https://bkt.s3.eu-west-1.amazonaws.com/{inner_key}")
    app_key = content_key("p", "app.yaml", app_text.encode())
    assert s3.puts == [inner_key, app_key]
    assert s3.objects[("bkt", app_key)] == app_text.encode()
    assert packaged.root_text == stack_resource(f"https://bkt.s3.eu-west-1.amazonaws.com/{app_key}")


def test_urls_that_are_already_remote_are_left_alone(tmp_path):
    (tmp_path / "main.yaml").write_text(stack_resource("https://elsewhere.example/t.yaml"))
    packaged = package(tmp_path, destination())
    assert packaged.root_text == stack_resource("https://elsewhere.example/t.yaml") and packaged.uploads == []


def test_a_missing_nested_file_is_named(tmp_path):
    (tmp_path / "main.yaml").write_text(stack_resource("gone.yaml"))
    with pytest.raises(InputError, match=r"Child has TemplateURL 'gone.yaml', but .*gone.yaml does not exist"):
        package(tmp_path, destination())


def test_stacks_that_include_each_other_are_refused(tmp_path):
    (tmp_path / "main.yaml").write_text(stack_resource("a.yaml"))
    (tmp_path / "a.yaml").write_text(stack_resource("main.yaml"))
    with pytest.raises(InputError, match="include each other: main.yaml -> a.yaml -> main.yaml"):
        package(tmp_path, destination())


def test_the_generated_output_packages_into_a_root_with_only_s3_urls(project, monkeypatch):
    """The real output/: every nested stack gets an S3 URL, the rotation function's zip its bucket and key
    (tests/deploy/test_lambda_zip.py builds a real one), and nothing else in the root changes."""
    monkeypatch.setattr("threetier.deploy.package.CODE_PARAMETERS",
                        {"RotationCodeKey": ("RotationCodeBucket", lambda cache: b"the rotation zip")})
    s3 = FakeS3()
    packaged = package(project / "output", destination(s3))

    original = load_yaml((project / "output" / "main.yaml").read_text())
    rewritten = load_yaml(packaged.root_text)
    for logical_id, resource in original["Resources"].items():
        if resource["Type"] == "AWS::CloudFormation::Stack":
            properties = rewritten["Resources"][logical_id]["Properties"]
            url = properties["TemplateURL"]
            assert url.startswith("https://bkt.s3.eu-west-1.amazonaws.com/p/")
            resource["Properties"]["TemplateURL"] = url
            if "RotationCodeKey" in properties["Parameters"]:
                assert properties["Parameters"]["RotationCodeBucket"] == "bkt"
                assert properties["Parameters"]["RotationCodeKey"].startswith("p/rotation-")
                resource["Properties"]["Parameters"].update(
                    {name: properties["Parameters"][name] for name in ("RotationCodeBucket", "RotationCodeKey")})
    assert rewritten == original
    assert len(s3.puts) == len(packaged.uploads) >= 1
    assert b"the rotation zip" in s3.objects.values()


# ----------------------------------------------------------------------------- inputs

DECLARED = {
    "ProjectName": {"Type": "String", "AllowedPattern": "^[a-z]+$", "ConstraintDescription": "lower-case letters"},
    "Size": {"Type": "Number", "Default": "2", "MinValue": 1, "MaxValue": 4},
    "Flag": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"]},
}


def test_values_the_template_accepts():
    assert check_parameters(DECLARED, {"ProjectName": "shop", "Size": "4"}) == []


def test_every_problem_names_its_parameter():
    problems = check_parameters(DECLARED, {"Size": "9", "Flag": "yes", "Extra": "1"})
    assert problems == [
        "Extra: not a parameter of the template (known: Flag, ProjectName, Size)",
        "ProjectName: required (the template gives it no default)",
        "Size='9': must be at most 4",
        "Flag='yes': must be one of true, false",
    ]


def test_a_pattern_problem_uses_the_constraint_description():
    assert check_parameters(DECLARED, {"ProjectName": "Shop"}) == ["ProjectName='Shop': lower-case letters"]


def test_stack_name():
    assert stack_name_for({"ProjectName": "shop", "EnvironmentName": "dev"}, "p.json") == "shop-dev"
    assert stack_name_for({}, "p.json", "other-name") == "other-name"
    with pytest.raises(InputError, match="needs EnvironmentName to name the stack"):
        stack_name_for({"ProjectName": "shop"}, "p.json")
    with pytest.raises(InputError, match="must start with a letter"):
        stack_name_for({}, "p.json", "1stack")


# ----------------------------------------------------------------------------- change rows

def test_changed_property_names_are_unique_and_sorted():
    details = [r.property_detail("B", evaluation="Dynamic"), r.property_detail("B"), r.property_detail("A"),
               r.property_detail("", attribute="Tags"), r.property_detail("", attribute="Metadata")]
    assert changed_property_names(details) == ("A", "B", "Metadata", "Tags")


def test_a_nested_stack_row_keeps_its_change_set_id_and_others_do_not():
    stack_row = change_from_api({"Action": "Modify", "LogicalResourceId": "S", "ChangeSetId": "cs",
                                 "ResourceType": "AWS::CloudFormation::Stack"}, "root")
    assert stack_row.nested_change_set_id == "cs" and stack_row.path == "root/S"


def row(action, logical_id, resource_type, replacement="", **extra) -> Change:
    return Change(action, logical_id, resource_type, "app-dev", replacement, **extra)


def test_counts_and_summary_line():
    changes = [row("Add", "A", "AWS::SNS::Topic"), row("Modify", "B", "AWS::SNS::Topic", "False"),
               row("Modify", "C", "AWS::SNS::Topic", "True"), row("Modify", "D", "AWS::SNS::Topic", "Conditional"),
               row("Remove", "E", "AWS::SNS::Topic"), row("Import", "F", "AWS::SNS::Topic"),
               row("Modify", "S", "AWS::CloudFormation::Stack", "False", nested_change_set_id="cs")]
    tally = review.counts(changes)
    assert tally == {"add": 1, "modify": 1, "replace": 2, "remove": 1, "other": 1}
    assert review.summary_line(tally) == "1 add, 1 modify, 2 replace, 1 remove, 1 other"


def test_table_columns_line_up():
    text = review.table([row("Add", "Queue", "AWS::SQS::Queue"),
                         row("Modify", "Db", "AWS::RDS::DBInstance", "True", changed_properties=("Engine",))])
    assert text.splitlines() == [
        "ACTION  LOGICAL ID  TYPE                  REPLACEMENT  STACK    CHANGED PROPERTIES",
        "Add     Queue       AWS::SQS::Queue       -            app-dev  -",
        "Modify  Db          AWS::RDS::DBInstance  True         app-dev  Engine",
    ]


def test_an_empty_review_says_so():
    empty = Review("s", "id", "cs", "UPDATE", "FAILED", "No updates are to be performed.", ())
    assert empty.no_changes and not empty.failed
    broken = Review("s", "id", "cs", "UPDATE", "FAILED", "Template format error", ())
    assert broken.failed and not broken.no_changes


# ----------------------------------------------------------------------------- danger rules

@pytest.mark.parametrize("change, kinds", [
    (row("Modify", "Db", "AWS::RDS::DBInstance", "True"), ["replace"]),
    (row("Modify", "Db", "AWS::RDS::DBInstance", "False"), []),
    (row("Modify", "Lt", "AWS::EC2::LaunchTemplate", "True"), []),
    (row("Remove", "Zone", "AWS::Route53::HostedZone"), ["delete"]),
    (row("Remove", "Bucket", "AWS::S3::Bucket"), ["delete"]),
    (row("Remove", "Topic", "AWS::SNS::Topic"), []),
    (row("Remove", "Net", "AWS::CloudFormation::Stack"), ["delete"]),
    (row("Add", "Logs", "AWS::Logs::LogGroup"), []),
    # Replacing or removing a KMS key schedules its deletion: what it encrypts becomes unreadable.
    (row("Modify", "LogsKey", "AWS::KMS::Key", "True"), ["replace"]),
    (row("Modify", "LogsKey", "AWS::KMS::Key", "Conditional"), ["replace"]),
    (row("Remove", "TopicKey", "AWS::KMS::Key"), ["delete"]),
    (row("Modify", "LogsKey", "AWS::KMS::Key", "False"), []),
])
def test_stateful_replacements_and_removals(change, kinds):
    assert [d.kind for d in danger.find_dangers([change])] == kinds


def test_a_removal_kept_by_its_deletion_policy_says_so():
    [found] = danger.find_dangers([row("Remove", "Logs", "AWS::Logs::LogGroup", policy_action="Retain")])
    assert found.message == "will be removed from the stack (DeletionPolicy keeps it: Retain)"


def sg(rules_before, rules_after, action="Modify", resource_type="AWS::EC2::SecurityGroup"):
    def context(rules):
        if rules is None:
            return ""
        if resource_type == "AWS::EC2::SecurityGroupIngress":
            return json.dumps({"Properties": rules[0]})
        return json.dumps({"Properties": {"SecurityGroupIngress": rules}})
    return row(action, "Sg", resource_type, "False", before_context=context(rules_before),
               after_context=context(rules_after))


SSH_WORLD = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}


@pytest.mark.parametrize("change, opened", [
    (sg([], [SSH_WORLD]), ["tcp port 22 from 0.0.0.0/0"]),
    (sg([SSH_WORLD], [SSH_WORLD]), []),  # already open: not a new exposure
    (sg(None, [SSH_WORLD], action="Add"), ["tcp port 22 from 0.0.0.0/0"]),
    (sg(None, [{"IpProtocol": "tcp", "FromPort": "0", "ToPort": "65535", "CidrIpv6": "::/0"}], action="Add"),
     ["tcp ports 0-65535 from ::/0"]),
    (sg([], [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]), ["all traffic from 0.0.0.0/0"]),
    (sg([], [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"},
             {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]), []),
    (sg([], [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]),
     ["tcp ports 80-443 from 0.0.0.0/0"]),
    (sg([], [{"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "CidrIp": "0.0.0.0/0"}]), []),
    (sg([], [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/16"}]), []),
    (sg(None, [SSH_WORLD], action="Add", resource_type="AWS::EC2::SecurityGroupIngress"),
     ["tcp port 22 from 0.0.0.0/0"]),
    (row("Modify", "Sg", "AWS::EC2::SecurityGroup", "False"), []),  # no property values: cannot tell
])
def test_security_group_rules_opened_to_the_world(change, opened):
    assert danger.newly_open_rules(change) == opened


# ----------------------------------------------------------------------------- events helpers

def test_the_first_failure_skips_cancelled_echoes():
    cancelled = r.event("s", 1, "A", "AWS::SNS::Topic", "CREATE_FAILED", reason="Resource creation cancelled")
    cause = r.event("s", 2, "B", "AWS::SNS::Topic", "CREATE_FAILED", reason="Quota exceeded")
    assert events.first_failure([cause, cancelled]) is cause
    assert events.first_failure([cancelled]) is cancelled
    assert events.first_failure([r.event("s", 1, "A", "AWS::SNS::Topic", "CREATE_COMPLETE")]) is None


def test_progress_counts_each_resource_once():
    progress = events.Progress(total=2)
    for status in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE", "DELETE_COMPLETE"):
        progress.record(r.event("s", 1, "A", "AWS::SNS::Topic", status))
    progress.record(r.stack_event("s", 2, "CREATE_COMPLETE"))
    assert progress.text() == "1/2"
    for name in ("B", "C"):
        progress.record(r.event("s", 3, name, "AWS::SNS::Topic", "CREATE_COMPLETE"))
    assert progress.text() == "3/3"  # more than the change set listed: the total grows
    assert events.Progress(total=None).text() == "0"


def test_format_elapsed():
    assert [events.format_elapsed(s) for s in (0, 59.9, 125, 3600)] == ["0m00s", "0m59s", "2m05s", "60m00s"]


# ----------------------------------------------------------------------------- advice

@pytest.mark.parametrize("status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
                                    "REVIEW_IN_PROGRESS"])
def test_healthy_stacks_need_no_advice(status):
    assert advice.next_step(status, "s", "dev", None) is None


def test_retained_resources_of_the_generated_templates(project):
    kept = advice.retained_resources(project / "output")
    assert any(k.resource_type == "AWS::Logs::LogGroup" and k.file_name == "network.yaml"
               and k.policy in advice.KEPT_BY_POLICY for k in kept)


# ----------------------------------------------------------------------------- clients

@pytest.fixture
def no_aws_config(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def test_a_region_is_required(no_aws_config):
    with pytest.raises(InputError, match="no AWS region: pass --region"):
        make_clients(None, None, None)


def test_an_unknown_profile_is_bad_input(no_aws_config):
    with pytest.raises(InputError, match="nosuch"):
        make_clients("us-east-1", "nosuch", None)


def test_clients_use_adaptive_retries_and_path_style_with_an_endpoint(no_aws_config):
    clients = make_clients("eu-west-1", None, "http://127.0.0.1:9")
    assert clients.region == "eu-west-1"
    for client in (clients.cloudformation, clients.s3, clients.sts):
        # Config's max_attempts counts retries; botocore keeps the attempts in all.
        assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 9}
    assert clients.s3.meta.config.s3["addressing_style"] == "path"
    assert clients.cloudformation.meta.endpoint_url == "http://127.0.0.1:9"


def test_a_quick_create_link_for_prod_carries_every_value_and_stays_short(project):
    from urllib.parse import parse_qs, urlsplit

    from threetier.deploy import quickcreate
    from threetier.parameters import paramfile

    values = paramfile.load(project / "parameters" / "prod.json")
    url = "https://templates-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com/threetier/main-" + "f" * 64 + ".yaml"
    link = quickcreate.link("eu-west-1", url, "project-x-prod", values)
    route, _, query = urlsplit(link).fragment.partition("?")
    fields = parse_qs(query, keep_blank_values=True)
    assert route == "/stacks/quickcreate" and fields["templateURL"] == [url]
    assert {k.removeprefix("param_"): v[0] for k, v in fields.items() if k.startswith("param_")} == values
    assert len(link) < quickcreate.LONG_LINK
