"""Names, tags and the template skeleton every stack shares."""

from __future__ import annotations

from troposphere import If, Output, Ref, Sub, Tags, Template

from threetier import parameters as P
from threetier.parameters.conditions import HAS_SUBDOMAIN

TEMPLATE_VERSION = "2010-09-09"


def new_template(description: str, root: bool = False) -> Template:
    """An empty template with the project and environment parameters every stack tags with."""
    t = Template(Description=description)
    t.set_version(TEMPLATE_VERSION)
    P.use(t, *P.PROJECT, root=root)
    return t


# The database instances' identifiers, `name(...)` of these: the data stack sets them, and the
# monitoring stack names them in its alarms without taking them from the root (the root's size).
DB_INSTANCE = "db"
DB_REPLICA = "db-replica"


def name(thing: str) -> Sub:
    """`<project>-<environment>-<thing>`, resolved at deploy time."""
    return Sub(f"${{{P.PROJECT_NAME.name}}}-${{{P.ENVIRONMENT_NAME.name}}}-{thing}")


def tags(thing: str | None = None, **extra: object) -> Tags:
    """Project and Environment tags, plus Name=<project>-<env>-<thing> when a thing is named."""
    values: dict[str, object] = {}
    if thing is not None:
        values["Name"] = name(thing)
    values["Project"] = Ref(P.PROJECT_NAME.name)
    values["Environment"] = Ref(P.ENVIRONMENT_NAME.name)
    values.update(extra)
    return Tags(**values)



def site_name() -> If:
    """The host name users visit: <SiteSubdomain>.<DomainName>, or the apex. Needs HasSubdomain."""
    return If(HAS_SUBDOMAIN, Sub("${SiteSubdomain}.${DomainName}"), Ref(P.DOMAIN_NAME.name))


def origin_name() -> Sub:
    """The host name CloudFront uses to reach the load balancer over HTTPS: origin.<site name>.

    Derived from the site, which is one per environment in a zone, so a second
    environment in the same zone gets its own (one origin.<domain> for all would
    fail that environment's alias record with "already exists"). Needs HasSubdomain.
    """
    return Sub("origin.${Site}", Site=site_name())


def add_outputs(t: Template, outputs: dict[str, tuple[str, object]]) -> None:
    """Add outputs given as {name: (description, value)}, in that order."""
    for name, (description, value) in outputs.items():
        t.add_output(Output(name, Description=description, Value=value))
