"""Environments of one project that share a domain: the names each claims, checked across
parameters/*.json before any AWS call (`validate`, `diff`, `plan`, `deploy`).

With a DomainName an environment claims two host names, the site (<SiteSubdomain>.<DomainName>,
or the apex) and CloudFront's origin name (origin.<site>, blocks/naming.py), and with an empty
HostedZoneId its stack creates the domain's hosted zone. Two environments that claim one name
fail on it: the second stack's record already exists in the zone, and CloudFront refuses an
alias another distribution has. Two that both create the zone succeed, which is worse: Route 53
makes a second zone of the same name, and only the one the registrar delegates to is ever asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from threetier import parameters as P
from threetier.parameters import paramfile
from threetier.parameters.evaluate import with_defaults
from threetier.parameters.validate import Problem

# "Tried to create resource record set ... but it already exists" (the CREATE action).
RECORD_PAGE = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html"
# "You can't add an alternate domain name to a CloudFront distribution if the alternate domain
# name already exists in another CloudFront distribution" (CNAMEAlreadyExists).
ALIAS_PAGE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/CNAMEs.html"
# "You can create a hosted zone that has the same name as an existing hosted zone" (a new zone
# gets its own name servers; only the delegated one answers).
ZONE_PAGE = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html"
PRODUCTION = "prod"  # parameters/prod.json: the environment whose site name is kept
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Claim:
    """What one environment's values claim in DNS."""

    file: str  # parameters/ENV.json
    env: str
    domain: str
    subdomain: str
    zone_id: str

    @property
    def site(self) -> str:
        return f"{self.subdomain}.{self.domain}" if self.subdomain else self.domain

    @property
    def names(self) -> tuple[str, str]:
        """The site's record and CloudFront alias, and the origin record CloudFront reaches the load balancer at."""
        return self.site, f"origin.{self.site}"

    @property
    def creates_zone(self) -> bool:
        return not self.zone_id


def claim(env: str, values: dict[str, str], declared: dict) -> Claim | None:
    """The DNS claim of parameters/ENV.json's values (template defaults filled in); None without a domain."""
    filled = with_defaults(values, declared)
    domain = filled.get(P.DOMAIN_NAME.name, "").lower().rstrip(".")
    if not domain:
        return None
    return Claim(f"parameters/{env}.json", env, domain, filled.get(P.SITE_SUBDOMAIN.name, "").lower(),
                 filled.get(P.HOSTED_ZONE_ID.name, ""))


def problems(env: str, values: dict[str, str], others: dict[str, dict[str, str]], declared: dict) -> list[Problem]:
    """Errors for parameters/ENV.json against the other environments' values ({env: values})."""
    mine = claim(env, values, declared)
    if mine is None:
        return []
    theirs = [c for other, other_values in sorted(others.items()) if other != env
              for c in [claim(other, other_values, declared)] if c is not None]
    found = [_name_problem(mine, other, theirs) for other in theirs if set(mine.names) & set(other.names)]
    zone = _zone_problem(mine, [other for other in theirs if other.domain == mine.domain])
    return found[:1] + ([zone] if zone else [])


def project_problems(project: Path, env: str, values: dict[str, str], declared: dict) -> list[Problem]:
    """`problems` against every other parameters/*.json of the project (one that cannot be read is
    left to its own validation)."""
    others = {}
    for other in paramfile.environments(project):
        if other == env:
            continue
        try:
            others[other] = paramfile.load_env(project, other)[1]
        except paramfile.ParameterFileError:
            continue
    return problems(env, values, others, declared)


def _name_problem(mine: Claim, other: Claim, everyone: list[Claim]) -> Problem:
    shared = " and ".join(name for name in mine.names if name in other.names)
    # Production keeps its name (www by default); the other environment moves.
    moves = other if mine.env == PRODUCTION else mine
    return Problem(
        P.SITE_SUBDOMAIN.name, mine.subdomain,
        f"{mine.file} and {other.file} both claim {shared} (the site's record and CloudFront alias, and "
        f"origin.<site>, CloudFront's way to the load balancer): the second stack fails on the record "
        f"({RECORD_PAGE}) and CloudFront refuses an alias another distribution has ({ALIAS_PAGE}). "
        f"Give each environment its own SiteSubdomain (one DNS label, not origin), e.g. "
        f"SiteSubdomain={_free_label(moves, everyone + [mine])} in {moves.file}",
        related=(P.DOMAIN_NAME.name,),
    )


def _zone_problem(mine: Claim, same_domain: list[Claim]) -> Problem | None:
    """An empty HostedZoneId beside another environment of the same domain (a second zone), or two
    environments naming different zones for one domain."""
    if not same_domain:
        return None
    other = next((c for c in same_domain if c.creates_zone), same_domain[0])
    name = P.HOSTED_ZONE_ID.name
    if mine.creates_zone and other.creates_zone:
        return Problem(name, "", f"{mine.file} and {other.file} both have DomainName={mine.domain} and an empty "
                       f"HostedZoneId: each stack would create a hosted zone for {mine.domain}, and Route 53 "
                       f"makes a second zone of the same name that the registrar does not delegate to "
                       f"({ZONE_PAGE}). Let one environment create the zone (its stack's HostedZoneId output), "
                       f"then set HostedZoneId to that zone's id in the other", related=(P.DOMAIN_NAME.name,))
    if mine.creates_zone:
        return Problem(name, "", f"empty with DomainName={mine.domain}: this stack would create a second hosted "
                       f"zone for {mine.domain}, which {other.file} already uses as HostedZoneId={other.zone_id} "
                       f"({ZONE_PAGE}). Set HostedZoneId={other.zone_id} in {mine.file}",
                       related=(P.DOMAIN_NAME.name,))
    differing = next((c for c in same_domain if not c.creates_zone and c.zone_id != mine.zone_id), None)
    if differing is None:
        return None
    return Problem(name, mine.zone_id, f"{differing.file} has HostedZoneId={differing.zone_id} for the same "
                   f"DomainName={mine.domain}: only one of the two zones is the one the registrar delegates to, "
                   f"and certificates validated in the other never issue ({ZONE_PAGE}). Use the delegated "
                   f"zone's id in both files", related=(P.DOMAIN_NAME.name,))


def _free_label(moving: Claim, everyone: list[Claim]) -> str:
    """A SiteSubdomain for `moving` that no other environment's names use: its environment name when
    that is a DNS label (dev gives dev.example.com), else `site`, numbered when taken."""
    taken = {name for claim_ in everyone if claim_ is not moving for name in claim_.names}
    env = moving.env.lower()
    base = env if _LABEL.match(env) and env != "origin" else "site"
    label, number = base, 1
    while {f"{label}.{moving.domain}", f"origin.{label}.{moving.domain}"} & taken:
        number += 1
        label = f"{base}-{number}"
    return label
