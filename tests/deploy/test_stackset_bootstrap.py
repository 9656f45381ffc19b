"""`threetier stackset bootstrap` with the rotation code's buckets: stack set <name>-bootstrap (the deployer role,
the targets' OUs, the first region, automatic deployment) and <name>-bootstrap-code (output/code-bucket.yaml,
self-managed, this administrator account, every target region); and what it refuses before any call.
CloudFormation answers through botocore's Stubber (moto has no service-managed stack sets); STS is moto's."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY

from tests.deploy.fixtures.project import (
    ENV,
    STACK_NAME,
    app_template,
    root_template,
    write_parameters,
    write_templates,
)
from tests.deploy.test_deploy_moto import BUCKET
from tests.deploy.test_stackset_moto import ACCOUNTS, REGIONS
from tests.deploy.test_stackset_stubbed import aws, moto, operation, project, run  # noqa: F401 (fixtures)
from threetier.deploy.commands import common
from threetier.deploy.session import Clients

OU = "ou-ab12-cdef3456"
ORGANIZATION = "o-abc123def4"
MOTO_ACCOUNT = "123456789012"  # moto's GetCallerIdentity
PREFERENCES = {"RegionConcurrencyType": "SEQUENTIAL", "FailureToleranceCount": 0, "MaxConcurrentCount": 1}


def settings(extra: str = "") -> str:
    return (f'[{ENV}]\nregion = "us-east-1"\nbucket = "{BUCKET}"\n[{ENV}.stackset]\n'
            f'regions = {json.dumps(list(REGIONS))}\n{extra}[[{ENV}.stackset.targets]]\norganizational_units = ["{OU}"]\n')


CODE = f'code_bucket = "shop-code-${{AWS::Region}}"\norganization_id = "{ORGANIZATION}"\n'


@pytest.fixture
def with_sts(aws, moto, monkeypatch):
    """The stubbed CloudFormation, moto's S3 and STS: bootstrap asks STS which account administers."""
    sts = boto3.client("sts", endpoint_url=moto.endpoint, region_name="us-east-1")
    monkeypatch.setattr(common, "make_clients", lambda region, profile, endpoint_url, role=None: Clients(
        aws.cfn, moto.s3, "us-east-1", endpoint_url=moto.endpoint, sts=sts))
    return aws


@pytest.fixture
def boot_project(project):
    """The test project with the deployer role's and the code bucket's templates in output/, and a rotation
    function's code in the app stack's parameters."""
    root = root_template()
    root.resources["AppStack"].properties["Parameters"].update(
        {"RotationCodeBucket": BUCKET, "RotationCodeKey": "threetier/rotation-3f9a.zip"})
    write_templates(project, {"main.yaml": root, "app.yaml": app_template()})
    marker = ("Resources:\n  Marker:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Type: String\n"
              "      Value: x\n")
    (project / "output" / "deployer-role.yaml").write_text(
        "Parameters:\n  ProjectName:\n    Type: String\n  TemplateBucket:\n    Type: String\n" + marker)
    (project / "output" / "code-bucket.yaml").write_text(marker)
    return project


def not_found(aws, name: str, call_as: dict) -> None:
    aws.stub.add_client_error("describe_stack_set", "StackSetNotFoundException", f"StackSet {name} not found",
                              expected_params={"StackSetName": name, **call_as})


def test_bootstrap_creates_the_role_set_for_the_ous_and_the_code_set_in_every_region_of_this_account(
        boot_project, with_sts, capsys):
    aws, role_set, code_set = with_sts, f"{STACK_NAME}-bootstrap", f"{STACK_NAME}-bootstrap-code"
    not_found(aws, role_set, {"CallAs": "SELF"})
    not_found(aws, code_set, {})
    aws.add("create_stack_set", {"StackSetId": "boot:1"}, {
        "StackSetName": role_set, "TemplateBody": ANY, "Capabilities": ["CAPABILITY_IAM"], "CallAs": "SELF",
        "Parameters": [{"ParameterKey": "ProjectName", "ParameterValue": "shop"},
                       {"ParameterKey": "TemplateBucket", "ParameterValue": BUCKET}],
        "PermissionModel": "SERVICE_MANAGED", "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": True}})
    aws.add("create_stack_instances", {"OperationId": "role-op"}, {
        "StackSetName": role_set, "DeploymentTargets": {"OrganizationalUnitIds": [OU]}, "Regions": [REGIONS[0]],
        "ParameterOverrides": [], "CallAs": "SELF", "OperationPreferences": {**PREFERENCES, "RegionOrder": [REGIONS[0]]}})
    operation(aws, "SUCCEEDED", [{"Account": ACCOUNTS[0], "Region": REGIONS[0], "Status": "SUCCEEDED"}],
              action="CREATE", operation_id="role-op")
    aws.add("create_stack_set", {"StackSetId": "code:1"}, {
        "StackSetName": code_set, "TemplateBody": ANY, "Capabilities": ["CAPABILITY_IAM"],
        "Parameters": [{"ParameterKey": "CodeBucketPrefix", "ParameterValue": "shop-code-"},
                       {"ParameterKey": "CodeBucketSuffix", "ParameterValue": ""},
                       {"ParameterKey": "EnvironmentName", "ParameterValue": ENV},
                       {"ParameterKey": "OrganizationId", "ParameterValue": ORGANIZATION},
                       {"ParameterKey": "ProjectName", "ParameterValue": "shop"}],
        "PermissionModel": "SELF_MANAGED"})
    aws.add("create_stack_instances", {"OperationId": "code-op"}, {
        "StackSetName": code_set, "Accounts": [MOTO_ACCOUNT], "Regions": list(REGIONS), "ParameterOverrides": [],
        "OperationPreferences": {**PREFERENCES, "RegionOrder": list(REGIONS)}})
    operation(aws, "SUCCEEDED", [{"Account": MOTO_ACCOUNT, "Region": r, "Status": "SUCCEEDED"} for r in REGIONS],
              action="CREATE", operation_id="code-op")

    assert run(boot_project, "bootstrap", ENV, "--yes", settings=settings(CODE)) == 0

    out = capsys.readouterr().out
    assert (f"Stack set {role_set}: deployer-role.yaml (role shop.deployer) in {REGIONS[0]} of {OU} "
            "(and every account that joins them)") in out
    assert (f"Stack set {code_set} (self-managed): code-bucket.yaml in account {MOTO_ACCOUNT} (this administrator "
            f"account), regions {REGIONS[0]} > {REGIONS[1]}: buckets shop-code-{REGIONS[0]}, shop-code-{REGIONS[1]}"
            ) in out
    # The review comes before the first operation; each operation is followed per instance.
    assert out.index(code_set) < out.index("role-op")
    assert f"{MOTO_ACCOUNT} {REGIONS[1]}: SUCCEEDED" in out
    assert out.index("role-op") < out.index("code-op")


def test_a_second_bootstrap_updates_both_stack_sets(boot_project, with_sts, capsys):
    aws, role_set, code_set = with_sts, f"{STACK_NAME}-bootstrap", f"{STACK_NAME}-bootstrap-code"
    for name, permission, call_as in ((role_set, "SERVICE_MANAGED", {"CallAs": "SELF"}), (code_set, "SELF_MANAGED", {})):
        aws.add("describe_stack_set", {"StackSet": {"StackSetName": name, "StackSetId": f"{name}:1", "Status": "ACTIVE",
                                                    "PermissionModel": permission}},
                {"StackSetName": name, **call_as})
    for name, account, regions, call_as in ((role_set, ACCOUNTS[0], [REGIONS[0]], {"CallAs": "SELF"}),
                                            (code_set, MOTO_ACCOUNT, list(REGIONS), {})):
        aws.add("list_stack_instances", {"Summaries": [
            {"StackSetId": f"{name}:1", "Account": account, "Region": r, "Status": "CURRENT",
             **({"OrganizationalUnitId": OU} if name == role_set else {})} for r in regions]},
            {"StackSetName": name, **call_as})
        aws.add("update_stack_set", {"OperationId": f"{name}-op"}, {
            "StackSetName": name, "TemplateBody": ANY, "Parameters": ANY, "Capabilities": ["CAPABILITY_IAM"],
            "OperationPreferences": {**PREFERENCES, "RegionOrder": regions}, **call_as})
        operation(aws, "SUCCEEDED", [{"Account": account, "Region": r, "Status": "SUCCEEDED"} for r in regions],
                  operation_id=f"{name}-op")

    assert run(boot_project, "bootstrap", ENV, "--yes", settings=settings(CODE)) == 0

    out = capsys.readouterr().out
    assert f"operation {code_set}-op (UPDATE): SUCCEEDED on 2 stack instance(s)" in out


def test_a_failed_role_rollout_stops_before_the_code_buckets(boot_project, with_sts, capsys):
    aws, role_set, code_set = with_sts, f"{STACK_NAME}-bootstrap", f"{STACK_NAME}-bootstrap-code"
    not_found(aws, role_set, {"CallAs": "SELF"})
    not_found(aws, code_set, {})
    aws.add("create_stack_set", {"StackSetId": "boot:1"})
    aws.add("create_stack_instances", {"OperationId": "role-op"})
    operation(aws, "FAILED", [{"Account": ACCOUNTS[0], "Region": REGIONS[0], "Status": "FAILED",
                               "StatusReason": "Role shop.deployer already exists"}], action="CREATE",
              operation_id="role-op")

    assert run(boot_project, "bootstrap", ENV, "--yes", settings=settings(CODE)) == 1

    out, err = capsys.readouterr()
    assert f"{ACCOUNTS[0]} {REGIONS[0]}: FAILED (Role shop.deployer already exists)" in out
    assert f"run `threetier stackset bootstrap {ENV}` again" in err
    # (the Stubber fails the test on any call left: no CreateStackSet for the code set was made)


@pytest.mark.parametrize("extra, template_bucket, expected", [
    # Targets outside the template bucket's region, a rotation function, no code_bucket.
    ("", BUCKET, "Set code_bucket = \"name-${AWS::Region}\" in [ENV.stackset]: a bucket in each target region"),
    ('code_bucket = "shop-code-${AWS::Region}"\n', BUCKET,
     f"[{ENV}.stackset] sets code_bucket but not organization_id: the code buckets let that organization's accounts "
     "read the rotation code. Set organization_id = \"o-...\""),
    (CODE, f"shop-code-{REGIONS[1]}",
     f"[{ENV}.stackset] code_bucket names the template bucket shop-code-{REGIONS[1]} in {REGIONS[1]}"),
])
def test_bootstrap_refuses_before_any_call(boot_project, with_sts, capsys, extra, template_bucket, expected):
    text = settings(extra).replace(f'bucket = "{BUCKET}"', f'bucket = "{template_bucket}"')

    assert run(boot_project, "bootstrap", ENV, "--yes", settings=text) == 2

    assert expected in capsys.readouterr().err
    # (the Stubber has no response queued: any CloudFormation call would have failed the test)


def test_alarm_subscriptions_need_no_bootstrap_piece_a_targets_alarm_email_reaches_its_instances(project, aws,
                                                                                                  capsys):
    """Each instance's monitoring stack subscribes AlarmEmail to its own topic: a target's parameters give its
    accounts their own address, sent as that target's ParameterOverrides (docs/stacksets.md)."""
    from troposphere import Parameter

    root = root_template()
    root.add_parameter(Parameter("AlarmEmail", Type="String", Default=""))
    write_templates(project, {"main.yaml": root, "app.yaml": app_template()})
    write_parameters(project, {"ProjectName": "shop", "EnvironmentName": ENV, "AlarmEmail": "ops@example.com"})
    text = (f'[{ENV}]\nregion = "us-east-1"\nbucket = "{BUCKET}"\n[{ENV}.stackset]\npermission_model = "self-managed"\n'
            f'regions = {json.dumps(list(REGIONS))}\n[[{ENV}.stackset.targets]]\naccounts = ["{ACCOUNTS[0]}"]\n'
            f'[[{ENV}.stackset.targets]]\naccounts = ["{ACCOUNTS[1]}"]\nparameters = {{ AlarmEmail = "ops-b@example.com" }}\n')
    aws.stub.add_client_error("describe_stack_set", "StackSetNotFoundException", f"StackSet {STACK_NAME} not found")
    aws.add("create_stack_set", {"StackSetId": "env:1"}, {
        "StackSetName": STACK_NAME, "TemplateBody": ANY, "Capabilities": ["CAPABILITY_IAM"],
        "PermissionModel": "SELF_MANAGED",
        "Parameters": [{"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.com"},
                       {"ParameterKey": "EnvironmentName", "ParameterValue": ENV},
                       {"ParameterKey": "ProjectName", "ParameterValue": "shop"}]})
    for number, (account, overrides) in enumerate(
            ((ACCOUNTS[0], []), (ACCOUNTS[1], [{"ParameterKey": "AlarmEmail", "ParameterValue": "ops-b@example.com"}]))):
        aws.add("create_stack_instances", {"OperationId": f"op-{number}"}, {
            "StackSetName": STACK_NAME, "Accounts": [account], "Regions": list(REGIONS),
            "ParameterOverrides": overrides, "OperationPreferences": {**PREFERENCES, "RegionOrder": list(REGIONS)}})
        operation(aws, "SUCCEEDED", [{"Account": account, "Region": r, "Status": "SUCCEEDED"} for r in REGIONS],
                  action="CREATE", operation_id=f"op-{number}")

    assert run(project, "deploy", ENV, "--yes", settings=text) == 0
