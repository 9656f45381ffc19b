"""Route 53, ACM and CloudFront: each switch combination gives the right records,
origins, certificates and load-balancer rules, and cfn-lint accepts it."""

import importlib
import json
from pathlib import Path

import pytest

from threetier.gates.lint import lint_files
from threetier.parameters.evaluate import Evaluation, rules_refusing_a_create

PREFIX_LIST = "pl-3b927c52"
US_EAST_1_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
EU_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"

ZONE = "Z0123456789ABCDEFGHIJ"
# A domain whose delegated zone is given: everything on the domain exists.
DOMAIN = {"DomainName": "example.com", "HostedZoneId": ZONE}

COMBINATIONS = {
    "no-domain": ("us-east-1", {}),
    # First pass of a new domain: only its hosted zone is created.
    "new-zone": ("eu-west-1", {"DomainName": "example.com"}),
    "new-zone-cloudfront": ("us-east-1", {
        "DomainName": "example.com", "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}),
    "domain-only": ("eu-west-1", DOMAIN),
    "domain-cloudfront-us-east-1": ("us-east-1", {
        **DOMAIN, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}),
    "domain-cloudfront-elsewhere": ("eu-west-1", {
        **DOMAIN, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST,
        "CloudFrontCertificateArn": US_EAST_1_CERT}),
    "cloudfront-no-domain": ("eu-west-1", {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}),
}


@pytest.fixture(scope="module")
def stacks():
    return {name: importlib.import_module(f"templates.{name}").build().to_dict()
            for name in ("root", "network", "dns", "edge", "app", "security", "data")}


def active(template: dict, combination: str, **extra) -> dict:
    region, values = COMBINATIONS[combination]
    own = {k: v for k, v in {**values, **extra}.items() if k in template["Parameters"]}
    return Evaluation(template, own, region=region).resources()


def rules_broken(stacks: dict, region: str, values: dict) -> list[str]:
    return rules_refusing_a_create(stacks["root"], stacks["network"], values, region)


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_every_combination_passes_the_root_rules(stacks, combination):
    region, values = COMBINATIONS[combination]
    assert rules_broken(stacks, region, values) == []


@pytest.mark.parametrize("combination,dns,edge", [
    ("no-domain", False, False),
    ("new-zone", True, False),
    ("new-zone-cloudfront", True, True),
    ("domain-only", True, True),
    ("domain-cloudfront-us-east-1", True, True),
    ("domain-cloudfront-elsewhere", True, True),
    ("cloudfront-no-domain", False, True),
])
def test_root_creates_dns_and_edge_stacks_only_when_needed(stacks, combination, dns, edge):
    resources = active(stacks["root"], combination)
    assert ("DnsStack" in resources) is dns
    assert ("EdgeStack" in resources) is edge


def records(stacks, combination) -> dict:
    return {r["Properties"]["Type"] + " " + str(r["Properties"]["Name"]): r["Properties"]["AliasTarget"]
            for r in active(stacks["edge"], combination).values() if r["Type"] == "AWS::Route53::RecordSet"}


def test_domain_without_cloudfront_points_the_site_at_the_alb(stacks):
    found = records(stacks, "domain-only")
    assert list(found) == ["A www.example.com"]
    assert found["A www.example.com"]["HostedZoneId"] == {"Ref": "AlbCanonicalHostedZoneId"}
    assert found["A www.example.com"]["DNSName"] == {"Ref": "AlbDnsName"}
    assert "Distribution" not in active(stacks["edge"], "domain-only")


@pytest.mark.parametrize("combination", ["domain-cloudfront-us-east-1", "domain-cloudfront-elsewhere"])
def test_domain_with_cloudfront_points_a_and_aaaa_at_cloudfront_and_origin_at_the_alb(stacks, combination):
    found = records(stacks, combination)
    cloudfront = {"DNSName": {"Fn::GetAtt": ["Distribution", "DomainName"]},
                  "HostedZoneId": "Z2FDTNDATAQYW2", "EvaluateTargetHealth": False}
    assert found["A www.example.com"] == cloudfront
    assert found["AAAA www.example.com"] == cloudfront
    assert found["A origin.www.example.com"]["DNSName"] == {"Ref": "AlbDnsName"}


def test_environments_sharing_a_zone_each_get_their_own_origin_name(stacks):
    """One origin.<domain> for every environment would fail the second one's alias record."""
    def origin(subdomain):
        found = active(stacks["edge"], "domain-cloudfront-us-east-1", SiteSubdomain=subdomain)
        origins = {r["Properties"]["Name"] for r in found.values()
                   if r["Type"] == "AWS::Route53::RecordSet" and r["Properties"]["Name"].startswith("origin.")}
        certificate = active(stacks["dns"], "domain-cloudfront-us-east-1", SiteSubdomain=subdomain)
        (cloudfront_origin,) = found["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
        assert certificate["AlbCertificate"]["Properties"]["SubjectAlternativeNames"] == list(origins)
        assert [cloudfront_origin["DomainName"]] == list(origins)
        return origins

    assert origin("www") == {"origin.www.example.com"}
    assert origin("dev") == {"origin.dev.example.com"}
    assert origin("") == {"origin.example.com"}


def distribution(stacks, combination) -> dict:
    return active(stacks["edge"], combination)["Distribution"]["Properties"]["DistributionConfig"]


@pytest.mark.parametrize("combination", ["domain-cloudfront-us-east-1", "domain-cloudfront-elsewhere"])
def test_with_a_domain_cloudfront_uses_an_https_origin_and_the_site_certificate(stacks, combination):
    config = distribution(stacks, combination)
    (origin,) = config["Origins"]
    assert origin["DomainName"] == "origin.www.example.com"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert config["Aliases"] == ["www.example.com"]
    assert config["ViewerCertificate"] == {"AcmCertificateArn": {"Ref": "SiteCertificateArn"},
                                           "SslSupportMethod": "sni-only",
                                           "MinimumProtocolVersion": "TLSv1.2_2021"}


def test_cloudfront_without_a_domain_uses_the_alb_name_over_http(stacks):
    config = distribution(stacks, "cloudfront-no-domain")
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Ref": "AlbDnsName"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "http-only"
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in config
    assert records(stacks, "cloudfront-no-domain") == {}


def test_cloudfront_behaviour_and_protocols(stacks):
    config = distribution(stacks, "domain-cloudfront-us-east-1")
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behaviour["OriginRequestPolicyId"] == "216adef6-5c7f-47e4-b989-5492eafa07d3"
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["HttpVersion"] == "http2and3" and config["IPV6Enabled"] is True
    assert config["PriceClass"] == "PriceClass_100"
    (header,) = config["Origins"][0]["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Origin-Verify"
    assert header["HeaderValue"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecretArn}:SecretString:value}}"}
    assert "Logging" not in config and "WebACLId" not in config


def test_optional_logging_and_waf(stacks):
    on = active(stacks["edge"], "domain-cloudfront-us-east-1", CloudFrontLogging="true", WafEnabled="true")
    config = on["Distribution"]["Properties"]["DistributionConfig"]
    assert config["Logging"]["Bucket"] == {"Fn::GetAtt": ["CloudFrontLogBucket", "RegionalDomainName"]}
    policy = on["CloudFrontLogBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "CloudFrontLogBucket"}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [{"Fn::GetAtt": ["CloudFrontLogBucket", "Arn"]},
                                {"Fn::Sub": "${CloudFrontLogBucket.Arn}/*"}]
    assert config["WebACLId"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    acl = on["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["Rules"][0]["Statement"]["ManagedRuleGroupStatement"] == {
        "VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}


WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop-prod-web-acl/12345678-1234-1234-1234-123456789012"


def test_outside_us_east_1_cloudfront_uses_the_companion_stacks_web_acl(stacks):
    on = active(stacks["edge"], "domain-cloudfront-elsewhere", WafEnabled="true", WebAclArn=WEB_ACL)
    assert "WebAcl" not in on
    assert on["Distribution"]["Properties"]["DistributionConfig"]["WebACLId"] == WEB_ACL


def test_in_us_east_1_the_edge_stack_keeps_its_own_web_acl_whatever_webaclarn_says(stacks):
    on = active(stacks["edge"], "domain-cloudfront-us-east-1", WafEnabled="true", WebAclArn=WEB_ACL)
    assert on["Distribution"]["Properties"]["DistributionConfig"]["WebACLId"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}


def test_without_waf_a_given_web_acl_is_not_attached(stacks):
    on = active(stacks["edge"], "domain-cloudfront-elsewhere", WebAclArn=WEB_ACL)
    assert "WebACLId" not in on["Distribution"]["Properties"]["DistributionConfig"]


@pytest.mark.parametrize("combination,alb_cert,site_cert", [
    ("domain-only", True, False),
    ("domain-cloudfront-us-east-1", True, True),
    ("domain-cloudfront-elsewhere", True, False),
])
def test_certificates_are_dns_validated_in_the_zone_and_made_where_they_can_be(
        stacks, combination, alb_cert, site_cert):
    resources = active(stacks["dns"], combination)
    assert ("AlbCertificate" in resources) is alb_cert
    assert ("CloudFrontCertificate" in resources) is site_cert
    certificate = resources["AlbCertificate"]["Properties"]
    assert certificate["ValidationMethod"] == "DNS"
    assert certificate["DomainName"] == "www.example.com"
    assert certificate["SubjectAlternativeNames"] == ["origin.www.example.com"]
    # Validated in the given, delegated zone: never in a zone this stack creates.
    assert "HostedZone" not in resources
    for name in ("AlbCertificate", "CloudFrontCertificate"):
        if name in resources:
            options = resources[name]["Properties"]["DomainValidationOptions"]
            assert {o["HostedZoneId"] for o in options} == {ZONE}


@pytest.mark.parametrize("combination", ["new-zone", "new-zone-cloudfront"])
def test_a_new_domain_first_gets_only_its_zone_and_the_name_servers_to_delegate_to(stacks, combination):
    dns = active(stacks["dns"], combination)
    assert [r["Type"] for r in dns.values()] == ["AWS::Route53::HostedZone"]
    assert dns["HostedZone"]["DeletionPolicy"] == "Retain", "the registrar will point at it"
    region, values = COMBINATIONS[combination]
    root = Evaluation(stacks["root"], values, region=region)
    assert root.resolve(stacks["root"]["Outputs"]["NameServers"]["Value"]) == {
        "Fn::GetAtt": ["DnsStack", "Outputs.NameServers"]}
    # Until the zone is delegated, nothing after dns uses the domain: no HTTPS
    # on it, no records, and CloudFront on its own name.
    resources = root.resources()
    if "EdgeStack" in resources:
        assert resources["EdgeStack"]["Properties"]["Parameters"]["DomainName"] == ""
    # The security groups never read the domain (see templates/security.py, issue 30).
    assert "DomainName" not in resources["SecurityStack"]["Properties"]["Parameters"]
    assert resources["AppStack"]["Properties"]["Parameters"]["AlbCertificateArn"] == ""
    assert root.broken_rules() == []


def test_the_second_pass_keeps_the_zone_and_certifies_against_it(stacks):
    # Setting HostedZoneId removes the zone from the stack (Retain keeps it)
    # and creates the certificates in it.
    second = active(stacks["dns"], "domain-only")
    assert "HostedZone" not in second and "AlbCertificate" in second
    outputs = stacks["dns"]["Outputs"]
    region, values = COMBINATIONS["domain-only"]
    evaluation = Evaluation(stacks["dns"], {k: v for k, v in values.items() if k in stacks["dns"]["Parameters"]},
                            region=region)
    assert evaluation.resolve(outputs["ZoneId"]["Value"]) == ZONE
    assert evaluation.resolve(outputs["NameServers"]["Value"]) == ""


ALB_GROUPS = ({"Ref": "AlbSecurityGroup"}, {"Ref": "AlbCloudFrontSecurityGroup"})


def alb_ingress(stacks, combination) -> set:
    return {(r["Properties"]["GroupId"]["Ref"],
             r["Properties"].get("CidrIp") or str(r["Properties"].get("SourcePrefixListId")),
             f'{r["Properties"]["FromPort"]}-{r["Properties"]["ToPort"]}')
            for r in active(stacks["security"], combination).values()
            if r["Type"] == "AWS::EC2::SecurityGroupIngress" and r["Properties"]["GroupId"] in ALB_GROUPS}


FROM_CLOUDFRONT = {("AlbCloudFrontSecurityGroup", PREFIX_LIST, "80-443")}


@pytest.mark.parametrize("combination,expected", [
    ("no-domain", {("AlbSecurityGroup", "0.0.0.0/0", "80-80"), ("AlbSecurityGroup", "0.0.0.0/0", "443-443")}),
    ("domain-only", {("AlbSecurityGroup", "0.0.0.0/0", "80-80"), ("AlbSecurityGroup", "0.0.0.0/0", "443-443")}),
    # The same rule whatever the domain's state: a change would replace it (issue 30).
    ("new-zone-cloudfront", FROM_CLOUDFRONT),
    ("domain-cloudfront-us-east-1", FROM_CLOUDFRONT),
    ("cloudfront-no-domain", FROM_CLOUDFRONT),
])
def test_with_cloudfront_the_alb_admits_only_cloudfront_the_same_way_with_or_without_a_domain(
        stacks, combination, expected):
    assert alb_ingress(stacks, combination) == expected


def listeners(stacks, combination, **extra) -> dict:
    return {k: r["Properties"] for k, r in active(stacks["app"], combination, **extra).items()
            if r["Type"].startswith("AWS::ElasticLoadBalancingV2::Listener")}


def test_with_cloudfront_the_origin_listener_forwards_only_with_the_secret_header(stacks):
    found = listeners(stacks, "domain-cloudfront-us-east-1", AlbCertificateArn=EU_CERT)
    assert found["HttpsListener"]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    assert found["HttpListener"]["DefaultActions"][0]["Type"] == "redirect"
    rule = found["CloudFrontOriginRule"]
    assert rule["ListenerArn"] == {"Ref": "HttpsListener"}
    (condition,) = rule["Conditions"]
    assert condition["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "AppTargetGroup"}}]

    http_only = listeners(stacks, "cloudfront-no-domain")
    assert http_only["HttpListener"]["DefaultActions"][0]["Type"] == "fixed-response"
    assert http_only["CloudFrontOriginRule"]["ListenerArn"] == {"Ref": "HttpListener"}
    assert "CloudFrontOriginRule" not in listeners(stacks, "domain-only")


@pytest.mark.parametrize("combination,expected", [
    ("no-domain", {"Fn::Sub": ["http://${Alb}", {"Alb": {"Fn::GetAtt": ["AppStack", "Outputs.AlbDnsName"]}}]}),
    ("domain-only", "https://www.example.com"),
    ("cloudfront-no-domain", {"Fn::Sub": ["https://${Cdn}", {
        "Cdn": {"Fn::GetAtt": ["EdgeStack", "Outputs.DistributionDomainName"]}}]}),
])
def test_site_url_is_the_site_name_else_cloudfront_else_the_alb(stacks, combination, expected):
    region, values = COMBINATIONS[combination]
    url = Evaluation(stacks["root"], values, region=region).resolve(stacks["root"]["Outputs"]["SiteUrl"]["Value"])
    assert url == expected


@pytest.mark.parametrize("values,region,broken", [
    ({**DOMAIN, "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST},
     "eu-west-1", "CloudFrontCertificateOutsideUsEast1"),
    ({"CloudFrontEnabled": "true"}, "us-east-1", "CloudFrontNeedsItsPrefixList"),
    ({"CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST, "AlbCertificateArn": EU_CERT},
     "eu-west-1", "CloudFrontWithoutDomainUsesHttpOrigin"),
    ({"WafEnabled": "true", "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST},
     "eu-west-1", "WafNeedsCloudFront"),
    ({"WafEnabled": "true", "WebAclArn": WEB_ACL}, "eu-west-1", "WafNeedsCloudFront"),
    ({"CloudFrontLogging": "true", "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST},
     "me-south-1", "CloudFrontLogsNeedASupportedRegion"),
    ({"EfsPerformanceMode": "maxIO", "EfsThroughputMode": "elastic"}, "us-east-1",
     "EfsMaxIoNeedsBurstingThroughput"),
    ({"InstanceType": "m7g.large", "CpuCredits": ""}, "us-east-1", "InstanceTypeMatchesTheDefaultAmi"),
])
def test_rules_refuse_combinations_that_cannot_work(stacks, values, region, broken):
    assert rules_broken(stacks, region, values) == [broken]
    every_rule = {**stacks["root"]["Rules"], **stacks["network"]["Rules"]}
    assert every_rule[broken]["Assertions"][0]["AssertDescription"]


@pytest.mark.parametrize("values,region", [
    ({"CloudFrontLogging": "true", "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}, "eu-west-1"),
    ({"CloudFrontLogging": "true"}, "me-south-1"),  # no CloudFront, no logs
    ({"EfsPerformanceMode": "maxIO", "EfsThroughputMode": "bursting"}, "us-east-1"),
    ({"EfsPerformanceMode": "generalPurpose", "EfsThroughputMode": "elastic"}, "us-east-1"),
    ({"InstanceType": "m7g.large", "CpuCredits": "",
      "AmiId": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"}, "us-east-1"),
    ({"InstanceType": "m7i.large", "CpuCredits": ""}, "us-east-1"),
    ({"WafEnabled": "true", "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST,
      "WebAclArn": WEB_ACL}, "eu-west-1"),
    ({"WafEnabled": "true", "CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}, "us-east-1"),
])
def test_rules_accept_the_working_neighbours_of_those_combinations(stacks, values, region):
    assert rules_broken(stacks, region, values) == []


def test_a_cloudfront_certificate_outside_us_east_1_is_refused_by_its_pattern(stacks):
    import re
    pattern = stacks["root"]["Parameters"]["CloudFrontCertificateArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, US_EAST_1_CERT)
    assert not re.fullmatch(pattern, EU_CERT)
    assert "us-east-1" in stacks["root"]["Parameters"]["CloudFrontCertificateArn"]["ConstraintDescription"]


def wired_samples(region: str) -> dict:
    """What the root would pass a nested stack for the values it wires from other stacks."""
    secret = f"arn:aws:secretsmanager:{region}:123456789012:secret:sample-AbCdEf"
    subnets = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"]
    return {
        "VpcId": "vpc-0123456789abcdef0", "AvailabilityZones": [f"{region}a", f"{region}b", f"{region}c"],
        "PublicSubnetIds": subnets, "AppSubnetIds": subnets, "DataSubnetIds": subnets,
        "AlbSecurityGroupId": "sg-0123456789abcdef0", "AppSecurityGroupId": "sg-0123456789abcdef1",
        "AlbCloudFrontSecurityGroupId": "sg-0123456789abcdef2", "DbRotationSecurityGroupId": "sg-0123456789abcdef3",
        "DbAppSecretArn": secret,
        # What `threetier package` writes when it uploads the rotation function's zip.
        "RotationCodeBucket": "example-templates", "RotationCodeKey": "threetier/rotation-0123abcd.zip",
        "DbEndpointAddress": "db.example.internal", "DbEndpointPort": "3306",
        "DbMasterSecretArn": secret, "AppSecretArn": secret, "OriginVerifySecretArn": secret,
        "EfsFileSystemId": "fs-0123456789abcdef0",
        "EfsFileSystemArn": f"arn:aws:elasticfilesystem:{region}:123456789012:file-system/fs-0123456789abcdef0",
        "EfsAccessPointId": "fsap-0123456789abcdef0",
        "EfsAccessPointArn": (f"arn:aws:elasticfilesystem:{region}:123456789012:"
                              "access-point/fsap-0123456789abcdef0"),
        # The root resolves its AmiId SSM parameter and passes the image id on.
        "AmiId": "ami-0123456789abcdef0",
        "LogKeyArn": f"arn:aws:kms:{region}:123456789012:key/12345678-1234-1234-1234-123456789012",
        "ZoneId": "Z0123456789ABCDEFGHIJ", "SiteCertificateArn": US_EAST_1_CERT,
        "AlbDnsName": f"alb-123.{region}.elb.amazonaws.com", "AlbCanonicalHostedZoneId": "Z35SXDOTRQ7X7K",
    }


# Linting costs ~2 CPU seconds a combination: "new-zone" is covered by "new-zone-cloudfront".
LINTED = sorted(set(COMBINATIONS) - {"new-zone"})


def lint_combination(project: Path, combination: str) -> list[str]:
    """cfn-lint's findings for the combination's values, in its region, over the stacks it concerns."""
    region, values = COMBINATIONS[combination]
    files = [project / "output" / f"{name}.yaml" for name in ("main", "security", "app", "dns", "edge")]
    # One file a call: lint_files lints a single file in this process, so the
    # command below is one process, and cfn-lint loads its rules once.
    return [str(finding) for path in files
            for finding in lint_files([path], (region,), parameters={**wired_samples(region), **values})]


@pytest.mark.parametrize("combination", LINTED)
def test_cfn_lint_accepts_every_combination(edge_combinations_linted, combination):
    """lint_combination's findings, from the run of this module as a command (the end of the file)."""
    assert edge_combinations_linted[combination] == []


NEW_VERSION, OLD_VERSION = "a1" * 18, "b2" * 18


def origin_reference(version: str | None) -> dict:
    pinned = f"::{version}" if version else ""
    return {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecretArn}:SecretString:value" + pinned + "}}"}


@pytest.mark.parametrize("versions,accepted,sent", [
    ({}, [None], None),
    ({"OriginVerifySecretVersion": NEW_VERSION}, [NEW_VERSION], NEW_VERSION),
    ({"OriginVerifySecretVersion": NEW_VERSION, "OriginVerifyPreviousSecretVersion": OLD_VERSION},
     [NEW_VERSION, OLD_VERSION], NEW_VERSION),
])
def test_during_a_rotation_the_load_balancer_accepts_both_values_and_cloudfront_sends_the_new(
        stacks, versions, accepted, sent):
    app = active(stacks["app"], "domain-cloudfront-us-east-1", AlbCertificateArn=EU_CERT, **versions)
    values = app["CloudFrontOriginRule"]["Properties"]["Conditions"][0]["HttpHeaderConfig"]["Values"]
    assert values == [origin_reference(version) for version in accepted]
    config = distribution(stacks, "domain-cloudfront-us-east-1") if not versions else active(
        stacks["edge"], "domain-cloudfront-us-east-1",
        OriginVerifySecretVersion=versions["OriginVerifySecretVersion"])["Distribution"]["Properties"][
        "DistributionConfig"]
    (header,) = config["Origins"][0]["OriginCustomHeaders"]
    assert header["HeaderValue"] == origin_reference(sent)


if __name__ == "__main__":
    # `python -m tests.templates.test_edge`, from the project: every combination's findings as JSON. conftest.py
    # starts it when the session starts, so that it runs beside the other tests (tests/background.py).
    print(json.dumps({combination: lint_combination(Path.cwd(), combination) for combination in LINTED}))
