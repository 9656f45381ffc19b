"""`threetier delegation ENV`: does the registrar delegate the domain to the stack's hosted zone yet?

A new domain takes two passes (templates/dns.py): the first deploy creates the
hosted zone; the user points the registrar at its name servers; once DNS shows
that delegation, HostedZoneId is set and the second deploy creates the
DNS-validated certificates, which ACM issues only once the delegation is seen.
https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/migrate-dns-domain-in-use.html

This command compares the zone's name servers (Route 53) with the NS records
public DNS answers for the domain.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from threetier import emit, parameters as P
from threetier.deploy import changeset, settings
from threetier.deploy.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, AwsError, InputError
from threetier.deploy.inputs import load_values, stack_name_for
from threetier.deploy.session import RETRIES, add_aws_options, make_session

DNS_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Resolver:
    """Where to ask: the system's resolver (address None) or one server."""

    address: str | None = None
    port: int = 53


@dataclass(frozen=True)
class Delegation:
    domain: str
    zone_id: str
    zone_servers: tuple[str, ...]
    published: tuple[str, ...]

    @property
    def delegated(self) -> bool:
        return bool(self.published) and set(self.published) == set(self.zone_servers)


def add_command(commands) -> None:
    aws = argparse.ArgumentParser(add_help=False)
    add_aws_options(aws)
    command = commands.add_parser(
        "delegation", parents=[aws],
        help="check that DNS delegates DomainName to the stack's hosted zone (before HostedZoneId is set)",
        description="Compare the name servers of the domain's hosted zone (HostedZoneId from "
                    "parameters/ENV.json, else the one the stack created) with the NS records public DNS "
                    "answers for DomainName. Exit codes: 0 delegated, 1 not yet (or DNS could not say), "
                    "2 bad input.",
    )
    command.add_argument("env", metavar="ENV", help="environment: its values are in parameters/ENV.json")
    command.add_argument("--stack-name", help="default: <ProjectName>-<EnvironmentName> from parameters/ENV.json")
    command.add_argument("--resolver", metavar="ADDRESS[:PORT]",
                         help="DNS server to ask (default: the system's resolver)")
    command.set_defaults(run=run_delegation)


def run_delegation(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    try:
        # The environment's region and credentials (threetier.toml), as every command for it uses.
        settings.apply(args, settings.load(project, args.env))
        path, values = load_values(project, args.env)
        domain = values.get(P.DOMAIN_NAME.name, "")
        if not domain:
            raise InputError(f"{path}: DomainName is empty: there is no domain to delegate")
        stack_name = stack_name_for(values, path, args.stack_name)
        resolver = parse_resolver(args.resolver)
        route53, cloudformation = _clients(args)
    except InputError as error:
        print(f"threetier delegation: {error}", file=sys.stderr)
        return EXIT_USAGE

    given_zone = values.get(P.HOSTED_ZONE_ID.name, "")
    try:
        zone_id = given_zone or zone_of_stack(cloudformation, stack_name)
        zone_servers = zone_name_servers(route53, zone_id)
    except LookupError as error:
        print(f"threetier delegation: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except (ClientError, BotoCoreError, NoCredentialsError, AwsError) as error:
        print(f"threetier delegation: AWS refused the lookup: {error}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        published = published_name_servers(domain, resolver)
    except LookupError as error:
        print(f"threetier delegation: {error}", file=sys.stderr)
        return EXIT_FAILURE

    result = Delegation(domain, zone_id, tuple(zone_servers), tuple(published))
    print(report(result, path.name, args.env, zone_given=bool(given_zone)))
    return EXIT_OK if result.delegated else EXIT_FAILURE


def report(result: Delegation, file_name: str, env: str, zone_given: bool) -> str:
    zone = f"hosted zone {result.zone_id} ({', '.join(sorted(result.zone_servers))})"
    if not result.delegated:
        return "\n".join([
            f"{result.domain} is not delegated to {result.zone_id} yet.",
            f"  public DNS answers: {', '.join(sorted(result.published)) or 'no NS records'}",
            f"  the zone's name servers: {', '.join(sorted(result.zone_servers))}",
            "At your registrar, set the domain's name servers to exactly the zone's, then run this again "
            "(resolvers may keep the old answer for up to 48 hours).",
        ])
    if zone_given:
        return f"{result.domain} is delegated to {zone}: its certificates can be validated."
    return "\n".join([
        f"{result.domain} is delegated to {zone}.",
        f"Next: set HostedZoneId to {result.zone_id} in parameters/{file_name} and run "
        f"`threetier plan {env}`. The zone leaves the stack (its DeletionPolicy Retain keeps it, so plan "
        "asks for --allow-delete) and the certificates, HTTPS and the site's records are created in it.",
    ])


def parse_resolver(text: str | None) -> Resolver:
    if not text:
        return Resolver()
    address, _, port = text.partition(":")
    if not address or (port and not port.isdigit()):
        raise InputError(f"--resolver {text!r}: give an IP address, optionally with :PORT (e.g. 1.1.1.1:53)")
    return Resolver(address, int(port) if port else 53)


def zone_of_stack(cloudformation, stack_name: str) -> str:
    """The HostedZoneId output of the deployed root stack (the zone its first pass created)."""
    stack = changeset.describe_stack(cloudformation, stack_name)
    if stack is None:
        raise LookupError(
            f"stack {stack_name} does not exist: deploy the first pass (DomainName set, HostedZoneId "
            "empty) to create the zone, or set HostedZoneId to an existing zone")
    zone_id = changeset.outputs(stack).get("HostedZoneId", "")
    if not zone_id:
        raise LookupError(f"stack {stack_name} has no hosted zone yet (its HostedZoneId output is empty): "
                          "deploy it with DomainName set first")
    return zone_id


def zone_name_servers(route53, zone_id: str) -> list[str]:
    zone = route53.get_hosted_zone(Id=zone_id)
    servers = (zone.get("DelegationSet") or {}).get("NameServers") or []
    if not servers:
        raise LookupError(f"hosted zone {zone_id} has no delegation set: is it a private zone?")
    return [_normal(server) for server in servers]


def published_name_servers(domain: str, resolver: Resolver) -> list[str]:
    """The NS records DNS answers for `domain`; LookupError says why there are none."""
    import dns.exception
    import dns.resolver

    ask = dns.resolver.Resolver(configure=resolver.address is None)
    if resolver.address is not None:
        ask.nameservers = [resolver.address]
        ask.port = resolver.port
    ask.lifetime = DNS_TIMEOUT_SECONDS
    try:
        answer = ask.resolve(domain, "NS")
    except dns.resolver.NXDOMAIN:
        raise LookupError(f"{domain} does not exist in DNS: register it first") from None
    except dns.resolver.NoAnswer:
        return []
    except (dns.resolver.NoNameservers, dns.exception.Timeout) as error:
        raise LookupError(f"DNS could not answer for {domain}: {error}") from None
    return [_normal(record.target.to_text()) for record in answer]


def _normal(name: str) -> str:
    return name.rstrip(".").lower()


def _clients(args: argparse.Namespace):
    session = make_session(args.region, args.profile, settings.assumed_role(args), args.endpoint_url)
    return (session.client("route53", endpoint_url=args.endpoint_url, config=RETRIES),
            session.client("cloudformation", endpoint_url=args.endpoint_url, config=RETRIES))
