"""E9016: an EFS file system that a role of the template can mount but never write.

With IAM authorization (efs-utils' `iam` mount option) EFS weighs the client's identity
policies and the file system policy: ClientMount is read-only access, ClientWrite is what
writes. An Allow in either policy allows the action (same account); an explicit Deny in
either refuses it; a file system policy Principal that is an account delegates to the
account's IAM policies and allows no role anything by itself. Without a FileSystemPolicy
the default policy allows every client everything. So a role that gets ClientMount from
one and ClientWrite from neither mounts a file system it can never write: every write
fails, e.g. with a file system policy that grants only ClientMount (the console's "Enforce
read-only access by default") to a role whose own policy grants only ClientMount too.
https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html

What it judges, from one template: each AWS::EFS::FileSystem with a FileSystemPolicy (in each
Fn::If branch), and each AWS::IAM::Role of the template that is a client of it: one whose
policies (inline, AWS::IAM::Policy, AWS::IAM::RolePolicy, AWS::IAM::ManagedPolicy of the
template) grant a client action on a Resource that names the file system, or under an
elasticfilesystem:AccessPointArn condition that names one of its access points; or one
that the file system policy names as Principal. An Allow with a Condition is taken to hold
(a condition can only take a grant away); a Deny counts only without one. Principal "*"
reaches every role, the role's own Arn reaches it, anything known only at deploy time (a
parameter) may be the role and is taken to reach it.

What it cannot see, and leaves alone: a role with a managed policy that is neither in the
template nor in threetier.facts.efs.MANAGED_POLICY_CLIENT_ACTIONS; roles of other templates
(an app stack whose role gets the file system's ARN as a parameter); permissions boundaries,
SCPs and session policies (they can only take a write away); clients that mount without IAM
authorization; and the POSIX side (the owner and mode of the directory a client writes in,
an access point's PosixUser and CreationInfo), which the boot test exercises.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from threetier.facts.efs import CLIENT_ACTIONS, CLIENT_MOUNT, CLIENT_WRITE, MANAGED_POLICY_CLIENT_ACTIONS
from threetier.gates.lintrules._helpers import TemplateView, is_literal

FILE_SYSTEM = "AWS::EFS::FileSystem"
ACCESS_POINT = "AWS::EFS::AccessPoint"
ROLE = "AWS::IAM::Role"
ATTACHED = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
ACCESS_POINT_KEY = "elasticfilesystem:accesspointarn"
AWS_MANAGED = re.compile(r"^arn:[^:]+:iam::aws:policy/(?:.*/)?([^/]+)$")
PLACEHOLDER = re.compile(r"\$\{([^}.!]+)")
ANY_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
PSEUDO = {"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix"}
# How surely a file system policy's Principal is a given role.
MAY, CERTAIN, NAMED = "may", "certain", "named"
# An ARN of a file system this template creates: its id is only known at deploy time, so a
# literal ARN can name it only through a wildcard.
UNKNOWN_FILE_SYSTEM_ID = "file-system/fs-0123456789abcdef0"


class EfsMountWithoutWrite(CloudFormationLintRule):
    id = "E9016"
    shortdesc = "EFS file system a role can mount but never write"
    description = (
        "A role of the template is allowed elasticfilesystem:ClientMount on an EFS file system with a "
        "FileSystemPolicy, but neither its IAM policies nor the file system policy allow it ClientWrite "
        "(or a Deny refuses it): its mounts are read-only."
    )
    source_url = "https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html"
    tags = ["resources", "efs", "iam"]

    def match(self, cfn):
        view = TemplateView(cfn.template)
        roles = {role: _RolePolicies(view, role) for role, _ in view.resources_of_type(ROLE)}
        found: dict[tuple, RuleMatch] = {}  # one finding per place and message, whichever Fn::If branch
        for file_system, _ in view.resources_of_type(FILE_SYSTEM):
            own = {file_system, *(name for name, _ in view.resources_of_type(ACCESS_POINT)
                                  if view.ref_target(view.properties(name).get("FileSystemId")) == file_system)}
            path = ["Resources", file_system, "Properties", "FileSystemPolicy"]
            for document, document_path in view.branches(view.properties(file_system).get("FileSystemPolicy"), path):
                if not isinstance(document, dict):
                    continue  # AWS::NoValue: the default policy, every client may write
                statements = [s for s in view.items(document.get("Statement"), [*document_path, "Statement"])
                              if isinstance(s[0], dict)]
                policy = _FileSystemPolicy(view, file_system, own, statements)
                for role, policies in roles.items():
                    judged = policy.judge(role, policies)
                    if judged:
                        path, message = judged
                        found.setdefault((*map(str, path), message), RuleMatch(path, message))
        return list(found.values())


class _RolePolicies:
    """A role's identity policy statements, as far as the template shows them."""

    def __init__(self, view: TemplateView, role: str):
        self.view = view
        self.statements: list[tuple[dict, list]] = []
        self.managed_actions: set[str] = set()
        self.known = True  # False: a managed policy this template does not show
        properties = view.properties(role)
        base = ["Resources", role, "Properties"]
        for policy, policy_path in view.items(properties.get("Policies"), [*base, "Policies"]):
            if isinstance(policy, dict):
                self._add(policy.get("PolicyDocument"), [*policy_path, "PolicyDocument"])
        for arn, _ in view.items(properties.get("ManagedPolicyArns"), []):
            self._add_managed(arn)
        for name, resource in view.resources.items():
            if not isinstance(resource, dict):
                continue
            body = view.properties(name)
            attached = (resource.get("Type") in ATTACHED and role in {
                view.ref_target(item) for item, _ in view.items(body.get("Roles"), [])})
            attached |= resource.get("Type") == "AWS::IAM::RolePolicy" and view.ref_target(body.get("RoleName")) == role
            if attached:
                self._add(body.get("PolicyDocument"), ["Resources", name, "Properties", "PolicyDocument"])

    def _add(self, document: Any, path: list) -> None:
        for document_branch, branch_path in self.view.branches(document, path):
            if isinstance(document_branch, dict):
                self.statements += [s for s in self.view.items(document_branch.get("Statement"),
                                                               [*branch_path, "Statement"]) if isinstance(s[0], dict)]

    def _add_managed(self, arn: Any) -> None:
        target = self.view.ref_target(arn)
        if target is not None and _type(self.view, target) == "AWS::IAM::ManagedPolicy":
            self._add(self.view.properties(target).get("PolicyDocument"),
                      ["Resources", target, "Properties", "PolicyDocument"])
            return
        for value in self.view.values(arn):
            name = AWS_MANAGED.match(value) if isinstance(value, str) else None
            actions = MANAGED_POLICY_CLIENT_ACTIONS.get(name.group(1)) if name else None
            if actions is None:
                self.known = False
            else:
                self.managed_actions |= actions


class _FileSystemPolicy:
    """One branch of a file system's FileSystemPolicy, judged for each role of the template."""

    def __init__(self, view: TemplateView, file_system: str, own: set[str], statements: list[tuple[dict, list]]):
        self.view, self.file_system, self.own, self.statements = view, file_system, own, statements

    def judge(self, role: str, policies: _RolePolicies) -> tuple[list, str] | None:
        view = self.view
        identity = [(s, p) for s, p in policies.statements if _on_file_system(view, s, self.own)]
        named = [(s, p) for s, p in identity if _names(view, s, self.own) and _grants(view, s, CLIENT_ACTIONS)]
        by_principal = [(s, p) for s, p in self.statements
                        if _reaches(view, s, role, NAMED) and _grants(view, s, CLIENT_ACTIONS)]
        if not (named or by_principal) or not policies.known:
            return None

        def allowed(action: str) -> list[str]:
            sources = [f"{role}'s statement {_sid(s)}" for s, _ in identity if _grants(view, s, (action,))]
            sources += [f"a managed policy of {role}"] * (action in policies.managed_actions)
            sources += [f"{self.file_system}'s FileSystemPolicy statement {_sid(s)}" for s, _ in self.statements
                        if _reaches(view, s, role, MAY) and _grants(view, s, (action,))]
            return sources

        def denied(action: str) -> list[str]:
            return ([f"{role}'s statement {_sid(s)}" for s, _ in identity
                     if _certainly_on(view, s, self.own) and _denies(view, s, action)]
                    + [f"{self.file_system}'s FileSystemPolicy statement {_sid(s)}" for s, _ in self.statements
                       if _reaches(view, s, role, CERTAIN) and _denies(view, s, action)])

        mount, write, write_denied = allowed(CLIENT_MOUNT), allowed(CLIENT_WRITE), denied(CLIENT_WRITE)
        if not mount or denied(CLIENT_MOUNT) or (write and not write_denied):
            return None
        path = (named or by_principal)[0][1]
        return path, _message(role, self.file_system, mount, write_denied)


def _message(role: str, file_system: str, mount: list[str], write_denied: list[str]) -> str:
    why = (f"{' and '.join(write_denied)} denies elasticfilesystem:ClientWrite" if write_denied else
           f"nothing allows it elasticfilesystem:ClientWrite: not {role}'s policies, and not {file_system}'s "
           f"FileSystemPolicy (an account principal there reaches no role by itself)")
    return (
        f"{role} can mount {file_system} but never write it: {mount[0]} allows elasticfilesystem:ClientMount "
        f"(read-only access), and {why}. With IAM authorization (mount option iam) EFS allows an action that "
        f"the identity policy or the file system policy allows, and refuses one that either denies, so every "
        f"write through this role's mounts fails. Fix: add elasticfilesystem:ClientWrite to {role}'s statement "
        f"on {file_system} (same Resource and conditions), or allow it to the role in the FileSystemPolicy, "
        f"and drop a Deny of it that reaches the role."
    )


def _type(view: TemplateView, name: str) -> str | None:
    resource = view.resources.get(name)
    return resource.get("Type") if isinstance(resource, dict) else None


def _texts(view: TemplateView, node: Any) -> list[Any]:
    """Every value each item of a string-or-list field can take."""
    return [value for item, _ in view.items(node, []) for value in view.values(item)]


def _matches_any(view: TemplateView, patterns: list[Any], action: str) -> bool | None:
    """Whether an action pattern covers `action`; None when a pattern is known only at deploy time."""
    if any(not is_literal(p) for p in patterns):
        return None
    return any(fnmatchcase(action.lower(), str(p).lower()) for p in patterns)


def _covers(view: TemplateView, statement: dict, action: str) -> bool | None:
    if "Action" in statement:
        return _matches_any(view, _texts(view, statement["Action"]), action)
    if "NotAction" in statement:
        excluded = _matches_any(view, _texts(view, statement["NotAction"]), action)
        return None if excluded is None else not excluded
    return False


def _grants(view: TemplateView, statement: dict, actions: tuple[str, ...]) -> bool:
    """An Allow that may grant one of `actions` (an unknown action pattern may)."""
    return statement.get("Effect") == "Allow" and any(_covers(view, statement, a) is not False for a in actions)


def _denies(view: TemplateView, statement: dict, action: str) -> bool:
    """A Deny that certainly refuses `action`: no Condition, a known action pattern."""
    return statement.get("Effect") == "Deny" and "Condition" not in statement and _covers(view, statement, action) is True


def _references(value: Any) -> set[str]:
    return set(PLACEHOLDER.findall(value)) if isinstance(value, str) and not is_literal(value) else set()


def _names(view: TemplateView, statement: dict, own: set[str]) -> bool:
    """The statement's Resource, or an AccessPointArn condition, names the file system or its access point."""
    resources = _texts(view, statement.get("Resource"))
    access_points = _access_point_conditions(view, statement)
    return any(_references(value) & own for value in (*resources, *access_points))


def _on_file_system(view: TemplateView, statement: dict, own: set[str]) -> bool:
    """The statement may apply to the file system: its Resource names it, a wildcard or something known only
    at deploy time may be it, and no AccessPointArn condition names only other resources' access points."""
    if "NotResource" in statement:
        return True
    applies = False
    for value in _texts(view, statement.get("Resource")):
        refs = _references(value) - PSEUDO
        if refs & own or (refs and not refs & set(view.resources)):
            applies = True  # names it, or a parameter that may be it
        elif not refs and _wildcard_for_new_file_system(str(value)):
            applies = True
    access_points = [_references(value) for value in _access_point_conditions(view, statement)]
    if access_points and all(refs and refs <= set(view.resources) - own for refs in access_points):
        return False  # only through other file systems' access points
    return applies


def _certainly_on(view: TemplateView, statement: dict, own: set[str]) -> bool:
    """Every Resource of the statement is "*" or names the file system or its access point."""
    values = _texts(view, statement.get("Resource"))
    return bool(values) and all(value == "*" or _references(value) & own for value in values)


def _wildcard_for_new_file_system(text: str) -> bool:
    """A literal ARN (deploy-time parts as wildcards) that matches a file system whose id is not known yet."""
    pattern = ANY_PLACEHOLDER.sub("*", text)
    if pattern == "*":
        return True
    fields = pattern.split(":")
    if len(fields) != 6:
        return False
    partition, region, account = fields[1], fields[3], fields[4]
    return fnmatchcase(f"arn:{partition}:elasticfilesystem:{region}:{account}:{UNKNOWN_FILE_SYSTEM_ID}", pattern)


def _access_point_conditions(view: TemplateView, statement: dict) -> list[Any]:
    values = []
    for condition, _ in view.branches(statement.get("Condition"), []):
        for tests in (condition or {}).values() if isinstance(condition, dict) else ():
            if isinstance(tests, dict):
                for key, value in tests.items():
                    if str(key).lower() == ACCESS_POINT_KEY:
                        values += _texts(view, value)
    return values


def _reaches(view: TemplateView, statement: dict, role: str, how: str) -> bool:
    """A file system policy statement's Principal names the role (NAMED), is it or everyone (CERTAIN),
    or may be it (MAY: also a parameter, or a NotPrincipal)."""
    if "NotPrincipal" in statement:
        return how == MAY
    principal = statement.get("Principal")
    values = ["*"] if principal == "*" else _texts(view, principal.get("AWS")) if isinstance(principal, dict) else []
    role_name = view.properties(role).get("RoleName")
    for value in values:
        refs = _references(value) - PSEUDO
        if role in refs or (not refs and isinstance(role_name, str) and str(value).endswith(f":role/{role_name}")):
            return True
        if value == "*":
            if how != NAMED:
                return True
        elif refs and not refs & set(view.resources) and how == MAY:
            return True  # a parameter: it may be this role
        # else an account (it delegates to its IAM policies), another resource, another role's ARN
    return False


def _sid(statement: dict) -> str:
    sid = statement.get("Sid")
    return sid if isinstance(sid, str) else "(no Sid)"

