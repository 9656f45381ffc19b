"""`threetier status ENV`: the stack's status, protection, outputs, and what to do next."""

from __future__ import annotations

import argparse

from botocore.exceptions import ClientError

from threetier import emit
from threetier.deploy import advice, changeset, events
from threetier.deploy.commands import common
from threetier.deploy.commands.outcome import outputs_table
from threetier.deploy.errors import EXIT_FAILURE, EXIT_OK
from threetier.review import cloudfrontsteps


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stack_name = common.stack_name(args, project)
    clients = common.connect(args)
    stack = changeset.describe_stack(clients.cloudformation, stack_name)
    if stack is None:
        print(f"Stack {stack_name} does not exist in {clients.region}.")
        return EXIT_FAILURE
    status = stack["StackStatus"]
    print(f"Stack:   {stack_name}")
    print(f"Region:  {clients.region}")
    print(f"Status:  {status}")
    if stack.get("StackStatusReason"):
        print(f"Reason:  {stack['StackStatusReason']}")
    print(f"Protect: termination protection {'on' if stack.get('EnableTerminationProtection') else 'off'}"
          + (" (a protected environment)" if args.settings.protected else ""))
    changed = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    if changed:
        print(f"Changed: {changed:%Y-%m-%d %H:%M:%S %Z}".rstrip())
    if status == "REVIEW_IN_PROGRESS":
        print(_not_deployed_yet(clients.cloudformation, stack, args))
    halfway = cloudfrontsteps.halfway(
        {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}, args.env)
    if halfway:
        print(f"CDN:     {halfway}")
    outputs = stack.get("Outputs") or []
    print()
    print(outputs_table(outputs) if outputs else "Outputs: none")
    waiting = _unconfirmed_alarm_subscriptions(clients, args, outputs)
    if waiting:
        print()
        print("\n".join(waiting))
    if events.is_running(status):
        cancel = f", or cancel the update with `threetier cancel {args.env}`" if status == "UPDATE_IN_PROGRESS" else ""
        print()
        print(f"An operation is running: follow it with `threetier watch {args.env}`{cancel}.")
    stuck = advice.next_step(status, stack_name, args.env, args.region)
    if stuck and not status.endswith("_IN_PROGRESS"):
        print()
        print(stuck)
        return EXIT_FAILURE
    return EXIT_OK


def _not_deployed_yet(cfn, stack: dict, args: argparse.Namespace) -> str:
    """What a stack in REVIEW_IN_PROGRESS holds: change sets waiting for review, or nothing at all."""
    at = f" --region {args.region}" if args.region else ""
    summaries = cfn.list_change_sets(StackName=stack["StackId"]).get("Summaries", [])
    waiting = [s for s in summaries if not s.get("Status", "").startswith("DELETE_")]
    if not waiting:
        return ("Not deployed yet, and no change set waits on it: an empty stack (no resources, no cost). "
                f"Remove it with `threetier delete {args.env}{at}`, or deploy with `threetier deploy {args.env}`.")
    names = ", ".join(f"{s.get('ChangeSetName', '')} ({s.get('Status', '')})" for s in waiting)
    return (f"Not deployed yet: {len(waiting)} change set(s) wait for review: {names}. "
            f"`threetier deploy {args.env}` creates and executes a fresh one; "
            f"`threetier delete {args.env}{at}` removes the stack and them.")


# ListSubscriptionsByTopic names a subscription its endpoint has not confirmed yet
# "PendingConfirmation" instead of an ARN; SNS delivers nothing to it until it is confirmed.
# https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html
# https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
PENDING = "PendingConfirmation"
ALARM_TOPIC_OUTPUT = "AlarmTopicArn"
# Subscribe: "Confirmation tokens are valid for two days."
# https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
HOW_TO_CONFIRM = ("Confirm it with the link in the email from AWS Notifications (valid for two days; after that, "
                  "choose the subscription in the SNS console and Request confirmation).")


def _unconfirmed_alarm_subscriptions(clients, args: argparse.Namespace, outputs: list[dict]) -> list[str]:
    """One line per subscription of the alarm topic still waiting for confirmation, and one saying how
    to confirm; nothing when the stack has no alarm topic (monitoring off) or all are confirmed."""
    topic = next((o.get("OutputValue") for o in outputs if o.get("OutputKey") == ALARM_TOPIC_OUTPUT), None)
    if not topic:
        return []
    sns = common.make_client(clients, args.profile, "sns")
    try:
        waiting = [subscription for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
                   for subscription in page.get("Subscriptions", []) if subscription.get("SubscriptionArn") == PENDING]
    except ClientError as error:
        unknown = (f"Alarms:  could not list the alarm topic's subscriptions ({error.response['Error'].get('Code')}): "
                   "whether someone confirmed them is unknown")
        return [unknown]
    if not waiting:
        return []
    lines = [f"Alarms:  {s.get('Protocol', '')} {s.get('Endpoint', '')} has not confirmed its subscription to "
             f"{topic}: it receives no alarm" for s in waiting]
    return [*lines, HOW_TO_CONFIRM]
