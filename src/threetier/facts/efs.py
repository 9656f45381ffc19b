"""EFS data access for NFS clients: the IAM actions, how EFS weighs the two kinds of policy, and
which of those actions the AWS managed policies an instance role commonly carries grant."""

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html",
    "https://docs.aws.amazon.com/efs/latest/ug/efs-access-points.html",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonElasticFileSystemClientReadOnlyAccess.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonElasticFileSystemClientReadWriteAccess.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonElasticFileSystemClientFullAccess.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonElasticFileSystemsUtils.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedEC2InstanceDefaultPolicy.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudWatchAgentServerPolicy.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html",
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/PowerUserAccess.html",
)
CHECKED = "2026-12-06"

# The actions a file system policy or an identity policy grants an NFS client that mounts with
# IAM authorization (efs-utils' `iam` option): ClientMount alone is read-only access.
CLIENT_MOUNT = "elasticfilesystem:ClientMount"
CLIENT_WRITE = "elasticfilesystem:ClientWrite"
CLIENT_ROOT_ACCESS = "elasticfilesystem:ClientRootAccess"
CLIENT_ACTIONS = (CLIENT_MOUNT, CLIENT_WRITE, CLIENT_ROOT_ACCESS)

# How EFS decides, from the pages above:
# - Without a FileSystemPolicy the default policy is in effect: full access for every client
#   that reaches a mount target, IAM or not.
# - With one, an Allow of an action in either the client's identity policy or the file system
#   policy allows it (same account); an explicit Deny in either refuses it.
# - A file system policy whose Principal is an account ("arn:...:iam::111122223333:root" or the
#   bare id) delegates to that account's IAM policies: it allows nothing by itself to a role.

# AWS managed policies that instance roles commonly carry: the client actions each allows, on
# every file system ("Resource": "*"). PowerUserAccess allows everything but iam:*,
# organizations:* and account:*.
MANAGED_POLICY_CLIENT_ACTIONS = {
    "AmazonElasticFileSystemClientReadOnlyAccess": frozenset({CLIENT_MOUNT}),
    "AmazonElasticFileSystemClientReadWriteAccess": frozenset({CLIENT_MOUNT, CLIENT_WRITE}),
    "AmazonElasticFileSystemClientFullAccess": frozenset(CLIENT_ACTIONS),
    "AmazonElasticFileSystemsUtils": frozenset(),
    "AmazonSSMManagedInstanceCore": frozenset(),
    "AmazonSSMManagedEC2InstanceDefaultPolicy": frozenset(),
    "CloudWatchAgentServerPolicy": frozenset(),
    "AdministratorAccess": frozenset(CLIENT_ACTIONS),
    "PowerUserAccess": frozenset(CLIENT_ACTIONS),
}
