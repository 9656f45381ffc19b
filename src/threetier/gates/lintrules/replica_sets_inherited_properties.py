"""E9018: a read replica that sets what the CloudFormation reference says a read replica must not.

The AWS::RDS::DBInstance reference, under SourceDBInstanceIdentifier: "If you specify
SourceDBInstanceIdentifier, don't specify the DBSnapshotIdentifier property. You can't create a
read replica from a snapshot." and "Don't set the BackupRetentionPeriod, DBName, MasterUsername,
MasterUserPassword, and PreferredBackupWindow properties. The database attributes are inherited
from the source DB instance, and backups are disabled for read replicas."
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-sourcedbinstanceidentifier
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView

DB_INSTANCE = "AWS::RDS::DBInstance"
# What a read replica takes from its source, or cannot have (the reference's two lists).
NOT_ON_A_REPLICA = {
    "BackupRetentionPeriod": "backups are disabled for read replicas",
    "DBName": "the database is the source's",
    "MasterUsername": "the master user is the source's",
    "MasterUserPassword": "the master user is the source's",
    "PreferredBackupWindow": "backups are disabled for read replicas",
    "DBSnapshotIdentifier": "a read replica cannot be created from a snapshot",
}


class ReplicaSetsInheritedProperties(CloudFormationLintRule):
    id = "E9018"
    shortdesc = "Read replica sets a property the DBInstance reference says a replica must not"
    description = (
        "An AWS::RDS::DBInstance that is always a read replica (SourceDBInstanceIdentifier in every branch) "
        "and sets BackupRetentionPeriod, DBName, MasterUsername, MasterUserPassword, PreferredBackupWindow "
        "or DBSnapshotIdentifier."
    )
    source_url = ("https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
                  "aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-sourcedbinstanceidentifier")
    tags = ["resources", "rds"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        matches = []
        for replica, _ in sorted(view.resources_of_type(DB_INSTANCE)):
            properties = view.properties(replica)
            if not _always_a_replica(view, replica, properties):
                continue
            for name, why in NOT_ON_A_REPLICA.items():
                path = ["Resources", replica, "Properties", name]
                if name in properties and any(True for _ in view.branches(properties[name], path)):
                    matches.append(RuleMatch(path, _message(replica, name, why)))
        return matches


def _always_a_replica(view: TemplateView, name: str, properties: dict) -> bool:
    """SourceDBInstanceIdentifier is set, and no Fn::If branch leaves it out (AWS::NoValue): a
    branch without it is a primary, which may set these."""
    if "SourceDBInstanceIdentifier" not in properties:
        return False
    node = properties["SourceDBInstanceIdentifier"]
    path = ["Resources", name, "Properties", "SourceDBInstanceIdentifier"]
    return _branch_count(node) == len(list(view.branches(node, path)))


def _branch_count(node) -> int:
    """How many values an Fn::If tree can take, AWS::NoValue included."""
    if isinstance(node, dict) and len(node) == 1 and "Fn::If" in node:
        arguments = node["Fn::If"]
        if isinstance(arguments, list) and len(arguments) == 3:
            return _branch_count(arguments[1]) + _branch_count(arguments[2])
    return 1


def _message(replica: str, name: str, why: str) -> str:
    return (
        f"{replica} is a read replica (SourceDBInstanceIdentifier) and sets {name}: the AWS::RDS::DBInstance "
        f"reference says a read replica must not ({why}). Fix: leave {name} out of the replica; it takes "
        f"what it needs from its source."
    )
