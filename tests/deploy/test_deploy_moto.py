"""package / plan / deploy / status / delete end to end against a local moto server.

Only what moto's CloudFormation does faithfully is asserted here (see
/work/shared/notes/moto-cloudformation.md): S3 upload, stack exists or not,
the change-set sequence, parameter passing, Add/Modify/Remove rows, and a
smoke deploy of a small template. Everything else is in test_deploy_stubbed.py.
"""

from __future__ import annotations

import hashlib
import urllib.request

import boto3
import pytest

from tests.deploy.fixtures.project import (
    ENV,
    PROJECT_NAME,
    STACK_NAME,
    app_template,
    root_template,
    write_project,
    write_templates,
)
from threetier import cli
from threetier.deploy.commands import common

BUCKET = "templates-bucket"


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """Fresh moto state, dummy credentials, a bucket, and clients for checking results."""
    return fresh_moto(moto_endpoint, monkeypatch)


def fresh_moto(moto_endpoint: str, monkeypatch):
    """What the `aws` fixture does, for a fixture of a wider scope (with its own MonkeyPatch)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",  # pragma: allowlist secret (moto dummy)
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    # Talk to 127.0.0.1 directly even where a proxy is configured.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    no_proxy.open(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    monkeypatch.setattr(common, "sleep", lambda seconds: None)

    class Aws:
        endpoint = moto_endpoint
        port = moto_endpoint.rsplit(":", 1)[1]
        s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
        cfn = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name="us-east-1")
        ssm = boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")
        logs = boto3.client("logs", endpoint_url=moto_endpoint, region_name="us-east-1")

    Aws.s3.create_bucket(Bucket=BUCKET)
    return Aws


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


def threetier(project, aws, *argv) -> int:
    return cli.main(["--project-dir", str(project), *argv,
                     "--region", "us-east-1", "--endpoint-url", aws.endpoint])


def keys(aws) -> list[str]:
    listing = aws.s3.list_objects_v2(Bucket=BUCKET)
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- package

def test_package_uploads_nested_templates_under_content_hash_keys(project, aws, capsys):
    assert threetier(project, aws, "package", "--bucket", BUCKET, "--prefix", "stacks") == 0

    key = f"stacks/app-{sha256(project / 'output' / 'app.yaml')}.yaml"
    assert keys(aws) == [key]
    body = aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == (project / "output" / "app.yaml").read_bytes()
    assert f"uploaded  app.yaml -> http://localhost:{aws.port}/{BUCKET}/{key}" in capsys.readouterr().out


def test_packaged_root_differs_only_in_the_template_url_and_keeps_short_form_tags(project, aws):
    threetier(project, aws, "package", "--bucket", BUCKET)

    original = (project / "output" / "main.yaml").read_text().splitlines()
    packaged = (project / "output" / "packaged" / "main.yaml").read_text().splitlines()
    key = f"threetier/app-{sha256(project / 'output' / 'app.yaml')}.yaml"
    changed = [(a, b) for a, b in zip(original, packaged) if a != b]
    assert len(original) == len(packaged)
    assert changed == [("      TemplateURL: app.yaml",
                        f"      TemplateURL: http://localhost:{aws.port}/{BUCKET}/{key}")]
    assert any("!Sub" in line for line in packaged)


def test_package_again_uploads_nothing_and_writes_the_same_bytes(project, aws, capsys):
    threetier(project, aws, "package", "--bucket", BUCKET)
    first = (project / "output" / "packaged" / "main.yaml").read_bytes()
    [key] = keys(aws)
    # If package uploaded again, this marker would be overwritten.
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"marker")
    capsys.readouterr()

    assert threetier(project, aws, "package", "--bucket", BUCKET) == 0

    assert aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"marker"
    assert "unchanged app.yaml" in capsys.readouterr().out
    assert (project / "output" / "packaged" / "main.yaml").read_bytes() == first


def test_a_changed_nested_template_gets_a_new_key_and_url(project, aws):
    threetier(project, aws, "package", "--bucket", BUCKET)
    [old_key] = keys(aws)
    write_templates(project, {"app.yaml": app_template(retention_note=" (changed)")})

    threetier(project, aws, "package", "--bucket", BUCKET)

    new_key = f"threetier/app-{sha256(project / 'output' / 'app.yaml')}.yaml"
    assert keys(aws) == sorted([old_key, new_key])
    assert new_key in (project / "output" / "packaged" / "main.yaml").read_text()


def test_package_into_a_missing_bucket_fails_with_the_aws_error(project, aws, capsys):
    assert threetier(project, aws, "package", "--bucket", "no-such-bucket") == 1
    assert "NoSuchBucket" in capsys.readouterr().err


# ----------------------------------------------------------------------------- plan

def test_plan_for_a_new_stack_creates_a_create_change_set_with_the_file_parameters(project, aws, capsys):
    assert threetier(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    out, err = capsys.readouterr()
    assert f"creating a change set (CREATE) for stack {STACK_NAME}" in err
    assert "Add     AppStack    AWS::CloudFormation::Stack" in out
    assert "Add     Setting     AWS::SSM::Parameter" in out
    assert "Summary: 2 add, 0 modify, 0 replace, 0 remove" in out
    [stack] = aws.cfn.describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"  # planned, never executed
    [summary] = aws.cfn.list_change_sets(StackName=STACK_NAME)["Summaries"]
    change_set = aws.cfn.describe_change_set(ChangeSetName=summary["ChangeSetId"])
    assert {p["ParameterKey"]: p["ParameterValue"] for p in change_set["Parameters"]} == {
        "ProjectName": PROJECT_NAME, "EnvironmentName": ENV,
    }


def test_plan_json_is_the_same_review_as_data(project, aws, capsys):
    import json

    assert threetier(project, aws, "plan", ENV, "--bucket", BUCKET, "--json") == 0

    review = json.loads(capsys.readouterr().out)
    assert review["stack"] == STACK_NAME and review["change_set_type"] == "CREATE"
    assert review["summary"] == {"add": 2, "modify": 0, "replace": 0, "remove": 0}
    assert {c["logical_id"] for c in review["changes"]} == {"AppStack", "Setting"}
    assert review["dangers"] == []


# ----------------------------------------------------------------------------- deploy, status, delete

def test_deploy_creates_the_stack_and_its_nested_stack_with_the_parameters(project, aws, capsys):
    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0

    out = capsys.readouterr().out
    assert "CREATE_COMPLETE" in out and f"Stack {STACK_NAME}: CREATE_COMPLETE" in out
    [stack] = aws.cfn.describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    setting = aws.ssm.get_parameter(Name=f"/{PROJECT_NAME}/{ENV}/setting")["Parameter"]
    assert setting["Value"] == "one"
    # The nested stack got the parameters through the root: its log group is named from them.
    groups = aws.logs.describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups] == [f"{PROJECT_NAME}-{ENV}-app"]


def test_plan_after_a_deploy_is_an_update_with_add_modify_and_remove_rows(project, aws, capsys):
    threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes")
    # Next version: Setting changes value, ExtraSetting is new, the nested stack is gone.
    next_root = root_template(extra_setting=True, setting_value="two")
    next_root.resources.pop("AppStack")
    write_templates(project, {"main.yaml": next_root})
    capsys.readouterr()

    code = threetier(project, aws, "plan", ENV, "--bucket", BUCKET)

    out, err = capsys.readouterr()
    assert f"creating a change set (UPDATE) for stack {STACK_NAME}" in err
    rows = {line.split()[1]: line.split()[0] for line in out.splitlines()
            if line.split()[:1] in (["Add"], ["Modify"], ["Remove"])}
    assert rows == {"ExtraSetting": "Add", "Setting": "Modify", "AppStack": "Remove"}
    # Removing a nested stack deletes everything in it: the guard stops at exit 3.
    assert code == 3
    assert "delete: shop-dev/AppStack" in out and "--allow-delete" in out


def test_plan_with_nothing_changed_says_no_changes(project, aws, capsys):
    threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes")
    capsys.readouterr()

    assert threetier(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    assert capsys.readouterr().out == "No changes.\n"


def test_deploy_an_update_then_status(project, aws, capsys):
    threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes")
    write_templates(project, {"main.yaml": root_template(extra_setting=True)})
    capsys.readouterr()

    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0
    assert f"Stack {STACK_NAME}: UPDATE_COMPLETE" in capsys.readouterr().out
    assert aws.ssm.get_parameter(Name=f"/{PROJECT_NAME}/{ENV}/extra")["Parameter"]["Value"] == "x"

    assert threetier(project, aws, "status", ENV) == 0
    out = capsys.readouterr().out
    assert f"Stack:   {STACK_NAME}" in out and "Status:  UPDATE_COMPLETE" in out


def test_watch_after_a_deploy_says_nothing_runs_and_cancel_and_continue_rollback_refuse(project, aws, capsys):
    """moto settles every operation at once: watch finds nothing running; there is no update to cancel
    and no failed rollback to continue (their running paths are in test_operator_commands.py)."""
    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0
    capsys.readouterr()

    assert threetier(project, aws, "watch", ENV) == 0
    assert capsys.readouterr().out.startswith(f"Nothing is running on stack {STACK_NAME}: its last status is "
                                              "CREATE_COMPLETE since ")
    assert threetier(project, aws, "cancel", ENV, "--yes") == 1
    assert "is CREATE_COMPLETE: only an update in progress (UPDATE_IN_PROGRESS) can be cancelled" in \
        capsys.readouterr().err
    assert threetier(project, aws, "continue-rollback", ENV, "--yes") == 1
    assert "is CREATE_COMPLETE: only a stack in UPDATE_ROLLBACK_FAILED can continue its rollback" in \
        capsys.readouterr().err


def test_watch_of_a_missing_stack_says_nothing_runs(project, aws, capsys):
    assert threetier(project, aws, "watch", ENV) == 0
    assert capsys.readouterr().out == f"Nothing is running: stack {STACK_NAME} does not exist in us-east-1.\n"


def test_status_of_a_missing_stack(project, aws, capsys):
    assert threetier(project, aws, "status", ENV) == 1
    assert f"Stack {STACK_NAME} does not exist in us-east-1." in capsys.readouterr().out


def test_delete_names_what_survives_and_deletes_the_stack(project, aws, capsys):
    threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes")
    capsys.readouterr()

    assert threetier(project, aws, "delete", ENV, "--yes") == 0

    out = capsys.readouterr().out
    assert "AppLogs (AWS::Logs::LogGroup) in app.yaml: DeletionPolicy Retain" in out
    assert f"Stack {STACK_NAME}: DELETE_COMPLETE" in out
    assert aws.cfn.describe_stacks()["Stacks"] == []


def test_delete_of_a_missing_stack_is_a_no_op(project, aws, capsys):
    assert threetier(project, aws, "delete", ENV, "--yes") == 0
    assert "nothing to delete" in capsys.readouterr().out


# ----------------------------------------------------------------------------- quick-create link

def test_package_with_an_environment_prints_a_quick_create_link_with_its_values(project, aws, capsys):
    from urllib.parse import parse_qs, unquote, urlsplit

    assert threetier(project, aws, "package", ENV, "--bucket", BUCKET) == 0
    out = capsys.readouterr().out.splitlines()
    link = out[-1]
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("https", "us-east-1.console.aws.amazon.com")
    assert parts.query == "region=us-east-1"
    route, _, query = parts.fragment.partition("?")
    assert route == "/stacks/quickcreate"
    fields = {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}
    assert fields["stackName"] == "shop-dev"
    root_key = next(key for key in keys(aws) if key.startswith("threetier/main-"))
    assert unquote(fields["templateURL"]).endswith(f"/{BUCKET}/{root_key}")
    values = {key.removeprefix("param_"): value for key, value in fields.items() if key.startswith("param_")}
    # The file's values; what it leaves out keeps the template's default on the console page.
    assert values == {"ProjectName": "shop", "EnvironmentName": "dev"}
    assert len(link) < 2048, "a link this short survives any tool"


def test_package_refuses_a_bucket_in_another_region(project, aws, capsys):
    aws.s3.create_bucket(Bucket="far-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert threetier(project, aws, "package", ENV, "--bucket", "far-bucket") == 2
    err = capsys.readouterr().err
    assert "bucket far-bucket is in eu-west-1, the stack would be in us-east-1" in err
    assert not aws.s3.list_objects_v2(Bucket="far-bucket").get("Contents")


def test_package_with_bad_values_uploads_nothing(project, aws, capsys):
    (project / "parameters" / f"{ENV}.json").write_text(
        '[{"ParameterKey": "ProjectName", "ParameterValue": "Shop!"}]\n')
    assert threetier(project, aws, "package", ENV, "--bucket", BUCKET) == 2
    assert "ProjectName='Shop!'" in capsys.readouterr().err
    assert keys(aws) == []
