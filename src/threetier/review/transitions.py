"""What each change an operator makes over an environment's life costs: the table in docs/environments.md.

Every row is a parameter change to one of the committed environments, checked
by `validate` first (a refused change says why) and then predicted by
`threetier.review.updates`. `python -m threetier.review.transitions` prints the table;
tests/review/test_transitions.py keeps the copy in docs/environments.md equal to it and asserts the
rows that matter most.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

from threetier.insight import model
from threetier.parameters import validate
from threetier.parameters.evaluate import with_defaults
from threetier.review import cloudfrontsteps, refusals, updates

PREFIX_LIST = "pl-3b927c52"  # us-east-1's CloudFront origin-facing list, as `plan` fills it in
CLOUDFRONT = {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": PREFIX_LIST}
NO_CLOUDFRONT = {"CloudFrontEnabled": "false"}  # prod.json has CloudFront on, as the seed's production
ZONE = "Z0123456789ABCDEFGHIJ"
README_START = "<!-- transitions:start (python -m threetier.review.transitions) -->"
README_END = "<!-- transitions:end -->"
REGION = "us-east-1"


@dataclass(frozen=True)
class Transition:
    title: str
    env: str
    changes: dict[str, str]
    base: dict[str, str] | None = None  # changes to the environment first, the state it starts from


TRANSITIONS = (
    Transition("Multi-AZ off in a quiet month", "prod", {"DbMultiAz": "false"}),
    Transition("Multi-AZ on", "dev", {"DbMultiAz": "true"}),
    Transition("A third AZ", "dev", {"NumberOfAzs": "3"}),
    Transition("Back to two AZs", "prod", {"NumberOfAzs": "2"}),
    Transition("A third AZ under a read replica", "prod", {"NumberOfAzs": "3"}, base={"NumberOfAzs": "2"}),
    Transition("A NAT gateway per AZ", "dev", {"SingleNatGateway": "false"}),
    Transition("Bigger app servers", "prod", {"InstanceType": "t3.2xlarge"}),
    Transition("Bigger database class", "prod", {"DbInstanceClass": "db.r6g.large"}),
    Transition("More database storage", "prod", {"DbAllocatedStorage": "200", "DbMaxAllocatedStorage": "500"}),
    Transition("Autoscaling limit within 10 % of the storage", "prod", {"DbMaxAllocatedStorage": "105"}),
    Transition("Another database engine", "prod", {"DbEngine": "postgres"}),
    Transition("Enhanced monitoring off", "prod", {"DbMonitoringInterval": "0"}),
    Transition("Enhanced monitoring on", "dev", {"DbMonitoringInterval": "60"}),
    Transition("Performance Insights off", "prod", {"DbPerformanceInsights": "false"}),
    Transition("Performance Insights on a micro class", "dev", {"DbPerformanceInsights": "true"}),
    Transition("Read replica off", "prod", {"DbReplicaEnabled": "false"}),
    Transition("Read replica on", "dev", {"DbReplicaEnabled": "true"}),
    Transition("Shorter backup retention", "prod", {"DbBackupRetentionDays": "7"}),
    # prod.json asks for the parallel layout; an environment created before it has the chain.
    Transition("The parallel layout for an environment created before it", "prod", {"StackLayout": "parallel"},
               base={"StackLayout": "chain"}),
    Transition("These templates over an environment created before the parallel layout", "prod",
               {"AppRepositoryRef": "v2.0.0"}, base={"StackLayout": "chain"}),
    Transition("A bastion host", "dev", {"BastionCount": "1", "AdminCidr": "203.0.113.0/24",
                                         "BastionKeyPairName": "ops"}),
    Transition("CloudFront on", "prod", CLOUDFRONT, base=NO_CLOUDFRONT),
    Transition("CloudFront off", "prod", {"CloudFrontEnabled": "false"}, base=CLOUDFRONT),
    Transition("CloudFront on in front of a live domain", "prod", CLOUDFRONT,
               base={**NO_CLOUDFRONT, "DomainName": "example.com", "HostedZoneId": ZONE}),
    Transition("CloudFront off behind a live domain", "prod", {"CloudFrontEnabled": "false"},
               base={**CLOUDFRONT, "DomainName": "example.com", "HostedZoneId": ZONE}),
    Transition("A domain (second pass, zone delegated)", "prod", {"DomainName": "example.com", "HostedZoneId": ZONE},
               base=NO_CLOUDFRONT),
    Transition("A domain's second pass behind CloudFront", "prod", {"HostedZoneId": ZONE},
               base={**CLOUDFRONT, "DomainName": "example.com"}),
    Transition("The domain removed behind CloudFront", "prod", {"DomainName": "", "HostedZoneId": ""},
               base={**CLOUDFRONT, "DomainName": "example.com", "HostedZoneId": ZONE}),
    # dev.json now sets SiteSubdomain=dev, so that dev and prod in one domain claim different names
    # (threetier.parameters.sharedzone): what taking it costs a dev deployed with the old default.
    Transition("dev's own site name in a shared domain", "dev", {"SiteSubdomain": "dev"},
               base={"DomainName": "example.com", "HostedZoneId": ZONE, "SiteSubdomain": "www"}),
    Transition("WAF on", "prod", {"WafEnabled": "true"}, base=CLOUDFRONT),
    Transition("Monitoring off", "prod", {"MonitoringEnabled": "false"}),
    Transition("A release (new app version)", "prod", {"AppRepositoryRef": "v2.0.0"}),
    Transition("More app servers at most", "prod", {"AsgMaxSize": "10"}),
    Transition("A newer pinned AMI (threetier pin-ami)", "prod", {"PinnedAmiId": "ami-0fedcba9876543210"},
               base={"PinnedAmiId": "ami-0123456789abcdef0"}),
    Transition("The AZ names kept (threetier plan, first time)", "prod",
               {"AvailabilityZoneNames": "us-east-1a,us-east-1b,us-east-1c"}),
    Transition("Other AZ names, edited by hand", "prod",
               {"AvailabilityZoneNames": "us-east-1a,us-east-1c,us-east-1d"},
               base={"AvailabilityZoneNames": "us-east-1a,us-east-1b,us-east-1c"}),
)


@dataclass(frozen=True)
class Outcome:
    transition: Transition
    refused: str | None
    prediction: updates.Prediction | None
    needs_allow_insecure: bool = False
    refused_by_plan: str | None = None  # review.refusals: what AWS refuses in the middle of an update

    @property
    def replaced_or_removed_state(self) -> list[updates.ResourceChange]:
        if self.prediction is None:
            return []
        return [c for c in self.prediction.of(updates.FAILS, updates.REPLACE, updates.MAY_REPLACE, updates.REMOVE)
                if c.stateful]


def outcomes(project: Path) -> list[Outcome]:
    templates = model.load_templates(project)
    root = templates.checked_root()
    environments = {env: model.load_values(project, env)[1] for env in {t.env for t in TRANSITIONS}}
    found = []
    declared = root.get("Parameters", {})
    for transition in TRANSITIONS:
        before = {**environments[transition.env], **(transition.base or {})}
        after = {**before, **transition.changes}
        # As an operator who accepts prod's safety warnings would run it (--allow-insecure).
        problems = validate.validate(root, after, region=REGION, allow_insecure=True)
        errors = validate.errors(problems)
        insecure = any("--allow-insecure" in problem.message for problem in problems)
        if errors:
            found.append(Outcome(transition, f"{errors[0].parameter}: {errors[0].message}", None))
            continue
        refused = refusals.refusals(with_defaults(before, declared), with_defaults(after, declared))
        if refused:
            found.append(Outcome(transition, None, None, refused_by_plan=str(refused[0])))
            continue
        for deploy, start, end in deploys(transition, before, after, declared):
            found.append(Outcome(deploy, None, updates.predict(templates, start, end, REGION), insecure))
    return found


def deploys(transition: Transition, before: dict[str, str], after: dict[str, str],
            declared: dict) -> list[tuple[Transition, dict[str, str], dict[str, str]]]:
    """The deploys `plan`/`deploy` make of a change over a deployed environment, each with the values
    it starts from and ends at: one, or the two steps of turning CloudFront on (review.cloudfrontsteps)."""
    first = cloudfrontsteps.step(with_defaults(before, declared), with_defaults(after, declared))
    if first is None or first.number != 1:
        return [(transition, before, after)]
    only = cloudfrontsteps.ONLY
    middle = {**after, only: first.values[only]}
    return [
        (replace(transition, title=f"{transition.title}, step 1 of 2",
                 changes={**transition.changes, only: middle[only]}), before, middle),
        (replace(transition, title=f"{transition.title}, step 2 of 2 (the next deploy)",
                 changes={only: with_defaults(after, declared)[only]}), middle, after),
    ]


def table(found: list[Outcome]) -> str:
    lines = ["| Change | From | Data and state | Everything else |", "|---|---|---|---|"]
    for outcome in found:
        t = outcome.transition
        change = ", ".join(f"`{k}={v}`" for k, v in t.changes.items())
        if outcome.refused:
            lines.append(f"| {t.title}: {change} | {t.env} | **refused** by `validate`: {outcome.refused} | - |")
            continue
        if outcome.refused_by_plan:
            lines.append(f"| {t.title}: {change} | {t.env} | **refused** by `plan` and `diff`: "
                         f"{outcome.refused_by_plan} | - |")
            continue
        if outcome.needs_allow_insecure:
            change += " (with `--allow-insecure`)"
        lines.append(f"| {t.title}: {change} | {t.env} | {_state(outcome)} | {_rest(outcome)} |")
    return "\n".join(lines) + "\n"


def _state(outcome: Outcome) -> str:
    dangers = outcome.replaced_or_removed_state
    if not dangers:
        return "kept: nothing stateful replaced or removed"
    failing = [c for c in dangers if c.action == updates.FAILS]
    if failing:
        return "**update fails and rolls back**: " + "; ".join(f"{c.name} ({c.why})" for c in failing)
    words = {updates.REPLACE: "**replaces**", updates.MAY_REPLACE: "**may replace**", updates.REMOVE: "**removes**"}
    return "; ".join(f"{words[c.action]} {c.name} ({_why(c)})" for c in dangers)


def _why(change: updates.ResourceChange) -> str:
    if change.action == updates.REMOVE:
        return KEPT.get(change.deletion_policy, "deleted")
    return f"{change.why} changes; {KEPT.get(change.replace_policy, 'the old one deleted')}"


KEPT = {"Retain": "kept, outside the stack", "Snapshot": "final snapshot kept"}


def _rest(outcome: Outcome) -> str:
    prediction = outcome.prediction
    stateful = set(map(id, outcome.replaced_or_removed_state))
    parts = []
    for action, word in ((updates.FAILS, "cannot replace"), (updates.REPLACE, "replaces"),
                         (updates.MAY_REPLACE, "may replace"),
                         (updates.REMOVE, "removes"), (updates.ADD, "adds")):
        names = [c.name for c in prediction.of(action) if id(c) not in stateful]
        if names:
            parts.append(f"{word} {_listed(names)}")
    in_place = prediction.of(updates.IN_PLACE)
    if in_place:
        described = [c.name + (f" ({', '.join(c.consequences)})" if c.consequences else "") for c in in_place]
        parts.append(f"in place: {_listed(described)}")
    return "; ".join(parts) or "no resource changes"


def _listed(names: list[str], most: int = 4) -> str:
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f" and {len(names) - most} more"


def readme_block(project: Path) -> str:
    return f"{README_START}\n{table(outcomes(project))}{README_END}"


def main(argv: list[str] | None = None) -> int:
    project = Path(argv[0] if argv else ".").resolve()
    sys.stdout.write(table(outcomes(project)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
