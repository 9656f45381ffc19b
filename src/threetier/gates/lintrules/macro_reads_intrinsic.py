"""E9017: a property a transform reads, chosen by an intrinsic function the macro cannot resolve.

Macros run before intrinsic functions are resolved: a transform that reads a
property sees `Fn::FindInMap`, `Fn::If` or `Ref` as written, not the value it
stands for. The AWS::SecretsManager transform reads HostedRotationLambda's
RotationType to choose the rotation function's application, so an intrinsic
there gives it no rotation type to choose by, whatever the parameters. This project rotated with that transform
and a Fn::FindInMap per engine; it rotates with its own function now
(RotationLambdaARN, resolved by CloudFormation like any property).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-macros.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-secretsmanager.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.gates.lintrules._helpers import TemplateView, intrinsic

SCHEDULE = "AWS::SecretsManager::RotationSchedule"
# What the AWS::SecretsManager transform reads of HostedRotationLambda to choose and name the
# application it adds (the rest it copies into the application's parameters).
READ_BY_THE_TRANSFORM = ("RotationType", "RotationLambdaName", "Runtime")


class MacroReadsIntrinsic(CloudFormationLintRule):
    id = "E9017"
    shortdesc = "A transform reads a property an intrinsic function chooses"
    description = (
        "An AWS::SecretsManager::RotationSchedule's HostedRotationLambda RotationType (or RotationLambdaName, "
        "Runtime) is an intrinsic function: the AWS::SecretsManager transform reads it before intrinsics are "
        "resolved."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-macros.html"
    tags = ["resources", "secretsmanager", "transform"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        matches = []
        for schedule, _ in view.resources_of_type(SCHEDULE):
            hosted = view.properties(schedule).get("HostedRotationLambda")
            if not isinstance(hosted, dict):
                continue
            for name in READ_BY_THE_TRANSFORM:
                function = intrinsic(hosted.get(name))
                if function is not None:
                    path = ["Resources", schedule, "Properties", "HostedRotationLambda", name]
                    matches.append(RuleMatch(path, _message(schedule, name, function[0])))
        return matches


def _message(schedule: str, name: str, function: str) -> str:
    return (
        f"{schedule}: HostedRotationLambda {name} is {function}, which the AWS::SecretsManager transform reads "
        f"before CloudFormation resolves intrinsic functions: it sees the function, not a rotation type. Fix: a "
        f"literal per case (one schedule per engine under a Condition), or your own function with "
        f"RotationLambdaARN, which CloudFormation resolves like any property."
    )
