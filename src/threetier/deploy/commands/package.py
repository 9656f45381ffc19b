"""`threetier package [ENV]`: upload the templates; with ENV, a console quick-create link with its values."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from threetier import emit, parameters as P
from threetier.deploy import quickcreate, settings
from threetier.deploy.commands import common
from threetier.deploy.errors import EXIT_FAILURE, EXIT_OK, InputError
from threetier.emit import manifest
from threetier.deploy.inputs import StackInputs, load_root_template, load_stack_inputs
from threetier.deploy.package import ROOT_TEMPLATE, Destination, package, upload_template, write_packaged_root
from threetier.deploy.session import Clients
from threetier.parameters import validate


def run(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    output_dir = project / "output"
    stale = manifest.check(project, args.regenerate)
    if stale:
        raise InputError(stale)
    clients = common.clients_for(args)
    inputs = None
    if args.env:
        template = load_root_template(project)
        inputs = load_stack_inputs(project, args.env, template, region=clients.region,
                                   protected=args.settings.protected)
        for note in inputs.notes:
            print(note, file=sys.stderr)
    destination = upload_destination(args, clients)
    if args.env:
        common.check_pinned_account(args, clients)
        quickcreate.check_bucket_region(clients.s3, destination.bucket, clients.region)
        if validate.prefix_list_to_look_up(template, inputs.parameters):
            inputs = with_cloudfront_prefix_list(args, clients, inputs)
            if inputs is None:
                return EXIT_FAILURE
    packaged = package(output_dir, destination)
    path = write_packaged_root(output_dir, packaged.root_text)
    if inputs is None:
        print_uploads(packaged.uploads, sys.stdout)
        print(f"wrote {path}: upload it in the CloudFormation console (Create stack > Upload a template file)")
        return EXIT_OK
    root = upload_template(packaged.root_text, ROOT_TEMPLATE, destination)
    print_uploads([*packaged.uploads, root], sys.stderr)
    url = quickcreate.link(clients.region, root.url, inputs.stack_name, inputs.parameters)
    print(f"Quick-create link for {inputs.stack_name} with {inputs.parameter_file.name} (review the values, "
          "tick CAPABILITY_IAM, then Create stack):")
    print(url)
    if len(url) > quickcreate.LONG_LINK:
        print(f"note: the link is {len(url)} characters; some tools cut links that long", file=sys.stderr)
    return EXIT_OK


def upload_destination(args: argparse.Namespace, clients: Clients) -> Destination:
    return Destination(s3=clients.s3, bucket=settings.require_bucket(args), prefix=args.prefix,
                       region=clients.region, endpoint_url=clients.endpoint_url)


def print_uploads(uploads, out) -> None:
    for upload in uploads:
        verb = "uploaded " if upload.uploaded else "unchanged"
        print(f"{verb} {upload.file_name} -> {upload.url}", file=out)
    for note in dict.fromkeys(upload.note for upload in uploads if upload.note):
        print(note, file=sys.stderr)


def with_cloudfront_prefix_list(args: argparse.Namespace, clients: Clients,
                                 inputs: StackInputs) -> StackInputs | None:
    """`inputs` with CloudFrontPrefixListId set to the region's CloudFront origin-facing prefix list."""
    name = P.CLOUDFRONT_PREFIX_LIST_ID.name
    found = cloudfront_prefix_list_id(common.make_ec2(clients, args.profile))
    if found is None:
        print(f"threetier {args.command}: no managed prefix list {validate.CLOUDFRONT_PREFIX_LIST_NAME} "
              f"in {clients.region}: set {name} in {inputs.parameter_file.name} yourself, "
              f"or turn {P.CLOUDFRONT_ENABLED.name} off", file=sys.stderr)
        return None
    print(f"{name}: looked up {validate.CLOUDFRONT_PREFIX_LIST_NAME} in {clients.region}: {found} "
          f"({inputs.parameter_file.name} turns CloudFront on and leaves {name} empty)", file=sys.stderr)
    return dataclasses.replace(inputs, parameters={**inputs.parameters, name: found})


def cloudfront_prefix_list_id(ec2) -> str | None:
    """Id of the AWS-managed CloudFront origin-facing prefix list in the client's region, or None."""
    response = ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [validate.CLOUDFRONT_PREFIX_LIST_NAME]}],
    )
    found = sorted(pl["PrefixListId"] for pl in response.get("PrefixLists", []))
    return found[0] if found else None

