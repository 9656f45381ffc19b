"""W9008: RDS log exports need log groups created first, with a retention.

RDS publishes each exported log to the log group /aws/rds/instance/<DB
instance identifier>/<log type> (the identifier in lower case: CreateDBInstance
stores it that way) and creates the group itself if it does not exist yet. A
group created that way has CloudWatch Logs' defaults: no retention (kept, and
billed, forever) and no KMS key of yours. Creating the groups in the template,
before the instance, keeps both under your control.
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/publishing_cloudwatchlogs.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import NO_VALUE, UNKNOWN, Symbolic, TemplateView, is_literal

PREFIX = "/aws/rds/instance/"


class RdsLogGroupRetention(CloudFormationLintRule):
    id = "W9008"
    shortdesc = "RDS log export to a log group RDS creates without retention"
    description = (
        "A DB instance that exports logs must be ordered after AWS::Logs::LogGroup resources with "
        "RetentionInDays named /aws/rds/instance/<DBInstanceIdentifier>/<log type>, one per exported log."
    )
    source_url = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/publishing_cloudwatchlogs.html"
    tags = ["resources", "rds", "logs"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        groups = _rds_log_groups(view)
        found: dict[tuple, RuleMatch] = {}
        for db, _ in view.resources_of_type("AWS::RDS::DBInstance"):
            for match in _check_instance(view, db, groups):
                found.setdefault((match.path_string, match.message), match)
        return list(found.values())


def _rds_log_groups(view: TemplateView) -> list[str]:
    """Log groups whose name can start with /aws/rds/instance/ (literal, Fn::Sub or Fn::Join text)."""
    return [name for name, _ in view.resources_of_type("AWS::Logs::LogGroup")
            if any(isinstance(v, str) and v.startswith(PREFIX)
                   for v in view.values(view.properties(name).get("LogGroupName")))]


def _check_instance(view: TemplateView, db: str, groups: list[str]):
    properties = view.properties(db)
    exports_node = properties.get("EnableCloudwatchLogsExports")
    if exports_node is None:
        return
    base = ["Resources", db, "Properties"]
    identifier = properties.get("DBInstanceIdentifier")
    names = {group: view.properties(group).get("LogGroupName") for group in groups}
    if identifier is None:
        exported = _exported(view, exports_node, {})
        if exported:
            yield RuleMatch([*base, "EnableCloudwatchLogsExports"], _no_identifier_message(db, exported))
        return
    ordered = view.ordered_after(db)
    for binding in view.scenarios(exports_node, identifier, *names.values()):
        exported = _exported(view, exports_node, binding)
        if not exported:
            continue
        identifiers = view.values(identifier, binding)
        group_names = {group: set(view.values(node, binding)) for group, node in names.items()}
        if all(_resolvable(i) for i in identifiers):
            for instance_id in identifiers:
                for log in exported:
                    expected = f"{PREFIX}{_as_rds_stores(instance_id)}/{log}"
                    problem = _problem_with(view, expected, group_names, ordered)
                    if problem:
                        yield RuleMatch([*base, "EnableCloudwatchLogsExports"], _message(db, log, problem))
        else:
            usable = [g for g in groups if g in ordered and _has_retention(view, g)]
            if len(usable) < len(exported):
                yield RuleMatch([*base, "EnableCloudwatchLogsExports"],
                                _count_message(db, exported, usable))


def _exported(view: TemplateView, exports_node, binding: dict) -> list[str]:
    """Every log type the instance can export under `binding` (all of them, unbound)."""
    return sorted({str(log) for logs in view.values(exports_node, binding) if isinstance(logs, list)
                   for log in logs if is_literal(log)})


def _resolvable(identifier) -> bool:
    return isinstance(identifier, str) and UNKNOWN not in identifier


def _as_rds_stores(identifier: str) -> str:
    """RDS keeps DB instance identifiers in lower case, and names the log group with that.
    (A name with deploy-time parts is compared as written: its placeholders are case-sensitive.)"""
    return identifier if isinstance(identifier, Symbolic) else identifier.lower()


def _has_retention(view: TemplateView, group: str) -> bool:
    node = view.properties(group).get("RetentionInDays")
    return node is not None and NO_VALUE not in view.values(node)


def _problem_with(view: TemplateView, expected: str, group_names: dict, ordered: set) -> str | None:
    named = sorted(group for group, names in group_names.items() if expected in names)
    if not named:
        return f"no AWS::Logs::LogGroup in this template is named {expected}"
    if any(group in ordered and _has_retention(view, group) for group in named):
        return None
    unordered = [g for g in named if g not in ordered]
    if unordered:
        return (f"log group {', '.join(unordered)} ({expected}) is not created before the instance: "
                f"add it to the instance's DependsOn, or RDS may create the group first")
    return f"log group {', '.join(named)} ({expected}) has no RetentionInDays"


def _message(db: str, log: str, problem: str) -> str:
    return (
        f"{db} exports the {log} log, but {problem}. RDS then writes to a group it creates itself, with "
        f"no retention (kept and billed forever) and without your KMS key. Fix: declare an "
        f"AWS::Logs::LogGroup named /aws/rds/instance/<DBInstanceIdentifier>/{log} with RetentionInDays "
        f"(and KmsKeyId), and list it in {db}'s DependsOn."
    )


def _no_identifier_message(db: str, exported: list[str]) -> str:
    return (
        f"{db} exports logs ({', '.join(exported)}) but sets no DBInstanceIdentifier, so the log groups "
        f"RDS writes to (/aws/rds/instance/<generated name>/<log type>) cannot be declared beforehand: "
        f"RDS creates them with no retention (kept and billed forever) and without your KMS key. Fix: "
        f"set DBInstanceIdentifier (e.g. an Fn::Sub of your project and environment names), declare one "
        f"AWS::Logs::LogGroup per exported log with RetentionInDays, and list them in {db}'s DependsOn."
    )


def _count_message(db: str, exported: list[str], usable: list[str]) -> str:
    return (
        f"{db} exports {len(exported)} log(s) ({', '.join(exported)}) but is ordered after only "
        f"{len(usable)} /aws/rds/instance/... log group(s) with RetentionInDays: RDS creates any missing "
        f"group itself, with no retention (kept and billed forever) and without your KMS key. Fix: "
        f"declare one AWS::Logs::LogGroup per exported log, named /aws/rds/instance/<DBInstanceIdentifier>/"
        f"<log type>, with RetentionInDays, and list them in {db}'s DependsOn."
    )
