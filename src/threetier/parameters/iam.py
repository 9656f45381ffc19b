"""Locked-down accounts: a permissions boundary and a path for every IAM role the stacks create."""

from __future__ import annotations

from threetier.parameters.param import GROUP_IAM, Param

PERMISSIONS_BOUNDARY_ARN = Param(
    "PermissionsBoundaryArn",
    "String",
    "Managed policy set as the permissions boundary of every IAM role the stacks create, for "
    "organisations that require one; empty: no boundary. The roles AWS creates for the "
    "database password rotation (the hosted rotation Lambda) cannot take one.",
    label="Permissions boundary ARN (every role)",
    group=GROUP_IAM,
    hint="Boundary policy for every role; empty: none",
    default="",
    allowed_pattern=r"^$|^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[\w+=,.@/-]{1,512}$",
    constraint="Empty or an IAM policy ARN, e.g. arn:aws:iam::123456789012:policy/Boundary.",
)

IAM_ROLE_PATH = Param(
    "IamRolePath",
    "String",
    "Path of every IAM role the stacks create (e.g. /app/), for organisations whose policies "
    "or boundaries match roles by path; / is IAM's default.",
    label="IAM role path",
    group=GROUP_IAM,
    default="/",
    allowed_pattern=r"^/$|^/[!-~]{1,510}/$",
    constraint="/ or a path that starts and ends with /, e.g. /app/ (printable ASCII, no spaces).",
)

IAM = (PERMISSIONS_BOUNDARY_ARN, IAM_ROLE_PATH)
