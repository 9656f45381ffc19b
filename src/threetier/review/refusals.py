"""Parameter changes AWS refuses in the middle of an update, found before anything is sent.

A change set for these is created and looks reviewable, then the update fails and rolls
back. `diff` (the file at REV against the file now) and `plan`/`deploy` (the deployed
stack's values against the file) refuse them with the reason, the AWS page and the path
that works.
"""

from __future__ import annotations

from dataclasses import dataclass

from threetier.parameters.project import CHAIN_LAYOUT

STORAGE = "DbAllocatedStorage"
AZS = "NumberOfAzs"
SUBNET_BITS = "SubnetCidrBits"
CLOUDFRONT = "CloudFrontEnabled"
RESTORE_SNAPSHOT = "DbRestoreSnapshot"
# "If you specify a different DBSnapshotIdentifier value, a new DB instance is restored from the
# specified snapshot, and the original DB instance is deleted"; once restored, "you must specify the
# same DBSnapshotIdentifier property for any future updates".
RESTORE_PAGE = ("https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
                "aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-dbsnapshotidentifier")
ORIGIN_PINS = ("OriginVerifySecretVersion", "OriginVerifyPreviousSecretVersion")
LAYOUT = "StackLayout"
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html
STORAGE_PAGE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html"
# EC2 deletes no subnet that still holds network interfaces (the database's, a mount target's,
# a NAT gateway's): "You must terminate all running instances in the subnet before you can delete it."
SUBNET_PAGE = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnet.html"
# CidrBlock of AWS::EC2::Subnet is create-only: a new range is a new subnet, created before the
# old one is deleted, and "a subnet CIDR block must not overlap the CIDR block of an existing
# subnet in the VPC. After you create a subnet, you can't change its CIDR block."
OVERLAP_PAGE = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html"
# A dynamic reference names a version of one secret; CloudFormation resolves it when the resource
# is created or its text changes, and fails the resource when that version does not exist.
DYNAMIC_REFERENCE_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html"
# Removing a resource from a stack's template deletes it; a resource with the same definition in
# another stack is a new resource. Moving one without replacing it takes a stack refactor
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-refactoring.html), which
# cannot create or delete resources or add parameters in the same step: not something a change
# set review can show.
REFACTOR_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-refactoring.html"
NEW_ENVIRONMENT = ("create a new environment with the new value beside this one, move the data "
                   "(a database snapshot, the file system's backup), switch the DNS name, then delete this one")


@dataclass(frozen=True)
class Refusal:
    parameter: str
    before: str
    after: str
    reason: str
    page: str
    way: str

    def __str__(self) -> str:
        return (f"{self.parameter} {self.before} -> {self.after}: {self.reason} ({self.page}). "
                f"What works: {self.way}.")


def refusals(before: dict[str, str], after: dict[str, str]) -> list[Refusal]:
    """What AWS would refuse in going from the values `before` to `after` (each with the
    template's defaults filled in), in parameter order."""
    found = []
    for check in (_storage, _azs, _subnet_bits, _origin_pins, _stack_layout, _restore_snapshot):
        refusal = check(before, after)
        if refusal is not None:
            found.append(refusal)
    return found


def _storage(before: dict[str, str], after: dict[str, str]) -> Refusal | None:
    old, new = _number(before.get(STORAGE)), _number(after.get(STORAGE))
    if old is None or new is None or new == old:
        return None
    if new < old:
        return Refusal(STORAGE, before[STORAGE], after[STORAGE],
                       "RDS cannot reduce the storage of a DB instance once it is allocated", STORAGE_PAGE,
                       f"keep {before[STORAGE]} GiB or more; to really shrink it, {NEW_ENVIRONMENT}")
    if new * 10 < old * 11:  # at least a tenth more, in whole numbers (no float rounding)
        return Refusal(STORAGE, before[STORAGE], after[STORAGE],
                       "RDS grows allocated storage by at least 10 % at a time", STORAGE_PAGE,
                       f"set {STORAGE} to {_at_least_ten_percent_more(old)} or more")
    return None


def _azs(before: dict[str, str], after: dict[str, str]) -> Refusal | None:
    old, new = _number(before.get(AZS)), _number(after.get(AZS))
    if old is None or new is None or new >= old:
        return None
    return Refusal(AZS, before[AZS], after[AZS],
                   "the subnets of the AZs it drops are deleted, but the database's primary, standby or read "
                   "replica may run in one of them (RDS places them), and EC2 deletes no subnet that still "
                   "holds a network interface; the file system's mount target and the NAT gateway there go too",
                   SUBNET_PAGE, f"keep {before[AZS]} AZs; to run in fewer, {NEW_ENVIRONMENT}")


def _subnet_bits(before: dict[str, str], after: dict[str, str]) -> Refusal | None:
    if before.get(SUBNET_BITS) is None or after.get(SUBNET_BITS) is None:
        return None
    if before[SUBNET_BITS] == after[SUBNET_BITS]:
        return None
    return Refusal(SUBNET_BITS, before[SUBNET_BITS], after[SUBNET_BITS],
                   "every subnet gets a new range, and a subnet's range cannot change: CloudFormation creates "
                   "each new subnet before it deletes the old one, and EC2 refuses a range that overlaps one "
                   "still in the VPC; the database and the file system's mount targets hold the old subnets",
                   OVERLAP_PAGE, f"keep {SUBNET_BITS} {before[SUBNET_BITS]}; for other subnet sizes, {NEW_ENVIRONMENT}")


def _origin_pins(before: dict[str, str], after: dict[str, str]) -> Refusal | None:
    """CloudFront turned on with the origin header secret's versions pinned: the secret exists only
    while CloudFront is on (the data stack deletes it when CloudFront is turned off and creates another
    when it is turned on), so the pins name versions of a secret that is gone."""
    if before.get(CLOUDFRONT) == "true" or after.get(CLOUDFRONT) != "true":
        return None
    pinned = [name for name in ORIGIN_PINS if after.get(name)]
    if not pinned:
        return None
    return Refusal(CLOUDFRONT, before.get(CLOUDFRONT) or "false", "true",
                   f"turning CloudFront on creates a new origin header secret, and {' and '.join(pinned)} "
                   f"{'pin' if len(pinned) > 1 else 'pins'} versions of the one deleted when CloudFront was turned off (or of none): CloudFormation fails "
                   "resolving their dynamic references in the middle of the update", DYNAMIC_REFERENCE_PAGE,
                   f"empty {' and '.join(ORIGIN_PINS)} (in parameters/ENV.pins.json, where rotate-origin-secret pins "
                   "them, or in parameters/ENV.json; CloudFront and the load balancer then use the new "
                   "secret's current value); rotate it later with `threetier rotate-origin-secret ENV`")


def _stack_layout(before: dict[str, str], after: dict[str, str]) -> Refusal | None:
    """The other layout builds the load balancer, its log bucket, the origin secret and the read replica
    in other nested stacks (templates/root.py): CloudFormation would make new ones and delete the old."""
    old, new = before.get(LAYOUT) or CHAIN_LAYOUT, after.get(LAYOUT) or CHAIN_LAYOUT
    if old == new:
        return None
    return Refusal(LAYOUT, old, new,
                   "the layouts keep the load balancer, its access-log bucket, the origin header secret and the "
                   "read replica in different nested stacks, and CloudFormation moves no resource between stacks "
                   "in an update: it would create new ones (a new load balancer name for the site's records and "
                   "CloudFront; the replica's fixed identifier collides with the old one's) and delete the old "
                   "(deletion protection keeps a protected load balancer, which fails the update)", REFACTOR_PAGE,
                   f"keep {LAYOUT} {old} in the environment file (a layout is chosen when an environment is "
                   f"created); for the {new} layout, {NEW_ENVIRONMENT}")
def _restore_snapshot(before: dict[str, str], after: dict[str, str]) -> Refusal | None:
    """DbRestoreSnapshot set, changed or cleared on a deployed stack: CloudFormation would restore (or
    create) a new database and delete the running one, under the same DBInstanceIdentifier, which the
    replacement cannot take while the old one exists."""
    old, new = before.get(RESTORE_SNAPSHOT) or "", after.get(RESTORE_SNAPSHOT) or ""
    if old == new or RESTORE_SNAPSHOT not in after:
        return None
    return Refusal(RESTORE_SNAPSHOT, old or "(empty)", new or "(empty)",
                   "a different DBSnapshotIdentifier replaces the database: CloudFormation makes a new one (restored, "
                   "or empty) and deletes the running one, and the named instance cannot be replaced while it "
                   "exists", RESTORE_PAGE,
                   f"keep {old or 'it empty'}; to restore, `threetier restore ENV --into NEWENV` makes a new "
                   "environment beside this one (docs/recovery.md)")


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _at_least_ten_percent_more(old: float) -> int:
    tenth = int(old) // 10 + (1 if int(old) % 10 else 0)
    return int(old) + tenth
