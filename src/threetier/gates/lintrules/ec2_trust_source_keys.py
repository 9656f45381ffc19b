"""E9005: an EC2 instance role's trust policy must not require source-account/ARN/org keys.

aws:SourceAccount, aws:SourceArn, aws:SourceOrgID and aws:SourceOrgPaths are
present only when a service sends them on a service-to-service request. No AWS
document says EC2 sends them when it assumes an instance profile's role to
deliver credentials; if it does not, the condition never matches, no instance
gets credentials, and every boot that needs them fails. The console's EC2 role
trusts ec2.amazonaws.com without conditions; iam:PassRole decides who may use it.
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, as_text, is_literal

EC2_PRINCIPALS = {"ec2.amazonaws.com", "ec2.amazonaws.com.cn"}
SOURCE_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths"}


class Ec2TrustSourceKeys(CloudFormationLintRule):
    id = "E9005"
    shortdesc = "EC2 trust policy conditioned on source keys"
    description = (
        "An IAM role trusted by ec2.amazonaws.com must not require aws:SourceAccount, aws:SourceArn, "
        "aws:SourceOrgID or aws:SourceOrgPaths: EC2 is not documented to send them when it delivers "
        "instance profile credentials."
    )
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html"
    tags = ["resources", "iam", "ec2"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        matches = []
        for role, _ in view.resources_of_type("AWS::IAM::Role"):
            document_path = ["Resources", role, "Properties", "AssumeRolePolicyDocument"]
            for document, path in view.branches(view.properties(role).get("AssumeRolePolicyDocument"), document_path):
                if not isinstance(document, dict):
                    continue
                for statement, statement_path in view.items(document.get("Statement"), [*path, "Statement"]):
                    if isinstance(statement, dict) and _allows_ec2(view, statement):
                        for key, key_path in _source_keys(view, statement, statement_path):
                            matches.append(RuleMatch(key_path, _message(role, key)))
        return matches


def _allows_ec2(view: TemplateView, statement: dict) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return False
    services = set()
    for service, _ in view.items(principal.get("Service"), []):
        services |= {as_text(v) for v in view.values(service) if is_literal(v)}
    return bool(services & EC2_PRINCIPALS)


def _source_keys(view: TemplateView, statement: dict, statement_path: list):
    """Each source key in the statement's Condition, whatever the operator, with its path."""
    for condition, condition_path in view.branches(statement.get("Condition"), [*statement_path, "Condition"]):
        if not isinstance(condition, dict):
            continue
        for operator, tests in condition.items():
            for test, test_path in view.branches(tests, [*condition_path, operator]):
                if isinstance(test, dict):
                    for key in test:
                        if str(key).lower() in SOURCE_KEYS:
                            yield key, [*test_path, key]


def _message(role: str, key: str) -> str:
    return (
        f"{role} trusts ec2.amazonaws.com only when {key} matches: no AWS document says EC2 sends {key} "
        f"when it assumes an instance profile's role to deliver credentials, and if it does not, the "
        f"condition never matches, no instance gets credentials and every boot that needs them fails. "
        f"Fix: trust plain ec2.amazonaws.com as the console writes it (Action sts:AssumeRole, no "
        f"Condition); iam:PassRole controls who can attach the role to an instance."
    )
