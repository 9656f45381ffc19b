"""Who may reach what: the app port, bastion hosts and the CIDR allowed to reach them."""

from __future__ import annotations

from threetier.parameters.param import GROUP_APP, GROUP_BASTION, OCTET, Param

APP_PORT = Param(
    "AppPort",
    "Number",
    "TCP port the application listens on behind the load balancer "
    "(the reference Flask app uses 5000).",
    label="Application port",
    group=GROUP_APP,
    default="5000",
    min_value=1024,
    max_value=65535,
    constraint="A TCP port from 1024 to 65535.",
)

BASTION_COUNT = Param(
    "BastionCount",
    "String",
    "Bastion hosts in the public subnets (0, 1 or 2). 0 is the default: "
    "operators use SSM Session Manager and no SSH port is open anywhere.",
    hint="0: no SSH anywhere; use Session Manager",
    label="Bastion hosts",
    group=GROUP_BASTION,
    default="0",
    allowed_values=("0", "1", "2"),
    constraint="0, 1 or 2.",
)

ADMIN_CIDR = Param(
    "AdminCidr",
    "String",
    "The only IPv4 range allowed to SSH to the bastion hosts, e.g. your office "
    "203.0.113.0/24. Required when BastionCount is above 0; 0.0.0.0/0 is refused.",
    hint="The one range allowed to SSH in",  # the constraint text shows an example
    label="Admin CIDR for SSH to bastions",
    group=GROUP_BASTION,
    default="",
    # Any prefix but /0: SSH is never open to the whole internet.
    allowed_pattern=r"^$|^" + OCTET + r"\." + OCTET + r"\." + OCTET + r"\." + OCTET
    + r"/([1-9]|[12][0-9]|3[0-2])$",
    constraint="Empty (no bastions) or an IPv4 CIDR block such as 203.0.113.0/24; never a /0.",
)

SECURITY = (APP_PORT, BASTION_COUNT, ADMIN_CIDR)
