"""CLI subcommands that show an environment before it is deployed: diagram and cost.

Both read local files only (templates/ and parameters/ENV.json), check every
input before writing or printing anything (exit 2 on bad input), and never
talk to AWS, except `cost --live`, which asks the AWS Price List API.

Exit codes:
    diagram  0 written and rendered; 1 .dot written but Graphviz missing or failed; 2 bad input
    cost     0 estimate printed; 1 AWS error with --live; 2 bad input or a price the table lacks
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from threetier import emit
from threetier.emit import manifest
from threetier.insight import cost, dot, model, pricing
from threetier.insight.model import InputError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def add_commands(commands, session_for=None) -> None:
    """Add `diagram` and `cost` to the `threetier` argparse subparsers. `session_for(args)` is the boto3 session
    with the environment's credentials (threetier.toml) that `cost --live` asks with; the command line wires it
    from the deploy package, which this one may not import."""
    diagram = commands.add_parser(
        "diagram", help="draw the architecture of an environment from the templates (DOT, SVG, PNG)",
        description="Write output/architecture-ENV.dot from the generated templates and the parameter "
                    "file, then render .svg and .png with Graphviz `dot`. Without ENV: every file in "
                    "parameters/. Exit codes: 0 done; 1 the .dot files were written but Graphviz is "
                    "missing or failed; 2 bad input (nothing written).",
    )
    diagram.add_argument("env", metavar="ENV", nargs="?",
                         help="environment: its values are in parameters/ENV.json (default: all)")
    diagram.add_argument("--output-dir", type=Path, default=None, help="default: <project>/output")
    diagram.add_argument("--no-render", action="store_true",
                         help="write only the .dot files (Graphviz not needed)")
    manifest.add_option(diagram)
    diagram.set_defaults(run=run_diagram)

    estimate = commands.add_parser(
        "cost", help="estimate the monthly on-demand cost of an environment",
        description="Price every billed resource the templates create for ENV, at us-east-1 on-demand "
                    "list prices from the table shipped with threetier (its date is printed), with the "
                    "usage assumptions printed under the table. Exit codes: 0 done; 1 AWS error "
                    "(--live); 2 bad input or an instance type missing from the price table.",
    )
    estimate.add_argument("env", metavar="ENV", help="environment: its values are in parameters/ENV.json")
    estimate.add_argument("--json", action="store_true", help="print the estimate as JSON")
    estimate.add_argument("--live", action="store_true",
                          help="take EC2 and RDS instance prices from the AWS Price List API "
                               "(needs AWS credentials; calls pricing:GetProducts in us-east-1)")
    estimate.add_argument("--profile", help="AWS profile for --live (default: profile in threetier.toml, "
                                            "else the usual chain)")
    estimate.add_argument("--settings", type=Path, metavar="FILE",
                          help="settings file with the environment's credentials for --live, a profile or a role "
                               "to assume (default: threetier.toml in the project, if there is one)")
    estimate.add_argument("--assume", action="append", default=[], metavar="NAME=NUMBER",
                          help="change a usage assumption, e.g. --assume nat_gb_processed=500 (repeatable)")
    manifest.add_option(estimate)
    estimate.set_defaults(run=run_cost, session_for=session_for)


# --- diagram -------------------------------------------------------------------


def run_diagram(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    output_dir = args.output_dir or project / "output"
    stale = manifest.check(project, args.regenerate)
    if stale:
        return _usage_error("diagram", stale)
    try:
        # Every environment is read and described before anything is written.
        envs = [args.env] if args.env else model.environments(project)
        if not envs:
            raise InputError(f"{project / 'parameters'}: no parameter files (ENV.json) to draw")
        templates = model.load_templates(project)
        drawings = {}
        for env in envs:
            path, values = model.load_values(project, env)
            source = _relative(path, project)
            drawings[env] = dot.to_dot(model.describe(templates, values, env, source=str(path)), source)
    except InputError as error:
        return _usage_error("diagram", error)

    output_dir.mkdir(parents=True, exist_ok=True)
    dot_files = []
    for env, text in drawings.items():
        dot_file = output_dir / f"architecture-{env}.dot"
        if not dot_file.is_file() or dot_file.read_text(encoding="utf-8") != text:
            dot_file.write_text(text, encoding="utf-8")
        dot_files.append(dot_file)
        print(f"wrote {dot_file}")
    if args.no_render:
        return EXIT_OK
    try:
        for dot_file in dot_files:
            for rendered in dot.render(dot_file):
                print(f"wrote {rendered}")
    except dot.GraphvizMissing as error:
        print(f"threetier diagram: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except subprocess.CalledProcessError as error:
        print(f"threetier diagram: Graphviz failed on {error.cmd[-1]}: {error.stderr.strip()}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


# --- cost ----------------------------------------------------------------------


def run_cost(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    stale = manifest.check(project, args.regenerate)
    if stale:
        return _usage_error("cost", stale)
    try:
        table = pricing.PriceTable()
        assumptions = cost.assumptions_with(table, args.assume)
        path, values = model.load_values(project, args.env)
        arch = model.describe(model.load_templates(project), values, args.env, source=str(path))
        live = None
        if args.live:
            client = make_pricing_client(args)
            if client is None:
                print("threetier cost: --live needs AWS credentials and none were found: pass --profile, "
                      "or run `aws configure` or `aws sso login`", file=sys.stderr)
                return EXIT_FAILURE
            live = pricing.LivePrices(client, table.region)
        try:
            estimate = cost.estimate(arch, table, assumptions, live)
        except pricing.UnknownPrice as error:
            raise InputError(f"{path}: {error}") from None
    except (InputError, cost.UnknownAssumption) as error:
        return _usage_error("cost", error)
    except NoCredentialsError:
        print("threetier cost: --live needs AWS credentials: pass --profile, or run `aws configure` "
              "or `aws sso login`", file=sys.stderr)
        return EXIT_FAILURE
    except ClientError as error:
        details = error.response.get("Error", {})
        print(f"threetier cost: AWS said {details.get('Code', '')}: {details.get('Message', error)} "
              f"({error.operation_name})", file=sys.stderr)
        return EXIT_FAILURE
    except BotoCoreError as error:
        print(f"threetier cost: {error}", file=sys.stderr)
        return EXIT_FAILURE

    if args.json:
        print(json.dumps(cost.as_json(estimate), indent=2))
    else:
        print(cost.format_table(estimate, _relative(path, project)), end="")
    return EXIT_OK


def make_pricing_client(args: argparse.Namespace):
    """The Price List API client for --live, with the environment's credentials when the command line
    wired them (tests replace this)."""
    session_for = getattr(args, "session_for", None)
    session = session_for(args) if session_for else None
    return pricing.pricing_client(args.profile, session)


def _usage_error(command: str, error: Exception) -> int:
    print(f"threetier {command}: {error}", file=sys.stderr)
    return EXIT_USAGE


def _relative(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return str(path)
