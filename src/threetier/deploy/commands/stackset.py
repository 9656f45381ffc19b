"""`threetier stackset ACTION ENV`: roll an environment out to many accounts and regions as a stack set.

- `review`: the per-target review (what each stack instance's values change, offline, plus what the
  stack set API reports: which instances exist, their overrides, which nested templates changed); never runs.
- `deploy`: the review, then ask, then create or update the stack set and its instances, following each
  operation per instance until it settles.
- `drift`: drift detection on every stack instance.
- `delete`: name what the instances retain, ask, delete the instances, then the stack set.
- `bootstrap`: the per-account pieces (the deployer role) as their own stack set, to the targets' OUs with
  automatic deployment, in one region (IAM is global); with code_bucket, the rotation code's bucket in every
  target region of the administrator account as a second one (threetier.deploy.bootstrapcode).

Targets, regions and operation preferences come from `[ENV.stackset]` in threetier.toml
(threetier.deploy.stacksettargets); every bad target is refused before any AWS call, and so is a
target region where the environment's values cannot work (the same validation plan runs, once per
target and region). StackSets runs one operation at a time on a stack set, so each step waits for the
one before it.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/what-is-cfnstacksets.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from threetier import emit
from threetier.deploy import (
    advice,
    bootstrapcode,
    changeset,
    stackset,
    stacksetcheck,
    stacksetcode,
    stacksettargets,
)
from threetier.deploy.commands import common
from threetier.deploy.commands.package import upload_destination
from threetier.deploy.errors import EXIT_DANGER, EXIT_FAILURE, EXIT_OK, InputError
from threetier.deploy.inputs import load_root_template, load_stack_inputs
from threetier.deploy.package import nested_template_urls, package, parse_template
from threetier.deploy.stacksettargets import SERVICE_MANAGED, StackSetSettings, Target
from threetier.emit import manifest
from threetier.review import danger, table
from threetier.review.changes import Change

ACTIONS = ("review", "deploy", "drift", "delete", "bootstrap")
OPERATION_POLL_SECONDS = 10.0
# The deployer role's template: what every target account needs before the environment's stack set.
BOOTSTRAP_TEMPLATE = "deployer-role.yaml"
# CreateStackSet's TemplateBody holds at most 51,200 bytes; a longer root goes by TemplateURL.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
MAX_TEMPLATE_BODY = 51_200


@dataclass(frozen=True)
class Local:
    """What the command read and checked before any AWS call."""

    project: Path
    targets: StackSetSettings
    name: str
    values: dict[str, str]  # the environment's values: the stack set's Parameters

    @property
    def call_as(self) -> dict:
        return self.targets.call_as_argument()


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS, metavar="ACTION",
                        help="review, deploy, drift, delete or bootstrap")
    parser.add_argument("--yes", action="store_true", help="run without asking")
    parser.add_argument("--delete-protected", action="store_true",
                        help="needed to delete the stack set of a protected environment")


def run(args: argparse.Namespace) -> int:
    args.command = f"stackset {args.action}"
    try:
        return {"review": review, "deploy": deploy, "drift": drift, "delete": delete,
                "bootstrap": bootstrap}[args.action](args)
    except stackset.OperationTimeout as error:
        print(f"threetier {args.command}: operation {error.operation_id} still runs after --timeout "
              f"{args.timeout:g} minutes: stopped following; it goes on in AWS", file=sys.stderr)
        return EXIT_FAILURE


# --------------------------------------------------------------------------- local checks

def check_local(args: argparse.Namespace, validate_targets: bool = True) -> Local:
    """The stack set settings and the environment's values, checked per target and region (InputError)."""
    project = emit.find_project(args.project_dir)
    targets = args.settings.stackset
    if targets is None:
        raise InputError(f"no [{args.env}.stackset] table in threetier.toml: name the targets (organizational_units "
                         "or accounts) and regions there (docs/stacksets.md)")
    if args.settings.protected:
        problem = stacksettargets.protection_problem(targets, args.env)
        if problem:
            raise InputError(f"[{args.env}] {problem}")
    template = load_root_template(project)
    protected = args.settings.protected
    allow_insecure = getattr(args, "allow_insecure", False)
    base = load_stack_inputs(project, args.env, template if validate_targets else None,
                             region=targets.regions[0], protected=protected, allow_insecure=allow_insecure)
    if validate_targets:
        stacksetcheck.check_targets(project, args.env, template, targets, protected, _model(project), allow_insecure)
        stacksetcode.check_regions(template, targets, getattr(args, "region", None))
    return Local(project, targets, targets.name or base.stack_name, base.parameters)


def _model(project: Path):
    """The insight model's templates, which say what the values create in each region (None for a project
    whose templates package cannot be imported, such as the tests' hand-made one)."""
    from threetier.insight import model

    try:
        return model.load_templates(project)
    except emit.ProjectNotFound:
        return None


# --------------------------------------------------------------------------- review and deploy

def review(args: argparse.Namespace) -> int:
    return _review_then(args, execute=False)


def deploy(args: argparse.Namespace) -> int:
    return _review_then(args, execute=True)


def _review_then(args: argparse.Namespace, execute: bool) -> int:
    stale = manifest.check(emit.find_project(args.project_dir), getattr(args, "regenerate", False))
    if stale:
        raise InputError(stale)
    local = check_local(args)
    clients = common.connect(args)
    cfn = clients.cloudformation
    destination = upload_destination(args, clients)
    has_code = bool(stacksetcode.code_keys(load_root_template(local.project)))
    for bucket in [destination.bucket, *stacksetcode.buckets(local.targets, has_code)]:
        _require_org_read(clients, bucket)
    packaged = package(local.project / "output", destination)
    root_text = stacksetcode.copy_to_each_region(clients, local.targets, packaged.root_text, destination.bucket)
    existing = stackset.describe(cfn, local.name, local.call_as)
    current = stackset.instances(cfn, local.name, local.call_as) if existing else []
    rows = _print_review(cfn, local, existing, current, root_text, clients.region)
    blocking = danger.blocking(danger.find_dangers(rows), danger.allowed_kinds(args))
    for line in table.danger_lines(blocking, danger.allowed_kinds(args), False):
        print(line)
    if blocking:
        return EXIT_DANGER
    if not execute:
        return EXIT_OK
    verb = "update" if existing else "create"
    if not common.confirmed(f"{verb.capitalize()} stack set {local.name} and its instances?", args, verb=verb,
                            refused_tail=f" to {verb} the stack set.", declined="nothing was run"):
        return EXIT_FAILURE
    steps = _update_steps if existing else _create_steps
    return _run_steps(args, cfn, local, steps(cfn, local, current, root_text))


def _require_org_read(clients, bucket: str) -> None:
    """The nested templates (and the rotation code) are read from the targets' accounts: refuse a bucket
    whose policy does not let the organization read, with the statement to add."""
    problem = stackset.bucket_read_problem(clients.s3, bucket)
    if problem is None:
        return
    raise InputError(
        f"bucket {bucket}: {problem}. Stack instances in other accounts read the nested templates and the rotation "
        "code there: let the organization, and only it, read them with this statement (your organization id is in "
        "`aws organizations describe-organization`), then try again:\n" + org_read_statement(bucket, clients.region))


def org_read_statement(bucket: str, region: str) -> str:
    """The bucket-policy statement to add, in the partition of the administrator's region."""
    from threetier.blocks import policies
    from threetier.facts.regions import partition_of

    partition = partition_of(region) or "aws"
    return policies.organization_reads([f"arn:{partition}:s3:::{bucket}/*"], "o-your-org-id").to_json()


def _print_review(cfn, local: Local, existing: dict | None, current: list[dict], root_text: str,
                  home: str) -> list[Change]:
    """Per target and region: what changes; returns every row, for the danger guard."""
    verb = "update" if existing else "create"
    print(f"Stack set {local.name} ({local.targets.permission_model}, administered from {home}): {verb}")
    print("Operation: " + _preferences_line(local.targets))
    if existing:
        for line in _template_lines(existing.get("TemplateBody", ""), root_text):
            print(line)
    predict = _predictor(local.project) if current else None
    rows: list[Change] = []
    deployed = {**{p["ParameterKey"]: p.get("ParameterValue", "") for p in (existing or {}).get("Parameters") or []}}
    for target in local.targets.targets:
        after = {**local.values, **target.parameters}
        for region in local.targets.regions_of(target):
            for name in target.names:
                found = _instances_of(current, name, region)
                where = f"{name} {region} (target {target.number})"
                if not found:
                    print(f"\n{where}: new stack instance: creates the environment")
                    continue
                for instance in found:
                    account = instance.get("Account", "")
                    before = {**deployed, **stackset.overrides_of(cfn, local.name, account, region, local.call_as)}
                    changes = predict(f"{account}/{region}", before, after, region)
                    rows += changes
                    status = instance.get("Status", "")
                    print(f"\n{where}, account {account} ({status}): "
                          + (f"{len(changes)} resource change(s) from its values" if changes else
                             "no resource change from its values"))
                    if changes:
                        print(table.table(changes))
    _print_untargeted(local.targets, current)
    return rows


def _predictor(project: Path):
    """`predict(label, before, after, region)`: the offline review's rows (review.updates, as `threetier diff`
    predicts a parameter change) for one instance's values, before and after; no rows for a project the
    insight model cannot load (the review then says so)."""
    from threetier.review import templatediff, updates

    templates = _model(project)
    if templates is None:
        print("(no offline prediction: the project's templates package cannot be loaded)")
        return lambda label, before, after, region: []

    def predict(label: str, before: dict[str, str], after: dict[str, str], region: str) -> list[Change]:
        return templatediff.predicted_changes(label, updates.predict(templates, before, after, region))
    return predict


def _instances_of(current: list[dict], name: str, region: str) -> list[dict]:
    return [i for i in current if i.get("Region") == region
            and name in (i.get("Account"), i.get("OrganizationalUnitId"))]


def _print_untargeted(targets: StackSetSettings, current: list[dict]) -> None:
    wanted = {(name, region) for _, name, region in targets.instances()}
    loose = [i for i in current
             if not ({(i.get("Account"), i.get("Region")), (i.get("OrganizationalUnitId"), i.get("Region"))} & wanted)]
    for instance in loose:
        print(f"\n{instance.get('Account', '')} {instance.get('Region', '')}: not in threetier.toml's targets any "
              "more; left as it is (`threetier stackset delete` removes every instance)")


def _template_lines(old_text: str, new_text: str) -> list[str]:
    """What the stack set API reports of its template: the root's nested TemplateURLs, whose content-hashed
    keys change exactly when a nested template changes."""
    try:
        old = nested_template_urls(parse_template(old_text, "the stack set's template")) if old_text else {}
    except InputError:
        old = {}
    new = nested_template_urls(parse_template(new_text, "the packaged root"))
    changed = sorted(name for name in new if old.get(name) != new[name])
    if not changed and old_text.strip() == new_text.strip():
        return ["Template: unchanged"]
    return [f"Template: changed; nested templates changed: {', '.join(changed) or 'none (the root only)'}"]


def _preferences_line(targets: StackSetSettings) -> str:
    preferences = targets.operation_preferences()
    tolerance = (f"{preferences['FailureTolerancePercentage']} %" if "FailureTolerancePercentage" in preferences
                 else str(preferences["FailureToleranceCount"]))
    return (f"regions {' > '.join(preferences['RegionOrder'])} ({targets.region_concurrency}), "
            f"{targets.max_concurrent} account(s) at a time, failure tolerance {tolerance} per region")


# --------------------------------------------------------------------------- operations

def _template_argument(root_text: str) -> dict:
    if len(root_text.encode("utf-8")) > MAX_TEMPLATE_BODY:
        raise InputError(f"the packaged root template is over {MAX_TEMPLATE_BODY} bytes, the most TemplateBody takes")
    return {"TemplateBody": root_text}


def _stack_set_arguments(local: Local, root_text: str) -> dict:
    targets = local.targets
    arguments = {"StackSetName": local.name, **_template_argument(root_text),
                 "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(local.values.items())],
                 "Capabilities": changeset.CAPABILITIES, **local.call_as}
    if targets.administration_role_arn:
        arguments["AdministrationRoleARN"] = targets.administration_role_arn
    if targets.execution_role_name:
        arguments["ExecutionRoleName"] = targets.execution_role_name
    return arguments


def _create_steps(cfn, local: Local, current: list[dict], root_text: str):
    """CreateStackSet, then one CreateStackInstances operation per target."""
    targets = local.targets
    arguments = {**_stack_set_arguments(local, root_text), "PermissionModel": targets.api_permission_model}
    if targets.permission_model == SERVICE_MANAGED:
        arguments["AutoDeployment"] = {"Enabled": targets.auto_deployment,
                                       "RetainStacksOnAccountRemoval": targets.retain_stacks_on_account_removal}
    cfn.create_stack_set(**arguments)
    print(f"created stack set {local.name}")
    for target in targets.targets:
        yield target.label(), targets.regions_of(target), lambda target=target: cfn.create_stack_instances(
            **_instances_arguments(local, target, targets.regions_of(target)))["OperationId"]


def _update_steps(cfn, local: Local, current: list[dict], root_text: str):
    """UpdateStackSet (every instance gets the new template and values), then the targets whose overrides
    changed (UpdateStackInstances), then the instances not there yet (CreateStackInstances)."""
    targets = local.targets
    yield "every stack instance", targets.regions, lambda: cfn.update_stack_set(
        **_stack_set_arguments(local, root_text), OperationPreferences=targets.operation_preferences())["OperationId"]
    for target in targets.targets:
        present = [r for r in targets.regions_of(target) if any(_instances_of(current, n, r) for n in target.names)]
        missing = [r for r in targets.regions_of(target) if r not in present]
        if present and target.parameters:
            yield f"{target.label()} overrides", tuple(present), lambda t=target, p=tuple(present): (
                cfn.update_stack_instances(**_instances_arguments(local, t, p))["OperationId"])
        if missing:
            yield f"{target.label()} new instances", tuple(missing), lambda t=target, m=tuple(missing): (
                cfn.create_stack_instances(**_instances_arguments(local, t, m))["OperationId"])


def _instances_arguments(local: Local, target: Target, regions) -> dict:
    preferences = {**local.targets.operation_preferences(),
                   "RegionOrder": [r for r in local.targets.regions if r in regions]}
    return {"StackSetName": local.name, **target.deployment_targets(), "Regions": list(preferences["RegionOrder"]),
            "ParameterOverrides": target.parameter_overrides(), "OperationPreferences": preferences,
            **local.call_as}


def _run_steps(args: argparse.Namespace, cfn, local: Local, steps) -> int:
    """Start each operation after the one before settled (one at a time on a stack set), following it. An
    operation that failed stops the steps; instances that failed within the failure tolerance do not, but
    make the exit code 1."""
    failed = 0
    for what, regions, start in steps:
        operation_id = start()
        print(f"{what}: operation {operation_id}, following it per stack instance:")
        operation = _follow(args, cfn, local, operation_id)
        for line in stackset.outcome_lines(operation, tuple(regions)):
            print(line)
        failed += len(operation.failed())
        if not operation.succeeded:
            print(f"threetier {args.command}: stopped: the later steps were not started. Fix the reasons above, "
                  f"then run `threetier {args.command} {args.env}` again.", file=sys.stderr)
            return EXIT_FAILURE
    if failed:
        print(f"threetier {args.command}: {failed} stack instance(s) failed within the failure tolerance; fix the "
              f"reasons above, then run `threetier {args.command} {args.env}` again.", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _follow(args: argparse.Namespace, cfn, local: Local, operation_id: str) -> stackset.Operation:
    return stackset.follow(cfn, local.name, operation_id, local.call_as, sys.stdout, sleep=common.sleep,
                           clock=common.clock, poll_seconds=OPERATION_POLL_SECONDS, limit_seconds=args.timeout * 60)


# --------------------------------------------------------------------------- drift, delete, bootstrap

def drift(args: argparse.Namespace) -> int:
    """DetectStackSetDrift, followed like any operation; then each instance's DriftStatus.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-drift.html"""
    local = check_local(args, validate_targets=False)
    cfn = common.connect(args).cloudformation
    if stackset.describe(cfn, local.name, local.call_as) is None:
        print(f"Stack set {local.name} does not exist.", file=sys.stderr)
        return EXIT_FAILURE
    operation_id = cfn.detect_stack_set_drift(StackSetName=local.name, **local.call_as,
                                              OperationPreferences=local.targets.operation_preferences())["OperationId"]
    print(f"detecting drift on stack set {local.name}: operation {operation_id}")
    operation = _follow(args, cfn, local, operation_id)
    lines, drifted = stackset.drift_lines(stackset.instances(cfn, local.name, local.call_as))
    print(f"Drift of stack set {local.name}, per stack instance:")
    for line in lines:
        print(line)
    if not operation.succeeded:
        for line in stackset.outcome_lines(operation, local.targets.regions):
            print(line)
    return EXIT_FAILURE if drifted or not operation.succeeded else EXIT_OK


def delete(args: argparse.Namespace) -> int:
    local = check_local(args, validate_targets=False)
    cfn = common.connect(args).cloudformation
    if stackset.describe(cfn, local.name, local.call_as) is None:
        print(f"Stack set {local.name} does not exist: nothing to delete.")
        return EXIT_OK
    if args.settings.protected and not args.delete_protected:
        print(f"threetier {args.command}: {args.env} is a protected environment: pass --delete-protected to delete "
              f"every stack instance of {local.name}", file=sys.stderr)
        return EXIT_FAILURE
    current = stackset.instances(cfn, local.name, local.call_as)
    _print_what_survives(local, current)
    if not common.confirmed(f"Delete the {len(current)} stack instance(s), then stack set {local.name}?", args,
                            verb="delete", refused_tail=" to delete the stack set.", declined="nothing was deleted"):
        return EXIT_FAILURE
    if current:
        operation_id = cfn.delete_stack_instances(**_delete_arguments(local, current))["OperationId"]
        print(f"deleting the stack instances: operation {operation_id}")
        operation = _follow(args, cfn, local, operation_id)
        for line in stackset.outcome_lines(operation, local.targets.regions):
            print(line)
        if not operation.succeeded:
            print(f"threetier {args.command}: the stack set is kept while instances remain", file=sys.stderr)
            return EXIT_FAILURE
    cfn.delete_stack_set(StackSetName=local.name, **local.call_as)
    print(f"deleted stack set {local.name}. `threetier leftovers {args.env}` (per account and region) lists "
          "what the instances retained.")
    return EXIT_OK


def _print_what_survives(local: Local, current: list[dict]) -> None:
    print(f"Deleting stack set {local.name} deletes its {len(current)} stack instance(s) and every resource in "
          "them, in these accounts and regions:")
    for instance in current:
        print(f"  - {instance.get('Account', '')} {instance.get('Region', '')} ({instance.get('Status', '')})")
    kept = advice.retained_resources(local.project / "output")
    if kept:
        print("In each of them these resources survive because of their DeletionPolicy (data you still pay for):")
        for resource in kept:
            only_if = f", if condition {resource.condition} held" if resource.condition else ""
            print(f"  - {resource.logical_id} ({resource.resource_type}) in {resource.file_name}: "
                  f"DeletionPolicy {resource.policy}{only_if}")


def _delete_arguments(local: Local, current: list[dict]) -> dict:
    """Every instance, instances first (DeleteStackSet refuses a stack set that still has some); RetainStacks
    false, so the stacks go too (their Retain resources stay)."""
    regions = [r for r in local.targets.regions if any(i.get("Region") == r for i in current)]
    regions += sorted({i.get("Region", "") for i in current} - set(regions))
    if local.targets.permission_model == SERVICE_MANAGED:
        ous = sorted({i.get("OrganizationalUnitId", "") for i in current if i.get("OrganizationalUnitId")})
        targets = {"DeploymentTargets": {"OrganizationalUnitIds": ous}}
    else:
        targets = {"Accounts": sorted({i.get("Account", "") for i in current})}
    preferences = {**local.targets.operation_preferences(), "RegionOrder": regions}
    return {"StackSetName": local.name, **targets, "Regions": regions, "RetainStacks": False,
            "OperationPreferences": preferences, **local.call_as}


def bootstrap(args: argparse.Namespace) -> int:
    """The per-account pieces as stack set <name>-bootstrap: the deployer role to every target account (one
    region only: an IAM role is global, and a second region's instance would fail on the name the first one
    took); service-managed stack sets deploy it automatically to accounts that join the OUs later
    (AutoDeployment). With code_bucket, the rotation code's buckets as stack set <name>-bootstrap-code: one per
    target region, in this administrator account (bootstrapcode)."""
    local = check_local(args, validate_targets=False)
    bucket = args.bucket or ""
    if not bucket:
        raise InputError("no template bucket: pass --bucket, or set bucket in threetier.toml (the deployer role "
                         "may read and write only that bucket)")
    template = load_root_template(local.project)
    stacksetcode.check_regions(template, local.targets, getattr(args, "region", None))
    bootstrapcode.check(args.env, local.targets, bucket)
    clients = common.connect(args)
    cfn = clients.cloudformation
    role = _role_set(local, bucket)
    code = _code_set(local, clients.sts) if local.targets.code_bucket else None
    plans = [(role, (local.project / "output" / BOOTSTRAP_TEMPLATE).read_text(encoding="utf-8"))]
    if code is not None:
        plans.append((code, (local.project / "output" / bootstrapcode.TEMPLATE).read_text(encoding="utf-8")))
    found = {boot.name: stackset.describe(cfn, boot.name, boot.call_as) for boot, _ in plans}
    _print_role_set(role, local.targets)
    if code is not None:
        print("\n".join(bootstrapcode.review_lines(code.name, code.targets)))
    names = " and ".join(boot.name for boot, _ in plans)
    if not common.confirmed(f"{'Update' if all(found.values()) else 'Create or update'} stack set(s) {names}?", args,
                            verb="bootstrap", refused_tail=" to bootstrap.", declined="nothing was run"):
        return EXIT_FAILURE
    for boot, text in plans:
        current = stackset.instances(cfn, boot.name, boot.call_as) if found[boot.name] else []
        steps = _update_steps if found[boot.name] else _create_steps
        outcome = _run_steps(args, cfn, boot, steps(cfn, boot, current, text))
        if outcome != EXIT_OK:
            return outcome
    return EXIT_OK


def _role_set(local: Local, bucket: str) -> Local:
    """<name>-bootstrap: the deployer role's stack set, every target in the first region only."""
    home = local.targets.regions[0]
    one_region = StackSetSettings(**{**local.targets.__dict__, "regions": (home,),
                                     "targets": tuple(Target(t.number, t.organizational_units, t.accounts, (home,))
                                                      for t in local.targets.targets)})
    return Local(local.project, one_region, f"{local.name}-bootstrap",
                 {"ProjectName": local.values.get("ProjectName", ""), "TemplateBucket": bucket})


def _code_set(local: Local, sts) -> Local:
    """<name>-bootstrap-code: the rotation code's bucket in every region of the stack set, in this (the
    administrator) account, whose id GetCallerIdentity gives."""
    account = sts.get_caller_identity()["Account"]
    return Local(local.project, bootstrapcode.settings(local.targets, account), local.name + bootstrapcode.SUFFIX,
                 bootstrapcode.parameters(local.values, local.targets))


def _print_role_set(role: Local, targets: StackSetSettings) -> None:
    print(f"Stack set {role.name}: {BOOTSTRAP_TEMPLATE} (role {role.values['ProjectName']}.deployer) in "
          f"{role.targets.regions[0]} of " + "; ".join(", ".join(t.names) for t in targets.targets)
          + (" (and every account that joins them)" if targets.permission_model == SERVICE_MANAGED
             and targets.auto_deployment else ""))
