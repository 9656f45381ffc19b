"""Stack set mechanics: what is deployed where, following an operation, drift per instance, and the
template bucket's organization-only read access.

A stack set runs one operation at a time and reports it per stack instance (account and region):
DescribeStackSetOperation gives the operation's status (RUNNING, SUCCEEDED, FAILED, STOPPING,
STOPPED, QUEUED), ListStackSetOperationResults each instance's status (PENDING, RUNNING, SUCCEEDED,
FAILED, CANCELLED) with its StatusReason. When more accounts fail in a region than the failure
tolerance allows, the operation stops there and the later regions are not attempted: their instances
end CANCELLED.
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackSetOperation.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationResultSummary.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationPreferences.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

RUNNING_STATES = ("RUNNING", "QUEUED", "STOPPING")
DONE = "SUCCEEDED"
NOT_FOUND = ("StackSetNotFoundException",)
# Nested templates and the rotation function's code are read in each target account, by the role
# StackSets works as there: the bucket must let the organization's principals read (aws:PrincipalOrgID).
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
ORG_CONDITION_KEY = "aws:PrincipalOrgID"
READ_ACTIONS = ("s3:GetObject", "s3:Get*", "s3:*", "*")


class OperationTimeout(Exception):
    def __init__(self, operation_id: str, waited: float):
        super().__init__(operation_id)
        self.operation_id = operation_id
        self.waited = waited


@dataclass
class Operation:
    """A stack set operation as followed: its final status and each instance's last result."""

    operation_id: str
    action: str
    status: str = "RUNNING"
    results: dict[tuple[str, str], dict] = field(default_factory=dict)  # (account, region) -> summary

    @property
    def succeeded(self) -> bool:
        return self.status == DONE

    def failed(self) -> list[dict]:
        return [r for r in self.results.values() if r.get("Status") == "FAILED"]

    def cancelled(self) -> list[dict]:
        return [r for r in self.results.values() if r.get("Status") == "CANCELLED"]


def describe(cfn, name: str, call_as: dict) -> dict | None:
    """DescribeStackSet's StackSet, or None when there is none by that name."""
    try:
        return cfn.describe_stack_set(StackSetName=name, **call_as)["StackSet"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND:
            return None
        raise


def instances(cfn, name: str, call_as: dict) -> list[dict]:
    """Every stack instance summary of the stack set (ListStackInstances, all pages)."""
    found, token = [], None
    while True:
        page = cfn.list_stack_instances(StackSetName=name, **call_as, **({"NextToken": token} if token else {}))
        found += page.get("Summaries", [])
        token = page.get("NextToken")
        if not token:
            return found


def overrides_of(cfn, name: str, account: str, region: str, call_as: dict) -> dict[str, str]:
    """The parameter overrides a stack instance has (DescribeStackInstance)."""
    instance = cfn.describe_stack_instance(StackSetName=name, StackInstanceAccount=account,
                                           StackInstanceRegion=region, **call_as)["StackInstance"]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in instance.get("ParameterOverrides") or []}


def follow(cfn, name: str, operation_id: str, call_as: dict, out, *, sleep, clock, poll_seconds: float,
           limit_seconds: float) -> Operation:
    """Poll the operation until it settles, printing each instance's status when it changes (with the
    reason a failed one gives)."""
    start = clock()
    operation = Operation(operation_id, "")
    while True:
        described = cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation_id,
                                                     **call_as)["StackSetOperation"]
        operation.action = described.get("Action", "")
        operation.status = described.get("Status", "")
        for result in results(cfn, name, operation_id, call_as):
            key = (result.get("Account", ""), result.get("Region", ""))
            if operation.results.get(key, {}).get("Status") != result.get("Status"):
                print(f"  [{_elapsed(clock() - start)}] {instance_line(result)}", file=out)
            operation.results[key] = result
        if operation.status not in RUNNING_STATES:
            return operation
        if clock() - start >= limit_seconds:
            raise OperationTimeout(operation_id, clock() - start)
        sleep(poll_seconds)


def results(cfn, name: str, operation_id: str, call_as: dict) -> list[dict]:
    found, token = [], None
    while True:
        page = cfn.list_stack_set_operation_results(StackSetName=name, OperationId=operation_id, **call_as,
                                                    **({"NextToken": token} if token else {}))
        found += page.get("Summaries", [])
        token = page.get("NextToken")
        if not token:
            return found


def instance_line(result: dict) -> str:
    where = result.get("Account") or result.get("OrganizationalUnitId", "")
    reason = result.get("StatusReason") or ""
    return f"{where} {result.get('Region', '')}: {result.get('Status', '')}" + (f" ({reason})" if reason else "")


def outcome_lines(operation: Operation, regions: tuple[str, ...]) -> list[str]:
    """What a finished operation did: failed instances with their reasons, the regions never attempted."""
    if operation.succeeded and not operation.failed():
        return [(f"operation {operation.operation_id} ({operation.action}): SUCCEEDED on "
                 f"{len(operation.results)} stack instance(s)")]
    within = " (the failures were within the failure tolerance)" if operation.succeeded else ""
    lines = [f"operation {operation.operation_id} ({operation.action}): {operation.status}{within}"]
    lines += [f"  failed: {instance_line(result)}" for result in operation.failed()]
    reached = {region for (_, region), result in operation.results.items() if result.get("Status") != "CANCELLED"}
    skipped = [region for region in regions if region not in reached]
    if skipped:
        lines.append(f"  not attempted (the failure tolerance stopped the operation first): {', '.join(skipped)}")
    return lines


def drift_lines(summaries: list[dict]) -> tuple[list[str], int]:
    """One line per stack instance with its drift status, and how many drifted."""
    lines, drifted = [], 0
    for summary in sorted(summaries, key=lambda s: (s.get("Region", ""), s.get("Account", ""))):
        status = summary.get("DriftStatus", "NOT_CHECKED")
        drifted += status == "DRIFTED"
        lines.append(f"  {summary.get('Account', '')} {summary.get('Region', '')}: {status}")
    return lines, drifted


def bucket_read_problem(s3, bucket: str) -> str | None:
    """Why the bucket's policy does not let exactly the organization read its objects, or None: a statement must
    allow reads under aws:PrincipalOrgID, and none may allow them to everyone without a condition."""
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return "it has no bucket policy, so other accounts of the organization cannot read the templates"
        raise
    statements = _listed(policy.get("Statement"))
    public = [statement.get("Sid", "(no Sid)") for statement in statements if _public_read(statement)]
    if public:
        return (f"its policy lets anyone read its objects (statement {', '.join(public)}): the organization only, "
                f"with {ORG_CONDITION_KEY}")
    if not any(_org_read(statement) for statement in statements):
        return "its policy does not let the organization's accounts read the templates"
    return None


def _reads(statement: dict) -> bool:
    return statement.get("Effect") == "Allow" and any(a in READ_ACTIONS for a in _listed(statement.get("Action")))


def _org_read(statement: dict) -> bool:
    conditions = statement.get("Condition") or {}
    return _reads(statement) and any(ORG_CONDITION_KEY in (values or {}) for values in conditions.values())


def _public_read(statement: dict) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in _listed(principal.get("AWS")))
    return _reads(statement) and everyone and not statement.get("Condition")


def _listed(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


def _elapsed(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"
