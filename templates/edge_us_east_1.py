"""The us-east-1 companion of an environment that lives in another region (output/edge-us-east-1.yaml).

CloudFront takes its viewer certificate from ACM in us-east-1 only, and a web ACL
with Scope CLOUDFRONT can only be created in us-east-1. An environment in any other
region keeps these two here, in a small stack of its own in us-east-1, which
`threetier plan`/`deploy` create before the main stack; its outputs reach the main
stack as CloudFrontCertificateArn and WebAclArn (threetier.deploy.companion).
https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html

Not a nested stack of main.yaml: a nested stack is created in its parent's region.
In us-east-1 the environment needs no companion (the dns and edge stacks make both).
"""

from __future__ import annotations

from troposphere import And, Equals, GetAtt, If, Ref, Template, certificatemanager as acm

from threetier import parameters as P
from threetier.blocks import naming, webacl
from threetier.parameters import conditions, rules
from threetier.parameters.conditions import HAS_DOMAIN, HAS_HOSTED_ZONE, HAS_SUBDOMAIN, IN_US_EAST_1

CREATE_CERTIFICATE = "CreateCertificate"
CREATE_WEB_ACL = "CreateWebAcl"


def build() -> Template:
    t = naming.new_template(
        "threetier us-east-1 companion: the CloudFront certificate and WAF web ACL of an environment "
        "in another region"
    )
    P.use(t, P.DOMAIN_NAME, P.SITE_SUBDOMAIN, P.HOSTED_ZONE_ID, P.COMPANION_CERTIFICATE, P.WAF_ENABLED)
    conditions.add(t, HAS_SUBDOMAIN)
    # The Rule below makes sure a certificate comes with its domain and delegated zone.
    t.add_condition(CREATE_CERTIFICATE, Equals(Ref(P.COMPANION_CERTIFICATE.name), "true"))
    t.add_condition(CREATE_WEB_ACL, Equals(Ref(P.WAF_ENABLED.name), "true"))
    rules.add(t, "CompanionInUsEast1", None, conditions.expression(IN_US_EAST_1),
              "Create this stack in us-east-1: CloudFront uses certificates and web ACLs from there only.")
    rules.add(t, "CertificateNeedsADelegatedZone", Equals(Ref(P.COMPANION_CERTIFICATE.name), "true"),
              And(conditions.expression(HAS_DOMAIN), conditions.expression(HAS_HOSTED_ZONE)),
              "CertificateEnabled needs DomainName and HostedZoneId, the delegated zone it is validated in.")

    certificate = t.add_resource(acm.Certificate(
        "CloudFrontCertificate",
        Condition=CREATE_CERTIFICATE,
        DomainName=naming.site_name(),
        # ACM in us-east-1 writes the validation record into the (global) Route 53
        # zone itself, as the dns stack's certificates do in their region.
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-certificatemanager-certificate-domainvalidationoption.html
        ValidationMethod="DNS",
        DomainValidationOptions=[acm.DomainValidationOption(
            DomainName=naming.site_name(), HostedZoneId=Ref(P.HOSTED_ZONE_ID.name))],
        Tags=naming.tags("cloudfront-certificate"),
    ))
    acl = t.add_resource(webacl.web_acl("WebAcl", condition=CREATE_WEB_ACL))

    naming.add_outputs(t, {
        "CertificateArn": ("CloudFront certificate for the site name (empty: none made here)",
                           If(CREATE_CERTIFICATE, Ref(certificate), "")),
        "WebAclArn": ("CLOUDFRONT web ACL (empty: WAF off)", If(CREATE_WEB_ACL, GetAtt(acl, "Arn"), "")),
    })
    return t
