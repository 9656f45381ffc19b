"""E9007: MySQL/MariaDB log exports that stay empty without a parameter group turning them on.

RDS publishes the general and slow query logs to CloudWatch Logs only if the
instance's custom DB parameter group sets general_log = 1 / slow_query_log = 1
(MariaDB also log_slow_query = 1) and log_output = FILE. The default group has
them off: the export is accepted, the log group stays empty.
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MariaDB.PublishtoCloudWatchLogs.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, is_literal, literal_texts

ENGINES = {"mysql", "mariadb"}
# Exported log type -> the parameters that switch it on (any one of them, set to 1).
SWITCHES = {"general": ("general_log",), "slowquery": ("slow_query_log", "log_slow_query")}


class RdsLogExportsParameterGroup(CloudFormationLintRule):
    id = "E9007"
    shortdesc = "MySQL/MariaDB log export without the parameter group setting"
    description = (
        "A MySQL or MariaDB DB instance that exports the general or slowquery log must use a DB "
        "parameter group that sets general_log / slow_query_log to 1 and log_output to FILE."
    )
    source_url = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
                  "USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html")
    tags = ["resources", "rds", "logs"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        found: dict[tuple, RuleMatch] = {}
        for db, _ in view.resources_of_type("AWS::RDS::DBInstance"):
            for match in _check_instance(view, db):
                found.setdefault((match.path_string, match.message), match)
        return list(found.values())


def _inherited(view: TemplateView, db: str, name: str) -> tuple[object, list]:
    """A property of `db`, or for a same-region read replica of an instance in this template
    that leaves it out, the source's (RDS gives such a replica the source's parameter group)."""
    properties = view.properties(db)
    if name in properties:
        return properties[name], ["Resources", db, "Properties", name]
    source = view.ref_target(properties.get("SourceDBInstanceIdentifier"))
    if source in view.resources and source != db and name in view.properties(source):
        return view.properties(source)[name], ["Resources", source, "Properties", name]
    return None, []


def _check_instance(view: TemplateView, db: str):
    properties = view.properties(db)
    exports = properties.get("EnableCloudwatchLogsExports")
    if exports is None:
        return
    exports_path = ["Resources", db, "Properties", "EnableCloudwatchLogsExports"]
    engine, _ = _inherited(view, db, "Engine")
    group, group_path = _inherited(view, db, "DBParameterGroupName")
    for binding in view.scenarios(engine, exports, group):
        if not literal_texts(view.values(engine, binding)) & ENGINES:
            continue
        exported = {str(log) for logs in view.values(exports, binding) if isinstance(logs, list)
                    for log in logs if is_literal(log)}
        switched = sorted(log for log in exported if log in SWITCHES)
        if not switched:
            continue
        if group is None:
            yield RuleMatch(exports_path, _default_group_message(db, switched))
            continue
        own_group = group_path[1] == db
        for branch, branch_path in view.branches(group, group_path, binding):
            target = view.ref_target(branch)
            if target is None or _type(view, target) != "AWS::RDS::DBParameterGroup":
                continue  # a group named by parameter or literal: its settings are unknown here
            missing = _missing_settings(view, target, switched, binding)
            if missing:
                yield RuleMatch(branch_path if own_group else exports_path,
                                _group_message(db, target, switched, missing))


def _type(view: TemplateView, name: str):
    resource = view.resources.get(name)
    return resource.get("Type") if isinstance(resource, dict) else None


def _missing_settings(view: TemplateView, group: str, logs: list[str], binding: dict) -> list[str]:
    properties = view.properties(group)
    families = literal_texts(view.values(properties.get("Family"), binding))
    if families and not any(f.lower().startswith(tuple(ENGINES)) for f in families):
        return []  # e.g. the PostgreSQL group of an Fn::If that picks per engine
    parameters = properties.get("Parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    missing = []
    for log in logs:
        names = SWITCHES[log]
        if not any(_may_be(view, parameters.get(name), {"1", "ON"}, binding) for name in names):
            missing.append(f"{names[0]} = 1")
    if not _may_be(view, parameters.get("log_output"), {"FILE"}, binding):
        missing.append("log_output = FILE")
    return missing


def _may_be(view: TemplateView, node, wanted: set[str], binding: dict) -> bool:
    """True if the setting is one of `wanted` (log_output may list several outputs: FILE,TABLE),
    or only known at deploy time (then we cannot tell)."""
    if node is None:
        return False
    for value in view.values(node, binding):
        if not is_literal(value) or wanted & {part.strip() for part in str(value).upper().split(",")}:
            return True
    return False


def _default_group_message(db: str, logs: list[str]) -> str:
    return (
        f"{db} exports the {_logs(logs)} to CloudWatch Logs without a DBParameterGroupName: the "
        f"default DB parameter group leaves general_log and slow_query_log off, so RDS publishes nothing "
        f"and the log group stays empty. Fix: give {db} a custom AWS::RDS::DBParameterGroup that sets "
        f"{_settings(logs)} and log_output = FILE, or stop exporting {' and '.join(logs)}."
    )


def _group_message(db: str, group: str, logs: list[str], missing: list[str]) -> str:
    return (
        f"{db} exports the {_logs(logs)}, but its parameter group {group} does not set "
        f"{', '.join(missing)}: RDS publishes the log only when the parameter group turns it on and "
        f"writes it to files, so the log group stays empty. Fix: set {', '.join(missing)} in the "
        f"Parameters of {group}, or stop exporting {' and '.join(logs)}."
    )


def _logs(logs: list[str]) -> str:
    return " and ".join(logs) + (" logs" if len(logs) > 1 else " log")


def _settings(logs: list[str]) -> str:
    return " and ".join(f"{SWITCHES[log][0]} = 1" for log in logs)
