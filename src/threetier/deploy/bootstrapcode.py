"""The rotation code's buckets, one per target region, as `threetier stackset bootstrap`'s second stack set.

Lambda reads a function's code only from a bucket in the function's own region, which may be in another
account (threetier.deploy.stacksetcode). output/code-bucket.yaml (templates/code_bucket.py) makes that bucket,
named by the code_bucket setting for its region, readable by the organization (organization_id), writable by
its own account only. Where: in the administrator account, every region of the stack set, as stack set
`<name>-bootstrap-code`:

- not in each target account: a bucket name is unique in the whole partition, so the same name cannot be
  created in a second account (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html);
  and `threetier stackset deploy` copies the zip from the template bucket, in this account, into one bucket
  per region, which an account that joins an OU later reads as it is.
- self-managed, to this account: service-managed stack sets never deploy to the organization's management
  account, even when it is in a target OU
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html);
  a self-managed one needs the administration role and the execution role in this account
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html).
"""

from __future__ import annotations

from threetier.deploy import stacksettargets
from threetier.deploy.errors import InputError
from threetier.deploy.stacksettargets import SELF_MANAGED, StackSetSettings, Target

TEMPLATE = "code-bucket.yaml"
SUFFIX = "-bootstrap-code"
ORG_ID_HINT = "aws organizations describe-organization --query Organization.Id"


def check(env: str, targets: StackSetSettings, template_bucket: str) -> None:
    """Refuse, before any call, a code_bucket the buckets cannot be made from."""
    if not targets.code_bucket:
        return
    if not targets.organization_id:
        raise InputError(f"[{env}.stackset] sets code_bucket but not organization_id: the code buckets let that "
                         f"organization's accounts read the rotation code. Set organization_id = \"o-...\" "
                         f"(`{ORG_ID_HINT}`); nothing was sent to AWS")
    for region in targets.regions:
        name = stacksettargets.code_bucket_in(targets.code_bucket, region)
        if name == template_bucket:
            raise InputError(f"[{env}.stackset] code_bucket names the template bucket {name} in {region}: that bucket "
                             "exists, and bootstrap would create it again. Give the code buckets a name of their own; "
                             "nothing was sent to AWS")
        if not stacksettargets.BUCKET_NAME.match(name):
            raise InputError(f"[{env}.stackset] code_bucket gives {name!r} in {region}, not a bucket name "
                             "(3 to 63 lower-case letters, digits, dots and hyphens); nothing was sent to AWS")


def settings(targets: StackSetSettings, account: str) -> StackSetSettings:
    """This account, every region in the environment's order, one region at a time, stopping at the first
    failure; the environment's own roles when it is self-managed too."""
    own_roles = targets.permission_model == SELF_MANAGED
    return StackSetSettings(
        permission_model=SELF_MANAGED, regions=targets.regions,
        targets=(Target(1, accounts=(account,)),), code_bucket=targets.code_bucket,
        administration_role_arn=targets.administration_role_arn if own_roles else None,
        execution_role_name=targets.execution_role_name if own_roles else None)


def parameters(values: dict[str, str], targets: StackSetSettings) -> dict[str, str]:
    prefix, suffix = stacksettargets.code_bucket_parts(targets.code_bucket or "")
    return {"ProjectName": values.get("ProjectName", ""), "EnvironmentName": values.get("EnvironmentName", ""),
            "CodeBucketPrefix": prefix, "CodeBucketSuffix": suffix,
            "OrganizationId": targets.organization_id or ""}


def review_lines(name: str, code: StackSetSettings) -> list[str]:
    account = code.targets[0].accounts[0]
    buckets = ", ".join(stacksettargets.code_bucket_in(_pattern(code), region) for region in code.regions)
    where = (f"Stack set {name} (self-managed): {TEMPLATE} in account {account} (this administrator account), "
             f"regions {' > '.join(code.regions)}: buckets {buckets}")
    how = ("  read by the organization's accounts only, written by this account only; kept (DeletionPolicy "
           "Retain) when the stack set goes: deployed stacks' functions point at their objects")
    return [where, how]


def _pattern(code: StackSetSettings) -> str:
    return code.code_bucket or ""
