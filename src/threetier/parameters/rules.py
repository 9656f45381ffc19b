"""Rules: combinations of parameter values that cannot work, refused before anything is created or changed.

CloudFormation checks a template's Rules when a stack is created or updated,
before it touches any resource, and fails with the AssertDescription.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html

The root keeps the checks of what a console user fills in (domain, CDN,
bastions) so that the console refuses at once. The root's body may have
51,200 bytes (`aws cloudformation deploy` sends it in the request), so the
checks of rarely changed settings and regions live in the network stack, the
first nested stack, where they still refuse before any resource exists.
`threetier validate` refuses every one of them offline.
"""

from __future__ import annotations

from troposphere import Equals, Ref, Template

from threetier import parameters as P


def add(t: Template, name: str, when, holds, message: str, *more) -> None:
    """A Rule whose assertion `holds` must be true when `when` is (always, for None);
    `more` adds (holds, message) pairs under the same condition."""
    condition = {} if when is None else {"RuleCondition": when}
    assertions = [{"Assert": assertion, "AssertDescription": text} for assertion, text in ((holds, message), *more)]
    t.add_rule(name, {**condition, "Assertions": assertions})


def is_empty(param: P.Param) -> Equals:
    return Equals(Ref(param.name), "")


def contains(values, value) -> dict:
    """Fn::Contains, one of the functions only Rules may use; troposphere has no class for it."""
    return {"Fn::Contains": [list(values), value]}
