"""What each operator change costs: predicted offline from the provider schemas, kept in docs/environments.md."""

import pytest

from threetier.insight import stacks
from threetier.review import transitions, updates


@pytest.fixture(scope="module")
def found(project):
    return {outcome.transition.title: outcome for outcome in transitions.outcomes(project)}


def test_the_documented_table_is_what_the_templates_predict(project):
    page = (project / "docs" / "environments.md").read_text()
    assert transitions.readme_block(project) in page, (
        "docs/environments.md 'What each change costs' is stale: paste the output of `python -m threetier.review.transitions`")


def change(outcome, name):
    return outcome.prediction.find(name)


def test_multi_az_switches_in_place_both_ways(found):
    for title in ("Multi-AZ off in a quiet month", "Multi-AZ on"):
        db = change(found[title], "data.DbInstance")
        assert (db.action, db.properties) == (updates.IN_PLACE, ("MultiAZ",)), title
    assert found["Multi-AZ off in a quiet month"].needs_allow_insecure


def test_a_third_az_leaves_the_database_and_its_replica_where_they_are(found):
    outcome = found["A third AZ under a read replica"]
    assert change(outcome, "data.DbReplica") is None
    assert change(outcome, "data.DbInstance") is None
    assert change(outcome, "network.AppSubnet3").action == updates.ADD
    assert outcome.replaced_or_removed_state == []


def test_monitoring_interval_off_is_sent_as_zero_and_the_role_goes(found):
    outcome = found["Enhanced monitoring off"]
    db = change(outcome, "data.DbInstance")
    assert db.action == updates.IN_PLACE and "MonitoringInterval" in db.properties
    assert change(outcome, "data.DbMonitoringRole").action == updates.REMOVE


def test_the_replica_can_be_turned_off(found):
    replica = change(found["Read replica off"], "replica.DbReplica")
    assert (replica.action, replica.deletion_policy) == (updates.REMOVE, "Delete")


def test_another_engine_would_replace_a_named_database_so_the_update_fails(found):
    db = change(found["Another database engine"], "data.DbInstance")
    assert db.action == updates.FAILS and "DBInstanceIdentifier" in db.why


@pytest.mark.parametrize("title,parameter", [
    ("Performance Insights on a micro class", "DbPerformanceInsights"),
    ("Autoscaling limit within 10 % of the storage", "DbMaxAllocatedStorage"),
])
def test_changes_aws_would_refuse_are_refused_by_validate(found, title, parameter):
    assert found[title].refused.startswith(parameter)


@pytest.mark.parametrize("title", ["A domain's second pass behind CloudFront", "The domain removed behind CloudFront"])
def test_the_domain_never_touches_the_albs_cloudfront_rule(found, title):
    # A replaced prefix-list rule is created before the old one goes: two references to a
    # 55-weight list in a 60-rule group, and the update fails (issue 30).
    outcome = found[title]
    assert outcome.refused is None
    assert change(outcome, "security.AlbFromCloudFrontIngress") is None
    assert not [c.name for c in outcome.prediction.changes if c.name.startswith("security.")]


def test_a_release_rolls_the_servers_and_nothing_else(found):
    outcome = found["A release (new app version)"]
    assert {c.name for c in outcome.prediction.changes} == {"app.AppLaunchTemplate", "app.AppAutoScalingGroup"}
    assert "servers replaced by the rolling update" in change(outcome, "app.AppAutoScalingGroup").consequences


# --- The predictor on its own, on templates made for it -------------------------------

def predict(resources_before: dict, resources_after: dict) -> updates.Prediction:
    """Two template sets with the same values: the templates differ, as between two commits."""
    def evaluated(resources):
        templates = stacks.Templates(by_module={"root": {"Resources": resources}}, module_of_file={"main.yaml": "root"})
        return updates.resources(stacks.evaluate(templates, {}, "us-east-1"))

    return updates.compare(evaluated(resources_before), evaluated(resources_after))


SUBNET = {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24"}}


def test_a_create_only_property_replaces_and_the_replacement_carries_to_who_needs_its_id():
    group = {"Type": "AWS::RDS::DBSubnetGroup",
             "Properties": {"DBSubnetGroupDescription": "d", "SubnetIds": [{"Ref": "Subnet"}]}}
    nat = {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": {"Ref": "Subnet"}}}
    moved = {**SUBNET, "Properties": {**SUBNET["Properties"], "CidrBlock": "10.0.1.0/24"}}
    prediction = predict({"Subnet": SUBNET, "Group": group, "Nat": nat}, {"Subnet": moved, "Group": group, "Nat": nat})
    assert prediction.find("root.Subnet").action == updates.REPLACE
    # SubnetId is create-only on a NAT gateway: a new subnet means a new gateway.
    assert prediction.find("root.Nat").action == updates.REPLACE
    assert prediction.find("root.Nat").why == "SubnetId -> root.Subnet"
    # SubnetIds is not: the subnet group is updated in place with the new id.
    assert prediction.find("root.Group").action == updates.IN_PLACE


def test_an_unjudged_conditional_create_only_property_is_never_called_in_place():
    db = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.t4g.micro", "Engine": "mysql",
                                                        "PreferredBackupWindow": "01:00-02:00",
                                                        "PerformanceInsightsKMSKeyId": "key-1"}}
    other_key = {**db, "Properties": {**db["Properties"], "PerformanceInsightsKMSKeyId": "key-2"}}
    assert predict({"Db": db}, {"Db": other_key}).find("root.Db").action == updates.MAY_REPLACE


def test_a_new_launch_template_version_reaches_the_group_that_uses_it():
    template = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"InstanceType": "t3.small"}}}
    group = {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
        "MinSize": "1", "MaxSize": "2", "LaunchTemplate": {
            "LaunchTemplateId": {"Ref": "Template"},
            "Version": {"Fn::GetAtt": ["Template", "LatestVersionNumber"]}}}}
    bigger = {**template, "Properties": {"LaunchTemplateData": {"InstanceType": "t3.large"}}}
    prediction = predict({"Template": template, "Group": group}, {"Template": bigger, "Group": group})
    assert prediction.find("root.Group").consequences == ("servers replaced by the rolling update",)


def test_a_named_resource_that_needs_replacing_fails_instead():
    named = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/app", "KmsKeyId": "k1"}}
    renamed = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/app2", "KmsKeyId": "k1"}}
    assert predict({"Logs": named}, {"Logs": renamed}).find("root.Logs").action == updates.REPLACE
    db = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceIdentifier": "shop-db", "DBName": "a"}}
    other_name = {**db, "Properties": {**db["Properties"], "DBName": "b"}}
    assert predict({"Db": db}, {"Db": other_name}).find("root.Db").action == updates.FAILS


def test_keeping_the_az_names_changes_nothing_and_moving_them_replaces_subnets(found):
    assert found["The AZ names kept (threetier plan, first time)"].prediction.changes == []
    moved = found["Other AZ names, edited by hand"].prediction
    assert moved.find("network.AppSubnet2").action == updates.REPLACE
    assert moved.find("replica.DbReplica").action == updates.FAILS  # pinned to the second AZ, and named


@pytest.mark.parametrize("title", ["CloudFront on", "CloudFront on in front of a live domain"])
def test_cloudfront_on_is_two_deploys_and_the_first_keeps_the_load_balancer_open(found, title):
    """Step 1 adds the distribution and keeps the internet's rules and the forwarding listener;
    step 2 (the next deploy) takes them away (review.cloudfrontsteps)."""
    assert title not in found, "one deploy would close the load balancer before CloudFront serves"
    step_1, step_2 = found[f"{title}, step 1 of 2"], found[f"{title}, step 2 of 2 (the next deploy)"]
    assert step_1.transition.changes["CloudFrontOnly"] == "false"
    assert change(step_1, "edge.Distribution").action == updates.ADD
    for rule in ("security.AlbHttpIngress", "security.AlbHttpsIngress"):
        assert change(step_1, rule) is None
        assert change(step_2, rule).action == updates.REMOVE
    assert step_2.transition.changes == {"CloudFrontOnly": "true"}
    assert change(step_2, "edge.Distribution") is None


def test_with_a_domain_step_1_moves_the_site_to_cloudfront(found):
    step_1 = found["CloudFront on in front of a live domain, step 1 of 2"]
    assert change(step_1, "edge.SiteAliasRecord").action == updates.IN_PLACE
    assert change(step_1, "edge.OriginAliasRecord").action == updates.ADD
    listener = change(found["CloudFront on in front of a live domain, step 2 of 2 (the next deploy)"],
                      "front.HttpsListener")
    assert listener.action == updates.IN_PLACE and "DefaultActions" in listener.properties


def test_cloudfront_off_is_one_deploy_that_opens_the_load_balancer(found):
    outcome = found["CloudFront off behind a live domain"]
    for rule in ("security.AlbHttpIngress", "security.AlbHttpsIngress"):
        assert change(outcome, rule).action == updates.ADD
    assert change(outcome, "edge.Distribution").action == updates.REMOVE
