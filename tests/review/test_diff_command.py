"""`threetier diff [REV]` through the CLI, in a scratch git checkout of output/ and parameters/."""

import json
import shutil
import subprocess

import pytest

from threetier import cli
from threetier.emit import manifest
from threetier.insight import model
from threetier.review import templatediff


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module", autouse=True)
def each_text_parsed_once():
    """templatediff reads each template with cfn_flip's pure-Python YAML loader (~0.1 s for app.yaml),
    twice per run (at REV and now) and again in every test, for the same dozen texts.

    Here each distinct text goes through the real templatediff._parse once; a later read
    of the same text gets a fresh copy of that result (as _parse itself gives: JSON data,
    so a JSON round trip is an exact copy). An edited template is a new text and is parsed.
    """
    parse = templatediff._parse
    parsed: dict[str, str] = {}

    def once(text: str) -> dict:
        if text not in parsed:
            parsed[text] = json.dumps(parse(text))
        return json.loads(parsed[text])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(templatediff, "_parse", once)
        yield


@pytest.fixture
def checkout(tmp_path, project, templates, monkeypatch):
    """A committed copy of output/ and parameters/ (with the marks of a project), edited by each test."""
    repo = tmp_path / "repo"
    shutil.copytree(project / "output", repo / "output", ignore=shutil.ignore_patterns("packaged", "*.png"))
    shutil.copytree(project / "parameters", repo / "parameters")
    (repo / "templates").mkdir()
    (repo / "templates" / "__init__.py").write_text("")
    (repo / "setup.cfg").write_text("")
    (repo / "output" / manifest.FILE_NAME).write_text(manifest.render(repo))  # output/ as generated here
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    # Predictions of parameter-file changes evaluate the real templates (the session's, built once).
    monkeypatch.setattr(model, "load_templates", lambda _project: templates)
    return repo


def run(repo, *args) -> int:
    return cli.main(["--project-dir", str(repo), "diff", *args])


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_nothing_changed_is_exit_0(checkout, capsys):
    assert run(checkout) == 0
    assert "no changes" in capsys.readouterr().out


def test_replacing_the_database_is_refused_until_allowed(checkout, capsys):
    edit(checkout / "output" / "data.yaml", "      DBName: !If [RestoresSnapshot, !Ref 'AWS::NoValue', !Ref DbName]",
         "      DBName: shop")
    assert run(checkout) == 3
    out = capsys.readouterr().out
    assert "Modify  root/DataStack/DbInstance  AWS::RDS::DBInstance  Replacement: Conditional" in out
    assert 'DBName: {"Fn::If": ["RestoresSnapshot", {"Ref": "AWS::NoValue"}, {"… -> shop  [Conditionally]' in out
    assert "note: DBInstanceIdentifier is a custom name: a replacement fails and the update rolls back" in out
    assert "replace: root/DataStack/DbInstance" in out and "[needs --allow-replacement]" in out

    assert run(checkout, "--allow-replacement") == 0
    assert "[allowed by --allow-replacement]" in capsys.readouterr().out


def test_json_and_markdown_carry_the_same_findings(checkout, capsys):
    edit(checkout / "output" / "security.yaml", "Database: engine port from the app tier only",
         "Database tier")
    assert run(checkout, "--json") == 0  # a security group is not stateful
    report = json.loads(capsys.readouterr().out)
    rows = {row["logical_id"]: row for row in report["resources"]}
    assert rows["DbSecurityGroup"]["replacement"] == "True"
    assert rows["DbSecurityGroup"]["properties"][0]["requires_recreation"] == "Always"
    assert rows["DbFromAppIngress"]["replacement"] == "Conditional"
    assert report["dangers"] == []

    assert run(checkout, "--markdown") == 0
    markdown = capsys.readouterr().out
    assert "| Action | Resource | Type | Replacement | Changed properties |" in markdown
    assert "| Modify | `root/SecurityStack/DbSecurityGroup` | AWS::EC2::SecurityGroup | True |" in markdown


def test_a_parameter_file_change_is_predicted_with_the_same_guard(checkout, capsys):
    path = checkout / "parameters" / "prod.json"
    edit(path, '"ParameterKey": "DbReplicaEnabled",\n    "ParameterValue": "true"',
         '"ParameterKey": "DbReplicaEnabled",\n    "ParameterValue": "false"')
    assert run(checkout) == 3
    out = capsys.readouterr().out
    assert "parameters/prod.json: DbReplicaEnabled true -> false" in out
    assert "delete: prod:replica/DbReplica (AWS::RDS::DBInstance) will be removed from the stack" in out
    assert run(checkout, "--allow-delete") == 0


def test_multi_az_off_in_a_parameter_file_is_in_place(checkout, capsys):
    path = checkout / "parameters" / "prod.json"
    edit(path, '"ParameterKey": "DbMultiAz",\n    "ParameterValue": "true"',
         '"ParameterKey": "DbMultiAz",\n    "ParameterValue": "false"')
    assert run(checkout, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["environments"]["prod"]["changes"] == [
        {"action": "Modify", "resource": "prod:data/DbInstance", "type": "AWS::RDS::DBInstance",
         "replacement": "False"}]
    # plan refuses it without --allow-insecure; the review says so, and goes on.
    assert any("warning: DbMultiAz='false': prod keeps a standby database" in note for note in report["notes"])


def test_an_unknown_revision_is_one_line_and_exit_2(checkout, capsys):
    assert run(checkout, "no-such-branch") == 2
    err = capsys.readouterr().err
    assert err.startswith("threetier diff: no-such-branch: ") and len(err.splitlines()) == 1


@pytest.mark.parametrize("key, old, new, reason", [
    ("VpcPrefixLength", '"16"', '"17"', "VpcPrefixLength='17': too small for 9 subnets of /20 with SubnetCidrBits=12"),
    ("DbAllocatedStorage", '"20"', '"abc"', "DbAllocatedStorage='abc'"),
])
def test_a_value_validate_refuses_is_its_message_and_exit_2_never_a_traceback(checkout, capsys, key, old, new, reason):
    path = checkout / "parameters" / "dev.json"
    text = path.read_text()
    if f'"ParameterKey": "{key}"' not in text:  # a default: set it explicitly, then change it
        edit(path, "[\n", f'[\n  {{\n    "ParameterKey": "{key}",\n    "ParameterValue": {old}\n  }},\n')
        git(checkout, "commit", "-q", "-am", f"{key} set")
    edit(path, f'"ParameterKey": "{key}",\n    "ParameterValue": {old}', f'"ParameterKey": "{key}",\n    "ParameterValue": {new}')

    assert run(checkout) == 2

    captured = capsys.readouterr()
    assert reason in captured.err
    assert "threetier diff: parameters/dev.json is refused as `threetier validate dev` refuses it" in captured.err
    assert "Traceback" not in captured.out + captured.err


def add_values(path, **values):
    entries = "".join(f'  {{\n    "ParameterKey": "{key}",\n    "ParameterValue": "{value}"\n  }},\n'
                      for key, value in values.items())
    edit(path, "[\n", "[\n" + entries)


def test_cloudfront_on_is_reviewed_as_its_two_deploys(checkout, capsys):
    """The file says where the environment goes; diff shows the deploy plan/deploy make now (step 1,
    CloudFrontOnly false: the load balancer keeps its internet rules) and the next one (step 2)."""
    add_values(checkout / "parameters" / "dev.json", CloudFrontEnabled="true", CloudFrontPrefixListId="pl-3b927c52")

    assert run(checkout) == 0

    out = capsys.readouterr().out
    step_1, step_2 = out.split("step 2 of 2 (the next deploy sends CloudFrontOnly=true):")
    assert ("parameters/dev.json: CloudFrontEnabled (none) -> true, CloudFrontPrefixListId (none) -> pl-3b927c52 "
            "(step 1 of 2: this deploy sends CloudFrontOnly=false)") in step_1
    assert "Distribution" in step_1 and "AlbHttpIngress" not in step_1
    assert "Remove  AlbHttpIngress" in step_2 and "Remove  AlbHttpsIngress" in step_2
    assert "Add     Distribution" not in step_2
    assert "parameters/dev.json: CloudFront on, step 1 of 2: this deploy sends CloudFrontOnly=false." in out

    assert run(checkout, "--json") == 0
    report = json.loads(capsys.readouterr().out)["environments"]["dev"]
    assert "AlbHttpIngress" not in {row["resource"].split("/")[-1] for row in report["changes"]}
    assert {row["resource"].split("/")[-1] for row in report["next_deploy"] if row["action"] == "Remove"} == {
        "AlbHttpIngress", "AlbHttpsIngress"}


def test_cloudfront_off_is_one_deploy(checkout, capsys):
    path = checkout / "parameters" / "dev.json"
    add_values(path, CloudFrontEnabled="true", CloudFrontPrefixListId="pl-3b927c52")
    git(checkout, "commit", "-q", "-am", "CloudFront on")
    edit(path, '"ParameterKey": "CloudFrontEnabled",\n    "ParameterValue": "true"',
         '"ParameterKey": "CloudFrontEnabled",\n    "ParameterValue": "false"')

    # The origin header secret goes with CloudFront: a removal of a secret, allowed on purpose.
    assert run(checkout, "--json", "--allow-delete") == 0
    report = json.loads(capsys.readouterr().out)["environments"]["dev"]
    assert report["next_deploy"] is None
    assert {row["resource"].split("/")[-1] for row in report["changes"] if row["action"] == "Add"} >= {
        "AlbHttpIngress", "AlbHttpsIngress"}


def test_a_nested_stack_shows_each_parameter_it_passes_differently_in_full(checkout, capsys):
    """Not two cut-off JSON blobs of its Parameters: each key that changed, with both values."""
    edit(checkout / "output" / "main.yaml", "RotationCodeKey: rotation.zip", "RotationCodeKey: rotation-v2.zip")
    assert run(checkout) == 0
    out = capsys.readouterr().out
    assert "Modify  root/AppStack  AWS::CloudFormation::Stack" in out
    assert "      Parameters.RotationCodeKey: rotation.zip -> rotation-v2.zip  [Never]" in out
    assert "…" not in out.split("root/AppStack  ", 1)[1].split("\n  Modify", 1)[0]

    assert run(checkout, "--markdown") == 0
    assert "`Parameters.RotationCodeKey` Never" in capsys.readouterr().out


def pin(repo, env, **pins):
    entries = [{"ParameterKey": key, "ParameterValue": value} for key, value in pins.items()]
    (repo / "parameters" / f"{env}.pins.json").write_text(json.dumps(entries, indent=2) + "\n")


def test_a_moved_pin_is_predicted_like_a_parameter_change(checkout, capsys):
    pin(checkout, "dev", PinnedAmiId="ami-0123456789abcdef0")
    git(checkout, "add", ".")
    git(checkout, "commit", "-q", "-m", "pinned")
    pin(checkout, "dev", PinnedAmiId="ami-0fedcba9876543210")  # what `threetier pin-ami dev` does

    assert run(checkout) == 0

    out = capsys.readouterr().out
    assert "parameters/dev.json: PinnedAmiId ami-0123456789abcdef0 -> ami-0fedcba9876543210" in out
    assert "AppLaunchTemplate" in out
    assert "dev.pins" not in out  # a pins file is no environment of its own


def test_a_value_the_user_writes_wins_over_the_pin_in_the_diff_too(checkout, capsys):
    pin(checkout, "dev", PinnedAmiId="ami-0123456789abcdef0")
    git(checkout, "add", ".")
    git(checkout, "commit", "-q", "-m", "pinned")
    edit(checkout / "parameters" / "dev.json", "[\n", '[\n  {"ParameterKey": "PinnedAmiId", '
         '"ParameterValue": "ami-0123456789abcdef0"},\n')
    pin(checkout, "dev", PinnedAmiId="ami-0fedcba9876543210")  # loses to the user's value: nothing changes

    assert run(checkout) == 0
    assert "no changes" in capsys.readouterr().out
