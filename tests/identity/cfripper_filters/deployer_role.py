"""cfripper filters for output/deployer-role.yaml, each with the reason it is not a finding.

Loaded by tests/identity/test_cfripper.py (cfripper --rules-filters-folder), which
also checks that each reason still holds in the generated template.
"""

from cfripper.config.filter import Filter
from cfripper.model.enums import RuleMode

ROLE_WRITES_REASON = (
    "CloudFormation creates the stacks' roles, writes their inline policies and trust and attaches their managed "
    "policies: these actions act only on the project's roles (<ProjectName>-* ARNs, never the deployer role, which "
    "an explicit deny keeps as deployed), need the permissions boundary when one is set, and AttachRolePolicy only "
    "takes the AWS managed policies the stacks attach (iam:PolicyARN). tests/identity/test_deployer_probes.py proves "
    "AdministratorAccess, roles outside the project and roles without the boundary are denied."
)
DESCRIBE_REASON = (
    "The only wildcard actions are the read-only Describe* of Auto Scaling, EC2 and load balancing that their "
    "handlers call, kept with a reason each in threetier.facts.schemabranches.KEPT_WILDCARDS."
)

FILTERS = [
    Filter(
        reason=ROLE_WRITES_REASON,
        rule_mode=RuleMode.ALLOWED,
        eval={"regex": ["^DeployerScopedPolicy[0-9]+$", {"ref": "logical_id"}]},
        rules={"PrivilegeEscalationRule"},
    ),
    Filter(
        reason=DESCRIBE_REASON,
        rule_mode=RuleMode.ALLOWED,
        eval={"regex": ["^DeployerPolicy[0-9]+$", {"ref": "logical_id"}]},
        rules={"GenericResourceWildcardPolicyRule", "IAMRoleWildcardActionOnPolicyRule"},
    ),
]
