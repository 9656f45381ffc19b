"""Which stacks a `--role-arn` deployer role can serve, decided before any AWS call.

A threetier deployer role is named `<ProjectName>.deployer` (templates/deployer_role.py), one per
account and project. Its caller policy (threetier.blocks.callerpolicy) lets people create change
sets with it only on stacks named `<ProjectName>-*`, and never on the deployer's own stack
`<ProjectName>-deployer`. A plan outside that would fail at CreateChangeSet with AccessDenied,
after the templates were uploaded: `plan` and `deploy` refuse it first, saying what would work.
A role named otherwise is not one of ours: the tool cannot tell which stacks it serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from threetier.blocks.callerpolicy import DEPLOYER_STACK_SUFFIX, DEPLOYER_SUFFIX
from threetier.deploy.errors import InputError

# arn:PARTITION:iam::ACCOUNT:role/PATH/NAME: the name is the last part of the path.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
_ROLE_NAME = re.compile(r"^arn:[^:]+:iam::[0-9]{12}:role/(?:.*/)?(?P<name>[^/]+)$")


@dataclass(frozen=True)
class DeployerRole:
    arn: str
    project: str  # the X of X.deployer

    @property
    def stacks(self) -> str:
        return f"{self.project}-*"

    @property
    def own_stack(self) -> str:
        return f"{self.project}{DEPLOYER_STACK_SUFFIX}"


def deployer_role(role_arn: str) -> DeployerRole | None:
    """The deployer role `role_arn` names (any path), or None for a role named otherwise."""
    match = _ROLE_NAME.match(role_arn)
    if match is None or not match["name"].endswith(DEPLOYER_SUFFIX):
        return None
    project = match["name"].removesuffix(DEPLOYER_SUFFIX)
    return DeployerRole(role_arn, project) if project else None


def problem(role: DeployerRole, stack_name: str, project_name: str) -> str | None:
    """Why `role` cannot serve a change set on `stack_name` for project `project_name`, or None."""
    if role.project != project_name:
        return (f"--role-arn {role.arn} is the deployer role of project {role.project}, but ProjectName is "
                f"{project_name}: its stacks would be named {project_name}-*, which that role does not serve. "
                f"Pass the role {project_name}{DEPLOYER_SUFFIX} (deploy output/deployer-role.yaml with "
                f"ProjectName={project_name}), or set ProjectName to {role.project}.")
    if not stack_name.startswith(f"{role.project}-"):
        return (f"--role-arn {role.arn} serves only stacks named {role.stacks}, not stack {stack_name}: leave "
                f"--stack-name (and stack_name in threetier.toml) out, or name the stack {role.project}-<something>.")
    if stack_name == role.own_stack:
        return (f"stack {stack_name} is the deployer role's own stack: {role.arn} serves the stacks named "
                f"{role.stacks} except {role.own_stack}. Choose another environment or --stack-name.")
    return None


def check(role_arn: str | None, stack_name: str, project_name: str) -> str | None:
    """InputError (exit 2) when `role_arn` is a deployer role that cannot serve the stack; a one-line
    note when the role is not named like one (nothing can be told), None when all is well."""
    if not role_arn:
        return None
    role = deployer_role(role_arn)
    if role is None:
        return (f"note: --role-arn {role_arn} is not named <ProjectName>{DEPLOYER_SUFFIX}: threetier cannot tell "
                f"which stacks it serves, going on with stack {stack_name}")
    found = problem(role, stack_name, project_name)
    if found:
        raise InputError(f"{found} Nothing was uploaded or created.")
    return None
