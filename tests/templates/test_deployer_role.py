"""The deployer role: exactly what CloudFormation calls for the types in output/, nothing broader."""

import json

import pytest

import templates
from templates import deployer_role
from threetier import cli, emit
from threetier.facts import deployerpolicy, schemabranches, schemas


@pytest.fixture(scope="module")
def role_template():
    return deployer_role.build().to_dict()


@pytest.fixture(scope="module")
def stacks():
    return {file: emit.build(module).to_dict() for file, module in templates.STACKS.items()
            if module != "deployer_role"}


def granted(role_template) -> set[str]:
    actions = set()
    for name, resource in role_template["Resources"].items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions |= set(statement["Action"])
    return actions


def test_every_resource_type_in_output_is_covered(role_template, stacks):
    """Each type's handler actions, less those of the schema branches its resources never set."""
    allowed = granted(role_template)
    decided = deployerpolicy.set_branches(stacks)
    for resource_type in deployerpolicy.resource_types(stacks):
        needed = deployerpolicy.type_actions(resource_type, decided[resource_type])
        grantable, _ = deployerpolicy.known_to_iam(sorted(needed))
        missing = set(grantable) - allowed - set(deployerpolicy.NARROWED)
        assert not missing, f"{resource_type}: {sorted(missing)}"


def test_branch_actions_of_unset_properties_are_not_granted(role_template):
    allowed = granted(role_template)
    for action in ("acm-pca:IssueCertificate", "s3tables:CreateTable", "s3:PutReplicationConfiguration",
                   "vpc-lattice:RegisterTargets", "logs:PutDataProtectionPolicy", "ec2:Get*", "ssm:Get*"):
        assert action not in allowed, action
    assert {"ssm:GetParameters", "acm:RequestCertificate", "route53:ChangeResourceRecordSets"} <= allowed


def test_no_action_is_everything_or_a_whole_service(role_template):
    for action in granted(role_template):
        service, _, name = action.partition(":")
        assert action != "*" and name != "*", action


def test_the_only_wildcards_are_the_kept_ones(role_template):
    """ec2:Get* and ssm:Get* are replaced by what they stand for; a wildcard that stays says why."""
    kept = {action for reasons in schemabranches.KEPT_WILDCARDS.values() for action in reasons}
    wildcards = {action for action in granted(role_template) if "*" in action}
    assert wildcards <= kept, sorted(wildcards - kept)


def test_every_call_is_limited_to_the_deploy_regions(role_template):
    for resource in role_template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            (statement,) = resource["Properties"]["PolicyDocument"]["Statement"]
            assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": [
                {"Ref": "AWS::Region"}, "us-east-1"]}}


def test_pass_role_only_for_the_stacks_roles_and_named_services(role_template):
    role = role_template["Resources"]["DeployerRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "cloudformation.amazonaws.com"}
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    passing = statements["PassOnlyTheStacksRoles"]
    assert passing["Action"] == ["iam:PassRole"]
    assert all("${ProjectName}-${EnvironmentName}-*" in r["Fn::Sub"] for r in passing["Resource"])
    assert "iam:PassedToService" in passing["Condition"]["StringEquals"]
    linked = statements["CreateTheServiceLinkedRolesTheStacksNeed"]
    assert "iam:AWSServiceName" in linked["Condition"]["StringEquals"]
    assert "iam:PassRole" not in granted(role_template)


def test_each_managed_policy_fits_iams_size_limit(role_template):
    for name, resource in role_template["Resources"].items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            text = json.dumps(resource["Properties"]["PolicyDocument"], separators=(",", ":"))
            assert len(text) <= deployerpolicy.MANAGED_POLICY_CHARACTERS, name


def test_a_new_resource_type_appears_in_the_policy(stacks):
    more = {**stacks, "extra.yaml": {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}}
    actions = deployerpolicy.handler_actions(deployerpolicy.resource_types(more))
    assert "sqs:CreateQueue" in actions
    assert "sqs:CreateQueue" not in deployerpolicy.handler_actions(deployerpolicy.resource_types(stacks))


def test_the_transform_brings_the_rotation_functions_types(stacks):
    types = deployerpolicy.resource_types(stacks)
    assert "AWS::Lambda::Function" in types  # from AWS::SecretsManager-2020-07-23 in app.yaml
    assert "serverlessrepo:CreateCloudFormationTemplate" in deployerpolicy.transform_actions(stacks)


def test_names_iam_does_not_know_are_left_out_and_said(stacks):
    actions = deployerpolicy.handler_actions(deployerpolicy.resource_types(stacks))
    known, unknown = deployerpolicy.known_to_iam(actions)
    assert "s3:REST.PUT.OBJECT" in unknown and "ec2:CreateVpc" in known


def test_a_type_without_handlers_is_refused_not_guessed():
    with pytest.raises(schemas.NoSchema):
        deployerpolicy.handler_actions(["AWS::Example::NoSuchType"])


def test_the_command_writes_the_role_template(tmp_path, project, capsys):
    assert cli.main(["--project-dir", str(project), "deployer-role", "--output-dir", str(tmp_path)]) == 0
    written = (tmp_path / "deployer-role.yaml").read_text()
    assert written == (project / "output" / "deployer-role.yaml").read_text()
    assert "deployer-role.yaml" in capsys.readouterr().out


def test_reading_only_the_services_needed_gives_cfn_lint_s_own_action_names():
    whole = schemas.iam_actions()
    services = {*whole, "no-such-service"}  # every service cfn-lint knows, and one it does not
    assert schemas.iam_action_names(services) == {name: set(entry.get("Actions", {}))
                                                  for name, entry in whole.items()}
    assert len(schemas.iam_action_names({"ec2"})["ec2"]) > 500
