"""`threetier rotate-origin-secret ENV` against the local moto server: a new secret version, both
versions pinned in the parameter file, and the update deployed as a reviewed change set."""

from __future__ import annotations

import json

import boto3
import pytest
from troposphere import Output, Parameter, Ref, Sub, Template, ssm

from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, write_project
from tests.deploy.test_deploy_moto import BUCKET, aws, threetier  # noqa: F401 (fixture)
from threetier.deploy.commands import deploy as deploy_command
from threetier.parameters import paramfile

VERSION = r"^$|^[a-zA-Z0-9-]{32,64}$"


def root() -> Template:
    """The root's shape for this command: the switch, the two version parameters, the output."""
    t = Template(Description="threetier test root with an origin header secret")
    t.set_version("2010-09-09")
    t.add_parameter(Parameter("ProjectName", Type="String"))
    t.add_parameter(Parameter("EnvironmentName", Type="String"))
    t.add_parameter(Parameter("CloudFrontEnabled", Type="String", AllowedValues=["true", "false"]))
    t.add_parameter(Parameter("SecretArn", Type="String"))
    for name in ("OriginVerifySecretVersion", "OriginVerifyPreviousSecretVersion"):
        t.add_parameter(Parameter(name, Type="String", Default="", AllowedPattern=VERSION))
    # Stands in for the load balancer rule and CloudFront: what they would resolve.
    t.add_resource(ssm.Parameter(
        "OriginVersions", Type="String", Name=Sub("/${ProjectName}/${EnvironmentName}/origin"),
        Value=Sub("current=${OriginVerifySecretVersion} previous=${OriginVerifyPreviousSecretVersion}"),
    ))
    t.add_output(Output("OriginVerifySecretArn", Value=Ref("SecretArn")))
    return t


@pytest.fixture
def secret(aws):
    client = boto3.client("secretsmanager", endpoint_url=aws.endpoint, region_name="us-east-1")
    created = client.create_secret(Name="origin-verify", SecretString=json.dumps({"value": "first-value"}))
    return client, created["ARN"], created["VersionId"]


def project_with(tmp_path, arn, cloudfront="true"):
    return write_project(tmp_path, templates={"main.yaml": root()}, parameters={
        "ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "CloudFrontEnabled": cloudfront, "SecretArn": arn})


def deployed(aws, arn):
    """The stack as it stands before a rotation (created directly: moto reports no outputs for a
    stack made by a change set, and calls a parameter-only change set empty)."""
    aws.cfn.create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(root().to_dict()), Parameters=[
        {"ParameterKey": k, "ParameterValue": v} for k, v in {
            "ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "CloudFrontEnabled": "true",
            "SecretArn": arn}.items()])


def test_a_rotation_pins_new_and_previous_versions_then_deploys_them(tmp_path, aws, secret, capsys, monkeypatch):
    client, arn, first = secret
    project = project_with(tmp_path, arn)
    deployed(aws, arn)
    handed_over = []

    def deploy(args):
        # What `deploy` reads when it makes the change set: the pinned versions.
        handed_over.append((args.env, args.yes, paramfile.load(paramfile.path_for(project, ENV))))
        return 0
    monkeypatch.setattr(deploy_command, "run", deploy)

    assert threetier(project, aws, "rotate-origin-secret", ENV, "--bucket", BUCKET, "--yes") == 0

    current = client.get_secret_value(SecretId=arn)
    assert current["VersionId"] != first
    value = json.loads(current["SecretString"])["value"]
    assert len(value) == 48 and value.isalnum() and value != "first-value"
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["VersionId"] == first
    [(env, yes, pinned)] = handed_over
    assert (env, yes) == (ENV, True)
    assert (pinned["OriginVerifySecretVersion"], pinned["OriginVerifyPreviousSecretVersion"]) == (
        current["VersionId"], first)
    assert pinned["SecretArn"] == arn, "the rest of the file is kept"
    out = capsys.readouterr().out
    assert f"secret version {current['VersionId']}" in out and f"the previous, {first}" in out
    assert value not in out, "the value itself is never printed"


def test_the_next_rotation_drops_the_oldest_value(tmp_path, aws, secret, monkeypatch):
    client, arn, first = secret
    project = project_with(tmp_path, arn)
    deployed(aws, arn)
    monkeypatch.setattr(deploy_command, "run", lambda args: 0)
    threetier(project, aws, "rotate-origin-secret", ENV, "--bucket", BUCKET, "--yes")
    second = client.get_secret_value(SecretId=arn)["VersionId"]

    assert threetier(project, aws, "rotate-origin-secret", ENV, "--bucket", BUCKET, "--yes") == 0

    pinned = paramfile.load(paramfile.path_for(project, ENV))
    assert pinned["OriginVerifyPreviousSecretVersion"] == second
    assert first not in pinned.values()


@pytest.mark.parametrize("case,message", [
    ("cloudfront-off", "CloudFrontEnabled is not true: there is no origin header secret to rotate"),
    ("no-stack", f"stack {STACK_NAME} does not exist: deploy it first"),
])
def test_nothing_changes_when_the_rotation_cannot_happen(tmp_path, aws, secret, capsys, case, message):
    client, arn, first = secret
    project = project_with(tmp_path, arn, cloudfront="false" if case == "cloudfront-off" else "true")
    before = paramfile.path_for(project, ENV).read_text()

    assert threetier(project, aws, "rotate-origin-secret", ENV, "--bucket", BUCKET, "--yes") == 2

    assert message in capsys.readouterr().err
    assert client.get_secret_value(SecretId=arn)["VersionId"] == first, "no new secret version"
    assert paramfile.path_for(project, ENV).read_text() == before
