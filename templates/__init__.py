"""One troposphere module per stack; each exposes build() -> Template.

STACKS maps each generated file in output/ to the module that builds it.
"""

STACKS = {
    "main.yaml": "root",
    "network.yaml": "network",
    "security.yaml": "security",
    "data.yaml": "data",
    "dns.yaml": "dns",
    "app.yaml": "app",
    "admin.yaml": "admin",
    "edge.yaml": "edge",
    "monitoring.yaml": "monitoring",
    # Not a stack of the application: the role CloudFormation may assume to deploy them.
    "deployer-role.yaml": "deployer_role",
}
