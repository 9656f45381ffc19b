"""E9015: user data that can be longer than EC2 takes, once every value it substitutes is at its longest.

EC2 takes at most 16 KB of user data in raw form, before base64, and the API refuses
more than 21,847 base64 characters: 16,383 bytes pass both. A launch template,
launch configuration or instance whose UserData is Fn::Base64 of Fn::Sub grows with
the values substituted, and fails at deploy time, not at lint time, once a parameter
value is long enough. So each one is measured with every value at its longest: a
parameter's MaxLength, longest AllowedValues entry or bounded AllowedPattern (four
bytes a character unless the pattern keeps to ASCII), a Number's bounds written out,
an AWS type's id, pseudo parameters at theirs (AWS::StackName 128). A String
parameter with none of these can be any length: that alone is a finding. A
resource's attribute (Fn::GetAtt) the template gives no length for is not counted.
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html
"""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.facts.lengths import USER_DATA_MOST_BYTES
from threetier.gates.lintrules._helpers import TemplateView


class UserDataSize(CloudFormationLintRule):
    id = "E9015"
    shortdesc = "User data over EC2's 16 KB at the longest parameter values"
    description = (
        "UserData of an AWS::EC2::LaunchTemplate, AWS::AutoScaling::LaunchConfiguration or AWS::EC2::Instance "
        "that can be longer than the 16,383 bytes EC2 takes (16 KB raw, 21,847 base64 characters) when every "
        "value it substitutes is at its longest, or that substitutes a String parameter of any length."
    )
    source_url = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html"
    tags = ["resources", "ec2", "autoscaling", "userdata"]

    def match(self, cfn):
        matches = []
        for name, path, length in TemplateView(cfn.template).user_data():
            if length.unbounded:
                matches.append(RuleMatch(path, (
                    f"{name}: UserData can be any length: it substitutes {'; '.join(sorted(set(length.unbounded)))}. "
                    f"EC2 refuses more than {USER_DATA_MOST_BYTES:,} bytes at deploy time. Fix: give the parameter "
                    "a MaxLength (or AllowedValues) that keeps the user data under the limit with every value at "
                    "its longest.")))
            elif length.most > USER_DATA_MOST_BYTES:
                uncounted = f"; not counted: {', '.join(sorted(set(length.uncounted)))}" if length.uncounted else ""
                matches.append(RuleMatch(path, (
                    f"{name}: UserData can be {length.most:,} bytes with every value at its longest, more than the "
                    f"{USER_DATA_MOST_BYTES:,} EC2 takes (16 KB raw, 21,847 base64 characters); the longest values: "
                    f"{length.largest()}{uncounted}. Fix: lower those MaxLengths, or move what the instance can fetch out of "
                    "the user data (e.g. files in AWS::CloudFormation::Init metadata, which cfn-init writes).")))
        return matches
