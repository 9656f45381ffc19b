"""The project's and the environment's names: the first part of every name and tag."""

from __future__ import annotations

from threetier.parameters.param import GROUP_PROJECT, Param

PROJECT_NAME = Param(
    "ProjectName",
    "String",
    "Short project name, used as the first part of every resource Name tag "
    "(<project>-<environment>-<thing>).",
    hint="First part of every Name tag, e.g. shop",
    label="Project name",
    group=GROUP_PROJECT,
    default="project-x",
    # No "--": the database is named <project>-<environment>-db, and RDS
    # identifiers may not hold two hyphens in a row.
    allowed_pattern=r"^(?!.*--)[a-z][a-z0-9-]{1,18}[a-z0-9]$",
    constraint="3 to 20 characters: lower-case letters, digits and single hyphens, "
    "starting with a letter and not ending with a hyphen.",
)

ENVIRONMENT_NAME = Param(
    "EnvironmentName",
    "String",
    "Environment this stack serves (e.g. dev, staging, prod); tagged on every "
    "resource and part of every Name tag.",
    hint="e.g. dev, staging, prod",
    label="Environment name",
    group=GROUP_PROJECT,
    default="dev",
    allowed_pattern=r"^[a-z][a-z0-9]{1,9}$",
    # The hint shows the examples (dev, staging, prod).
    constraint="2 to 10 characters: lower-case letters and digits, starting with a letter.",
)

PROJECT = (PROJECT_NAME, ENVIRONMENT_NAME)
