"""Edge stack (with a domain, CloudFront, or both): CloudFront, WAF and DNS records.

    domain, no CloudFront   site name -> ALB (alias A)
    CloudFront, no domain   *.cloudfront.net -> ALB over HTTP by its AWS name
    domain and CloudFront   site name -> CloudFront (alias A and AAAA)
                            -> origin.<site> (alias to the ALB) over HTTPS

CloudFront sends a secret header the load balancer checks (app stack), and the
ALB security group admits only CloudFront's origin-facing addresses (security
stack), so the load balancer's own name is no way around the edge.
"""

from __future__ import annotations

from troposphere import (
    And,
    Condition,
    Equals,
    GetAtt,
    If,
    NoValue,
    Not,
    Ref,
    Sub,
    Template,
    cloudfront as cf,
    route53,
    s3 as bucket,
    wafv2,
)

from threetier import parameters as P
from threetier.blocks import logstore, naming, policies, secrets, webacl
from threetier.parameters import conditions
from threetier.parameters.conditions import HAS_DOMAIN, HAS_ORIGIN_VERSION, HAS_SUBDOMAIN, IN_US_EAST_1, USE_CLOUDFRONT

DOMAIN_WITH_CLOUDFRONT = "DomainWithCloudFront"
HAS_LOGGING = "HasCloudFrontLogging"
CREATE_WEB_ACL = "CreateWebAcl"
USE_COMPANION_WEB_ACL = "UseCompanionWebAcl"

# AWS-defined constants (the same in every account and region).
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_ORIGIN_REQUEST_POLICY_ID = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ORIGIN_ID = "load-balancer"
LOG_RETENTION_DAYS = 90


def build() -> Template:
    t = naming.new_template(
        "threetier edge: CloudFront in front of the load balancer (optional WAF and "
        "access logs) and the site's alias records"
    )
    P.use(t, P.DOMAIN_NAME, P.SITE_SUBDOMAIN, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_PRICE_CLASS,
          P.CLOUDFRONT_LOGGING, P.WAF_ENABLED, P.ORIGIN_VERIFY_VERSION)
    P.use(t, P.WEB_ACL_ARN)
    P.use(t, P.ZONE_ID, P.SITE_CERTIFICATE_ARN, P.ALB_DNS_NAME, P.ALB_HOSTED_ZONE_ID,
          P.ORIGIN_VERIFY_SECRET_ARN)
    conditions.add(t, HAS_DOMAIN, HAS_SUBDOMAIN, USE_CLOUDFRONT, IN_US_EAST_1, HAS_ORIGIN_VERSION)
    t.add_condition(DOMAIN_WITH_CLOUDFRONT, And(Condition(HAS_DOMAIN), Condition(USE_CLOUDFRONT)))
    t.add_condition(HAS_LOGGING, And(Condition(USE_CLOUDFRONT),
                                     Equals(Ref(P.CLOUDFRONT_LOGGING.name), "true")))
    # CloudFront web ACLs can only be created in us-east-1 (a root Rule says so).
    t.add_condition(CREATE_WEB_ACL, And(Condition(USE_CLOUDFRONT), Condition(IN_US_EAST_1),
                                        Equals(Ref(P.WAF_ENABLED.name), "true")))
    # Elsewhere the web ACL is the us-east-1 companion stack's (templates/edge_us_east_1.py).
    t.add_condition(USE_COMPANION_WEB_ACL, And(
        Condition(USE_CLOUDFRONT), Not(Condition(IN_US_EAST_1)), Equals(Ref(P.WAF_ENABLED.name), "true"),
        Not(Equals(Ref(P.WEB_ACL_ARN.name), ""))))

    log_bucket = _log_bucket(t)
    web_acl = _web_acl(t)
    distribution = _distribution(t, log_bucket, web_acl)
    _records(t, distribution)

    naming.add_outputs(t, {
        "DistributionDomainName": ("CloudFront domain name (empty without CloudFront)",
                                   If(USE_CLOUDFRONT, GetAtt(distribution, "DomainName"), "")),
        "DistributionId": ("CloudFront distribution id, e.g. for invalidations (empty without CloudFront)",
                           If(USE_CLOUDFRONT, Ref(distribution), "")),
    })
    return t


def _log_bucket(t: Template) -> bucket.Bucket:
    log_bucket = t.add_resource(logstore.log_bucket(
        "CloudFrontLogBucket", "cloudfront-logs", condition=HAS_LOGGING,
        expiration_days=LOG_RETENTION_DAYS, object_ownership="BucketOwnerPreferred",
    ))
    # CloudFront delivers with an ACL grant, so the policy only refuses plain HTTP.
    t.add_resource(bucket.BucketPolicy(
        "CloudFrontLogBucketPolicy",
        Condition=HAS_LOGGING,
        Bucket=Ref(log_bucket),
        PolicyDocument=policies.document(policies.deny_insecure_transport(
            GetAtt(log_bucket, "Arn"), Sub("${%s.Arn}/*" % log_bucket.title))),
    ))
    return log_bucket


def _web_acl(t: Template) -> wafv2.WebACL:
    return t.add_resource(webacl.web_acl("WebAcl", condition=CREATE_WEB_ACL))


def _distribution(t: Template, log_bucket: bucket.Bucket, web_acl: wafv2.WebACL) -> cf.Distribution:
    origin = cf.Origin(
        Id=ORIGIN_ID,
        # With a domain the ALB has a certificate for origin.<site>; its AWS
        # name matches no certificate, so without a domain the origin is HTTP.
        DomainName=If(HAS_DOMAIN, naming.origin_name(), Ref(P.ALB_DNS_NAME.name)),
        CustomOriginConfig=cf.CustomOriginConfig(
            OriginProtocolPolicy=If(HAS_DOMAIN, "https-only", "http-only"),
            HTTPPort=80,
            HTTPSPort=443,
            OriginSSLProtocols=["TLSv1.2"],
        ),
        OriginCustomHeaders=[
            cf.OriginCustomHeader(
                HeaderName=secrets.ORIGIN_VERIFY_HEADER,
                HeaderValue=secrets.resolve_version(P.ORIGIN_VERIFY_SECRET_ARN.name, secrets.ORIGIN_VERIFY_KEY,
                                                    P.ORIGIN_VERIFY_VERSION.name, HAS_ORIGIN_VERSION),
            )
        ],
    )
    return t.add_resource(
        cf.Distribution(
            "Distribution",
            Condition=USE_CLOUDFRONT,
            DistributionConfig=cf.DistributionConfig(
                Enabled=True,
                Comment=Sub("${ProjectName}-${EnvironmentName}"),
                Aliases=If(HAS_DOMAIN, [naming.site_name()], NoValue),
                HttpVersion="http2and3",
                IPV6Enabled=True,
                PriceClass=Ref(P.CLOUDFRONT_PRICE_CLASS.name),
                Origins=[origin],
                DefaultCacheBehavior=cf.DefaultCacheBehavior(
                    TargetOriginId=ORIGIN_ID,
                    ViewerProtocolPolicy="redirect-to-https",
                    # A dynamic app: nothing cached, every header, cookie and
                    # query string passed to the origin.
                    CachePolicyId=CACHING_DISABLED_POLICY_ID,
                    OriginRequestPolicyId=ALL_VIEWER_ORIGIN_REQUEST_POLICY_ID,
                    AllowedMethods=["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                    CachedMethods=["GET", "HEAD"],
                    Compress=True,
                ),
                ViewerCertificate=If(
                    HAS_DOMAIN,
                    cf.ViewerCertificate(
                        AcmCertificateArn=Ref(P.SITE_CERTIFICATE_ARN.name),
                        SslSupportMethod="sni-only",
                        MinimumProtocolVersion="TLSv1.2_2021",
                    ),
                    cf.ViewerCertificate(CloudFrontDefaultCertificate=True),
                ),
                Logging=If(
                    HAS_LOGGING,
                    cf.Logging(Bucket=GetAtt(log_bucket, "RegionalDomainName"), Prefix="cloudfront/",
                               IncludeCookies=False),
                    NoValue,
                ),
                WebACLId=If(CREATE_WEB_ACL, GetAtt(web_acl, "Arn"),
                            If(USE_COMPANION_WEB_ACL, Ref(P.WEB_ACL_ARN.name), NoValue)),
            ),
            Tags=naming.tags("cdn"),
        )
    )


def _records(t: Template, distribution: cf.Distribution) -> None:
    to_cloudfront = route53.AliasTarget(
        DNSName=GetAtt(distribution, "DomainName"),
        HostedZoneId=CLOUDFRONT_HOSTED_ZONE_ID,
        EvaluateTargetHealth=False,
    )
    to_alb = route53.AliasTarget(
        DNSName=Ref(P.ALB_DNS_NAME.name),
        HostedZoneId=Ref(P.ALB_HOSTED_ZONE_ID.name),
        EvaluateTargetHealth=True,
    )
    zone = Ref(P.ZONE_ID.name)
    t.add_resource(route53.RecordSetType(
        "SiteAliasRecord", Condition=HAS_DOMAIN, HostedZoneId=zone, Name=naming.site_name(), Type="A",
        AliasTarget=If(USE_CLOUDFRONT, to_cloudfront, to_alb),
    ))
    # IPv6 only through CloudFront: the load balancer and VPC are IPv4.
    t.add_resource(route53.RecordSetType(
        "SiteAliasIpv6Record", Condition=DOMAIN_WITH_CLOUDFRONT, HostedZoneId=zone,
        Name=naming.site_name(), Type="AAAA", AliasTarget=to_cloudfront,
    ))
    t.add_resource(route53.RecordSetType(
        "OriginAliasRecord", Condition=DOMAIN_WITH_CLOUDFRONT, HostedZoneId=zone,
        Name=naming.origin_name(), Type="A", AliasTarget=to_alb,
    ))
