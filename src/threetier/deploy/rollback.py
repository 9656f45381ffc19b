"""Rollback triggers: the monitoring stack's alarms guard every update.

CloudFormation watches the alarms of a RollbackConfiguration during the update and for
MonitoringTimeInMinutes after it, and rolls the whole update back when one goes to ALARM
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-rollback-triggers.html).
A bad release that makes the load balancer answer 5xx, fails health checks or leaves fewer
servers in service than the minimum thus undoes itself.

The alarms are found in the deployed monitoring nested stack (DescribeStackResource on the
root for MonitoringStack, then DescribeStackResources on it): an alarm's physical id is its
name, and its ARN is arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
No template output is needed, so stacks deployed before this keep working. Without the
monitoring stack (MonitoringEnabled false, or a first create) there is nothing to watch.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from threetier.parameters.evaluate import Evaluation

MONITORING_STACK = "MonitoringStack"
ALARM_TYPE = "AWS::CloudWatch::Alarm"
# The alarms that say a release is bad (templates/monitoring.py); CloudFormation takes at most 5.
GUARD_ALARMS = ("AlbHttp5xxRateAlarm", "UnhealthyHostsAlarm", "InServiceBelowMinimumAlarm")


@dataclass(frozen=True)
class Guard:
    alarms: tuple[tuple[str, str], ...]  # (logical id, alarm ARN)
    minutes: int

    def configuration(self) -> dict:
        """CreateChangeSet's RollbackConfiguration."""
        return {
            "RollbackTriggers": [{"Arn": arn, "Type": ALARM_TYPE} for _, arn in self.alarms],
            "MonitoringTimeInMinutes": self.minutes,
        }

    def lines(self) -> list[str]:
        lines = [f"Rollback triggers: {len(self.alarms)} alarm(s) guard this update and the {self.minutes} "
                 "minute(s) after it; if one goes to ALARM, CloudFormation rolls the whole update back:"]
        lines += [f"  - {logical_id}: {arn}" for logical_id, arn in self.alarms]
        return lines

    def as_dict(self) -> dict:
        return {"alarms": [{"logical_id": logical_id, "arn": arn} for logical_id, arn in self.alarms],
                "monitoring_minutes": self.minutes}


def alarm_arn(stack_id: str, alarm_name: str) -> str:
    """The alarm's ARN in the partition, region and account of the stack (arn:PARTITION:cloudformation:...)."""
    _, partition, _, region, account, _ = stack_id.split(":", 5)
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm_name}"


# What an update sends when nothing guards it. Left out, the stack keeps the triggers
# it saved, and "if a specified trigger is missing, the entire stack operation fails
# and is rolled back": after monitoring is turned off every later update would fail.
# An empty list removes them; no monitoring time without triggers.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_RollbackConfiguration.html
NO_TRIGGERS = {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}


def monitoring_kept(template: dict, values: dict[str, str], region: str) -> bool:
    """Whether the monitoring stack exists under the new values: an update that deletes it (monitoring
    turned off) deletes the alarms its triggers would name, and a missing trigger fails the update."""
    resource = (template.get("Resources") or {}).get(MONITORING_STACK)
    if resource is None:
        return False
    condition = resource.get("Condition")
    return condition is None or Evaluation(template, values, region).condition(condition)


def find_guard(cfn, stack_id: str, template: dict, minutes: int) -> Guard | None:
    """The guard alarms of the deployed monitoring stack, or None when there is no monitoring stack."""
    if MONITORING_STACK not in (template.get("Resources") or {}):
        return None
    try:
        detail = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId=MONITORING_STACK)
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None  # its condition is false in this stack: monitoring is off
        raise
    resource = detail["StackResourceDetail"]
    nested_id = resource.get("PhysicalResourceId") or ""
    if not nested_id.startswith("arn:") or resource.get("ResourceStatus", "").startswith("DELETE_"):
        return None
    # DescribeStackResources returns at most 100 resources; the monitoring stack has fewer.
    resources = cfn.describe_stack_resources(StackName=nested_id)["StackResources"]
    names = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources
             if r.get("ResourceType") == ALARM_TYPE and not r.get("ResourceStatus", "").startswith("DELETE_")}
    alarms = tuple((logical_id, alarm_arn(nested_id, names[logical_id]))
                   for logical_id in GUARD_ALARMS if names.get(logical_id))
    return Guard(alarms, minutes) if alarms else None
