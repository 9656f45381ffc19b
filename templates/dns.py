"""DNS stack (only with a domain): the hosted zone, or the ACM certificates.

A DNS-validated certificate is issued only once the domain's registrar
delegates to the zone's name servers; until then CloudFormation waits on it.
A zone created in the same stack would leave that stack in CREATE_IN_PROGRESS,
while the name servers the user must give the registrar sit in an output of
the stack that has not finished. So a new domain takes two passes:

    1. HostedZoneId empty: this stack creates the zone (kept on delete) and
       outputs its name servers; no certificate, and the rest of the stacks
       run as if there were no domain yet.
    2. After delegating at the registrar (`threetier delegation ENV` checks it
       with a DNS lookup), set HostedZoneId to the zone's id: the zone leaves
       the stack (Retain keeps it) and the certificates, HTTPS and the site's
       records are created against it.

A domain whose zone already exists and is delegated starts at pass 2.
https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
(project lint rule E9003 catches a certificate validated in a zone of its own stack).

It comes before the app stack because the load balancer's HTTPS listener
needs its certificate; the records pointing at the load balancer or CloudFront
come after, in the edge stack.
"""

from __future__ import annotations

from troposphere import (
    And,
    Condition,
    Equals,
    GetAtt,
    If,
    Join,
    Not,
    Ref,
    Sub,
    Template,
    certificatemanager as acm,
    route53,
)

from threetier import parameters as P
from threetier.blocks import naming
from threetier.parameters import conditions
from threetier.parameters.conditions import HAS_HOSTED_ZONE, HAS_SUBDOMAIN, IN_US_EAST_1, USE_CLOUDFRONT

CREATE_HOSTED_ZONE = "CreateHostedZone"
CREATE_ALB_CERTIFICATE = "CreateAlbCertificate"
CREATE_SITE_CERTIFICATE = "CreateCloudFrontCertificate"


def build() -> Template:
    t = naming.new_template(
        "threetier DNS: public hosted zone (new or existing) and DNS-validated ACM "
        "certificates for the load balancer and CloudFront"
    )
    P.use(t, P.DOMAIN_NAME, P.SITE_SUBDOMAIN, P.HOSTED_ZONE_ID, P.CLOUDFRONT_ENABLED,
          P.CLOUDFRONT_CERTIFICATE_ARN, P.ALB_CERTIFICATE_ARN)
    conditions.add(t, HAS_SUBDOMAIN, USE_CLOUDFRONT, IN_US_EAST_1, HAS_HOSTED_ZONE)
    t.add_condition(CREATE_HOSTED_ZONE, Not(Condition(HAS_HOSTED_ZONE)))
    t.add_condition(CREATE_ALB_CERTIFICATE, And(
        Condition(HAS_HOSTED_ZONE), Equals(Ref(P.ALB_CERTIFICATE_ARN.name), "")))
    # CloudFront takes certificates from us-east-1 only: elsewhere the user
    # brings one (CloudFrontCertificateArn, checked by a root Rule).
    t.add_condition(CREATE_SITE_CERTIFICATE, And(
        Condition(HAS_HOSTED_ZONE), Condition(USE_CLOUDFRONT), Condition(IN_US_EAST_1),
        Equals(Ref(P.CLOUDFRONT_CERTIFICATE_ARN.name), ""),
    ))

    zone = t.add_resource(
        route53.HostedZone(
            "HostedZone",
            Condition=CREATE_HOSTED_ZONE,
            # The registrar delegates to this zone's name servers: a new zone
            # would break the domain until the delegation is changed.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            Name=Ref(P.DOMAIN_NAME.name),
            HostedZoneConfig=route53.HostedZoneConfiguration(
                Comment=Sub("${ProjectName}-${EnvironmentName} public zone")
            ),
            HostedZoneTags=naming.tags("zone"),
        )
    )
    # Certificates validate only in the existing, delegated zone, never in the one created here.
    existing_zone = Ref(P.HOSTED_ZONE_ID.name)

    # The load balancer answers for the site (when users reach it directly)
    # and for the origin name CloudFront uses.
    alb_certificate = t.add_resource(
        acm.Certificate(
            "AlbCertificate",
            Condition=CREATE_ALB_CERTIFICATE,
            DomainName=naming.site_name(),
            SubjectAlternativeNames=[naming.origin_name()],
            ValidationMethod="DNS",
            DomainValidationOptions=[
                acm.DomainValidationOption(DomainName=naming.site_name(), HostedZoneId=existing_zone),
                acm.DomainValidationOption(DomainName=naming.origin_name(), HostedZoneId=existing_zone),
            ],
            Tags=naming.tags("alb-certificate"),
        )
    )
    site_certificate = t.add_resource(
        acm.Certificate(
            "CloudFrontCertificate",
            Condition=CREATE_SITE_CERTIFICATE,
            DomainName=naming.site_name(),
            ValidationMethod="DNS",
            DomainValidationOptions=[
                acm.DomainValidationOption(DomainName=naming.site_name(), HostedZoneId=existing_zone),
            ],
            Tags=naming.tags("cloudfront-certificate"),
        )
    )

    outputs = {
        "ZoneId": ("Hosted zone of the domain", If(CREATE_HOSTED_ZONE, Ref(zone), existing_zone)),
        "NameServers": ("Name servers to delegate to at the registrar (empty for an existing zone)",
                        If(CREATE_HOSTED_ZONE, Join(",", GetAtt(zone, "NameServers")), "")),
        "SiteName": ("Host name users visit", naming.site_name()),
        "AlbCertificateArn": ("Certificate of the load balancer's HTTPS listener",
                              If(CREATE_ALB_CERTIFICATE, Ref(alb_certificate), Ref(P.ALB_CERTIFICATE_ARN.name))),
        "SiteCertificateArn": ("CloudFront certificate (us-east-1) for the site name",
                               If(CREATE_SITE_CERTIFICATE, Ref(site_certificate),
                                  Ref(P.CLOUDFRONT_CERTIFICATE_ARN.name))),
    }
    naming.add_outputs(t, outputs)
    return t
