"""CloudFront on for a live site in two steps (threetier.review.cloudfrontsteps): what the
generated templates do in each.

Step 1 (CloudFrontEnabled true, CloudFrontOnly false): the distribution exists and the site's
records point at it, while the load balancer still admits and forwards everyone. Step 2
(CloudFrontOnly true): only CloudFront's addresses reach it, and a request without the origin
header gets 403. A small model of an Application Load Balancer's listener decides each request:
rules in priority order, the default action when none matches
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html).
"""

from __future__ import annotations

import importlib

import pytest

from threetier.blocks import secrets
from threetier.parameters.evaluate import Evaluation, rules_refusing_a_create

PREFIX_LIST = "pl-3b927c52"
DOMAIN = {"DomainName": "example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
LIVE = {**DOMAIN, "AlbCertificateArn": CERT}
STEP_1 = {**LIVE, "CloudFrontEnabled": "true", "CloudFrontOnly": "false", "CloudFrontPrefixListId": PREFIX_LIST}
STEP_2 = {**STEP_1, "CloudFrontOnly": "true"}
HEADER_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:project-x-prod-origin-AbCdEf"


@pytest.fixture(scope="module")
def stacks():
    return {name: importlib.import_module(f"templates.{name}").build().to_dict()
            for name in ("root", "network", "app", "security", "edge")}


def resources(template: dict, values: dict) -> dict:
    return Evaluation(template, _own(template, values), region="us-east-1").resources()


def answer(app: dict, values: dict, port: int, header: str | None) -> str:
    """What the load balancer does with a request on `port` carrying the origin header `header`
    (None: without it)."""
    evaluation = Evaluation(app, _own(app, {**values, "OriginVerifySecretArn": HEADER_ARN}), region="us-east-1")
    found = evaluation.resources()
    (listener,) = [name for name, r in found.items()
                   if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener" and r["Properties"]["Port"] == port]
    rules = sorted((r["Properties"] for r in found.values()
                    if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
                    and r["Properties"]["ListenerArn"] == {"Ref": listener}),
                   key=lambda rule: int(rule["Priority"]))
    for rule in rules:
        if all(_matches(evaluation, condition, header) for condition in rule["Conditions"]):
            return _described(rule["Actions"][0])
    return _described(found[listener]["Properties"]["DefaultActions"][0])


def cloudfront_sends(edge: dict, values: dict) -> str:
    """The origin header value the distribution sends (a dynamic reference to the secret)."""
    evaluation = Evaluation(edge, _own(edge, {**values, "OriginVerifySecretArn": HEADER_ARN}), region="us-east-1")
    (origin,) = evaluation.resources()["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == secrets.ORIGIN_VERIFY_HEADER
    return evaluation.resolve(header["HeaderValue"])


def _own(template: dict, values: dict) -> dict:
    return {key: value for key, value in values.items() if key in template["Parameters"]}


def _matches(evaluation: Evaluation, condition: dict, header: str | None) -> bool:
    assert condition["Field"] == "http-header", condition
    config = condition["HttpHeaderConfig"]
    assert config["HttpHeaderName"] == secrets.ORIGIN_VERIFY_HEADER
    return header is not None and header in evaluation.resolve(config["Values"])


def _described(action: dict) -> str:
    if action["Type"] == "fixed-response":
        return action["FixedResponseConfig"]["StatusCode"]
    return action["Type"]


def open_to_internet(security: dict, values: dict) -> set[int]:
    return {int(r["Properties"]["FromPort"]) for r in resources(security, values).values()
            if r["Type"] == "AWS::EC2::SecurityGroupIngress" and r["Properties"].get("CidrIp") == "0.0.0.0/0"}


def test_before_cloudfront_the_load_balancer_forwards_everyone(stacks):
    assert answer(stacks["app"], LIVE, 443, header=None) == "forward"
    assert answer(stacks["app"], LIVE, 80, header=None) == "redirect"
    assert open_to_internet(stacks["security"], LIVE) == {80, 443}


def test_step_1_still_forwards_requests_without_the_header_and_admits_the_internet(stacks):
    assert answer(stacks["app"], STEP_1, 443, header=None) == "forward"
    assert answer(stacks["app"], STEP_1, 443, header=cloudfront_sends(stacks["edge"], STEP_1)) == "forward"
    assert answer(stacks["app"], STEP_1, 80, header=None) == "redirect"
    assert open_to_internet(stacks["security"], STEP_1) == {80, 443}
    # CloudFront's own way in exists already, so step 2 only takes the internet's away.
    groups = resources(stacks["security"], STEP_1)
    assert "AlbFromCloudFrontIngress" in groups and "AlbCloudFrontSecurityGroup" in groups


def test_step_1_creates_the_distribution_and_moves_the_site_to_it(stacks):
    edge = resources(stacks["edge"], {**STEP_1, "ZoneId": DOMAIN["HostedZoneId"]})
    assert "Distribution" in edge
    site = edge["SiteAliasRecord"]["Properties"]["AliasTarget"]
    assert site["DNSName"] == {"Fn::GetAtt": ["Distribution", "DomainName"]}
    # CloudFront reaches the load balancer at origin.<site>, which the load balancer's certificate covers.
    assert "OriginAliasRecord" in edge


def test_step_2_answers_403_without_the_header_and_admits_only_cloudfront(stacks):
    assert answer(stacks["app"], STEP_2, 443, header=None) == "403"
    assert answer(stacks["app"], STEP_2, 443, header="a guess") == "403"
    assert answer(stacks["app"], STEP_2, 443, header=cloudfront_sends(stacks["edge"], STEP_2)) == "forward"
    assert open_to_internet(stacks["security"], STEP_2) == set()
    groups = resources(stacks["security"], STEP_2)
    assert "AlbFromCloudFrontIngress" in groups


def test_cloudfront_without_a_domain_is_staged_the_same_way(stacks):
    step_1 = {"CloudFrontEnabled": "true", "CloudFrontOnly": "false", "CloudFrontPrefixListId": PREFIX_LIST}
    assert answer(stacks["app"], step_1, 80, header=None) == "forward"
    assert answer(stacks["app"], {**step_1, "CloudFrontOnly": "true"}, 80, header=None) == "403"


def test_cloudfront_only_is_the_default_so_a_new_stack_is_closed_at_once(stacks):
    new = {**LIVE, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}
    assert answer(stacks["app"], new, 443, header=None) == "403"
    assert open_to_internet(stacks["security"], new) == set()


@pytest.mark.parametrize("values,refused", [
    ({"CloudFrontOnly": "false"}, ["CloudFrontOnlyFalseNeedsCloudFront"]),
    ({"CloudFrontOnly": "false", "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}, []),
    ({"CloudFrontOnly": "true"}, []),
])
def test_cloudfront_only_false_needs_cloudfront(stacks, values, refused):
    assert rules_refusing_a_create(stacks["root"], stacks["network"], values) == refused
