"""Every AWS call threetier makes, recorded from botocore's events, and the IAM authorization each needs.

`Recorder.install` wraps the seam every deploy command creates its clients through
(`common.make_clients`, `common.make_client`): each client it returns reports each call
(`before-parameter-build`: the operation and the parameters as the code passed them) and
each answer (`after-call`: which stack a change set or a drift detection belongs to, known only
from the responses). `needs` then turns a call into the IAM requests AWS authorizes for it:
action, resource ARN and request context.

An operation's action is `<signing name>:<OperationName>` (the service authorization reference
names actions after API operations), except where AWS documents otherwise: EXCEPTIONS.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone

from botocore.awsrequest import AWSResponse

ACCOUNT = "123456789012"  # moto's default account
PARTITION = "aws"
UNKNOWN_STACK_ID = "00000000-0000-0000-0000-000000000000"  # a stack called by name: IAM matches stack/NAME/*
CLOUDFORMATION_SERVICE = "cloudformation.amazonaws.com"

# Operation -> the IAM actions it needs, where that is not <prefix>:<OperationName>.
EXCEPTIONS = {
    # "If you have the s3:ListBucket permission on the bucket, Amazon S3 returns an HTTP status code
    # 404 Not Found error; if you don't, 403 Forbidden": package tells a missing template by the 404.
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html (Permissions)
    ("s3", "HeadObject"): ("s3:GetObject", "s3:ListBucket"),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html (Permissions)
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html (Permissions)
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    # "No permissions are required to perform this operation."
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    ("sts", "GetCallerIdentity"): (),
}
# Passing a service role: the caller needs iam:PassRole on it, to CloudFormation.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
PASSES_ROLE = ("CreateChangeSet", "CreateStack", "UpdateStack", "DeleteStack", "ContinueUpdateRollback")
BUCKET_LEVEL = ("s3:ListBucket", "s3:GetBucketLocation")


@dataclass(frozen=True)
class Call:
    command: str  # the threetier command that made it
    service: str  # the signing name: the IAM prefix
    operation: str
    params: dict
    region: str


@dataclass(frozen=True)
class Need:
    """One IAM authorization a call needs."""
    action: str
    resource: str
    context: dict = field(default_factory=dict)
    call: Call | None = field(default=None, compare=False)


class Recorder:
    def __init__(self, *also):
        """`also`: more to attach to each client the seam creates (e.g. MotoGaps().attach)."""
        self.also = also
        self.calls: list[Call] = []
        self.command = ""
        self.change_set_stacks: dict[str, str] = {}  # change set ARN -> stack ARN
        self.stack_ids: dict[str, str] = {}  # stack name -> stack ARN

    def install(self, monkeypatch, common) -> None:
        """Record every client the deploy commands create through `common`'s seam."""
        make_clients, make_client = common.make_clients, common.make_client

        def recorded_clients(*args, **kwargs):
            clients = make_clients(*args, **kwargs)
            for client in (clients.cloudformation, clients.s3, clients.sts):
                self.attach(client)
            return clients

        def recorded_client(*args, **kwargs):
            return self.attach(make_client(*args, **kwargs))

        monkeypatch.setattr(common, "make_clients", recorded_clients)
        monkeypatch.setattr(common, "make_client", recorded_client)

    def attach(self, client):
        client.meta.events.register("before-parameter-build.*.*", self._called)
        client.meta.events.register("after-call.*.*", self._answered)
        for attach in self.also:
            attach(client)
        return client

    def _called(self, params, model, context, **_):
        service = model.service_model.signing_name
        region = context.get("client_region") or ""
        self.calls.append(Call(self.command, service, model.name, dict(params), region))

    def _answered(self, parsed, model, **_):
        if not isinstance(parsed, dict) or "Error" in parsed:
            return
        change_set, stack = parsed.get("ChangeSetId") or parsed.get("Id"), parsed.get("StackId")
        if model.name in ("CreateChangeSet", "DescribeChangeSet") and change_set and stack:
            self.change_set_stacks[change_set] = stack
        for summary in parsed.get("Summaries", []):  # ListChangeSets
            self.change_set_stacks[summary["ChangeSetId"]] = summary["StackId"]
        for stack in parsed.get("Stacks", []):
            self.stack_ids[stack["StackName"]] = stack["StackId"]

    def needs(self) -> list[Need]:
        return [need for call in self.calls for need in needs(call, self)]


def needs(call: Call, recorder: Recorder) -> list[Need]:
    """The IAM authorizations `call` needs: its actions on its resource, and PassRole of a role it passes."""
    actions = EXCEPTIONS.get((call.service, call.operation), (f"{call.service}:{call.operation}",))
    context = {"aws:RequestedRegion": call.region}
    if call.service == "cloudformation" and "RoleARN" in call.params:
        context["cloudformation:RoleArn"] = call.params["RoleARN"]
    found = [Need(action, resource_of(call, action, recorder), context, call) for action in actions]
    if call.service == "cloudformation" and call.operation in PASSES_ROLE and "RoleARN" in call.params:
        found.append(Need("iam:PassRole", call.params["RoleARN"],
                          {**context, "iam:PassedToService": CLOUDFORMATION_SERVICE}, call))
    return found


def resource_of(call: Call, action: str, recorder: Recorder) -> str:
    """The ARN IAM authorizes `action` of `call` on (the service authorization reference's resource types)."""
    params = call.params
    if call.service == "cloudformation":
        if call.operation == "DescribeStackDriftDetectionStatus":
            return "*"  # no resource type for it
        if "ChangeSetName" in params and "StackName" not in params:  # authorized on the change set's stack
            return recorder.change_set_stacks[params["ChangeSetName"]]
        return stack_arn(params["StackName"], call.region, recorder)
    if call.service == "s3":
        if "Key" in params and action not in BUCKET_LEVEL:
            return f"arn:{PARTITION}:s3:::{params['Bucket']}/{params['Key']}"
        return f"arn:{PARTITION}:s3:::{params['Bucket']}"
    if call.service == "ssm":
        name = params["Name"]
        # AWS's public parameters have no account in their ARN.
        # https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html
        account = "" if name.startswith("/aws/service/") else ACCOUNT
        return f"arn:{PARTITION}:ssm:{call.region}:{account}:parameter/{name.lstrip('/')}"
    return "*"  # EC2's Describe calls: no resource-level permissions


def stack_arn(name_or_id: str, region: str, recorder: Recorder) -> str:
    if name_or_id.startswith("arn:"):
        return name_or_id
    known = recorder.stack_ids.get(name_or_id)
    return known or f"arn:{PARTITION}:cloudformation:{region}:{ACCOUNT}:stack/{name_or_id}/{UNKNOWN_STACK_ID}"


# The answers that list a stack's resources, and the key they are under.
RESOURCE_LISTS = {"ListStackResources": "StackResourceSummaries", "DescribeStackResources": "StackResources"}


class MotoGaps:
    """Where moto's CloudFormation differs from AWS in what the commands rely on, AWS's answer, so the
    commands can be recorded end to end:

    - answers shaped like the real API for the calls moto does not implement (drift detection,
      termination protection, CancelUpdateStack, ContinueUpdateRollback), on `before-call`, after the
      recorder saw the call: botocore returns what that handler gives;
    - a stack in the status a step needs (`pretend`: UPDATE_IN_PROGRESS to cancel, UPDATE_ROLLBACK_FAILED to
      continue), which moto never leaves a stack in, until the call that acts on it; then the rollback that
      call starts, done at once: its last event and UPDATE_ROLLBACK_COMPLETE, while moto has nothing newer;
    - a nested stack's physical id is its ARN on AWS (what Ref of an AWS::CloudFormation::Stack
      returns: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stack.html#aws-resource-cloudformation-stack-return-values),
      its name on moto: rewritten on `after-call`, looked up by a client of its own (not recorded).
    """

    _numbers = itertools.count(1)

    def __init__(self, lookup):
        self.lookup = lookup  # a CloudFormation client of the same moto server, not recorded
        self.detections: dict[str, str] = {}  # detection id -> stack ARN
        self.pretend: str | None = None  # the status DescribeStacks gives until a rollback starts
        self.rolled_back: dict[str, dict] = {}  # stack ARN -> the UPDATE_ROLLBACK_COMPLETE event of its rollback

    def attach(self, client) -> None:
        if client.meta.service_model.service_name != "cloudformation":
            return
        client.meta.events.register("after-call.cloudformation.*", self._nested_stack_arns)
        client.meta.events.register("after-call.cloudformation.DescribeStacks", self._statuses)
        client.meta.events.register("before-parameter-build.cloudformation.DescribeStackEvents", _keep_arguments)
        client.meta.events.register("after-call.cloudformation.DescribeStackEvents", self._rollback_events)
        for operation, answer in (("UpdateTerminationProtection", self._protection),
                                  ("DetectStackDrift", self._detect),
                                  ("DescribeStackDriftDetectionStatus", self._detection_status),
                                  ("DescribeStackResourceDrifts", self._resource_drifts),
                                  ("CancelUpdateStack", self._roll_back),
                                  ("ContinueUpdateRollback", self._roll_back)):
            client.meta.events.register(f"before-parameter-build.cloudformation.{operation}", _keep_arguments)
            client.meta.events.register(f"before-call.cloudformation.{operation}", _answering(answer))

    def _nested_stack_arns(self, parsed, model, **_):
        resources = parsed.get(RESOURCE_LISTS.get(model.name, ""), [])
        if model.name == "DescribeStackResource" and "StackResourceDetail" in parsed:
            resources = [parsed["StackResourceDetail"]]
        for resource in resources:
            name = resource.get("PhysicalResourceId", "")
            if resource.get("ResourceType") == "AWS::CloudFormation::Stack" and name and not name.startswith("arn:"):
                resource["PhysicalResourceId"] = self.lookup.describe_stacks(StackName=name)["Stacks"][0]["StackId"]

    # What moto leaves a stack in after each operation the scenario runs: only these are made to look otherwise.
    _MOTO_SETTLED = ("CREATE_COMPLETE", "UPDATE_COMPLETE")

    def _statuses(self, parsed, **_):
        for stack in parsed.get("Stacks", []):
            if stack["StackStatus"] not in self._MOTO_SETTLED:
                continue
            if stack["StackId"] in self.rolled_back:
                stack["StackStatus"] = "UPDATE_ROLLBACK_COMPLETE"
            if self.pretend:
                stack["StackStatus"] = self.pretend

    def _rollback_events(self, parsed, context, **_):
        stack_id = (context.get("arguments") or {}).get("StackName", "")
        event = self.rolled_back.get(stack_id)
        listed = parsed.get("StackEvents", [])
        if event and not context.get("arguments", {}).get("NextToken") and event not in listed \
                and all(other["Timestamp"] <= event["Timestamp"] for other in listed):
            listed.insert(0, event)

    def _roll_back(self, body: dict) -> dict:
        self.pretend = None
        stack_id = body["StackName"]
        self.rolled_back[stack_id] = {
            "StackId": stack_id, "EventId": f"rollback-{next(self._numbers)}", "StackName": stack_id.split("/")[1],
            "LogicalResourceId": stack_id.split("/")[1], "PhysicalResourceId": stack_id,
            "ResourceType": "AWS::CloudFormation::Stack", "Timestamp": datetime.now(timezone.utc),
            "ResourceStatus": "UPDATE_ROLLBACK_COMPLETE"}
        return {}

    def _protection(self, body: dict) -> dict:
        return {"StackId": body["StackName"]}

    def _detect(self, body: dict) -> dict:
        detection = f"drift-{next(self._numbers)}"
        self.detections[detection] = body["StackName"]
        return {"StackDriftDetectionId": detection}

    def _detection_status(self, body: dict) -> dict:
        detection = body["StackDriftDetectionId"]
        return {"StackId": self.detections[detection], "StackDriftDetectionId": detection,
                "StackDriftStatus": "IN_SYNC", "DetectionStatus": "DETECTION_COMPLETE",
                "Timestamp": datetime.now(timezone.utc)}

    def _resource_drifts(self, body: dict) -> dict:
        return {"StackResourceDrifts": []}


def _keep_arguments(params, context, **_):
    # before-call sees the serialized request; the arguments as passed travel in the request context.
    context["arguments"] = dict(params)


def _answering(answer):
    def handler(context, **_):
        return AWSResponse(None, 200, {}, None), answer(context["arguments"])
    return handler
