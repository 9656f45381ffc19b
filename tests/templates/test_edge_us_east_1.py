"""The us-east-1 companion: the CloudFront certificate and the CLOUDFRONT web ACL of an
environment in another region, and the outputs the main stack takes from it."""

import pytest

from templates import edge, edge_us_east_1
from threetier.parameters.evaluate import Evaluation

ZONE = "Z0123456789ABCDEFGHIJ"
CERTIFICATE = {"DomainName": "example.com", "HostedZoneId": ZONE, "CertificateEnabled": "true"}


@pytest.fixture(scope="module")
def companion():
    return edge_us_east_1.build().to_dict()


def evaluated(template: dict, values: dict, region: str = "us-east-1") -> Evaluation:
    return Evaluation(template, values, region=region)


def test_the_certificate_is_for_the_site_name_and_dns_validated_in_the_environments_zone(companion):
    resources = evaluated(companion, CERTIFICATE).resources()
    certificate = resources["CloudFrontCertificate"]
    assert certificate["Type"] == "AWS::CertificateManager::Certificate"
    props = certificate["Properties"]
    assert props["DomainName"] == "www.example.com"
    assert props["ValidationMethod"] == "DNS"
    assert props["DomainValidationOptions"] == [{"DomainName": "www.example.com", "HostedZoneId": ZONE}]
    assert "WebAcl" not in resources


def test_an_apex_site_gets_a_certificate_for_the_apex(companion):
    props = evaluated(companion, {**CERTIFICATE, "SiteSubdomain": ""}).resources()["CloudFrontCertificate"]
    assert props["Properties"]["DomainName"] == "example.com"


def test_the_web_acl_is_cloudfront_scoped_with_the_edge_stacks_rules(companion):
    resources = evaluated(companion, {"WafEnabled": "true"}).resources()
    assert set(resources) == {"WebAcl"}
    acl = resources["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    assert [rule["Statement"]["ManagedRuleGroupStatement"]["Name"] for rule in acl["Rules"]] == [
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]


def test_the_web_acl_is_the_one_the_edge_stack_makes_in_us_east_1(companion):
    """One builder (threetier.blocks.webacl): the same rules, whichever stack holds the web ACL."""
    edge_dict = edge.build().to_dict()
    assert companion["Resources"]["WebAcl"]["Properties"] == edge_dict["Resources"]["WebAcl"]["Properties"]


def test_outputs_are_the_arns_or_empty(companion):
    both = evaluated(companion, {**CERTIFICATE, "WafEnabled": "true"})
    outputs = {name: both.resolve(output["Value"]) for name, output in companion["Outputs"].items()}
    assert outputs == {"CertificateArn": {"Ref": "CloudFrontCertificate"},
                       "WebAclArn": {"Fn::GetAtt": ["WebAcl", "Arn"]}}
    neither = evaluated(companion, {})
    assert {name: neither.resolve(output["Value"]) for name, output in companion["Outputs"].items()} == {
        "CertificateArn": "", "WebAclArn": ""}
    assert neither.resources() == {}


@pytest.mark.parametrize("values,region,broken", [
    ({"WafEnabled": "true"}, "eu-west-1", ["CompanionInUsEast1"]),
    ({"CertificateEnabled": "true", "DomainName": "example.com"}, "us-east-1", ["CertificateNeedsADelegatedZone"]),
    ({"CertificateEnabled": "true", "HostedZoneId": ZONE}, "us-east-1", ["CertificateNeedsADelegatedZone"]),
    ({**CERTIFICATE, "WafEnabled": "true"}, "us-east-1", []),
])
def test_rules_refuse_another_region_and_a_certificate_without_its_zone(companion, values, region, broken):
    assert evaluated(companion, values, region).broken_rules() == broken
