"""E9006: an SNS topic policy names SNS topic actions, and no wildcard.

A topic's resource policy takes Amazon SNS actions only: SNS refuses any
other ("Invalid parameter: Policy statement action out of service scope!",
seen for sns:CreateTopic in hashicorp/terraform#12740 and for
SetSubscriptionAttributes in aws/aws-cli#3143), and "*" allows (or denies)
every topic action, permission changes included. AWS's own example for
enforcing encryption in transit denies sns:Publish, by name.
https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html#enforce-encryption-data-in-transit
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, as_text, is_literal

TOPIC_POLICY_TYPES = ("AWS::SNS::TopicPolicy", "AWS::SNS::TopicInlinePolicy")


class SnsTopicPolicyActions(CloudFormationLintRule):
    id = "E9006"
    shortdesc = "SNS topic policy with a wildcard or non-SNS action"
    description = (
        "Statements of an AWS::SNS::TopicPolicy or AWS::SNS::TopicInlinePolicy must name SNS actions "
        "(sns:...) explicitly: SNS refuses other services' actions, and \"*\" covers every topic action."
    )
    source_url = ("https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html"
                  "#enforce-encryption-data-in-transit")
    tags = ["resources", "sns", "iam"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        matches = []
        for policy, _ in view.resources_of_type(*TOPIC_POLICY_TYPES):
            document_path = ["Resources", policy, "Properties", "PolicyDocument"]
            for document, path in view.branches(view.properties(policy).get("PolicyDocument"), document_path):
                if not isinstance(document, dict):
                    continue
                for statement, statement_path in view.items(document.get("Statement"), [*path, "Statement"]):
                    if not isinstance(statement, dict):
                        continue
                    for field in ("Action", "NotAction"):
                        for action, action_path in view.items(statement.get(field), [*statement_path, field]):
                            problem = _problem(view, action)
                            if problem:
                                matches.append(RuleMatch(action_path, _message(policy, field, problem)))
        return matches


def _problem(view: TemplateView, action) -> str | None:
    for value in view.values(action):
        if not is_literal(value):
            continue
        text = as_text(value)
        if text == "*":
            return ('"*", which covers every topic action, sns:SetTopicAttributes, sns:AddPermission '
                    'and sns:DeleteTopic included')
        if not text.lower().startswith("sns:"):
            return (f"{text}, not an SNS action: SNS refuses the policy with 'Invalid parameter: Policy "
                    f"statement action out of service scope!'")
        if "*" in text or "?" in text:
            return (f"{text}, a wildcard that also covers account-level actions such as sns:CreateTopic, "
                    f"which a topic policy refuses ('Policy statement action out of service scope!')")
    return None


def _message(policy: str, field: str, problem: str) -> str:
    return (
        f"{policy}: {field} {problem}. Fix: name exactly the SNS actions the statement is about, e.g. "
        f"sns:Publish (AWS's example that enforces encryption in transit denies sns:Publish when "
        f"aws:SecureTransport is false)."
    )
