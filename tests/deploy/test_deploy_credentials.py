"""Per-environment credentials in threetier.toml: a profile, or a role to assume (STS AssumeRole).

Against the local moto server, whose STS AssumeRole returns credentials of the role's account
and whose CloudFormation keeps each account's stacks apart: the stack lands in the assumed
account, the pinned-account check reads the assumed identity, and a profile's keys sign the
requests. Bad credential settings stop before any AWS call.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import boto3
import pytest

from tests.deploy.fixtures.profiles import use_profiles
from tests.deploy.fixtures.project import (
    ENV,
    STACK_NAME,
    app_template,
    root_template,
    write_parameters,
    write_project,
)
from tests.deploy.test_deploy_moto import (
    BUCKET,
    aws,  # noqa: F401 (fixture)
)
from tests.deploy.test_deploy_stubbed import aws as stubbed_aws, plan as stubbed_plan  # noqa: F401 (fixture)
from threetier import cli, parameters as P
from threetier.deploy import session as session_module, settings
from threetier.deploy.commands import common
from threetier.deploy.settings import AssumedRole

BASE_ACCOUNT = "123456789012"  # the account moto's STS answers for unknown keys
ROLE_ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ROLE_ACCOUNT}:role/deployer"


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path / "project")


def write_settings(project, text: str) -> None:
    (project / "threetier.toml").write_text(text)


def on_moto(project, moto, *argv) -> int:
    return cli.main(["--project-dir", str(project), *argv, "--endpoint-url", moto.endpoint])


class Signed:
    """The access key ids the CloudFormation client of each command signed its requests with, and
    ({service: keys}) those of the other clients the commands make (SSM, EC2)."""

    def __init__(self, monkeypatch):
        self.keys: list[str] = []
        self.others: dict[str, list[str]] = {}
        make_clients, make_client = common.make_clients, common.make_client

        def recording(*args, **kwargs):
            clients = make_clients(*args, **kwargs)
            clients.cloudformation.meta.events.register("before-send", lambda request, **_: self.keys.append(
                _access_key(request)))
            return clients

        def recording_other(clients, profile, service):
            client = make_client(clients, profile, service)
            client.meta.events.register("before-send", lambda request, **_: self.others.setdefault(
                service, []).append(_access_key(request)))
            return client

        monkeypatch.setattr(common, "make_clients", recording)
        monkeypatch.setattr(common, "make_client", recording_other)


def _access_key(request) -> str:
    # Authorization: AWS4-HMAC-SHA256 Credential=<access key id>/<date>/<region>/<service>/aws4_request, ...
    return request.headers["Authorization"].decode().split("Credential=")[1].split("/")[0]


@pytest.fixture
def signed(monkeypatch):
    return Signed(monkeypatch)


def cloudformation_as(aws, role_arn: str):
    credentials = boto3.client("sts", endpoint_url=aws.endpoint, region_name="us-east-1").assume_role(
        RoleArn=role_arn, RoleSessionName="check")["Credentials"]
    return boto3.client("cloudformation", endpoint_url=aws.endpoint, region_name="us-east-1",
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def stack_names(cfn) -> list[str]:
    """The root stacks of the account (moto names nested ones ROOT-LogicalId-SUFFIX)."""
    return [stack["StackName"] for stack in cfn.describe_stacks()["Stacks"] if stack["StackName"] == STACK_NAME]


# ----------------------------------------------------------------------------- a role to assume

def test_a_role_to_assume_is_the_identity_every_cloudformation_call_uses(project, aws, signed, capsys):
    write_settings(project, f'[dev]\naccount_id = "{ROLE_ACCOUNT}"\nregion = "us-east-1"\nbucket = "{BUCKET}"\n'
                            f'role_to_assume = "{ROLE}"\nsession_name = "ci-run"\nexternal_id = "shop-deploys"\n')

    assert on_moto(project, aws, "plan", ENV) == 0

    err = capsys.readouterr().err
    assert f"account {ROLE_ACCOUNT} (as role {ROLE}) and region us-east-1, as pinned for dev" in err
    # moto keeps each account's stacks apart: the change set's stack is in the role's account only.
    assert stack_names(cloudformation_as(aws, ROLE)) == [STACK_NAME]
    assert stack_names(aws.cfn) == []
    assert signed.keys and all(key.startswith("ASIA") for key in signed.keys)  # temporary (assumed) keys
    assert "testing" not in signed.keys  # never the base credentials


def test_the_ami_and_az_lookups_act_as_the_role_too(tmp_path, aws, signed):
    root = root_template()
    for param in (P.AMI_ID, P.PINNED_AMI_ID, P.NUMBER_OF_AZS, P.AVAILABILITY_ZONE_NAMES):
        root.add_parameter(param.to_parameter())
    project = write_project(tmp_path / "pinned", templates={"main.yaml": root, "app.yaml": app_template()})
    write_settings(project, f'[dev]\nregion = "us-east-1"\nbucket = "{BUCKET}"\nrole_to_assume = "{ROLE}"\n')

    assert on_moto(project, aws, "plan", ENV) == 0

    assert set(signed.others) == {"ssm", "ec2"}  # SSM GetParameter (the AMI), EC2 DescribeAvailabilityZones
    assert all(key.startswith("ASIA") for keys in signed.others.values() for key in keys)


def test_the_assumed_session_is_named_as_the_settings_say(aws):
    role = AssumedRole(ROLE, "ci-run", "shop-deploys")
    session = session_module.make_session("us-east-1", None, role, aws.endpoint)

    identity = session.client("sts", endpoint_url=aws.endpoint).get_caller_identity()

    assert identity["Arn"] == f"arn:aws:sts::{ROLE_ACCOUNT}:assumed-role/deployer/ci-run"
    assert identity["Account"] == ROLE_ACCOUNT


def test_the_session_name_defaults_to_threetier_and_the_environment(project, aws, signed, capsys):
    write_settings(project, f'[dev]\nregion = "us-east-1"\nbucket = "{BUCKET}"\nrole_to_assume = "{ROLE}"\n')
    seen = []
    assume = session_module.assume_role

    def recording(sts, role):
        seen.append(role)
        return assume(sts, role)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(session_module, "assume_role", recording)
        assert on_moto(project, aws, "plan", ENV) == 0

    assert seen and seen[0] == AssumedRole(ROLE, "threetier-dev", None)


def test_the_account_check_reads_the_assumed_identity_not_the_base_one(project, aws, capsys):
    # The base credentials are for the pinned account; the role is in another: refused.
    write_settings(project, f'[dev]\naccount_id = "{BASE_ACCOUNT}"\nregion = "us-east-1"\nbucket = "{BUCKET}"\n'
                            f'role_to_assume = "{ROLE}"\n')

    assert on_moto(project, aws, "deploy", ENV, "--yes") == 2

    err = capsys.readouterr().err
    assert f"these credentials are for account {ROLE_ACCOUNT}, but dev is pinned to account {BASE_ACCOUNT}" in err
    assert stack_names(cloudformation_as(aws, ROLE)) == [] and stack_names(aws.cfn) == []
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=BUCKET)


def test_status_and_delete_act_as_the_role_too(project, aws, capsys):
    write_settings(project, f'[dev]\nregion = "us-east-1"\nbucket = "{BUCKET}"\nrole_to_assume = "{ROLE}"\n')
    assert on_moto(project, aws, "deploy", ENV, "--yes") == 0
    assert stack_names(cloudformation_as(aws, ROLE)) == [STACK_NAME]
    capsys.readouterr()

    assert on_moto(project, aws, "status", ENV) == 0  # the base account has no such stack: it would exit 1
    assert on_moto(project, aws, "delete", ENV, "--yes") == 0

    assert f"Stack {STACK_NAME}: DELETE_COMPLETE" in capsys.readouterr().out
    assert stack_names(cloudformation_as(aws, ROLE)) == []


def test_assumed_credentials_are_assumed_again_before_they_expire(aws, monkeypatch):
    calls = []
    assume = session_module.assume_role

    def expiring_soon(sts, role):
        calls.append(role)
        credentials = assume(sts, role)
        # Inside botocore's 10-minute mandatory refresh window: every use refreshes them.
        soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
        return {**credentials, "expiry_time": soon.isoformat()}

    monkeypatch.setattr(session_module, "assume_role", expiring_soon)
    session = session_module.make_session("us-east-1", None, AssumedRole(ROLE, "long-follow"), aws.endpoint)
    sts = session.client("sts", endpoint_url=aws.endpoint)
    assert calls == []  # creating the session and its clients sends nothing

    for _ in range(3):
        assert sts.get_caller_identity()["Account"] == ROLE_ACCOUNT

    assert len(calls) == 3


def test_credentials_valid_for_an_hour_are_assumed_once(aws, monkeypatch):
    calls = []
    assume = session_module.assume_role
    monkeypatch.setattr(session_module, "assume_role", lambda sts, role: calls.append(role) or assume(sts, role))
    session = session_module.make_session("us-east-1", None, AssumedRole(ROLE, "short"), aws.endpoint)
    sts = session.client("sts", endpoint_url=aws.endpoint)

    for _ in range(3):
        sts.get_caller_identity()

    assert len(calls) == 1


def test_a_role_aws_refuses_to_let_assume_is_one_line_naming_it(project, aws, monkeypatch, capsys):
    write_settings(project, f'[dev]\nregion = "us-east-1"\nbucket = "{BUCKET}"\nrole_to_assume = "{ROLE}"\n'
                            'external_id = "wrong-id"\n')

    def refused(sts, role):
        sts.meta.events.register("before-send", lambda **_: _access_denied())
        return real(sts, role)

    real = session_module.assume_role
    monkeypatch.setattr(session_module, "assume_role", refused)

    assert on_moto(project, aws, "plan", ENV) == 1

    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"threetier plan: could not assume role {ROLE} with the base credentials")
    assert "AccessDenied" in err[-1] and "trust policy and external_id" in err[-1]
    assert "Traceback" not in "\n".join(err)


def _access_denied():
    from botocore.awsrequest import AWSResponse

    body = (b'<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not '
            b'authorized to perform: sts:AssumeRole</Message></Error></ErrorResponse>')
    response = AWSResponse("http://127.0.0.1", 403, {}, None)
    response._content = body
    return response


# ----------------------------------------------------------------------------- a profile per environment

@pytest.fixture
def profiles(tmp_path, monkeypatch, aws):
    """An AWS config and credentials file with a dev and a prod profile, each with an IAM user's keys
    that moto knows (its GetCallerIdentity names the user)."""
    iam = boto3.client("iam", endpoint_url=aws.endpoint, region_name="us-east-1")
    keys = {}
    for env, user in (("dev", "dev-deployer"), ("prod", "prod-deployer")):
        iam.create_user(UserName=user)
        keys[env] = iam.create_access_key(UserName=user)["AccessKey"]
    use_profiles(tmp_path, monkeypatch, {env: (key["AccessKeyId"], key["SecretAccessKey"]) for env, key in keys.items()},
                 "us-east-1")
    return {env: key["AccessKeyId"] for env, key in keys.items()}


def test_each_environment_signs_with_its_own_profile(project, aws, profiles, signed):
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": "prod"}, "prod")
    write_settings(project, f'[dev]\nbucket = "{BUCKET}"\nprofile = "dev"\n\n'
                            f'[prod]\nbucket = "{BUCKET}"\nprofile = "prod"\nprotected = true\n')

    assert on_moto(project, aws, "plan", "dev") == 0
    dev_keys, signed.keys[:] = list(signed.keys), []
    assert on_moto(project, aws, "plan", "prod") == 0

    assert dev_keys and set(dev_keys) == {profiles["dev"]}
    assert signed.keys and set(signed.keys) == {profiles["prod"]}


def test_the_profile_setting_reaches_the_account_check(project, aws, profiles, capsys):
    write_settings(project, f'[dev]\naccount_id = "{BASE_ACCOUNT}"\nbucket = "{BUCKET}"\nprofile = "dev"\n')
    identities = []
    check_account = common.settings.check_account

    def recording(sts, pinned):
        identities.append(sts.get_caller_identity()["Arn"])
        return check_account(sts, pinned)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common.settings, "check_account", recording)
        assert on_moto(project, aws, "plan", "dev") == 0

    assert identities == [f"arn:aws:iam::{BASE_ACCOUNT}:user/dev-deployer"]


def test_a_profile_flag_overrides_the_profile_setting(project, aws, profiles, signed):
    write_settings(project, f'[dev]\nbucket = "{BUCKET}"\nprofile = "dev"\n')

    assert on_moto(project, aws, "plan", "dev", "--profile", "prod") == 0

    assert signed.keys and set(signed.keys) == {profiles["prod"]}


def test_a_profile_the_config_lacks_is_one_line_and_exit_2(project, aws, profiles, capsys):
    write_settings(project, f'[dev]\nbucket = "{BUCKET}"\nprofile = "staging"\n')

    assert on_moto(project, aws, "plan", "dev") == 2

    err = capsys.readouterr().err
    assert "The config profile (staging) could not be found" in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- bad settings, before any AWS call

@pytest.mark.parametrize("text, says", [
    (f'[dev]\nprofile = "dev"\nrole_to_assume = "{ROLE}"\n', "profile and role_to_assume are both set: choose one"),
    ('[dev]\nrole_to_assume = "deployer"\n',
     "role_to_assume 'deployer' is not an ARN like arn:aws:iam::123456789012:role/deployer"),
    ('[dev]\nrole_to_assume = "arn:aws:iam::123456789012:user/deployer"\n', "is not an ARN like"),
    (f'[dev]\nrole_to_assume = "{ROLE}"\nsession_name = "has space"\n',
     "session_name 'has space' is not a role session name like threetier-dev"),
    (f'[dev]\nrole_to_assume = "{ROLE}"\nexternal_id = "x"\n', "external_id 'x' is not an external id: 2 to 1224"),
    ('[dev]\nsession_name = "ci-run"\n', "session_name without role_to_assume"),
    ('[dev]\nexternal_id = "abc"\n', "external_id without role_to_assume"),
    ('[dev]\nprofile = ""\n', "profile must be the name of a profile in your AWS config"),
    ('[dev]\nprofile = 7\n', "profile must be the name of a profile in your AWS config"),
    (f'[dev]\nrole = "{ROLE}"\n', "[dev] unknown key 'role' (known: "),
])
def test_bad_credential_settings_are_one_line_and_nothing_is_sent(project, stubbed_aws, capsys, text, says):
    write_settings(project, text)

    assert stubbed_plan(project, "--bucket", "b") == 2

    err = capsys.readouterr().err
    assert says in err and "threetier.toml: [dev]" in err
    assert len(err.strip().splitlines()) == 1
    assert stubbed_aws.calls == []


def test_the_example_settings_name_credentials_for_each_environment():
    example = Path(__file__).resolve().parents[2] / "threetier.example.toml"

    dev, prod = (settings.load(example.parent, env, example) for env in ("dev", "prod"))

    assert dev.profile == "dev" and dev.assumed_role() is None
    assert prod.profile is None
    assert prod.assumed_role() == AssumedRole("arn:aws:iam::222222222222:role/threetier-deployer", "threetier-prod")
