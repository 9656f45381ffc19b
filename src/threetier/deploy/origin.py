"""`threetier rotate-origin-secret ENV`: a new value for the header CloudFront sends the load
balancer, deployed as a reviewed change set, with no outage and no Lambda.

1. Secrets Manager generates the new value as a new version of the secret.
2. parameters/ENV.json pins the two versions: OriginVerifySecretVersion (new:
   CloudFront sends it, the load balancer accepts it) and
   OriginVerifyPreviousSecretVersion (old: the load balancer still accepts it).
3. `deploy` reviews and executes the change set. The load balancer's rule (app
   stack) changes before CloudFront (edge stack), and CloudFront's edges take
   minutes to move to the new value; the previous one is accepted throughout.
The next rotation drops the oldest value. A dynamic reference is resolved only
when the property's text changes, hence the version ids in the templates.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html
"""

from __future__ import annotations

import argparse
import json
import uuid

from threetier import emit, parameters as P
from threetier.blocks.secrets import ORIGIN_VERIFY_KEY
from threetier.deploy import changeset, settings
from threetier.deploy.errors import InputError
from threetier.deploy.inputs import load_root_template, load_stack_inputs
from threetier.deploy.session import RETRIES, make_session
from threetier.parameters import paramfile

OUTPUT = "OriginVerifySecretArn"
VALUE_LENGTH = 48


def rotate(args: argparse.Namespace, deploy) -> int:
    """Put a new secret version, pin it in the parameter file, then `deploy` (its review, prompt and exit codes)."""
    project = emit.find_project(args.project_dir)
    inputs = load_stack_inputs(project, args.env, load_root_template(project), args.stack_name, args.region,
                               args.allow_insecure)
    if inputs.parameters.get(P.CLOUDFRONT_ENABLED.name) != "true":
        raise InputError(f"{inputs.parameter_file}: CloudFrontEnabled is not true: there is no origin header secret "
                         "to rotate")
    session = make_session(args.region, args.profile)
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url, config=RETRIES)
    secrets = session.client("secretsmanager", endpoint_url=args.endpoint_url, config=RETRIES)
    # The new secret version is the first change: the pinned account is checked before it.
    settings.check_account(session.client("sts", endpoint_url=args.endpoint_url, config=RETRIES), args.settings)
    arn = _secret_arn(cloudformation, inputs.stack_name)

    current = secrets.get_secret_value(SecretId=arn)["VersionId"]
    value = secrets.get_random_password(PasswordLength=VALUE_LENGTH, ExcludePunctuation=True)["RandomPassword"]
    new = secrets.put_secret_value(SecretId=arn, ClientRequestToken=str(uuid.uuid4()),
                                   SecretString=json.dumps({ORIGIN_VERIFY_KEY: value}))["VersionId"]
    paramfile.update(inputs.parameter_file, {P.ORIGIN_VERIFY_VERSION.name: new,
                                   P.ORIGIN_VERIFY_PREVIOUS_VERSION.name: current})
    print(f"New origin header value: secret version {new} (the previous, {current}, stays accepted by the "
          f"load balancer). {inputs.parameter_file} pins both; the change set below applies them. If you do not "
          f"execute it now, nothing changes for CloudFront or the load balancer until the next deploy.")
    return deploy(args)


def _secret_arn(cloudformation, stack_name: str) -> str:
    stack = changeset.describe_stack(cloudformation, stack_name)
    if stack is None:
        raise InputError(f"stack {stack_name} does not exist: deploy it first")
    arn = changeset.outputs(stack).get(OUTPUT)
    if not arn:
        raise InputError(f"stack {stack_name} has no {OUTPUT} output: deploy it with CloudFrontEnabled "
                         "true first")
    return arn
