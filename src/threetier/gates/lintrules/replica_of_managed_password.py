"""E9010: a read replica of a source whose master password Secrets Manager manages.

RDS does not support "creating a read replica when the source DB instance
manages credentials with Secrets Manager" (every engine but SQL Server), so the
replica's create fails. Give the source a generated secret instead, passed as
MasterUserPassword by a dynamic reference, with a SecretTargetAttachment.
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, literal_texts

DB_INSTANCE = "AWS::RDS::DBInstance"


class ReplicaOfManagedPassword(CloudFormationLintRule):
    id = "E9010"
    shortdesc = "Read replica of a source whose master password Secrets Manager manages"
    description = (
        "An AWS::RDS::DBInstance with SourceDBInstanceIdentifier pointing at an instance of the same "
        "template that sets ManageMasterUserPassword true: RDS refuses to create such a replica."
    )
    source_url = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html"
                  "#rds-secrets-manager-limitations")
    tags = ["resources", "rds", "secretsmanager"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        instances = {name for name, _ in view.resources_of_type(DB_INSTANCE)}
        matches = []
        for replica in sorted(instances):
            properties = view.properties(replica)
            if "SourceDBInstanceIdentifier" not in properties:
                continue
            source_path = ["Resources", replica, "Properties", "SourceDBInstanceIdentifier"]
            for source_node, path in view.branches(properties["SourceDBInstanceIdentifier"], source_path):
                for source in sorted(view.referenced_resources(source_node) & instances):
                    managed = view.values(view.properties(source).get("ManageMasterUserPassword"))
                    if "true" in {text.lower() for text in literal_texts(managed)}:
                        matches.append(RuleMatch(path, _message(replica, source)))
        return matches


def _message(replica: str, source: str) -> str:
    return (
        f"{replica} is a read replica of {source}, whose master password Secrets Manager manages "
        f"(ManageMasterUserPassword): RDS does not support creating a read replica of such a source, so "
        f"the replica's create fails. Fix: drop ManageMasterUserPassword on {source}; generate the password "
        f"in an AWS::SecretsManager::Secret, pass it as MasterUserPassword with a "
        f"{{{{resolve:secretsmanager:...:SecretString:password}}}} dynamic reference, and link the two with an "
        f"AWS::SecretsManager::SecretTargetAttachment."
    )
