"""DNS stack (only with a domain): hosted zone and ACM certificates.

It comes before the app stack because the load balancer's HTTPS listener
needs its certificate; the records pointing at the load balancer or CloudFront
come after, in the edge stack.
"""

from __future__ import annotations

from troposphere import And, Condition, Equals, GetAtt, If, Join, Ref, Sub, Template
from troposphere import certificatemanager as acm
from troposphere import route53

from threetier import conditions, naming
from threetier import parameters as P
from threetier.conditions import HAS_SUBDOMAIN, IN_US_EAST_1, USE_CLOUDFRONT

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
    conditions.add(t, HAS_SUBDOMAIN, USE_CLOUDFRONT, IN_US_EAST_1)
    t.add_condition(CREATE_HOSTED_ZONE, Equals(Ref(P.HOSTED_ZONE_ID.name), ""))
    t.add_condition(CREATE_ALB_CERTIFICATE, Equals(Ref(P.ALB_CERTIFICATE_ARN.name), ""))
    # CloudFront takes certificates from us-east-1 only: elsewhere the user
    # brings one (CloudFrontCertificateArn, checked by a root Rule).
    t.add_condition(CREATE_SITE_CERTIFICATE, And(
        Condition(USE_CLOUDFRONT), Condition(IN_US_EAST_1),
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
    zone_id = If(CREATE_HOSTED_ZONE, Ref(zone), Ref(P.HOSTED_ZONE_ID.name))

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
                acm.DomainValidationOption(DomainName=naming.site_name(), HostedZoneId=zone_id),
                acm.DomainValidationOption(DomainName=naming.origin_name(), HostedZoneId=zone_id),
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
                acm.DomainValidationOption(DomainName=naming.site_name(), HostedZoneId=zone_id),
            ],
            Tags=naming.tags("cloudfront-certificate"),
        )
    )

    outputs = {
        "ZoneId": ("Hosted zone of the domain", zone_id),
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
