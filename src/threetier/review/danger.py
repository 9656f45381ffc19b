"""The danger guard: changes that can lose data or open the network to the world.

- replace: Replacement True or Conditional on a stateful resource (a new, empty
  one is created and the old one deleted, unless its UpdateReplacePolicy keeps it);
- delete: removing a stateful resource, or a whole nested stack;
- open-ingress: a security group rule that newly opens 0.0.0.0/0 or ::/0 on a
  port other than 80/443. Best effort: CloudFormation shows the rule only when
  the change set is described with property values (BeforeContext/AfterContext).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from threetier.review.changes import STACK_TYPE, Change

STATEFUL_TYPES = frozenset({
    "AWS::RDS::DBInstance",  # the primary and the read replica
    "AWS::RDS::DBCluster",
    "AWS::EFS::FileSystem",
    "AWS::SecretsManager::Secret",
    "AWS::S3::Bucket",
    "AWS::Route53::HostedZone",
    "AWS::Logs::LogGroup",
    # Replacing or removing a customer managed key schedules its deletion (7 to 30 days),
    # after which everything encrypted under it (log groups, topics) is unreadable:
    # https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
    "AWS::KMS::Key",
})

WEB_PORTS = frozenset({80, 443})
WORLD = ("0.0.0.0/0", "::/0")

# Which --allow-... option accepts each kind of danger.
ALLOW_OPTION = {
    "replace": "--allow-replacement",
    "delete": "--allow-delete",
    "open-ingress": "--allow-open-ingress",
}


@dataclass(frozen=True)
class Danger:
    kind: str  # replace, delete or open-ingress
    change: Change
    message: str

    @property
    def allow_option(self) -> str:
        return ALLOW_OPTION[self.kind]


def add_allow_options(parser) -> None:
    """The --allow-... options that accept each kind of danger (plan, deploy and diff)."""
    parser.add_argument("--allow-replacement", action="store_true",
                        help="accept replacing stateful resources (database, EFS, secrets, buckets, zones, logs, "
                             "KMS keys)")
    parser.add_argument("--allow-delete", action="store_true",
                        help="accept removing stateful resources or nested stacks")
    parser.add_argument("--allow-open-ingress", action="store_true",
                        help="accept security group rules that open a non-web port to 0.0.0.0/0")


def allowed_kinds(args) -> set[str]:
    """The kinds of danger the command line accepts."""
    return {kind for kind, option in ALLOW_OPTION.items()
            if getattr(args, option.removeprefix("--").replace("-", "_"))}


def find_dangers(changes: tuple[Change, ...] | list[Change]) -> list[Danger]:
    dangers = []
    for change in changes:
        if (change.action == "Modify" and change.replacement in ("True", "Conditional")
                and change.resource_type in STATEFUL_TYPES):
            how = "will be replaced" if change.replacement == "True" else "may be replaced"
            dangers.append(Danger("replace", change, f"{how} (Replacement: {change.replacement}); "
                                  "a new one takes its place and the data does not move over"))
        if change.action == "Remove" and change.resource_type in STATEFUL_TYPES:
            kept = f" (DeletionPolicy keeps it: {change.policy_action})" if change.policy_action in (
                "Retain", "Snapshot") else ""
            dangers.append(Danger("delete", change, f"will be removed from the stack{kept}"))
        if change.action == "Remove" and change.resource_type == STACK_TYPE:
            dangers.append(Danger("delete", change, "nested stack will be deleted with every resource in it"))
        for rule in newly_open_rules(change):
            dangers.append(Danger("open-ingress", change, f"opens {rule} to the internet"))
    return dangers


def blocking(dangers: list[Danger], allowed: set[str]) -> list[Danger]:
    """The dangers whose kind the user has not allowed."""
    return [danger for danger in dangers if danger.kind not in allowed]


def newly_open_rules(change: Change) -> list[str]:
    """Ingress rules open to the world on a non-web port after the change but not before."""
    if change.action not in ("Add", "Modify") or not change.after_context:
        return []
    before = _open_rules(change.resource_type, change.before_context)
    after = _open_rules(change.resource_type, change.after_context)
    return sorted(after - before)


def _open_rules(resource_type: str, context: str) -> set[str]:
    if not context:
        return set()
    try:
        properties = json.loads(context).get("Properties") or {}
    except (ValueError, AttributeError):
        return set()
    if resource_type == "AWS::EC2::SecurityGroup":
        rules = properties.get("SecurityGroupIngress") or []
    elif resource_type == "AWS::EC2::SecurityGroupIngress":
        rules = [properties]
    else:
        return set()
    found = set()
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        cidr = rule.get("CidrIp") or rule.get("CidrIpv6")
        if cidr in WORLD and not _web_or_icmp_only(rule):
            found.add(f"{_describe_ports(rule)} from {cidr}")
    return found


def _web_or_icmp_only(rule: dict) -> bool:
    protocol = str(rule.get("IpProtocol", "")).lower()
    if protocol in ("icmp", "1", "icmpv6", "58"):
        return True  # no ports: FromPort/ToPort are ICMP type and code
    if protocol in ("-1", "all"):
        return False
    try:
        first, last = int(rule["FromPort"]), int(rule["ToPort"])
    except (KeyError, TypeError, ValueError):
        return False  # cannot tell: treat as open
    return first == last and first in WEB_PORTS


def _describe_ports(rule: dict) -> str:
    protocol = str(rule.get("IpProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return "all traffic"
    first, last = rule.get("FromPort"), rule.get("ToPort")
    ports = f"port {first}" if str(first) == str(last) else f"ports {first}-{last}"
    return f"{protocol} {ports}"
