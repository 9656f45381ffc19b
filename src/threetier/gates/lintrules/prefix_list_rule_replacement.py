"""E9011: a security group ingress rule that names a prefix list must never be replaced by an update.

A rule that references a prefix list counts as the list's weight against the
group's rule quota (an AWS-managed list's published weight, a customer-managed
list's MaxEntries): com.amazonaws.global.cloudfront.origin-facing weighs 55,
and the default quota is 60 inbound rules. IpProtocol, FromPort, ToPort and
SourcePrefixListId of an AWS::EC2::SecurityGroupIngress are create-only, and
CloudFormation creates the replacement before it deletes the old rule: for a
moment the group holds both references, 110 > 60, and the update fails
(RulesPerSecurityGroupLimitExceeded). The same happens when two rules name the
same list in one group, together or as an update swaps one for the other.

Flagged, on a rule whose SourcePrefixListId is set:
- IpProtocol, FromPort, ToPort or SourcePrefixListId that depends on a
  parameter or a condition (a Ref to a parameter, Fn::If on a condition that
  reads one, Fn::FindInMap keyed by one, Fn::Sub of one): a value that can
  change on an update. Pseudo parameters (Fn::FindInMap keyed by AWS::Region)
  and resources stay the same for the life of a stack. SourcePrefixListId may
  be a plain Ref to a parameter: that is one list, whose id differs per region
  and so has to come in from outside;
- a second rule naming the same list in the same group (standalone or inline).

Not judged: the weight (a template does not say which list an id is, so every
list is taken to be as heavy as CloudFront's), and inline rules' own values:
the schema makes them updatable in place on AWS::EC2::SecurityGroup, and the
order in which its handler authorizes and revokes is not documented.
https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html#aws-managed-prefix-list-weights
https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.facts.securitygroups import INBOUND_RULES_PER_GROUP, MANAGED_PREFIX_LIST_WEIGHTS
from threetier.gates.lintrules._helpers import TemplateView, intrinsic, sub_parts, sub_placeholders

INGRESS = "AWS::EC2::SecurityGroupIngress"
GROUP = "AWS::EC2::SecurityGroup"
LIST = "SourcePrefixListId"
PORT_PROPERTIES = ("IpProtocol", "FromPort", "ToPort")  # create-only, as LIST and GroupId are
CLOUDFRONT_WEIGHT = MANAGED_PREFIX_LIST_WEIGHTS["com.amazonaws.global.cloudfront.origin-facing"]
WEIGHT = (f"com.amazonaws.global.cloudfront.origin-facing weighs {CLOUDFRONT_WEIGHT} rules: two references count "
          f"{2 * CLOUDFRONT_WEIGHT} against the default quota of {INBOUND_RULES_PER_GROUP} inbound rules")


class PrefixListRuleReplacement(CloudFormationLintRule):
    id = "E9011"
    shortdesc = "Prefix-list ingress rule that an update can replace, or a list named twice in a group"
    description = (
        "An AWS::EC2::SecurityGroupIngress with SourcePrefixListId must keep its create-only IpProtocol, "
        "FromPort, ToPort and SourcePrefixListId from depending on a parameter or a condition (the list may be "
        "a plain Ref to a parameter), and a group must name a prefix list once: each reference counts the "
        "list's weight against the group's rule quota."
    )
    source_url = ("https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html"
                  "#aws-managed-prefix-list-weights")
    tags = ["resources", "ec2", "securitygroup", "quota"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        matches = []
        for rule, _ in view.resources_of_type(INGRESS):
            properties = view.properties(rule)
            if LIST not in properties:
                continue
            path = ["Resources", rule, "Properties"]
            for name in (*PORT_PROPERTIES, LIST):
                node = properties.get(name)
                if name == LIST and view.parameter(view.ref_target(node)) is not None:
                    continue  # one list, its id given for the region the stack is in
                reason = _varying(view, node)
                if reason:
                    matches.append(RuleMatch([*path, name], _changing_message(rule, name, reason)))
        matches.extend(_named_twice(view))
        return matches


def _varying(view: TemplateView, node: Any, seen: tuple = ()) -> str | None:
    """Why `node` can take another value on an update (a parameter, or a condition that reads
    one), or None. Pseudo parameters and resources stay the same for the life of a stack."""
    if isinstance(node, dict) and list(node) == ["Condition"]:
        return _condition_varying(view, node["Condition"], seen)
    fn = intrinsic(node)
    if fn is None:
        children = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else []
        return next(filter(None, (_varying(view, child, seen) for child in children)), None)
    name, args = fn
    if name == "Ref":
        return f"Ref {args}, a parameter" if view.parameter(args) is not None else None
    if name == "Fn::If" and isinstance(args, list) and len(args) == 3:
        if _condition_varying(view, args[0], seen):
            return f"Fn::If on the condition {args[0]}"
        return _varying(view, args[1:], seen)
    if name == "Fn::Sub":
        text, variables = sub_parts(args)
        named = [n for n in sub_placeholders(text) if n not in variables and view.parameter(n) is not None]
        return f"Fn::Sub of the parameter {named[0]}" if named else _varying(view, variables, seen)
    inner = _varying(view, args, seen)
    return f"{name} keyed by {inner}" if inner and name == "Fn::FindInMap" else f"{name} of {inner}" if inner else None


def _condition_varying(view: TemplateView, name: Any, seen: tuple) -> str | None:
    if not isinstance(name, str) or name in seen:
        return None
    return _varying(view, view.conditions.get(name), (*seen, name))


def _named_twice(view: TemplateView) -> list[RuleMatch]:
    """A second reference to a list in a group that already names it."""
    seen: list[tuple[frozenset, frozenset, str]] = []
    matches = []
    for owner, group, lists, path in _references(view):
        first = next((name for g, l, name in seen if g & group and l & lists), None)
        if first is not None:
            matches.append(RuleMatch(path, _twice_message(owner, first)))
        seen.append((group, lists, owner))
    return matches


def _references(view: TemplateView):
    """(rule, group identity, list identity, path) for each rule naming a prefix list, inline ones too."""
    for group, _ in view.resources_of_type(GROUP):
        base = ["Resources", group, "Properties", "SecurityGroupIngress"]
        for index, (item, path) in enumerate(view.items(view.properties(group).get("SecurityGroupIngress"), base)):
            if isinstance(item, dict) and LIST in item:
                yield (f"{group} (inline rule {index + 1})", frozenset({group}), _identity(view, item[LIST]),
                       [*path, LIST])
    for rule, _ in view.resources_of_type(INGRESS):
        properties = view.properties(rule)
        if LIST in properties:
            yield (rule, _identity(view, properties.get("GroupId")), _identity(view, properties[LIST]),
                   ["Resources", rule, "Properties", LIST])


def _identity(view: TemplateView, node: Any) -> frozenset:
    """The resources `node` names, or else the values it can take: equal for the same group or list."""
    return frozenset(view.referenced_resources(node)) or frozenset(map(str, view.values(node)))


def _message(problem: str, held: str, fix: str) -> str:
    return (
        f"{problem}: {held}, as CloudFormation creates a new or replacement rule before it deletes the old one, "
        f"and each reference counts the list's weight ({WEIGHT}); the update fails "
        f"(RulesPerSecurityGroupLimitExceeded). Fix: {fix}."
    )


def _changing_message(rule: str, name: str, reason: str) -> str:
    if name == LIST:
        held = "for a moment the group holds both lists (the CloudFront ones, IPv4 and IPv6, weigh the same)"
        fix = ("one list per rule: a fixed id, a plain Ref to a parameter, or a map keyed by AWS::Region; each "
               "list's rule in a group of its own")
    else:
        held = "for a moment the group holds the list twice"
        fix = (f"a fixed {name} that holds in every case (e.g. FromPort 80 and ToPort 443 for a load balancer that "
               f"listens on both: it accepts nothing on a port without a listener), or, where two sets of ports "
               f"are truly needed, a security group of its own for each rule")
    return _message(
        f"{rule}: {name} depends on {reason}, and the rule names a prefix list (SourcePrefixListId); {name} is "
        f"create-only, so an update that changes it replaces the rule", held, fix)


def _twice_message(rule: str, first: str) -> str:
    return _message(
        f"{rule} names the same prefix list in the same security group as {first}",
        "the group holds the list twice, all the time if both rules exist together, or while an update swaps "
        "one for the other",
        "one rule for the list over a port range that covers both (e.g. 80-443), or one security group per rule",
    )
