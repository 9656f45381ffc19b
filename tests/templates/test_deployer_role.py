"""The deployer role: exactly what CloudFormation calls for the types in output/, nothing broader."""

import json

import pytest

import templates
from templates import deployer_role
from tests.identity.deployer import held_policies
from threetier import cli, emit
from threetier.blocks import callerpolicy, deployerscopes
from threetier.facts import deployerpolicy, schemabranches, schemas


@pytest.fixture(scope="module")
def role_template():
    return deployer_role.build().to_dict()


@pytest.fixture(scope="module")
def stacks():
    return {file: emit.build(module).to_dict() for file, module in templates.STACKS.items()
            if module not in templates.NOT_FOR_THE_DEPLOYER}


def role_policies(role_template) -> dict[str, dict]:
    """The policies the role holds (tests.identity.deployer.held_policies), by name."""
    return {name: role_template["Resources"][name] for name in held_policies(role_template)}


def statements(role_template) -> list[dict]:
    """Every statement of every policy of the role, both branches of an Fn::If choice."""
    found = []
    for resource in role_policies(role_template).values():
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            found += statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
    return found


def granted(role_template) -> set[str]:
    return {action for statement in statements(role_template) if statement["Effect"] == "Allow"
            for action in statement["Action"]}


def test_every_resource_type_in_output_is_covered(role_template, stacks):
    """Each type's handler actions, less those of the schema branches its resources never set."""
    allowed = granted(role_template)
    decided = deployerpolicy.set_branches(stacks)
    for resource_type in deployerpolicy.resource_types(stacks):
        needed = deployerpolicy.type_actions(resource_type, decided[resource_type])
        grantable, _ = deployerpolicy.known_to_iam(sorted(needed))
        missing = set(grantable) - allowed - set(deployerpolicy.NARROWED) - set(deployerscopes.NEVER)
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


def test_every_allowed_call_but_passing_roles_is_limited_to_the_deploy_regions(role_template):
    here = [{"Ref": "AWS::Region"}]
    region = [*here, {"Fn::FindInMap": ["PartitionHomeRegion", {"Ref": "AWS::Partition"}, "Region"]}]
    unlimited = {statement["Sid"] for statement in statements(role_template) if statement["Effect"] == "Allow"
                 and statement.get("Condition", {}).get("StringEquals", {}).get("aws:RequestedRegion")
                 not in (here, region)}
    # PassRole is checked inside the call that passes the role; reading the templates is S3's global namespace.
    assert unlimited == {"PassOnlyTheProjectsRoles", "CreateTheServiceLinkedRolesTheStacksNeed",
                         "ReadTheNestedTemplates", "PassItselfToNestedStacks"}


def test_in_the_home_region_only_global_services_and_the_companion_stacks_handlers(role_template):
    """The broad handler actions: Route 53, CloudFront and what the us-east-1 companion's certificate and
    web ACL need in the home region too; EC2, load balancing and the rest in the deploy region only."""
    by_sid: dict[str, set[str]] = {}
    for statement in statements(role_template):
        if statement.get("Sid", "").startswith("HandlerPermissions"):
            by_sid.setdefault(statement["Sid"], set()).update(statement["Action"])
    home = by_sid["HandlerPermissionsInTheHomeRegionToo"]
    assert {action.split(":")[0] for action in home} == {"acm", "cloudfront", "route53", "wafv2"}
    assert {"acm:RequestCertificate", "wafv2:CreateWebACL", "route53:ChangeResourceRecordSets"} <= home
    here_only = by_sid["HandlerPermissions"]
    assert {"ec2:RunInstances", "elasticloadbalancing:CreateLoadBalancer"} <= here_only
    assert not {action.split(":")[0] for action in here_only} & {"acm", "cloudfront", "route53", "wafv2"}


def test_the_only_wildcards_are_the_kept_ones(role_template):
    """ec2:Get* and ssm:Get* are replaced by what they stand for; a wildcard that stays says why."""
    kept = {action for reasons in schemabranches.KEPT_WILDCARDS.values() for action in reasons}
    wildcards = {action for action in granted(role_template) if "*" in action}
    assert wildcards <= kept, sorted(wildcards - kept)


def test_the_role_is_named_for_the_project_and_placed_like_the_stacks_roles(role_template):
    role = role_template["Resources"]["DeployerRole"]["Properties"]
    assert role["RoleName"] == {"Fn::Sub": "${ProjectName}.deployer"}
    assert role["Path"] == {"Ref": "IamRolePath"}
    assert role["PermissionsBoundary"] == {"Fn::If": ["HasPermissionsBoundary", {"Ref": "PermissionsBoundaryArn"},
                                                      {"Ref": "AWS::NoValue"}]}
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": {"Fn::Sub": "cloudformation.${AWS::URLSuffix}"}}
    assert "EnvironmentName" not in role_template["Parameters"]  # one role serves every environment


def test_every_managed_policy_is_on_the_role_within_iams_quota(role_template):
    managed = sorted(name for name, resource in role_template["Resources"].items()
                     if resource["Type"] == "AWS::IAM::ManagedPolicy" and name != callerpolicy.CALLER_POLICY)
    attached = role_template["Resources"]["DeployerRole"]["Properties"]["ManagedPolicyArns"]
    assert sorted(ref["Ref"] for ref in attached) == managed
    # Managed policies attached to a role: 10 by default.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entities
    assert len(managed) <= 10


def test_each_managed_policy_fits_iams_size_limit_with_the_longest_values(role_template):
    """IAM counts a policy once resolved: ProjectName at 20 characters, a 512-character path, GovCloud."""
    from tests.identity.deployer import Deployed
    longest = {"ProjectName": "p" * 20, "IamRolePath": "/" + "a" * 510 + "/",
               "PermissionsBoundaryArn": "arn:aws-us-gov:iam::111122223333:policy/" + "b" * 128}
    deployed = Deployed("ap-southeast-5", "aws-us-gov", longest)
    for name, document in deployed.documents.items():
        size = len(json.dumps(document, separators=(",", ":")))
        assert size <= deployerpolicy.MANAGED_POLICY_CHARACTERS, (name, size)


def test_a_new_resource_type_appears_in_the_policy(stacks):
    more = {**stacks, "extra.yaml": {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}}
    actions = deployerpolicy.handler_actions(deployerpolicy.resource_types(more))
    assert "sqs:CreateQueue" in actions
    assert "sqs:CreateQueue" not in deployerpolicy.handler_actions(deployerpolicy.resource_types(stacks))


def test_a_transform_brings_its_types_and_actions(stacks, role_template):
    """The project's own rotation function left no transform: no serverlessrepo call in the role. A template
    that used the Secrets Manager transform again would bring its types and calls back."""
    assert not deployerpolicy.transform_actions(stacks)
    assert not any(action.startswith("serverlessrepo:") for action in granted(role_template))
    with_transform = {**stacks, "extra.yaml": {"Transform": "AWS::SecretsManager-2020-07-23", "Resources": {}}}
    assert "AWS::Lambda::Permission" in deployerpolicy.resource_types(with_transform)
    assert "serverlessrepo:CreateCloudFormationTemplate" in deployerpolicy.transform_actions(with_transform)


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
