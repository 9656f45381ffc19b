"""The `threetier` command line.

Only the standard library is imported at module level: troposphere, boto3 and
cfn-lint load inside main(), where Ctrl-C is caught, so an interrupt during the
second or so they take to load prints one line instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from threetier import __version__

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

# Commands that never talk to AWS. Their parser leaves out the deploy and
# insight commands, whose modules import boto3 (~130 ms): the inner loop
# (generate, lint, check) should not pay for an SDK it does not use.
LOCAL_COMMANDS = frozenset({"generate", "lint", "validate", "scan", "secrets", "check", "deployer-role",
                            "pipeline-policy"})


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("\nthreetier: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    from threetier import emit
    from threetier.emit import cfnyaml

    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(with_aws_commands=_command_in(argv) not in LOCAL_COMMANDS)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (emit.ProjectNotFound, cfnyaml.EmitterMissing) as error:
        print(f"threetier: {error}", file=sys.stderr)
        return EXIT_USAGE


def _command_in(argv: list[str]) -> str | None:
    """The subcommand argv names: its first word that is neither an option nor --project-dir's value."""
    words = iter(argv)
    for word in words:
        if word == "--project-dir":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _parser(with_aws_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="threetier",
        description="Generate, lint and deploy the three-tier CloudFormation stacks.",
    )
    parser.add_argument("--version", action="version", version=f"threetier {__version__}")
    parser.add_argument(
        "--project-dir", type=Path, default=None,
        help="threetier checkout to work in (default: the current directory or its nearest parent)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser("generate", help="build every stack into output/*.yaml")
    generate.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 and name each file in output/ that differs from the code",
    )
    generate.add_argument("--output-dir", type=Path, default=None, help="default: <project>/output")
    generate.add_argument("--traceback", action="store_true",
                          help="when a template module fails, print the full traceback instead of one line")
    generate.set_defaults(run=_generate)

    lint = commands.add_parser("lint", help="cfn-lint every template, informational rules included")
    lint.add_argument("files", nargs="*", type=Path, help="default: <project>/output/*.yaml")
    _add_regions(lint)
    _add_no_cache(lint)
    lint.set_defaults(run=_lint)

    validate_cmd = commands.add_parser(
        "validate", help="check parameters/ENV.json before any AWS call",
        description="Check every value of parameters/ENV.json (with the pins of parameters/ENV.pins.json) "
                    "against output/main.yaml and the "
                    "combinations that cannot work, all at once. Sends nothing to AWS. "
                    "Exit codes: 0 valid (warnings and notes allowed), 2 errors.",
    )
    validate_cmd.add_argument("env", metavar="ENV", help="environment: its values are in parameters/ENV.json")
    validate_cmd.add_argument("--region", help="region to check for (default: AWS_REGION, then "
                                               "AWS_DEFAULT_REGION; without one the region checks are skipped)")
    validate_cmd.add_argument("--allow-insecure", action="store_true",
                              help="accept prod parameters without Multi-AZ or deletion protection (warns instead)")
    _add_regenerate(validate_cmd)
    validate_cmd.set_defaults(run=_validate)

    scan = commands.add_parser("scan", help="checkov security scan of the templates, offline")
    scan.add_argument("files", nargs="*", type=Path, help="default: <project>/output/*.yaml")
    _add_no_cache(scan)
    scan.set_defaults(run=_scan)

    secrets = commands.add_parser("secrets", help="detect-secrets over the repository and output/")
    _add_no_cache(secrets)
    secrets.set_defaults(run=_secrets)

    deployer = commands.add_parser(
        "deployer-role", help="write output/deployer-role.yaml: the role CloudFormation assumes to deploy",
        description="Write the deployer role template (generate writes it too): the union of the "
                    "resource provider schemas' handler permissions for the types in output/, less "
                    "those of schema branches (properties) the templates never set.")
    deployer.add_argument("--output-dir", type=Path, default=None, help="default: <project>/output")
    deployer.set_defaults(run=_deployer_role)

    pipeline = commands.add_parser(
        "pipeline-policy", help="print an IAM policy of the GitHub pipeline's roles (docs/pipeline.md), as JSON",
        description="plan: the plan role's trust (a pull request's jobs); deploy: a deploy role's trust (the jobs "
                    "of --environment); guard: the plan role's inline policy, which denies every stack write but "
                    "creating and deleting change sets. Exit codes: 0 printed, 2 bad input.")
    pipeline.add_argument("policy", choices=("plan", "deploy", "guard"))
    pipeline.add_argument("--repository", metavar="OWNER/REPO", help="the GitHub repository (plan, deploy)")
    pipeline.add_argument("--account-id", help="the AWS account of the role and its OIDC provider (plan, deploy)")
    pipeline.add_argument("--environment", help="the GitHub environment of the deploy jobs, e.g. prod (deploy)")
    pipeline.add_argument("--partition", default="aws", help="aws (default), aws-cn or aws-us-gov")
    pipeline.set_defaults(run=_pipeline_policy)

    check = commands.add_parser("check", help="every gate: generate --check, lint, scan, secrets")
    _add_regions(check)
    _add_no_cache(check)
    check.set_defaults(run=_check)

    if with_aws_commands:
        _add_aws_commands(commands)
    return parser


def _add_aws_commands(commands) -> None:
    from threetier.deploy.commands import add_commands as add_deploy_commands
    from threetier.deploy.delegation import add_command as add_delegation_command
    from threetier.insight.commands import add_commands as add_insight_commands
    from threetier.review.timelinecommand import add_command as add_timeline_command
    from threetier.review.diffcommand import add_command as add_diff_command

    add_diff_command(commands)
    add_deploy_commands(commands)
    add_delegation_command(commands)
    add_insight_commands(commands, session_for=_pricing_session)
    _report_deploy_errors(commands.choices["cost"])
    add_timeline_command(commands)


def _pricing_session(args: argparse.Namespace):
    """`cost --live` asks the Price List API (in us-east-1 only) with the environment's credentials, as every
    command of the environment does (threetier.toml: profile, or role_to_assume)."""
    from threetier.deploy.commands import common
    from threetier.insight.pricing import PRICING_API_REGION

    return common.environment_session(args, PRICING_API_REGION)


def _report_deploy_errors(parser: argparse.ArgumentParser) -> None:
    """The settings' errors (exit 2) and a role AWS refuses to let the caller assume (exit 1), as one line."""
    from threetier.deploy.errors import EXIT_FAILURE, EXIT_USAGE, AwsError, InputError

    run = parser.get_default("run")

    def reporting(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except InputError as error:
            print(f"threetier {args.command}: {error}", file=sys.stderr)
            return EXIT_USAGE
        except AwsError as error:
            print(f"threetier {args.command}: {error}", file=sys.stderr)
            return EXIT_FAILURE

    parser.set_defaults(run=reporting)


def _find_project(project_dir: Path | None) -> Path:
    from threetier import emit

    return emit.find_project(project_dir)


def _generate(args: argparse.Namespace) -> int:
    from threetier import emit
    from threetier.emit import cfnyaml
    from threetier.gates import userdata

    project = _find_project(args.project_dir)
    output_dir = args.output_dir or project / "output"
    try:
        rendered = emit.build_output(project)
        built = emit.data_all(project)
    except (emit.ProjectNotFound, cfnyaml.EmitterMissing):
        raise
    except Exception as error:  # noqa: BLE001 - any mistake in a template module is the user's to fix
        _report_build_failure(error, project, args.traceback)
        return EXIT_USAGE
    # Before anything is written: a reference to nothing, which troposphere lets through.
    undefined = emit.undefined_references(built)
    for problem in undefined:
        print(f"threetier generate: {problem}", file=sys.stderr)
    if undefined:
        print(f"{len(undefined)} reference(s) to something undefined: nothing written", file=sys.stderr)
        return EXIT_USAGE
    # User data EC2 would refuse at the longest parameter values.
    sizes = userdata.measure(built)
    too_long = userdata.problems(sizes)
    for problem in too_long:
        print(f"threetier generate: {problem}", file=sys.stderr)
    if too_long:
        print(f"{len(too_long)} user data too long: nothing written", file=sys.stderr)
        return EXIT_FINDINGS
    for size in sizes:
        print(size)
    if args.check:
        problems = emit.drift(output_dir, rendered)
        for problem in problems:
            print(f"{output_dir / problem.file_name}: {problem.problem}", file=sys.stderr)
        if problems:
            print(f"{len(problems)} file(s) out of date: run `python generate.py` and commit output/",
                  file=sys.stderr)
            return EXIT_FINDINGS
        print(f"output/ is up to date ({len(rendered) - 1} templates)")
        return EXIT_OK
    changed = emit.write(output_dir, rendered)
    print(f"wrote {len(changed)} of {len(rendered)} files to {output_dir}"
          + (f": {', '.join(changed)}" if changed else " (all unchanged)"))
    return EXIT_OK


def _report_build_failure(error: Exception, project: Path, full: bool) -> None:
    """One line naming the file, line and error (the traceback with --traceback): the mistake is in the
    user's template code, and the 30 lines of import machinery above it do not help find it."""
    from threetier import emit

    if full:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    print(f"threetier generate: {emit.failure_line(error, project)}", file=sys.stderr)
    if not full:
        print("nothing written; `python generate.py --traceback` shows the full traceback", file=sys.stderr)


def _pipeline_policy(args: argparse.Namespace) -> int:
    import json

    from threetier.blocks import githuboidc

    try:
        missing = [option for option, value in (("--repository", args.repository), ("--account-id", args.account_id))
                   if not value]
        if args.policy == "guard":
            document = githuboidc.plan_guard()
        elif missing:
            raise ValueError(f"{' and '.join(missing)}: the {args.policy} role's trust names the repository and the "
                             "account, e.g. --repository octo-org/shop --account-id 123456789012")
        elif args.policy == "plan":
            document = githuboidc.trust_policy(args.account_id, githuboidc.pull_request_subject(args.repository),
                                               args.partition)
        elif not args.environment:
            raise ValueError("--environment: a deploy role trusts the jobs of one GitHub environment, e.g. prod")
        else:
            document = githuboidc.trust_policy(
                args.account_id, githuboidc.environment_subject(args.repository, args.environment), args.partition)
    except ValueError as error:
        print(f"threetier pipeline-policy: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(document, indent=2))
    return EXIT_OK


def _deployer_role(args: argparse.Namespace) -> int:
    from threetier import emit

    project = _find_project(args.project_dir)
    output_dir = args.output_dir or project / "output"
    emit._templates_package(project)
    changed = emit.write(output_dir, {"deployer-role.yaml": emit.render(emit.build("deployer_role"), "deployer_role")})
    print(f"{output_dir / 'deployer-role.yaml'}: " + ("written" if changed else "unchanged"))
    return EXIT_OK


def _lint(args: argparse.Namespace) -> int:
    from threetier.gates.lint import lint_files

    regions = _regions(args)
    files = _templates(args, "lint")
    if files is None:
        return EXIT_USAGE
    findings = lint_files(files, regions, cache_dir=_cache_dir(args))
    for finding in findings:
        print(finding)
    print(f"cfn-lint: {len(files)} template(s), {len(findings)} finding(s), regions {', '.join(regions)}",
          file=sys.stderr if findings else sys.stdout)
    return EXIT_FINDINGS if findings else EXIT_OK


def _add_regions(command: argparse.ArgumentParser) -> None:
    from threetier.gates import DEFAULT_REGIONS

    command.add_argument(
        "--regions", default=",".join(DEFAULT_REGIONS),
        help="comma-separated regions to lint in (default: %(default)s)",
    )


def _add_regenerate(command: argparse.ArgumentParser) -> None:
    from threetier.emit import manifest

    manifest.add_option(command)


def _add_no_cache(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--no-cache", action="store_true",
        help="check every file again instead of reusing results for unchanged files (.cache/threetier)",
    )


def _cache_dir(args: argparse.Namespace) -> Path | None:
    from threetier import emit
    from threetier.blocks.resultcache import folder_for

    if args.no_cache:
        return None
    try:
        project = _find_project(args.project_dir)
    except emit.ProjectNotFound:
        project = None  # files linted outside a checkout: cached only under THREETIER_CACHE_DIR
    return folder_for(project)


def _regions(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(region.strip() for region in args.regions.split(",") if region.strip())


def _templates(args: argparse.Namespace, command: str) -> list[Path] | None:
    """The files named on the command line, else output/*.yaml; None (after saying why) if any is missing."""
    files = args.files or sorted((_find_project(args.project_dir) / "output").glob("*.yaml"))
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing or not files:
        print(f"threetier {command}: no such template: {', '.join(missing) or 'output/*.yaml is empty'}",
              file=sys.stderr)
        return None
    return files


def _scan(args: argparse.Namespace) -> int:
    from threetier.gates.scan import ScannerMissing, scan

    files = _templates(args, "scan")
    if files is None:
        return EXIT_USAGE
    try:
        result = scan(files, cache_dir=_cache_dir(args))
    except ScannerMissing as error:
        print(f"threetier scan: {error}", file=sys.stderr)
        return EXIT_USAGE
    for failure in result.failures:
        print(failure)
    print(f"checkov: {len(files)} template(s), {result.passed} passed, {len(result.failures)} failed, "
          f"{result.skipped} skipped inline", file=sys.stderr if result.failures else sys.stdout)
    return EXIT_FINDINGS if result.failures else EXIT_OK


def _secrets(args: argparse.Namespace) -> int:
    from threetier.gates import check
    from threetier.gates.scan import ScannerMissing
    from threetier.gates.secretscan import require_detect_secrets

    try:
        require_detect_secrets()
    except ScannerMissing as error:
        print(f"threetier secrets: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = check.secrets(_find_project(args.project_dir), cache_dir=_cache_dir(args))
    for detail in result.details:
        print(detail)
    print(f"detect-secrets: {result.summary}", file=sys.stdout if result.passed else sys.stderr)
    return EXIT_OK if result.passed else EXIT_FINDINGS


def _check(args: argparse.Namespace) -> int:
    from threetier.gates import check

    regions = _regions(args)
    results = check.run_all(_find_project(args.project_dir), regions, cache_dir=_cache_dir(args))
    for result in results:
        for detail in result.details:
            print(f"{result.name}: {detail}")
    for result in results:
        print(result.line())
    failed = [r.name for r in results if not r.passed]
    print(f"check: {'FAILED: ' + ', '.join(failed) if failed else f'all {len(results)} gates passed'}")
    return EXIT_FINDINGS if failed else EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from threetier.deploy import settings
    from threetier.deploy.errors import InputError
    from threetier.deploy.inputs import load_root_template, load_values
    from threetier.parameters import sharedzone, validate

    from threetier.emit import manifest

    project = _find_project(args.project_dir)
    stale = manifest.check(project, args.regenerate)
    if stale:
        print(f"threetier validate: {stale}", file=sys.stderr)
        return EXIT_USAGE
    try:
        path, values = load_values(project, args.env)
        template = load_root_template(project)
        protected = settings.is_protected(project, args.env)
    except InputError as error:
        print(f"threetier validate: {error}", file=sys.stderr)
        return EXIT_USAGE
    region = validate.region_from(args.region)
    problems = validate.validate(template, values, region=region, allow_insecure=args.allow_insecure,
                                 protected=protected)
    # The names it claims in a domain, against the project's other environments.
    problems = sharedzone.project_problems(project, args.env, values, template.get("Parameters") or {}) + problems
    # The report (each problem, then the summary) is the command's output: all of it on stdout.
    for line in validate.report_lines(path, problems):
        print(line)
    where = f"region {region}" if region else "no region"
    if validate.errors(problems):
        print(f"{path}: {validate.summary(problems)} ({where}); nothing was sent to AWS")
        return EXIT_USAGE
    print(f"{path}: valid, {len(values)} values checked against output/main.yaml ({where})"
          + (f"; {validate.summary(problems)}" if problems else ""))
    return _validate_stackset(project, args.env, template, protected)


def _validate_stackset(project: Path, env: str, template: dict, protected: bool) -> int:
    """The environment's stack set targets ([ENV.stackset] in threetier.toml), when it has some: each target
    region with the target's values, and a site's global resources in one region per account."""
    from threetier.deploy import settings, stacksetcheck, stacksettargets
    from threetier.deploy.errors import InputError
    from threetier.insight import model

    try:
        targets = settings.stackset_of(project, env)
        if targets is None:
            return EXIT_OK
        problem = stacksettargets.protection_problem(targets, env) if protected else None
        if problem:
            raise InputError(f"[{env}] {problem}")
        stacksetcheck.check_targets(project, env, template, targets, protected, model.load_templates(project))
    except InputError as error:
        print(f"threetier validate: stack set targets of {env}: {error}")
        return EXIT_USAGE
    instances = len(targets.instances())
    print(f"stack set targets of {env}: {len(targets.targets)} target(s), {instances} stack instance(s) in "
          f"{', '.join(targets.regions)}, valid")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
