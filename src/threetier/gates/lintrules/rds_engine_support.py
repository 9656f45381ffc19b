"""W9009: an RDS engine version past the end of standard support, or no explicit lifecycle.

A DB instance created on a major version whose RDS standard support has ended
is enrolled in RDS Extended Support, billed per vCPU-hour, from that date.
EngineLifecycleSupport left out means open-source-rds-extended-support: the
enrolment happens silently when the version reaches its date. The dates are
threetier.facts.engines.STANDARD_SUPPORT_ENDS (with their sources).
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.facts import engines
from threetier.gates.lintrules import _clock
from threetier.gates.lintrules._helpers import TemplateView, literal_texts

# Engines whose RDS instances and clusters take EngineLifecycleSupport.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support-creating-db-instance.html
LIFECYCLE_ENGINES = {"mysql", "postgres", "aurora-mysql", "aurora-postgresql"}


class RdsEngineSupport(CloudFormationLintRule):
    id = "W9009"
    shortdesc = "RDS engine past standard support or lifecycle left to the default"
    description = (
        "An RDS DB instance or cluster on a major version whose standard support has ended is enrolled "
        "in paid RDS Extended Support; one that does not set EngineLifecycleSupport is enrolled silently "
        "when its version reaches that date."
    )
    source_url = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support.html"
    tags = ["resources", "rds", "cost"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        today = _clock.today()  # looked up per run so that tests can move the date
        matches = []
        for name, resource in view.resources_of_type("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
            matches += _past_support(view, name, today)
            matches += _lifecycle_left_to_default(view, name, resource["Type"])
        return matches


def _past_support(view: TemplateView, name: str, today) -> list[RuleMatch]:
    properties = view.properties(name)
    engine_node, version_node = properties.get("Engine"), properties.get("EngineVersion")
    if version_node is None:
        return []  # RDS picks the default version, which is in standard support
    found = {}
    for binding in view.scenarios(engine_node, version_node, bind_defaults=True):
        for engine in literal_texts(view.values(engine_node, binding)):
            for version in literal_texts(view.values(version_node, binding)):
                ends = engines.standard_support_ends(engine, version)
                if ends is not None and ends < today:
                    major = engines.major_version(engine, version)
                    found[(engine, major)] = ends
    path = ["Resources", name, "Properties", "EngineVersion"]
    return [RuleMatch(path, _past_support_message(name, engine, major, ends))
            for (engine, major), ends in sorted(found.items())]


def _lifecycle_left_to_default(view: TemplateView, name: str, resource_type: str) -> list[RuleMatch]:
    properties = view.properties(name)
    if "EngineLifecycleSupport" in properties:
        return []
    if resource_type == "AWS::RDS::DBInstance" and (
            "SourceDBInstanceIdentifier" in properties or "DBClusterIdentifier" in properties):
        return []  # a read replica follows its source; an Aurora instance its cluster
    possible = literal_texts(view.values(properties.get("Engine")))
    if possible and not possible & LIFECYCLE_ENGINES:
        return []  # e.g. Oracle or SQL Server: no Extended Support lifecycle to choose
    return [RuleMatch(["Resources", name], _lifecycle_message(name))]


def _past_support_message(name: str, engine: str, major: str, ends) -> str:
    return (
        f"{name} can be created on {engine} {major}, whose RDS standard support ended on {ends:%Y-%m-%d}: "
        f"a new instance on it is enrolled in paid RDS Extended Support (billed per vCPU-hour) from that "
        f"date. Fix: a major version in standard support (e.g. MySQL 8.4 or PostgreSQL 16), and "
        f"EngineLifecycleSupport set explicitly (open-source-rds-extended-support-disabled to refuse the charge)."
    )


def _lifecycle_message(name: str) -> str:
    return (
        f"{name} does not set EngineLifecycleSupport: the default, open-source-rds-extended-support, "
        f"silently enrols the database in paid RDS Extended Support once its major version leaves "
        f"standard support. Fix: set EngineLifecycleSupport explicitly "
        f"(open-source-rds-extended-support-disabled to upgrade instead of paying)."
    )
