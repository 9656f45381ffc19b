"""One troposphere module per stack; each exposes build() -> Template.

STACKS maps each generated file in output/ to the module that builds it.
"""

import functools
import importlib

STACKS = {
    "main.yaml": "root",
    "network.yaml": "network",
    "security.yaml": "security",
    "data.yaml": "data",
    "front.yaml": "front",
    "replica.yaml": "replica",
    "dns.yaml": "dns",
    "app.yaml": "app",
    "admin.yaml": "admin",
    "edge.yaml": "edge",
    "monitoring.yaml": "monitoring",
    # Not nested in main.yaml: an environment outside us-east-1 deploys it there (CloudFront's certificate, WAF).
    "edge-us-east-1.yaml": "edge_us_east_1",
    "backup.yaml": "backup",
    # Not a stack of the application: the role CloudFormation may assume to deploy them.
    "deployer-role.yaml": "deployer_role",
    # Not a stack of the environment either: its copy vault in the second region (or a backup account).
    "backup-vault.yaml": "backup_vault",
    # Not a stack of the application either: the rotation code's bucket of one region, which
    # `threetier stackset bootstrap` creates in every target region of a stack set.
    "code-bucket.yaml": "code_bucket",
}
# The stacks the deployer role deploys (and is granted for): not itself, and not the code bucket, which
# StackSets' execution role creates in the administrator account (threetier.deploy.bootstrapcode).
NOT_FOR_THE_DEPLOYER = ("deployer_role", "code_bucket")


@functools.lru_cache(maxsize=None)
def built(module: str):
    """The Template of templates/<module>.py, built once per run (the deployer role reads the others)."""
    return importlib.import_module(f"{__name__}.{module}").build()


@functools.lru_cache(maxsize=None)
def built_dict(module: str) -> dict:
    """built(module).to_dict(), once per run: its YAML and the deployer role both read it (not to be changed)."""
    return built(module).to_dict()
