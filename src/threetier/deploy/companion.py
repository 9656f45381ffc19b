"""The us-east-1 companion stack of an environment in another region: whether it needs one, what the
companion is sent, and what its outputs hand the main stack.

CloudFront takes its viewer certificate from ACM in us-east-1 only, and a CLOUDFRONT-scoped web ACL
is created in us-east-1 only; a nested stack is created in its parent's region. So an environment
elsewhere with CloudFront and a domain (or WAF) gets a stack of its own in us-east-1,
output/edge-us-east-1.yaml (templates/edge_us_east_1.py), deployed before the main stack, whose
outputs reach it as CloudFrontCertificateArn and WebAclArn.
https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html

The main stack must be updated before the companion is deleted: ACM refuses to delete a certificate
a distribution uses (https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html),
and WAF a web ACL still associated with one
(https://docs.aws.amazon.com/waf/latest/APIReference/API_DeleteWebACL.html).
"""

from __future__ import annotations

from dataclasses import dataclass

from threetier import parameters as P
from threetier.deploy import changeset
from threetier.parameters import validate
from threetier.parameters.evaluate import with_defaults

REGION = validate.COMPANION_REGION
TEMPLATE = validate.COMPANION_TEMPLATE
# <ProjectName>-<EnvironmentName>-edge: the project's stack names, which the caller policy allows.
SUFFIX = "-edge"
# What the companion template is sent from the environment's values, besides its switches.
SHARED = (P.PROJECT_NAME.name, P.ENVIRONMENT_NAME.name, P.DOMAIN_NAME.name, P.SITE_SUBDOMAIN.name,
          P.HOSTED_ZONE_ID.name)


@dataclass(frozen=True)
class Need:
    """The companion an environment needs: its stack, the values it is sent, the main stack's
    parameters its outputs fill (CloudFrontCertificateArn, WebAclArn)."""

    stack_name: str
    parameters: dict[str, str]
    fills: tuple[str, ...]


def stack_name(main_stack: str) -> str:
    return main_stack + SUFFIX


def need(template: dict, values: dict[str, str], region: str | None, main_stack: str) -> Need | None:
    """The companion the values need in `region`, or None: in us-east-1, where the template has no
    place for its outputs, without CloudFront, or when the file sets both ARNs itself."""
    declared = template.get("Parameters") or {}
    if not validate.companion_fills(declared, region):
        return None
    fills = validate.companion_needs(validate.Inputs(declared=declared, given=dict(values), region=region))
    if not fills:
        return None
    given = with_defaults(values, declared)
    sent = {name: given.get(name, "") for name in SHARED}
    sent[P.COMPANION_CERTIFICATE.name] = _flag(P.CLOUDFRONT_CERTIFICATE_ARN.name in fills)
    sent[P.WAF_ENABLED.name] = _flag(P.WEB_ACL_ARN.name in fills)
    return Need(stack_name(main_stack), sent, tuple(sorted(fills)))


def handed_over(found: Need, stack: dict | None) -> dict[str, str] | None:
    """{main-stack parameter: the companion's output} for every value it fills, or None while the
    companion stack lacks one (not created yet, or created without it)."""
    outputs = changeset.outputs(stack) if stack else {}
    values = {name: outputs.get(validate.COMPANION_OUTPUTS[name], "") for name in found.fills}
    return values if all(values.values()) else None


def _flag(on: bool) -> str:
    return "true" if on else "false"
