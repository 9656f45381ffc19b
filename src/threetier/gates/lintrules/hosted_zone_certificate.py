"""E9003: a DNS-validated certificate must not validate in a hosted zone the same stack creates.

ACM issues the certificate once the validation CNAME resolves on the public
internet. A hosted zone created in the same stack answers only after the
registrar delegates the domain to the zone's name servers, and the user can
read those only from a stack that sits in CREATE_IN_PROGRESS waiting for the
certificate, until it times out and rolls back (deleting the zone).
https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-certificatemanager-certificate.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, literal_texts


class HostedZoneCertificate(CloudFormationLintRule):
    id = "E9003"
    shortdesc = "DNS-validated certificate in a hosted zone of the same stack"
    description = (
        "An AWS::CertificateManager::Certificate validated by DNS must not name, as HostedZoneId, an "
        "AWS::Route53::HostedZone created in the same template: the stack waits for a delegation the "
        "user can only set up once the zone's name servers are known."
    )
    source_url = "https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html"
    tags = ["resources", "certificatemanager", "route53"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        zones = {name for name, _ in view.resources_of_type("AWS::Route53::HostedZone")}
        matches = []
        for cert_name, _ in view.resources_of_type("AWS::CertificateManager::Certificate"):
            properties = view.properties(cert_name)
            # Without ValidationMethod, ACM validates by email: no hosted zone involved.
            if "DNS" not in literal_texts(view.values(properties.get("ValidationMethod"))):
                continue
            options_path = ["Resources", cert_name, "Properties", "DomainValidationOptions"]
            for option, option_path in view.items(properties.get("DomainValidationOptions"), options_path):
                if not isinstance(option, dict):
                    continue
                zone_path = [*option_path, "HostedZoneId"]
                for zone_id, path in view.branches(option.get("HostedZoneId"), zone_path):
                    for zone in sorted(view.referenced_resources(zone_id) & zones):
                        matches.append(RuleMatch(path, _message(cert_name, zone, option.get("DomainName"))))
        return matches


def _message(cert: str, zone: str, domain) -> str:
    for_domain = f" for {domain}" if isinstance(domain, str) else ""
    return (
        f"{cert} is validated by DNS{for_domain} in hosted zone {zone}, which this same template creates: "
        f"ACM waits until the validation record resolves publicly, which a new zone does only after the "
        f"registrar delegates the domain to its name servers, and those can only be read from this stack "
        f"while it sits in CREATE_IN_PROGRESS (it waits until the certificate times out and rolls back). "
        f"Fix: create the hosted zone first (a separate stack, or a first deploy without the certificate), "
        f"delegate the domain to its name servers, then create the certificate against the existing zone "
        f"id (e.g. a parameter of type AWS::Route53::HostedZone::Id)."
    )
