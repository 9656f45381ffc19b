"""Schema branches (threetier.facts.schemabranches): the table holds against the provider schemas,
and deployerpolicy.used_actions grants a branch's actions exactly when a template sets its property."""

from __future__ import annotations

import copy
import fnmatch

import pytest

import templates
from threetier import emit
from threetier.facts import deployerpolicy, schemabranches, schemas

BRANCH_ROWS = [(resource_type, branch) for resource_type, branches in schemabranches.BRANCHES.items()
               for branch in branches]


@pytest.fixture(scope="module")
def stacks():
    return {file: emit.data(module) for file, module in templates.STACKS.items() if module not in templates.NOT_FOR_THE_DEPLOYER}


def handler_permissions(resource_type: str) -> set[str]:
    return set(deployerpolicy.handler_actions([resource_type]))


def with_resource(stacks: dict, resource_type: str, properties: dict) -> dict:
    """A copy of `stacks` with one more template holding one resource."""
    more = copy.deepcopy(stacks)
    more["extra.yaml"] = {"Resources": {"Extra": {"Type": resource_type, "Properties": properties}}}
    return more


def schema_has_path(resource_type: str, keys: list[str]) -> bool:
    """Whether the property path `keys` exists in the type's schema ($ref and list items followed)."""
    schema = schemas.resource_schema(resource_type)
    node = {"properties": schema["properties"]}
    for key in keys:
        node = _resolved(schema, node)
        properties = node.get("properties", {})
        if key not in properties:
            return False
        node = properties[key]
    return True


def _resolved(schema: dict, node: dict) -> dict:
    while True:
        if "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        elif node.get("type") == "array" or "items" in node:
            node = node.get("items", {})
        else:
            return node


@pytest.mark.parametrize(("resource_type", "branch"), BRANCH_ROWS,
                         ids=[f"{t}:{b.when[0]}" for t, b in BRANCH_ROWS])
def test_each_branch_action_is_one_the_handlers_list(resource_type, branch):
    """No invention: a branch only takes out what the schema puts in (directly or behind a wildcard)."""
    listed = schemabranches.concrete(resource_type, handler_permissions(resource_type))
    assert set(branch.actions) <= listed, sorted(set(branch.actions) - listed)
    assert branch.source.startswith("https://")


@pytest.mark.parametrize(("resource_type", "branch"), BRANCH_ROWS,
                         ids=[f"{t}:{b.when[0]}" for t, b in BRANCH_ROWS])
def test_each_branch_property_is_in_the_schema(resource_type, branch):
    for when in branch.when:
        owner, keys, _ = schemabranches.split_when(resource_type, when)
        assert schema_has_path(owner, keys), f"{owner}: no property {'.'.join(keys)}"


def test_the_path_check_can_fail():
    assert schema_has_path("AWS::CloudFront::Distribution", ["DistributionConfig", "Origins", "VpcOriginConfig"])
    assert not schema_has_path("AWS::CloudFront::Distribution", ["DistributionConfig", "Origins", "NoSuchThing"])


@pytest.mark.parametrize("resource_type", sorted(schemabranches.WILDCARDS))
def test_each_wildcard_replacement_is_what_the_wildcard_covers_and_iam_knows(resource_type):
    for wildcard, replacement in schemabranches.WILDCARDS[resource_type].items():
        assert wildcard in handler_permissions(resource_type), wildcard
        assert all(fnmatch.fnmatchcase(action, wildcard) for action in replacement), wildcard
        _, unknown = deployerpolicy.known_to_iam(list(replacement))
        assert not unknown, unknown
        if not replacement:  # stands for nothing: IAM must not know the wildcard either
            assert deployerpolicy.known_to_iam([wildcard]) == ([], [wildcard])


def test_every_wildcard_of_a_used_type_is_replaced_or_kept_with_a_reason(stacks):
    for resource_type in deployerpolicy.resource_types(stacks):
        for action in sorted(handler_permissions(resource_type)):
            if "*" in action:
                replaced = action in schemabranches.WILDCARDS.get(resource_type, {})
                reason = schemabranches.KEPT_WILDCARDS.get(resource_type, {}).get(action, "")
                assert replaced or reason.strip(), f"{resource_type}: {action}"


def test_the_templates_actions_come_from_their_types_handlers(stacks):
    """Every action is a handler permission of a used type, or one its wildcard covers."""
    listed = set().union(*(handler_permissions(t) for t in deployerpolicy.resource_types(stacks)))
    for action in deployerpolicy.used_actions(stacks):
        assert action in listed or any(fnmatch.fnmatchcase(action, w) for w in listed if "*" in w), action


def test_only_the_kept_wildcards_remain(stacks):
    kept = {action for reasons in schemabranches.KEPT_WILDCARDS.values() for action in reasons}
    wildcards = {action for action in deployerpolicy.used_actions(stacks) if "*" in action}
    assert wildcards <= kept, sorted(wildcards - kept)
    assert "ssm:GetParameters" in deployerpolicy.used_actions(stacks)


def test_the_filter_takes_out_a_fifth_of_the_schema_view(stacks):
    schema_view = deployerpolicy.handler_actions(deployerpolicy.resource_types(stacks))
    used = deployerpolicy.used_actions(stacks)
    assert len(used) < 0.8 * len(schema_view)
    for action in ("acm-pca:IssueCertificate", "s3tables:CreateTable", "ec2:Get*", "ssm:Get*"):
        assert action in schema_view and action not in used, action


PRIVATE_CA = "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(("value", "expected"), [
    (PRIVATE_CA, True),
    ({"Ref": "PrivateCaArn"}, True),  # a parameter's value could be anything
    ({"Fn::If": ["UsePrivateCa", PRIVATE_CA, {"Ref": "AWS::NoValue"}]}, True),
    ({"Fn::If": ["UsePrivateCa", {"Ref": "AWS::NoValue"}, {"Ref": "AWS::NoValue"}]}, False),
    ({"Ref": "AWS::NoValue"}, False),
])
def test_a_private_certificate_brings_in_acm_pca(stacks, value, expected):
    assert "acm-pca:IssueCertificate" not in deployerpolicy.used_actions(stacks)
    more = with_resource(stacks, "AWS::CertificateManager::Certificate",
                         {"DomainName": "example.com", "CertificateAuthorityArn": value})
    assert ("acm-pca:IssueCertificate" in deployerpolicy.used_actions(more)) is expected


def test_a_property_inside_fn_if_counts(stacks):
    bucket = {"Fn::If": ["Replicate", {"ReplicationConfiguration": {"Role": "r", "Rules": []}}, {}]}
    more = with_resource(stacks, "AWS::S3::Bucket", {"VersioningConfiguration": bucket})
    # Under another key it is not the bucket's ReplicationConfiguration...
    assert "s3:PutReplicationConfiguration" not in deployerpolicy.used_actions(more)
    more = with_resource(stacks, "AWS::S3::Bucket", {
        "ReplicationConfiguration": {"Fn::If": ["Replicate", {"Role": "r", "Rules": []}, {"Ref": "AWS::NoValue"}]}})
    assert "s3:PutReplicationConfiguration" in deployerpolicy.used_actions(more)


def test_a_nested_property_in_any_list_item_counts(stacks):
    origins = [{"Id": "a", "DomainName": "a.example.com"},
               {"Id": "b", "DomainName": "b.example.com", "VpcOriginConfig": {"VpcOriginId": "vo_1"}}]
    more = with_resource(stacks, "AWS::CloudFront::Distribution", {"DistributionConfig": {"Origins": origins}})
    assert "cloudfront:GetVpcOrigin" not in deployerpolicy.used_actions(stacks)
    assert "cloudfront:GetVpcOrigin" in deployerpolicy.used_actions(more)


@pytest.mark.parametrize(("target_type", "expected"), [
    ("AWS::Redshift::Cluster", True), ("AWS::RDS::DBInstance", False), ({"Ref": "TargetType"}, True)])
def test_a_value_branch_follows_the_value(stacks, target_type, expected):
    more = with_resource(stacks, "AWS::SecretsManager::SecretTargetAttachment",
                         {"SecretId": "s", "TargetId": "t", "TargetType": target_type})
    assert ("redshift:DescribeClusters" in deployerpolicy.used_actions(more)) is expected


def test_another_types_property_can_decide(stacks):
    """Instance requirements in the launch template an Auto Scaling group launches from."""
    assert "ec2:GetInstanceTypesFromInstanceRequirements" not in deployerpolicy.used_actions(stacks)
    more = with_resource(stacks, "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {
        "InstanceRequirements": {"VCpuCount": {"Min": 2}, "MemoryMiB": {"Min": 4096}}}})
    assert "ec2:GetInstanceTypesFromInstanceRequirements" in deployerpolicy.used_actions(more)


def test_a_type_a_transform_brings_in_counts_every_branch_as_set():
    template = {"Transform": "AWS::SecretsManager-2020-07-23", "Resources": {}}
    decided = deployerpolicy.set_branches({"t.yaml": template})
    for resource_type in deployerpolicy.TRANSFORM_TYPES["AWS::SecretsManager-2020-07-23"]:
        assert decided[resource_type] == sorted(
            {when for branch in schemabranches.branches_of(resource_type) for when in branch.when})


def test_an_action_two_branches_share_stays_while_one_is_set():
    """logs:CreateLogDelivery: a flow log to S3 needs it although no log group protects data."""
    flow_log = {"ResourceId": "vpc-1", "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "s3"}
    templates_ = {"t.yaml": {"Resources": {
        "Flow": {"Type": "AWS::EC2::FlowLog", "Properties": flow_log},
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {}}}}}
    assert "logs:CreateLogDelivery" in deployerpolicy.used_actions(templates_)
    flow_log["LogDestinationType"] = "cloud-watch-logs"
    assert "logs:CreateLogDelivery" not in deployerpolicy.used_actions(templates_)
