"""`threetier rotate-origin-secret ENV`: a new value for the header CloudFront sends the load
balancer, deployed as a reviewed change set, with no outage and no Lambda.

1. Read what CloudFront sends now: the `X-Origin-Verify` value of the deployed distribution
   (the edge stack's DistributionId output), matched against the secret's versions.
   CloudFormation resolves the dynamic reference before it calls CloudFront, so the
   distribution holds the value itself, whatever the parameter file says.
2. Secrets Manager generates the new value as a new version of the secret (or the run
   resumes a version an unfinished rotation created, below).
3. The change set carries the two versions: OriginVerifySecretVersion (new: CloudFront
   sends it, the load balancer accepts it) and OriginVerifyPreviousSecretVersion (the
   version CloudFront sends now, read in 1: the load balancer still accepts it). They are
   pins: parameters/ENV.pins.json keeps them once CloudFormation has the change set (plan
   writes them, saying so); a run that stops before leaves both files as they were, and
   parameters/ENV.json, the user's, is never written.
4. `deploy` reviews and executes the change set. The load balancer's rule (app stack)
   changes before CloudFront (edge stack), and CloudFront's edges take minutes to move to
   the new value; the previous one is accepted throughout.
A dynamic reference is resolved only when the property's text changes, hence the version
ids in the templates.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html

The states a run finds, and what it does with each (each run starts from what is deployed,
never from what the parameter file says, so an unfinished run cannot mislead the next):

- **settled**: CloudFront sends the secret's AWSCURRENT version. A new version is made.
- **unfinished**: AWSCURRENT is a version CloudFront does not send. A run made it and the
  change set never completed: declined at the prompt, failed and rolled back, or the run
  was interrupted after the new version was put (before or after the change set was created).
  Nothing deployed uses it (the root stack is not mid-update, checked below), so the run
  resumes it as the new value rather than putting another; the previous value is still
  the one CloudFront sends, never the unfinished version.
- **stale pins**: the pins file pins versions the secret does not have: it was deleted with
  CloudFront off (CloudFrontEnabled false deletes the secret, turning it on again creates
  another). They are replaced, and the run says so; `plan`, `deploy` and `diff` refuse to
  turn CloudFront on with pins (review/refusals.py).
- **refused, nothing changed**: the root stack is mid-operation, the distribution is still
  deploying (its edges may send either value), the distribution sends no header, or a
  value that is no version of the secret (changed outside the stack).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import dataclass

from threetier import emit, parameters as P
from threetier.blocks.secrets import ORIGIN_VERIFY_HEADER, ORIGIN_VERIFY_KEY
from threetier.deploy import changeset, settings
from threetier.deploy.errors import InputError
from threetier.deploy.inputs import load_root_template, load_stack_inputs
from threetier.deploy.session import RETRIES, make_session
from threetier.parameters import paramfile

OUTPUT = "OriginVerifySecretArn"
EDGE_STACK = "EdgeStack"  # templates/root.py: the nested stack holding the distribution
DISTRIBUTION_OUTPUT = "DistributionId"  # the edge stack's output
VALUE_LENGTH = 48
CURRENT = "AWSCURRENT"
# "When the status is Deployed, the distribution's information is fully propagated to all
# CloudFront edge locations." https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Distribution.html
DEPLOYED = "Deployed"
PINS = (P.ORIGIN_VERIFY_VERSION.name, P.ORIGIN_VERIFY_PREVIOUS_VERSION.name)


@dataclass(frozen=True)
class Rotation:
    """What one run pins: `new` (CloudFront will send it) and `sent` (what it sends now)."""

    new: str
    sent: str
    resumed: bool  # `new` is the version an unfinished rotation made
    stale: tuple[str, ...]  # version ids the file pinned that the secret does not have


def rotate(args: argparse.Namespace, deploy) -> int:
    """Pin the version CloudFront sends as previous and a new one as current, then `deploy` (its review,
    prompt and exit codes)."""
    project = emit.find_project(args.project_dir)
    inputs = load_stack_inputs(project, args.env, load_root_template(project), args.stack_name, args.region,
                               args.allow_insecure, protected=args.settings.protected)
    if inputs.parameters.get(P.CLOUDFRONT_ENABLED.name) != "true":
        raise InputError(f"{inputs.parameter_file}: CloudFrontEnabled is not true: there is no origin header secret "
                         "to rotate")
    _refuse_own_versions(inputs, args.env)
    session = make_session(args.region, args.profile, settings.assumed_role(args), args.endpoint_url)
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url, config=RETRIES)
    secrets = session.client("secretsmanager", endpoint_url=args.endpoint_url, config=RETRIES)
    cloudfront = session.client("cloudfront", endpoint_url=args.endpoint_url, config=RETRIES)
    # The new secret version is the first change: the pinned account is checked before it.
    settings.check_account(session.client("sts", endpoint_url=args.endpoint_url, config=RETRIES), args.settings)

    stack = _settled_stack(cloudformation, inputs.stack_name)
    arn = _secret_arn(stack)
    header = header_cloudfront_sends(cloudfront, _distribution_id(cloudformation, stack))
    versions = secret_versions(secrets, arn)
    sent = version_holding(secrets, arn, versions, header)
    rotation = plan_rotation(versions, sent, [inputs.parameters.get(name, "") for name in PINS])
    new = rotation.new if rotation.resumed else _put_new_version(secrets, arn)
    # The change set carries them; plan pins them once CloudFormation has it (commands/plan.py).
    args.pin_overrides = {P.ORIGIN_VERIFY_VERSION.name: new, P.ORIGIN_VERIFY_PREVIOUS_VERSION.name: rotation.sent}
    _say(rotation, new, arn, paramfile.pins_path_for(project, args.env).name)
    return deploy(args)


def _refuse_own_versions(inputs, env: str) -> None:
    """InputError when parameters/ENV.json sets the versions itself: the user's value wins over a pin, so the
    next deploy would send them back (files from before the pins file kept them there)."""
    own = [name for name in PINS if name in inputs.written]
    if own:
        raise InputError(f"{inputs.parameter_file}: sets {' and '.join(own)} itself, which wins over a pin: remove "
                         f"{'them' if len(own) > 1 else 'it'} (rotate-origin-secret keeps the versions in "
                         f"parameters/{env}{paramfile.PINS_SUFFIX}); nothing was changed")


def plan_rotation(versions: list[dict], sent: str, pins: list[str]) -> Rotation:
    """The pins of this run from the secret's versions (ListSecretVersionIds entries), the version
    CloudFront sends and the file's pins. `new` is empty unless an unfinished rotation is resumed."""
    known = {version["VersionId"] for version in versions}
    current = next((version["VersionId"] for version in versions if CURRENT in version.get("VersionStages", [])),
                   "")
    # PutSecretValue moves AWSCURRENT to the version it puts: a current version CloudFront does
    # not send is one a rotation put and never deployed.
    # https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
    unfinished = current if current and current != sent else ""
    stale = tuple(pin for pin in pins if pin and pin not in known)
    return Rotation(new=unfinished, sent=sent, resumed=bool(unfinished), stale=stale)


def header_cloudfront_sends(cloudfront, distribution_id: str) -> str:
    """The origin header value of the deployed distribution; InputError while its edges may still
    send another value, or when it sends none."""
    distribution = cloudfront.get_distribution(Id=distribution_id)["Distribution"]
    if distribution.get("Status") != DEPLOYED:
        raise InputError(f"CloudFront distribution {distribution_id} is {distribution.get('Status')}, not {DEPLOYED}: "
                         "its edges may still send the value before its last change. Run again when it is "
                         f"Deployed (aws cloudfront wait distribution-deployed --id {distribution_id}); nothing "
                         "was changed")
    for origin in distribution["DistributionConfig"]["Origins"].get("Items", []):
        for header in (origin.get("CustomHeaders") or {}).get("Items", []):
            if header["HeaderName"].lower() == ORIGIN_VERIFY_HEADER.lower():
                return header["HeaderValue"]
    raise InputError(f"CloudFront distribution {distribution_id} sends no {ORIGIN_VERIFY_HEADER} header: it was "
                     "changed outside the stack. Deploy the environment first (threetier deploy ENV); nothing "
                     "was changed")


def secret_versions(secrets, arn: str) -> list[dict]:
    """Every version of the secret, newest first, with the deprecated ones (no staging label): a
    version CloudFront sends keeps its id after two later puts took its labels away.
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecretVersionIds.html"""
    versions, more = [], {}
    while True:  # botocore has no paginator for it
        page = secrets.list_secret_version_ids(SecretId=arn, IncludeDeprecated=True, **more)
        versions.extend(page.get("Versions", []))
        if not page.get("NextToken"):
            break
        more = {"NextToken": page["NextToken"]}
    return sorted(versions, key=lambda version: version.get("CreatedDate") or 0, reverse=True)


def version_holding(secrets, arn: str, versions: list[dict], header: str) -> str:
    """The id of the version whose value CloudFront sends; InputError when none holds it."""
    for version in versions:
        text = secrets.get_secret_value(SecretId=arn, VersionId=version["VersionId"]).get("SecretString", "")
        if _value(text) == header:
            return version["VersionId"]
    raise InputError(f"CloudFront sends an {ORIGIN_VERIFY_HEADER} value that is no version of secret {arn} (the "
                     "secret or the distribution was changed outside the stack). Deploy the environment "
                     "(threetier deploy ENV) so both hold the same value, then rotate; nothing was changed")


def _value(secret_string: str) -> str | None:
    try:
        document = json.loads(secret_string)
    except ValueError:
        return None
    return document.get(ORIGIN_VERIFY_KEY) if isinstance(document, dict) else None


def _put_new_version(secrets, arn: str) -> str:
    value = secrets.get_random_password(PasswordLength=VALUE_LENGTH, ExcludePunctuation=True)["RandomPassword"]
    return secrets.put_secret_value(SecretId=arn, ClientRequestToken=str(uuid.uuid4()),
                                    SecretString=json.dumps({ORIGIN_VERIFY_KEY: value}))["VersionId"]


def _say(rotation: Rotation, new: str, arn: str, file_name: str) -> None:
    for pin in rotation.stale:
        print(f"Dropped version {pin} from {file_name}: secret {arn} has no such version (the secret it named "
              "was deleted when CloudFront was turned off).", file=sys.stderr)
    if rotation.resumed:
        print(f"Resuming an unfinished rotation: secret version {new} was made by an earlier run and never "
              "deployed (declined, failed or interrupted); it becomes the new value.")
    print(f"New origin header value: secret version {new} (the previous, {rotation.sent}, is what CloudFront "
          f"sends now; the load balancer keeps accepting it). The change set below applies both, and {file_name} "
          "pins them once CloudFormation has it. If you do not execute it now, nothing changes for CloudFront or "
          "the load balancer until the next deploy, and the next rotation resumes this one.")


def _settled_stack(cloudformation, stack_name: str) -> dict:
    """The root stack, refused while an operation runs: between the app and edge stacks' updates the
    load balancer and CloudFront may hold different values."""
    stack = changeset.describe_stack(cloudformation, stack_name)
    if stack is None:
        raise InputError(f"stack {stack_name} does not exist: deploy it first")
    status = stack.get("StackStatus", "")
    if status.endswith("_IN_PROGRESS"):
        raise InputError(f"stack {stack_name} is {status}: run again when the operation has ended; nothing was "
                         "changed")
    return stack


def _secret_arn(stack: dict) -> str:
    arn = changeset.outputs(stack).get(OUTPUT)
    if not arn:
        raise InputError(f"stack {stack['StackName']} has no {OUTPUT} output: deploy it with CloudFrontEnabled "
                         "true first")
    return arn


def _distribution_id(cloudformation, stack: dict) -> str:
    """The deployed distribution, from the edge stack's output."""
    missing = InputError(f"stack {stack['StackName']} has no CloudFront distribution ({EDGE_STACK} output "
                         f"{DISTRIBUTION_OUTPUT}): deploy it with CloudFrontEnabled true first")
    try:
        edge = cloudformation.describe_stack_resource(StackName=stack["StackId"], LogicalResourceId=EDGE_STACK)
    except cloudformation.exceptions.ClientError as error:
        # A stack without that resource is a ValidationError; anything else (throttling, access) is reported as is.
        if error.response.get("Error", {}).get("Code") != "ValidationError":
            raise
        raise missing from None
    edge_stack = changeset.describe_stack(cloudformation, edge["StackResourceDetail"]["PhysicalResourceId"])
    distribution_id = changeset.outputs(edge_stack).get(DISTRIBUTION_OUTPUT) if edge_stack else ""
    if not distribution_id:
        raise missing
    return distribution_id
