"""Conditions that more than one stack asks, each defined once.

A stack adds the ones it uses with `add(t, NAME, ...)`; the root's Rules reuse
the same expressions through `expression(NAME)`.
"""

from __future__ import annotations

from troposphere import And, Condition, Equals, Not, Ref, Template

from threetier import parameters as P

USE_THREE_AZS = "UseThreeAzs"
HAS_BASTIONS = "HasBastions"
HAS_DOMAIN = "HasDomain"
USE_CLOUDFRONT = "UseCloudFront"
# CloudFront on and the load balancer closed to everyone else (parameters/edge.py CloudFrontOnly).
CLOUDFRONT_ONLY = "AlbAnswersCloudFrontOnly"
IN_US_EAST_1 = "InUsEast1"
HAS_SUBDOMAIN = "HasSubdomain"
USE_NAT_PER_AZ = "UseNatPerAz"
CREATE_NAT_GATEWAY_3 = "CreateNatGateway3"
HAS_READ_REPLICA = "HasReadReplica"
# A domain whose hosted zone exists and is delegated: the certificates, HTTPS and
# the site's records need it. A domain without HostedZoneId only gets its zone
# created (first pass), see templates/dns.py.
HAS_HOSTED_ZONE = "HasHostedZone"
HAS_ORIGIN_VERSION = "HasOriginVerifySecretVersion"
HAS_PREVIOUS_ORIGIN_VERSION = "HasPreviousOriginVerifySecretVersion"
DOMAIN_READY = "DomainReady"
HAS_CPU_CREDITS = "HasCpuCredits"
HAS_PERMISSIONS_BOUNDARY = "HasPermissionsBoundary"
# An AWS Backup plan (templates/backup.py) exists: BackupRegion names the copies' region.
HAS_BACKUP = "HasBackup"

_DEFINITIONS = {
    USE_THREE_AZS: lambda: Equals(Ref(P.NUMBER_OF_AZS.name), "3"),
    HAS_BASTIONS: lambda: Not(Equals(Ref(P.BASTION_COUNT.name), "0")),
    HAS_DOMAIN: lambda: Not(Equals(Ref(P.DOMAIN_NAME.name), "")),
    USE_CLOUDFRONT: lambda: Equals(Ref(P.CLOUDFRONT_ENABLED.name), "true"),
    CLOUDFRONT_ONLY: lambda: And(Equals(Ref(P.CLOUDFRONT_ENABLED.name), "true"),
                                 Equals(Ref(P.CLOUDFRONT_ONLY.name), "true")),
    IN_US_EAST_1: lambda: Equals(Ref("AWS::Region"), "us-east-1"),
    HAS_SUBDOMAIN: lambda: Not(Equals(Ref(P.SITE_SUBDOMAIN.name), "")),
    USE_NAT_PER_AZ: lambda: Equals(Ref(P.SINGLE_NAT_GATEWAY.name), "false"),
    # Needs UseNatPerAz and UseThreeAzs added to the template too.
    CREATE_NAT_GATEWAY_3: lambda: And(Condition(USE_NAT_PER_AZ), Condition(USE_THREE_AZS)),
    HAS_READ_REPLICA: lambda: Equals(Ref(P.DB_REPLICA_ENABLED.name), "true"),
    HAS_HOSTED_ZONE: lambda: Not(Equals(Ref(P.HOSTED_ZONE_ID.name), "")),
    HAS_ORIGIN_VERSION: lambda: Not(Equals(Ref(P.ORIGIN_VERIFY_VERSION.name), "")),
    HAS_PREVIOUS_ORIGIN_VERSION: lambda: Not(Equals(Ref(P.ORIGIN_VERIFY_PREVIOUS_VERSION.name), "")),
    HAS_CPU_CREDITS: lambda: Not(Equals(Ref(P.CPU_CREDITS.name), "")),
    HAS_PERMISSIONS_BOUNDARY: lambda: Not(Equals(Ref(P.PERMISSIONS_BOUNDARY_ARN.name), "")),
    HAS_BACKUP: lambda: Not(Equals(Ref(P.BACKUP_REGION.name), "")),
    # Self-contained (no Condition references), so root Rules can use it too.
    DOMAIN_READY: lambda: And(Not(Equals(Ref(P.DOMAIN_NAME.name), "")),
                              Not(Equals(Ref(P.HOSTED_ZONE_ID.name), ""))),
}


def expression(name: str):
    return _DEFINITIONS[name]()


def add(t: Template, *names: str) -> None:
    for name in names:
        t.add_condition(name, expression(name))
