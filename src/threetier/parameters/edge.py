"""Domain, certificates, CloudFront, WAF and the origin header secret."""

from __future__ import annotations

from threetier.parameters.param import GROUP_ADVANCED_SERVERS, GROUP_EDGE, TRUE_FALSE, Param

_ACM_ARN = r"arn:aws[a-z-]*:acm:{region}:[0-9]{{12}}:certificate/[0-9a-f-]{{36}}"

DOMAIN_NAME = Param(
    "DomainName",
    "String",
    "Domain of the public hosted zone the site lives in, e.g. example.com. Empty: "
    "no DNS records and no certificates (the site answers on the ALB or CloudFront name). "
    "HTTPS on this name needs HostedZoneId too.",
    hint="e.g. example.com; empty: no DNS, no HTTPS name",
    label="Domain name",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    constraint="Empty or a lower-case domain name such as example.com.",
)

SITE_SUBDOMAIN = Param(
    "SiteSubdomain",
    "String",
    "Label in front of DomainName that users visit (www gives www.example.com); "
    "empty serves the apex (example.com). Not origin: CloudFront reaches the load balancer "
    "at origin.<site>, and an apex site's is origin.<domain>. Each environment in one domain "
    "needs its own (prod www, dev dev).",
    hint="www: www.example.com; empty: the apex",
    label="Site subdomain",
    group=GROUP_EDGE,
    default="www",
    allowed_pattern=r"^$|^(?!origin$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
    constraint="Empty or one DNS label (lower-case letters, digits and inner hyphens), not origin.",
)

HOSTED_ZONE_ID = Param(
    "HostedZoneId",
    "String",
    "Public hosted zone of DomainName that the registrar already delegates to: the "
    "certificates, HTTPS and the site's records are made in it. Empty with a DomainName: "
    "this deploy only creates the zone; point the registrar at the NameServers output, "
    "check with `threetier delegation ENV`, then set this to the zone id and deploy again.",
    hint="Empty: this deploy creates the zone",
    label="Delegated hosted zone id",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^Z[A-Z0-9]{1,31}$",
    constraint="Empty or a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ.",
)

CLOUDFRONT_ENABLED = Param(
    "CloudFrontEnabled",
    "String",
    "true: serve the site through CloudFront, and let the load balancer accept "
    "only CloudFront's requests.",
    label="CloudFront in front of the load balancer",
    group=GROUP_EDGE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

# Turning CloudFront on for a live site takes two deploys (threetier.review.cloudfrontsteps):
# the first creates the distribution and moves the site's records to it with this false, so
# the load balancer still answers viewers who reach it directly; the next one sets it true.
CLOUDFRONT_ONLY = Param(
    "CloudFrontOnly",
    "String",
    "With CloudFrontEnabled, true: the load balancer answers CloudFront only (403 without the "
    "origin header, and its security group admits CloudFront's addresses only). false: it still "
    "answers everyone directly too, the first step of turning CloudFront on for a live site, "
    "which `threetier deploy` sends by itself; the next deploy sends true. false needs "
    "CloudFrontEnabled true.",
    label="ALB answers CloudFront only",
    group=GROUP_ADVANCED_SERVERS,
    default="true",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

CLOUDFRONT_CERTIFICATE_ARN = Param(
    "CloudFrontCertificateArn",
    "String",
    "ACM certificate in us-east-1 for the site name, used by CloudFront. In us-east-1 "
    "the stack creates it; elsewhere `threetier plan`/`deploy` fill it in from the us-east-1 "
    "companion stack (output/edge-us-east-1.yaml, which a console deploy creates first). "
    "A value here wins: no companion certificate is made.",
    hint="Outside us-east-1: companion stack output",
    label="CloudFront certificate ARN (us-east-1)",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^" + _ACM_ARN.format(region="us-east-1") + "$",
    constraint="Empty or an ACM certificate ARN in us-east-1 (CloudFront uses no other region's).",
)

CLOUDFRONT_PREFIX_LIST_ID = Param(
    "CloudFrontPrefixListId",
    "String",
    "Id of the AWS-managed prefix list com.amazonaws.global.cloudfront.origin-facing "
    "in this region (threetier plan/deploy look it up for you).",
    hint="ID of com.amazonaws.global.cloudfront.origin-facing (VPC console)",
    label="CloudFront origin-facing prefix list id",
    group=GROUP_EDGE,
    default="",
    allowed_pattern=r"^$|^pl-[0-9a-f]{8,17}$",
    constraint="Empty or a prefix list id such as pl-3b927c52.",
)

CLOUDFRONT_PRICE_CLASS = Param(
    "CloudFrontPriceClass",
    "String",
    "Edge locations CloudFront serves from: PriceClass_100 (North America, Europe), "
    "PriceClass_200 (adds most of Asia), PriceClass_All.",
    label="CloudFront price class",
    group=GROUP_ADVANCED_SERVERS,
    default="PriceClass_100",
    allowed_values=("PriceClass_100", "PriceClass_200", "PriceClass_All"),
    constraint="PriceClass_100, PriceClass_200 or PriceClass_All.",
)

CLOUDFRONT_LOGGING = Param(
    "CloudFrontLogging",
    "String",
    "true: CloudFront standard access logs to an encrypted S3 bucket the stack creates.",
    label="CloudFront access logs",
    group=GROUP_ADVANCED_SERVERS,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

WAF_ENABLED = Param(
    "WafEnabled",
    "String",
    "true: an AWS WAF web ACL with the AWS managed common rule set on CloudFront "
    "(CloudFrontEnabled true). CloudFront web ACLs exist only in us-east-1: outside it the web "
    "ACL is in the us-east-1 companion stack, which `threetier plan`/`deploy` create and pass "
    "on as WebAclArn.",
    hint="Needs CloudFrontEnabled",
    label="AWS WAF on CloudFront",
    group=GROUP_EDGE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

# Outside us-east-1 the web ACL lives in the companion stack (templates/edge_us_east_1.py).
WEB_ACL_ARN = Param(
    "WebAclArn",
    "String",
    "With WafEnabled outside us-east-1: the ARN of the CLOUDFRONT web ACL in us-east-1 that "
    "CloudFront uses, the WebAclArn output of the companion stack; `threetier plan`/`deploy` "
    "fill it in. Not used in us-east-1, where the edge stack creates the web ACL.",
    hint="Outside us-east-1: companion stack output",
    label="WAF web ACL ARN (us-east-1)",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    allowed_pattern=r"^$|^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/\S+$",
    constraint="Empty or a CLOUDFRONT web ACL ARN in us-east-1.",
)

# The companion stack's own switch: `threetier plan`/`deploy` set it (not a root parameter).
COMPANION_CERTIFICATE = Param(
    "CertificateEnabled",
    "String",
    "true: the companion stack creates the CloudFront certificate for the site name, "
    "DNS-validated in HostedZoneId.",
    label="CloudFront certificate",
    group=GROUP_EDGE,
    default="false",
    allowed_values=TRUE_FALSE,
    constraint="true or false.",
)

_SECRET_VERSION = r"^$|^[a-zA-Z0-9-]{32,64}$"

ORIGIN_VERIFY_VERSION = Param(
    "OriginVerifySecretVersion",
    "String",
    "Version id of the origin header secret CloudFront sends and the load balancer accepts; "
    "empty: its current version. Set by `threetier rotate-origin-secret ENV`.",
    hint="Set by threetier rotate-origin-secret",
    label="Origin header secret version",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    allowed_pattern=_SECRET_VERSION,
    constraint="Empty or a Secrets Manager version id (32-64 letters, digits, hyphens).",
)

ORIGIN_VERIFY_PREVIOUS_VERSION = Param(
    "OriginVerifyPreviousSecretVersion",
    "String",
    "Version id of the previous origin header secret, which the load balancer still accepts "
    "while CloudFront's edges move to the current one; empty: none. Set by "
    "`threetier rotate-origin-secret ENV`.",
    hint="Set by threetier rotate-origin-secret",
    label="Previous origin header secret version",
    group=GROUP_ADVANCED_SERVERS,
    default="",
    allowed_pattern=_SECRET_VERSION,
    constraint="Empty or a Secrets Manager version id (32-64 letters, digits, hyphens).",
)

EDGE = (
    DOMAIN_NAME,
    SITE_SUBDOMAIN,
    HOSTED_ZONE_ID,
    CLOUDFRONT_ENABLED,
    CLOUDFRONT_ONLY,
    CLOUDFRONT_CERTIFICATE_ARN,
    CLOUDFRONT_PREFIX_LIST_ID,
    CLOUDFRONT_PRICE_CLASS,
    CLOUDFRONT_LOGGING,
    WAF_ENABLED,
    WEB_ACL_ARN,
    ORIGIN_VERIFY_VERSION,
    ORIGIN_VERIFY_PREVIOUS_VERSION,
)
