"""`threetier rotate-origin-secret ENV` against the local moto server (CloudFormation, Secrets
Manager, CloudFront): the previous value pinned is the one the deployed distribution sends, and
each kind of unfinished rotation is resumed by the next run.

moto skips AWS::CloudFront::Distribution in templates, so the distribution is made with the
CloudFront API and the edge stack outputs its id, as the real edge stack does. `deploy` is
replaced by a stand-in that does what plan does once CloudFormation has the change set (pins the
versions the run hands over in parameters/ENV.pins.json, with plan's own code) and what a completed
deploy leaves behind (CloudFront sends the pinned current version), or, for an unfinished one, less;
the last tests run the real deploy.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from troposphere import Output, Parameter, Ref, Sub, Template, cloudformation, ssm

from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, write_project
from tests.deploy.test_deploy_moto import BUCKET, aws, threetier  # noqa: F401 (fixture)
from botocore.exceptions import ClientError

from threetier.deploy import changeset, origin
from threetier.deploy.commands import deploy as deploy_command, plan as plan_command
from threetier.deploy.errors import EXIT_FAILURE, InputError
from threetier.parameters import paramfile

VERSION = r"^$|^[a-zA-Z0-9-]{32,64}$"
EDGE_KEY = "edge.yaml"
HEADER = "X-Origin-Verify"
CURRENT, PREVIOUS = "OriginVerifySecretVersion", "OriginVerifyPreviousSecretVersion"


def root(with_edge: bool = False) -> Template:
    """The root's shape for this command: the switch, the two version parameters, the secret output
    and (as deployed) the edge stack with the distribution's id."""
    t = Template(Description="threetier test root with an origin header secret")
    t.set_version("2010-09-09")
    for name in ("ProjectName", "EnvironmentName", "SecretArn", "DistributionId"):
        t.add_parameter(Parameter(name, Type="String"))
    t.add_parameter(Parameter("CloudFrontEnabled", Type="String", AllowedValues=["true", "false"]))
    for name in (CURRENT, PREVIOUS):
        t.add_parameter(Parameter(name, Type="String", Default="", AllowedPattern=VERSION))
    t.add_resource(ssm.Parameter(
        "OriginVersions", Type="String", Name=Sub("/${ProjectName}/${EnvironmentName}/origin"),
        Value=Sub("current=${OriginVerifySecretVersion} previous=${OriginVerifyPreviousSecretVersion}"),
    ))
    if with_edge:
        t.add_resource(cloudformation.Stack(
            "EdgeStack", TemplateURL=f"https://{BUCKET}.s3.amazonaws.com/{EDGE_KEY}",
            Parameters={"DistributionId": Ref("DistributionId")},
        ))
    t.add_output(Output("OriginVerifySecretArn", Value=Ref("SecretArn")))
    return t


def edge() -> Template:
    t = Template(Description="threetier test edge stack")
    t.set_version("2010-09-09")
    t.add_parameter(Parameter("DistributionId", Type="String"))
    t.add_resource(ssm.Parameter("Placeholder", Type="String", Name="/test/edge", Value="edge"))
    t.add_output(Output("DistributionId", Value=Ref("DistributionId")))
    return t


class Environment:
    """The deployed environment: the secret, the distribution and the root stack."""

    def __init__(self, moto, tmp_path):
        self.aws = moto
        self.secrets = boto3.client("secretsmanager", endpoint_url=moto.endpoint, region_name="us-east-1")
        self.cloudfront = boto3.client("cloudfront", endpoint_url=moto.endpoint, region_name="us-east-1")
        self.tmp_path = tmp_path
        moto.s3.put_object(Bucket=BUCKET, Key=EDGE_KEY, Body=json.dumps(edge().to_dict()))

    def turn_cloudfront_on(self, name: str = "origin-verify") -> None:
        """What CloudFrontEnabled true creates: a secret, a distribution sending its value, the stack."""
        created = self.secrets.create_secret(Name=name, SecretString=json.dumps({"value": f"{name}-first"}))
        self.arn, self.first = created["ARN"], created["VersionId"]
        self.distribution = self.cloudfront.create_distribution(
            DistributionConfig=_distribution_config(f"{name}-first"))["Distribution"]["Id"]
        values = self.values()
        if self._stack_exists():
            self.aws.cfn.delete_stack(StackName=STACK_NAME)
        self.aws.cfn.create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(root(with_edge=True).to_dict()),
                                  Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])

    def turn_cloudfront_off(self) -> None:
        """CloudFrontEnabled false deletes the secret and the distribution (the stack is made again on)."""
        self.secrets.delete_secret(SecretId=self.arn, ForceDeleteWithoutRecovery=True)
        self.cloudfront.delete_distribution(Id=self.distribution, IfMatch=self._etag())

    def values(self) -> dict[str, str]:
        return {"ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "CloudFrontEnabled": "true",
                "SecretArn": self.arn, "DistributionId": self.distribution}

    def project(self):
        return write_project(self.tmp_path, templates={"main.yaml": root()}, parameters=self.values())

    def sends(self) -> str:
        """The id of the version whose value CloudFront sends."""
        config = self.cloudfront.get_distribution_config(Id=self.distribution)["DistributionConfig"]
        value = config["Origins"]["Items"][0]["CustomHeaders"]["Items"][0]["HeaderValue"]
        return next(v["VersionId"] for v in self.versions() if self.value_of(v["VersionId"]) == value)

    def value_of(self, version: str) -> str:
        return json.loads(self.secrets.get_secret_value(SecretId=self.arn, VersionId=version)["SecretString"])["value"]

    def versions(self) -> list[dict]:
        return self.secrets.list_secret_version_ids(SecretId=self.arn, IncludeDeprecated=True)["Versions"]

    def apply(self, pinned: dict[str, str]) -> None:
        """What a completed deploy leaves: CloudFront sends the pinned current version."""
        response = self.cloudfront.get_distribution_config(Id=self.distribution)
        config = response["DistributionConfig"]
        config["Origins"]["Items"][0]["CustomHeaders"]["Items"][0]["HeaderValue"] = self.value_of(pinned[CURRENT])
        self.cloudfront.update_distribution(Id=self.distribution, IfMatch=response["ETag"], DistributionConfig=config)

    def _etag(self) -> str:
        return self.cloudfront.get_distribution_config(Id=self.distribution)["ETag"]

    def _stack_exists(self) -> bool:
        return any(s["StackName"] == STACK_NAME for s in self.aws.cfn.list_stacks()["StackSummaries"]
                   if s["StackStatus"] != "DELETE_COMPLETE")


def _distribution_config(value: str) -> dict:
    return {
        "CallerReference": value, "Comment": "threetier test", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "alb", "DomainName": "alb.example.com",
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": HEADER, "HeaderValue": value}]},
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
        }]},
        "DefaultCacheBehavior": {"TargetOriginId": "alb", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
    }


@pytest.fixture
def env(aws, tmp_path):  # noqa: F811 (fixture)
    environment = Environment(aws, tmp_path)
    environment.turn_cloudfront_on()
    return environment


def change_set_created(args, project) -> None:
    """What plan does once CloudFormation has the change set: pin what the run handed over."""
    plan_command._pins_asked_for(args, project).save(project, ENV)


def completed(env, project):
    """A stand-in for `deploy` whose change set completes."""
    def deploy(args):
        change_set_created(args, project)
        env.apply(paramfile.load_pins(project, ENV))
        return 0
    return deploy


def rotate(env, project, monkeypatch, deploy) -> int:
    monkeypatch.setattr(deploy_command, "run", deploy)
    return threetier(project, env.aws, "rotate-origin-secret", ENV, "--bucket", BUCKET, "--yes")


def pins(project) -> tuple[str, str]:
    pinned = paramfile.load_pins(project, ENV)
    return pinned.get(CURRENT, ""), pinned.get(PREVIOUS, "")


def user_file(project) -> bytes:
    return paramfile.path_for(project, ENV).read_bytes()


def test_a_rotation_pins_a_new_version_and_the_one_cloudfront_sends(env, capsys, monkeypatch):
    project = env.project()
    before = user_file(project)
    handed_over = []

    def deploy(args):
        handed_over.append((args.env, args.yes, (args.pin_overrides[CURRENT], args.pin_overrides[PREVIOUS])))
        assert pins(project) == ("", ""), "nothing is pinned before the change set exists"
        return 0

    assert rotate(env, project, monkeypatch, deploy) == 0

    current = env.secrets.get_secret_value(SecretId=env.arn)
    value = json.loads(current["SecretString"])["value"]
    assert current["VersionId"] != env.first
    assert len(value) == 48 and value.isalnum()
    [(name, yes, pinned)] = handed_over
    assert (name, yes, pinned) == (ENV, True, (current["VersionId"], env.first))
    assert user_file(project) == before, "the user's file is never written"
    out = capsys.readouterr().out
    assert f"secret version {current['VersionId']}" in out and f"the previous, {env.first}" in out
    assert value not in out, "the value itself is never printed"


def test_the_next_rotation_keeps_what_cloudfront_sends_and_drops_the_oldest(env, monkeypatch):
    project = env.project()
    assert rotate(env, project, monkeypatch, completed(env, project)) == 0
    second = env.sends()
    assert second != env.first

    assert rotate(env, project, monkeypatch, completed(env, project)) == 0

    current, previous = pins(project)
    assert previous == second and env.first not in (current, previous)
    assert env.sends() == current


def _declined(env, project):
    def deploy(args):
        change_set_created(args, project)
        return EXIT_FAILURE  # "Not confirmed: nothing was executed."
    return deploy


def _change_set_failed(env, project):
    def deploy(args):
        change_set_created(args, project)
        # The update failed and rolled back: the distribution is as it was.
        before = env.sends()
        env.apply({CURRENT: pins(project)[0]})
        env.apply({CURRENT: before})
        return EXIT_FAILURE
    return deploy


def _interrupted_after_the_change_set(env, project):
    def deploy(args):
        change_set_created(args, project)
        raise KeyboardInterrupt
    return deploy


def _stopped_before_the_change_set(env, project):
    def deploy(args):
        raise InputError("the upload failed")  # as plan stops on credentials, the account check, the upload
    return deploy


UNFINISHED = {"declined at the prompt": _declined, "change set failed and rolled back": _change_set_failed,
              "interrupted after the change set was created": _interrupted_after_the_change_set,
              "stopped before the change set was created": _stopped_before_the_change_set}


@pytest.mark.parametrize("how", UNFINISHED)
def test_after_an_unfinished_rotation_the_next_resumes_it_and_keeps_what_cloudfront_sends(env, monkeypatch,
                                                                                         capsys, how):
    project = env.project()
    assert rotate(env, project, monkeypatch, UNFINISHED[how](env, project)) != 0
    unfinished = env.secrets.get_secret_value(SecretId=env.arn)["VersionId"]
    assert unfinished != env.first and env.sends() == env.first
    versions_before = len(env.versions())
    capsys.readouterr()

    assert rotate(env, project, monkeypatch, completed(env, project)) == 0

    # The old code pinned the unfinished version as previous: the load balancer would then
    # accept two values CloudFront does not send (403 until its edges moved).
    assert pins(project) == (unfinished, env.first)
    assert len(env.versions()) == versions_before, "no second new version"
    assert "Resuming an unfinished rotation" in capsys.readouterr().out
    assert env.sends() == unfinished


def test_a_run_that_stops_before_its_change_set_writes_neither_file(env, monkeypatch):
    project = env.project()
    before = user_file(project)

    assert rotate(env, project, monkeypatch, _stopped_before_the_change_set(env, project)) == 2

    assert user_file(project) == before
    assert not paramfile.pins_path_for(project, ENV).exists()


def test_versions_the_users_file_sets_are_refused_before_anything_changes(env, monkeypatch, capsys):
    project = env.project()
    paramfile.update(paramfile.path_for(project, ENV), {CURRENT: env.first})
    before = user_file(project)

    assert rotate(env, project, monkeypatch, completed(env, project)) == 2

    assert (f"dev.json: sets {CURRENT} itself, which wins over a pin: remove it (rotate-origin-secret keeps the "
            "versions in parameters/dev.pins.json); nothing was changed") in capsys.readouterr().err
    assert env.secrets.get_secret_value(SecretId=env.arn)["VersionId"] == env.first, "no new secret version"
    assert user_file(project) == before and not paramfile.pins_path_for(project, ENV).exists()


def test_after_cloudfront_off_and_on_the_pins_into_the_deleted_secret_are_dropped(env, monkeypatch, capsys):
    project = env.project()
    assert rotate(env, project, monkeypatch, completed(env, project)) == 0
    old_pins = pins(project)
    env.turn_cloudfront_off()
    env.turn_cloudfront_on(name="origin-verify-again")
    paramfile.update(paramfile.path_for(project, ENV), {"SecretArn": env.arn, "DistributionId": env.distribution})
    capsys.readouterr()

    assert rotate(env, project, monkeypatch, completed(env, project)) == 0

    current, previous = pins(project)
    assert previous == env.first and current in {v["VersionId"] for v in env.versions()}
    err = capsys.readouterr().err
    for stale in old_pins:
        assert f"Dropped version {stale}" in err and stale not in (current, previous)
    assert env.sends() == current


@pytest.mark.parametrize("case,message", [
    ("cloudfront-off", "CloudFrontEnabled is not true: there is no origin header secret to rotate"),
    ("no-stack", f"stack {STACK_NAME} does not exist: deploy it first"),
    ("foreign-value", "that is no version of secret"),
    ("no-header", "sends no X-Origin-Verify header"),
])
def test_nothing_changes_when_the_rotation_cannot_happen(env, capsys, monkeypatch, case, message):
    project = env.project()
    if case == "cloudfront-off":
        paramfile.update(paramfile.path_for(project, ENV), {"CloudFrontEnabled": "false"})
    elif case == "no-stack":
        env.aws.cfn.delete_stack(StackName=STACK_NAME)
    else:
        response = env.cloudfront.get_distribution_config(Id=env.distribution)
        config = response["DistributionConfig"]
        headers = config["Origins"]["Items"][0]["CustomHeaders"]
        if case == "foreign-value":
            headers["Items"][0]["HeaderValue"] = "set-by-hand"
        else:
            headers.update(Quantity=0, Items=[])
        env.cloudfront.update_distribution(Id=env.distribution, IfMatch=response["ETag"], DistributionConfig=config)
    before = user_file(project)

    assert rotate(env, project, monkeypatch, completed(env, project)) == 2

    assert message in capsys.readouterr().err
    assert env.secrets.get_secret_value(SecretId=env.arn)["VersionId"] == env.first, "no new secret version"
    assert user_file(project) == before and not paramfile.pins_path_for(project, ENV).exists()


def test_a_distribution_still_deploying_is_refused():
    """moto's distributions are Deployed at once: the shape of GetDistribution while InProgress, stubbed."""
    client = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="t",
                          aws_secret_access_key="t")  # pragma: allowlist secret (stub)
    with Stubber(client) as stub:
        stub.add_response("get_distribution", {"ETag": "E1", "Distribution": {
            "Id": "E2EXAMPLE", "ARN": "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE",
            "Status": "InProgress", "LastModifiedTime": "2026-12-06T20:00:00Z", "InProgressInvalidationBatches": 0,
            "DomainName": "d111111abcdef8.cloudfront.net", "ActiveTrustedSigners": {"Enabled": False, "Quantity": 0},
            "DistributionConfig": _distribution_config("any") | {"DefaultCacheBehavior": {
                "TargetOriginId": "alb", "ViewerProtocolPolicy": "redirect-to-https"}},
        }}, {"Id": "E2EXAMPLE"})
        with pytest.raises(InputError, match="E2EXAMPLE is InProgress, not Deployed: its edges may still send"):
            origin.header_cloudfront_sends(client, "E2EXAMPLE")


def test_a_stack_mid_update_is_refused():
    client = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="t",
                          aws_secret_access_key="t")  # pragma: allowlist secret (stub)
    with Stubber(client) as stub:
        stub.add_response("describe_stacks", {"Stacks": [{
            "StackName": STACK_NAME, "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/x/1",
            "CreationTime": "2026-12-06T20:00:00Z", "StackStatus": "UPDATE_IN_PROGRESS"}]})
        with pytest.raises(InputError, match=f"stack {STACK_NAME} is UPDATE_IN_PROGRESS: run again"):
            origin._settled_stack(client, STACK_NAME)


@pytest.mark.parametrize("stages, resumed", [
    ({"sent": ["AWSCURRENT"]}, ""),
    ({"sent": ["AWSPREVIOUS"], "unfinished": ["AWSCURRENT"]}, "unfinished"),
    ({"sent": [], "older": ["AWSPREVIOUS"], "unfinished": ["AWSCURRENT"]}, "unfinished"),
])
def test_the_plan_of_a_run_from_the_secrets_labels(stages, resumed):
    versions = [{"VersionId": version, "VersionStages": labels} for version, labels in stages.items()]

    rotation = origin.plan_rotation(versions, "sent", ["gone", "", "sent"])

    assert (rotation.new, rotation.resumed, rotation.sent, rotation.stale) == (resumed, bool(resumed), "sent",
                                                                              ("gone",))


def test_a_stack_without_the_edge_stack_is_told_to_turn_cloudfront_on(env, capsys, monkeypatch):
    project = env.project()
    env.aws.cfn.delete_stack(StackName=STACK_NAME)
    env.aws.cfn.create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(root().to_dict()), Parameters=[
        {"ParameterKey": k, "ParameterValue": v} for k, v in env.values().items()])

    assert rotate(env, project, monkeypatch, completed(env, project)) == 2

    assert (f"stack {STACK_NAME} has no CloudFront distribution (EdgeStack output DistributionId): deploy it "
            "with CloudFrontEnabled true first") in capsys.readouterr().err


# ----------------------------------------------------------------------------- with the real deploy

def test_the_real_deploy_pins_both_versions_once_the_change_set_exists(env, capsys, monkeypatch):
    project = write_project(env.tmp_path, templates={"main.yaml": root(with_edge=True)}, parameters=env.values())
    before = user_file(project)
    sent, create = [], changeset.create_change_set

    def recording(cfn, stack_name, template_url, parameters, *args, **kwargs):
        sent.append((dict(parameters), paramfile.pins_path_for(project, ENV).exists()))
        return create(cfn, stack_name, template_url, parameters, *args, **kwargs)

    monkeypatch.setattr(changeset, "create_change_set", recording)

    assert threetier(project, env.aws, "rotate-origin-secret", ENV, "--bucket", BUCKET, "--yes") == 0

    current, previous = pins(project)
    assert current == env.secrets.get_secret_value(SecretId=env.arn)["VersionId"] and previous == env.first
    err = capsys.readouterr().err
    assert f"parameters/dev.pins.json: {CURRENT} (none) -> {current}, pinned (commit the file)" in err
    assert f"parameters/dev.pins.json: {PREVIOUS} (none) -> {previous}, pinned (commit the file)" in err
    assert user_file(project) == before
    # moto finds no change in a parameter-only update ("No changes."): what CreateChangeSet was sent is the proof.
    [(parameters, pinned_before)] = sent
    assert (parameters[CURRENT], parameters[PREVIOUS]) == (current, previous) and not pinned_before


def test_a_change_set_aws_refuses_pins_nothing(env, capsys, monkeypatch):
    project = env.project()
    before = user_file(project)

    def refused(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ValidationError", "Message": "Template format error"}},
                          "CreateChangeSet")

    monkeypatch.setattr(changeset, "create_change_set", refused)

    assert threetier(project, env.aws, "rotate-origin-secret", ENV, "--bucket", BUCKET, "--yes") == 1

    assert "Template format error" in capsys.readouterr().err
    assert user_file(project) == before and not paramfile.pins_path_for(project, ENV).exists()
