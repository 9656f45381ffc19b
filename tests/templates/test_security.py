"""Who may reach which port: walk every security-group rule in the generated template."""

import copy
import itertools
from collections import Counter

import pytest

from templates import app, security
from threetier.facts import schemas, securitygroups
from threetier.parameters.evaluate import Evaluation
from threetier.parameters.validate import CLOUDFRONT_PREFIX_LIST_NAME

GROUPS = {"AlbSecurityGroup", "AlbCloudFrontSecurityGroup", "AppSecurityGroup", "EfsSecurityGroup",
          "DbSecurityGroup", "BastionSecurityGroup"}
ALB_GROUPS = {"AlbSecurityGroup", "AlbCloudFrontSecurityGroup"}
PREFIX_LIST = "pl-3b927c52"
CLOUDFRONT = {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}
BASTION = {"BastionCount": "1", "AdminCidr": "203.0.113.0/24"}


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
        source = props.get("CidrIp") or props.get("SourcePrefixListId") or props["SourceSecurityGroupId"]
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
    assert {(r["target"], r["source"]) for r in rules if r["target"] in ALB_GROUPS} == {
        ("AlbSecurityGroup", "0.0.0.0/0")}, "no prefix list without CloudFront"
    assert all(r["port"][0] == r["port"][1] for r in rules), "single-port rules only"


def test_with_cloudfront_only_its_prefix_list_reaches_the_alb_on_80_to_443(security_dict):
    rules = ingress_rules(security_dict, **CLOUDFRONT, **BASTION)
    assert not [r for r in rules if r["source"] == "0.0.0.0/0"], "nothing open to the internet"
    # One rule, in a group of its own; 80-443 opens nothing else, since the load
    # balancer listens on 80 and 443 only (test_alb_listens_on_80_and_443_only).
    assert [(r["target"], r["source"], r["port"]) for r in rules if r["target"] in ALB_GROUPS] == [
        ("AlbCloudFrontSecurityGroup", PREFIX_LIST, ("80", "443"))]
    assert [r for r in rules if r["port"][0] != r["port"][1]] == [
        r for r in rules if r["source"] == PREFIX_LIST], "every other rule is single-port"


def test_alb_listens_on_80_and_443_only():
    listeners = [r["Properties"]["Port"] for r in app.build().to_dict()["Resources"].values()
                 if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"]
    assert sorted(listeners) == [80, 443]


def test_the_cloudfront_group_adds_no_way_out_and_exists_only_with_cloudfront(security_dict):
    assert egress(security_dict, "AlbCloudFrontSecurityGroup", **CLOUDFRONT) == {("127.0.0.1/32", "all")}
    assert "AlbCloudFrontSecurityGroup" not in Evaluation(security_dict, {}).resources()


def test_the_alb_rules_never_read_the_domain_or_a_certificate(security_dict):
    assert not {"DomainName", "HostedZoneId", "AlbCertificateArn"} & set(security_dict["Parameters"])


def test_every_rule_says_why(security_dict):
    rules = ingress_rules(security_dict, BastionCount="1", AdminCidr="203.0.113.0/24")
    rules += ingress_rules(security_dict, **CLOUDFRONT)
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
    evaluation = Evaluation(security_dict, {"BastionCount": "0"})
    for optional in ("BastionSecurityGroupId", "AlbCloudFrontSecurityGroupId"):
        assert evaluation.resolve(security_dict["Outputs"][optional]["Value"]) == ""


# --- No update holds more rules in a group than its quota (issue 30) ----------------
#
# During an update CloudFormation creates new and replacement rules first and deletes
# old and replaced ones last, in the cleanup: at its peak a group holds the rules of
# both templates, a replaced rule twice. A rule counts 1, or the weight of the
# managed prefix list it names.

CREATE_ONLY = tuple(pointer.removeprefix("/properties/") for pointer in
                    schemas.resource_schema("AWS::EC2::SecurityGroupIngress")["createOnlyProperties"])
LIST_WEIGHT = securitygroups.MANAGED_PREFIX_LIST_WEIGHTS[CLOUDFRONT_PREFIX_LIST_NAME]

# Every value the security stack takes that decides a rule; the domain and the
# certificates are not among them (test_the_alb_rules_never_read_the_domain_or_a_certificate).
# CloudFrontOnly false with CloudFront on is the first step of turning it on: the internet's
# rules and CloudFront's at once, in the two groups (threetier.review.cloudfrontsteps).
STATES = [dict(zip(("CloudFrontEnabled", "CloudFrontOnly", "BastionCount", "DbEngine", "AppPort"), combination))
          for combination in itertools.product(("false", "true"), ("true", "false"), ("0", "1"), ("mysql", "postgres"),
                                               ("5000", "8080"))]


def resolved_rules(template: dict, values: dict) -> dict[str, dict]:
    values = {**values, **(CLOUDFRONT if values.get("CloudFrontEnabled") == "true" else {}),
              **({"AdminCidr": "203.0.113.0/24"} if values.get("BastionCount", "0") != "0" else {})}
    resources = Evaluation(template, values).resources()
    inline = [name for name, r in resources.items()
              if r["Type"] == "AWS::EC2::SecurityGroup" and r["Properties"].get("SecurityGroupIngress")]
    assert not inline, "ingress rules are separate resources: inline ones are not counted here"
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::EC2::SecurityGroupIngress"}


def peak_rules_per_group(before: dict[str, dict], after: dict[str, dict]) -> Counter:
    peak = Counter()
    for name in before.keys() | after.keys():
        old, new = before.get(name), after.get(name)
        kept = old is not None and new is not None and all(old.get(p) == new.get(p) for p in CREATE_ONLY)
        for rule in [new] if kept else [r for r in (old, new) if r is not None]:
            peak[rule["GroupId"]["Ref"]] += LIST_WEIGHT if "SourcePrefixListId" in rule else 1
    return peak


@pytest.fixture(scope="module")
def rules_by_state(security_dict):
    return [resolved_rules(security_dict, state) for state in STATES]


def test_no_update_between_any_two_states_exceeds_a_groups_rule_quota(rules_by_state):
    worst = Counter()
    for before, after in itertools.product(rules_by_state, repeat=2):
        worst |= peak_rules_per_group(before, after)
    assert max(worst.values()) <= securitygroups.INBOUND_RULES_PER_GROUP, worst
    # CloudFront on or off: its 55 and the internet's two rules, in two groups.
    assert (worst["AlbCloudFrontSecurityGroup"], worst["AlbSecurityGroup"]) == (LIST_WEIGHT, 2)


def as_it_was_before_issue_30(template: dict) -> dict:
    """The CloudFront rule as it was: in AlbSecurityGroup, its port following the domain."""
    old = copy.deepcopy(template)
    old["Parameters"]["DomainName"] = {"Type": "String", "Default": ""}
    old["Conditions"]["HasDomain"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]}
    rule = old["Resources"]["AlbFromCloudFrontIngress"]["Properties"]
    port = {"Fn::If": ["HasDomain", 443, 80]}
    rule.update(GroupId={"Ref": "AlbSecurityGroup"}, FromPort=port, ToPort=port)
    del old["Resources"]["AlbCloudFrontSecurityGroup"], old["Outputs"]["AlbCloudFrontSecurityGroupId"]
    return old


def test_the_quota_check_catches_the_rule_that_followed_the_domain(security_dict):
    old = as_it_was_before_issue_30(security_dict)
    pass_1 = resolved_rules(old, {"CloudFrontEnabled": "true"})
    pass_2 = resolved_rules(old, {"CloudFrontEnabled": "true", "DomainName": "example.com"})
    for before, after in ((pass_1, pass_2), (pass_2, pass_1)):  # the second pass, and removing the domain
        assert peak_rules_per_group(before, after)["AlbSecurityGroup"] == 2 * LIST_WEIGHT


@pytest.mark.parametrize("domain", ["", "example.com"])
def test_the_release_that_moves_the_rule_to_its_own_group_stays_within_the_quota(security_dict, domain):
    before = resolved_rules(as_it_was_before_issue_30(security_dict), {"CloudFrontEnabled": "true",
                                                                       "DomainName": domain})
    after = resolved_rules(security_dict, {"CloudFrontEnabled": "true"})
    peak = peak_rules_per_group(before, after)
    # The old rule still counts in AlbSecurityGroup while the new one is created in the other group.
    assert (peak["AlbSecurityGroup"], peak["AlbCloudFrontSecurityGroup"]) == (LIST_WEIGHT, LIST_WEIGHT)
