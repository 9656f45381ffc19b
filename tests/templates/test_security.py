"""Who may reach which port: walk every security-group rule in the generated template."""

import pytest

from templates import security
from threetier.parameters.evaluate import Evaluation

GROUPS = {"AlbSecurityGroup", "AppSecurityGroup", "EfsSecurityGroup", "DbSecurityGroup",
          "BastionSecurityGroup"}


@pytest.fixture(scope="module")
def security_dict():
    return security.build().to_dict()


def ingress_rules(template: dict, **values) -> list[dict]:
    """(target group, source, port) for every ingress rule that exists under these values."""
    rules = []
    for resource in Evaluation(template, values).resources().values():
        if resource["Type"] != "AWS::EC2::SecurityGroupIngress":
            continue
        props = resource["Properties"]
        source = props.get("CidrIp") or props["SourceSecurityGroupId"]
        rules.append({
            "target": props["GroupId"]["Ref"],
            "source": source["Ref"] if isinstance(source, dict) else source,
            "port": (str(props["FromPort"]), str(props["ToPort"])),
            "description": props.get("Description"),
        })
    return rules


def sources_of(rules: list[dict], target: str) -> set:
    return {(r["source"], r["port"][0]) for r in rules if r["target"] == target}


@pytest.mark.parametrize("engine,port", [("mysql", "3306"), ("postgres", "5432")])
def test_database_reachable_only_from_app_and_rotation_on_the_engine_port(security_dict, engine, port):
    rules = ingress_rules(security_dict, DbEngine=engine)
    assert sources_of(rules, "DbSecurityGroup") == {("AppSecurityGroup", port), ("DbRotationSecurityGroup", port)}


def test_rotation_functions_reach_only_the_database_and_https(security_dict):
    group = Evaluation(security_dict, {"DbEngine": "postgres"}).resources()["DbRotationSecurityGroup"]
    egress = {(rule.get("CidrIp") or rule["DestinationSecurityGroupId"]["Ref"], str(rule["FromPort"]))
              for rule in group["Properties"]["SecurityGroupEgress"]}
    assert egress == {("0.0.0.0/0", "443"), ("DbSecurityGroup", "5432")}


def test_efs_reachable_only_from_app_over_nfs(security_dict):
    assert sources_of(ingress_rules(security_dict), "EfsSecurityGroup") == {("AppSecurityGroup", "2049")}


def test_app_reachable_only_from_the_alb_on_the_app_port(security_dict):
    assert sources_of(ingress_rules(security_dict), "AppSecurityGroup") == {("AlbSecurityGroup", "5000")}
    rules = ingress_rules(security_dict, AppPort="8080")
    assert sources_of(rules, "AppSecurityGroup") == {("AlbSecurityGroup", "8080")}


def test_only_the_alb_is_open_to_the_internet_and_only_on_80_and_443(security_dict):
    rules = ingress_rules(security_dict, BastionCount="2", AdminCidr="203.0.113.0/24")
    open_to_world = {(r["target"], r["port"][0]) for r in rules if r["source"] == "0.0.0.0/0"}
    assert open_to_world == {("AlbSecurityGroup", "80"), ("AlbSecurityGroup", "443")}
    assert all(r["port"][0] == r["port"][1] for r in rules), "single-port rules only"


def test_every_rule_says_why(security_dict):
    rules = ingress_rules(security_dict, BastionCount="1", AdminCidr="203.0.113.0/24")
    assert all(r["description"] for r in rules)
    for name, resource in security_dict["Resources"].items():
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            assert all(rule["Description"] for rule in resource["Properties"]["SecurityGroupEgress"]), name


def test_bastion_group_and_ssh_rules_exist_only_with_bastions(security_dict):
    without = Evaluation(security_dict, {"BastionCount": "0"}).resources()
    assert "BastionSecurityGroup" not in without
    assert not [r for r in ingress_rules(security_dict) if r["port"][0] == "22"]

    rules = ingress_rules(security_dict, BastionCount="1", AdminCidr="203.0.113.0/24")
    assert sources_of(rules, "BastionSecurityGroup") == {("203.0.113.0/24", "22")}
    assert ("BastionSecurityGroup", "22") in sources_of(rules, "AppSecurityGroup")


def egress(security_dict, group: str, **values) -> set:
    rules = Evaluation(security_dict, values).resources()[group]["Properties"]["SecurityGroupEgress"]
    return {(r.get("CidrIp") or r["DestinationSecurityGroupId"]["Ref"], str(r.get("FromPort", "all")))
            for r in rules}


def test_data_tier_groups_start_no_connections(security_dict):
    for group in ("DbSecurityGroup", "EfsSecurityGroup"):
        assert egress(security_dict, group) == {("127.0.0.1/32", "all")}


def test_alb_sends_only_to_the_app_port_of_the_app_group(security_dict):
    assert egress(security_dict, "AlbSecurityGroup") == {("AppSecurityGroup", "5000")}
    assert egress(security_dict, "AlbSecurityGroup", AppPort="8000") == {("AppSecurityGroup", "8000")}


def test_app_egress_is_web_out_plus_its_own_data_tier(security_dict):
    assert egress(security_dict, "AppSecurityGroup", DbEngine="postgres") == {
        ("0.0.0.0/0", "443"), ("0.0.0.0/0", "80"), ("EfsSecurityGroup", "2049"), ("DbSecurityGroup", "5432")}


def test_outputs_every_group(security_dict):
    assert {f"{g[:-len('Group')]}GroupId" for g in GROUPS} <= set(security_dict["Outputs"])
    bastion = Evaluation(security_dict, {"BastionCount": "0"}).resolve(
        security_dict["Outputs"]["BastionSecurityGroupId"]["Value"])
    assert bastion == ""
