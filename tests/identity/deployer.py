"""The deployer role as IAM would hold it once deployed: its policies resolved for one account.

output/deployer-role.yaml is resolved by threetier.parameters.evaluate for a
partition, region, account and parameter values; the result is a principal for
tests/identity/evaluator.py: its managed and inline policy documents, and its
permissions boundary when one is set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from templates import deployer_role
from tests.identity.evaluator import allowed, principal
from threetier.parameters.evaluate import Evaluation

ACCOUNT = "111122223333"
PROJECT = "shop"
BUCKET = "shop-templates"
BOUNDARY = "arn:{partition}:iam::{account}:policy/Boundary"
# A region of each partition, and one opted in later (not enabled by default).
# https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
REGIONS = {"us-east-1": "aws", "ap-southeast-5": "aws", "cn-northwest-1": "aws-cn", "us-gov-east-1": "aws-us-gov"}


@dataclass
class Deployed:
    region: str
    partition: str
    values: dict[str, str] = field(default_factory=dict)
    account: str = ACCOUNT

    def __post_init__(self) -> None:
        template = json.loads(json.dumps(deployer_role.build().to_dict()))
        self.values = {"ProjectName": PROJECT, "TemplateBucket": BUCKET, **self.values}
        self.evaluation = Evaluation(template, self.values, region=self.region, partition=self.partition,
                                     account_id=self.account)
        self.resources = self.evaluation.resources()
        role = self.resources["DeployerRole"]["Properties"]
        self.role_arn = f"arn:{self.partition}:iam::{self.account}:role{role.get('Path', '/')}{role['RoleName']}"
        self.documents = {name: _with_arn(self.resources[name]["Properties"]["PolicyDocument"], self.role_arn)
                          for name in held_policies(template)}
        self.boundary_arn = role.get("PermissionsBoundary")
        self.principal = principal(self.role_arn, self.documents, boundary=self._boundary_document())

    def _boundary_document(self) -> dict | None:
        """A boundary that allows everything: what the boundary itself allows is the organisation's business."""
        if not self.boundary_arn:
            return None
        return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

    def allows(self, action: str, resource: str, context: dict | None = None) -> bool:
        return allowed(self.principal, action, resource, context)

    def arn(self, service: str, rest: str, regional: bool = True) -> str:
        region = self.region if regional else ""
        account = self.account if regional or service == "iam" else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{rest}"


def held_policies(template: dict) -> list[str]:
    """The policies the deployer role holds: its managed policies and the inline one naming it (not the
    caller policy the template also makes)."""
    resources = template["Resources"]
    held = {arn["Ref"] for arn in resources["DeployerRole"]["Properties"]["ManagedPolicyArns"]}
    held |= {name for name, resource in resources.items() if resource["Type"] == "AWS::IAM::Policy"
             and {"Ref": "DeployerRole"} in resource["Properties"]["Roles"]}
    return sorted(held)


def _with_arn(document, role_arn: str):
    """The document with the role's own GetAtt Arn filled in (known once the role exists)."""
    if isinstance(document, dict):
        if document == {"Fn::GetAtt": ["DeployerRole", "Arn"]}:
            return role_arn
        return {key: _with_arn(value, role_arn) for key, value in document.items()}
    if isinstance(document, list):
        return [_with_arn(item, role_arn) for item in document]
    return document


def unresolved(document) -> list[str]:
    """Intrinsics left in a resolved document: none may be, or the evaluation would be wrong."""
    text = json.dumps(document)
    return [name for name in ('"Fn::', '"Ref":', "${") if name in text]
