"""The project's and the environment's names: the first part of every name and tag."""

from __future__ import annotations

from threetier.parameters.param import GROUP_ADVANCED_SERVERS, GROUP_PROJECT, Param

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

# How the nested stacks wait for each other (templates/root.py). The template's default is the
# chain, the layout of every environment created before it existed, so that a console update of
# such a stack changes nothing; the environment files ask for parallel, and the tool refuses to
# change the value of a deployed environment (threetier.review.refused), as the move would
# replace its load balancer, log bucket, origin secret and read replica.
CHAIN_LAYOUT = "chain"
PARALLEL_LAYOUT = "parallel"
STACK_LAYOUT = Param(
    "StackLayout",
    "String",
    "How the nested stacks wait for each other. chain: network, security, data, app, then edge "
    "and monitoring, the read replica inside the data stack (environments created before December "
    "2026). parallel: the load balancer and the origin secret in a front stack that builds while the "
    "database does, so CloudFront and the alarms do not wait for the database or the servers, and "
    "the read replica in a stack of its own beside the app. Fixed when the environment is created.",
    label="Stack layout",
    group=GROUP_ADVANCED_SERVERS,
    hint="parallel: edge, alarms, replica beside the app. Fixed at create.",
    default=CHAIN_LAYOUT,
    allowed_values=(CHAIN_LAYOUT, PARALLEL_LAYOUT),
    constraint="chain or parallel.",
)
