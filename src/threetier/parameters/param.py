"""What a parameter is (Param), the console groups, and how a template declares parameters (use)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from troposphere import Parameter, Template

INTERFACE = "AWS::CloudFormation::Interface"

# Console groups in the order a person fills them in: what the stack is, how
# big, its name on the web, who hears about alarms; then the optional and the
# rarely changed. The root template adds its parameters in this order (ROOT).
GROUP_PROJECT = "Project"

GROUP_SIZE = "Size and protection"

GROUP_EDGE = "Domain, HTTPS and CDN (optional)"

GROUP_NOTIFICATIONS = "Alarms and notifications"

GROUP_APP = "Application"

GROUP_BASTION = "Bastion hosts (optional)"

GROUP_IAM = "Locked-down accounts (optional)"

GROUP_ADVANCED_SERVERS = "Advanced: network, servers, load balancer, CDN"

GROUP_ADVANCED_DATA = "Advanced: database and file system"

GROUP_ADVANCED_ALARMS = "Advanced: alarm thresholds"

# The templates give the console no ParameterLabels: it then shows each parameter's name
# (DomainName, DbMultiAz, AlarmEmail), which says as much as a label would, with its hint
# under it; the 5.6 KB the labels took leave the root room under its 40,000 bytes (issue 18).
# A Param's label is still the first column of parameters/README.md.



@dataclass(frozen=True)
class Param:
    """One CloudFormation parameter with its console label and group.

    `description` is the full explanation (parameters/README.md); `hint` the
    few words the root template shows under the console label, because the root
    must stay small enough for `aws cloudformation deploy` (see ROOT_SIZE_LIMIT).
    """

    name: str
    type: str
    description: str
    label: str
    group: str
    hint: str = ""
    default: str | None = None
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    # Characters at most (CloudFormation's MaxLength, String parameters only): every free-text
    # value the app user data substitutes has one, so the user data's longest rendering is
    # known before a deploy (threetier.blocks.userdata, lint rule E9015).
    max_length: int | None = None
    constraint: str | None = None
    # False: the root declares only the type and default, and the nested stack that takes the value
    # checks it (the root's 40,000 bytes); `threetier validate` checks it against this definition first.
    root_checks: bool = True

    def to_parameter(self, root: bool = False) -> Parameter:
        """As the root declares it (short hint, no repeated constraint text) or a nested stack does.

        A nested stack gets the parameter from the root, which already explains
        and checks it, so only the values wired between stacks keep a description.
        In the root, a ConstraintDescription is given only with an AllowedPattern:
        the console offers AllowedValues as a list, and CloudFormation's own
        messages for MinValue/MaxValue name the bound, but for a pattern it would
        print the regular expression.
        """
        props = {"Type": self.type}
        if root and not self.root_checks:
            return Parameter(self.name, **props, **({} if self.default is None else {"Default": self.default}))
        description = self.hint if root else (self.description if self.group == GROUP_WIRED else "")
        if description:
            props["Description"] = description
        if self.default is not None:
            props["Default"] = self.default
        if self.allowed_values:
            props["AllowedValues"] = list(self.allowed_values)
        if self.allowed_pattern is not None:
            props["AllowedPattern"] = self.allowed_pattern
        if self.min_value is not None:
            props["MinValue"] = self.min_value
        if self.max_value is not None:
            props["MaxValue"] = self.max_value
        if self.max_length is not None:
            props["MaxLength"] = self.max_length
        if self.constraint is not None and (self.allowed_pattern is not None or not root):
            props["ConstraintDescription"] = self.constraint
        return Parameter(self.name, **props)



SSM_TYPE = re.compile(r"^AWS::SSM::Parameter::Value<(.+)>$")



def as_nested(param: Param) -> Param:
    """The parameter as a nested stack declares it, when the root passes `!Ref` of it.

    CloudFormation resolves an SSM parameter type in the stack that declares it
    and passes the resolved value (e.g. ami-0abc...) on. A nested stack that
    declared the same SSM type would look that value up as a Parameter Store
    name and fail validation, so it takes the resolved type, without a default.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html
    (project lint rule E9001 catches the mistake in any parent/child pair).
    """
    match = SSM_TYPE.match(param.type)
    if not match:
        return param
    return replace(param, type=match.group(1), default=None,
                   description=f"{match.group(1)} the root stack resolved from its {param.name} SSM parameter.")



def use(t: Template, *params: Param, root: bool = False) -> None:
    """Add parameters to a template and record their console group."""
    interface = t.metadata.setdefault(INTERFACE, {"ParameterGroups": []})
    for param in params:
        t.add_parameter(param.to_parameter(root))
        _group(interface, param.group).append(param.name)



def _group(interface: dict, name: str) -> list:
    for group in interface["ParameterGroups"]:
        if group["Label"]["default"] == name:
            return group["Parameters"]
    group = {"Label": {"default": name}, "Parameters": []}
    interface["ParameterGroups"].append(group)
    return group["Parameters"]



OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"

# Values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS = (
    "1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365",
    "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653",
)



def log_retention(name: str, description: str, label: str, group: str, default: str) -> Param:
    """A number of days CloudWatch Logs keeps a log group's events, from the periods it accepts."""
    return Param(
        name, "Number", description, label=label, group=group, default=default,
        allowed_values=LOG_RETENTION_DAYS,
        constraint="One of the CloudWatch Logs retention periods: " + ", ".join(LOG_RETENTION_DAYS) + ".",
    )



TRUE_FALSE = ("true", "false")

GROUP_WIRED = "Wired by the root stack"



def wired(name: str, type_: str, description: str, **constraints) -> Param:
    return Param(name, type_, description, label=name, group=GROUP_WIRED, **constraints)
