"""Termination protection for protected environments (prod by default; `protected` in threetier.toml).

With termination protection on, DeleteStack fails and the stack stays as it is; it is set on
the root stack and covers its nested stacks, and can be set in any status except
DELETE_IN_PROGRESS and DELETE_COMPLETE
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html).
CreateChangeSet has no option for it, so `deploy` turns it on (UpdateTerminationProtection)
right after CloudFormation accepts the change set, as the console's "enable termination
protection" does at create. Turning it off is deliberate: `delete` needs an explicit option
and the confirmation.
"""

from __future__ import annotations

from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from threetier.deploy.errors import aws_said
from threetier.deploy.settings import Settings


def protect(cfn, stack_id: str, stack_name: str, stack_before: dict | None, region: str | None,
            out: TextIO) -> None:
    """Turn termination protection on, unless it already is; a refusal is reported, not fatal (the
    change set is executing already)."""
    if stack_before and stack_before.get("EnableTerminationProtection"):
        return
    try:
        cfn.update_termination_protection(EnableTerminationProtection=True, StackName=stack_id)
    except (ClientError, BotoCoreError) as error:
        said = aws_said(error) if isinstance(error, ClientError) else str(error)
        at = f" --region {region}" if region else ""
        print(f"Could not turn termination protection on ({said}); do it by hand:\n"
              f"  aws cloudformation update-termination-protection --enable-termination-protection "
              f"--stack-name {stack_name}{at}", file=out)
        return
    print(f"Termination protection is on for stack {stack_name} (a protected environment).", file=out)


def guarded(stack: dict, protected_environment: bool) -> bool:
    """Whether deleting the stack needs --disable-termination-protection: the stack is protected, or it
    belongs to a protected environment (an empty stack still in review holds nothing to protect)."""
    if stack.get("EnableTerminationProtection"):
        return True
    return protected_environment and stack["StackStatus"] != "REVIEW_IN_PROGRESS"


def refusal(stack: dict, stack_name: str, env: str, settings: Settings, region: str | None) -> str:
    at = f" --region {region}" if region else ""
    why = []
    if stack.get("EnableTerminationProtection"):
        why.append("its termination protection is on")
    if settings.protected:
        where = f"protected = true in {settings.source}" if settings.source else f"{env} is protected by default"
        why.append(f"{env} is a protected environment ({where})")
    return (f"Not deleting stack {stack_name}: {' and '.join(why)}. Deleting it is deliberate: run\n"
            f"  threetier delete {env} --disable-termination-protection{at}\n"
            "which lists what survives, asks you to confirm, turns termination protection off and deletes "
            "the stack. Nothing was changed.")


def unprotect(cfn, stack_id: str, stack_name: str, out: TextIO) -> None:
    cfn.update_termination_protection(EnableTerminationProtection=False, StackName=stack_id)
    print(f"Termination protection is off for stack {stack_name}.", file=out)
