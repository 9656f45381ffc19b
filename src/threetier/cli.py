"""The `threetier` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from threetier import emit
from threetier.lint import DEFAULT_REGIONS

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except emit.ProjectNotFound as error:
        print(f"threetier: {error}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="threetier",
        description="Generate, lint and deploy the three-tier CloudFormation stacks.",
    )
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
    generate.set_defaults(run=_generate)

    lint = commands.add_parser("lint", help="cfn-lint every template, informational rules included")
    lint.add_argument("files", nargs="*", type=Path, help="default: <project>/output/*.yaml")
    lint.add_argument(
        "--regions", default=",".join(DEFAULT_REGIONS),
        help="comma-separated regions to lint in (default: %(default)s)",
    )
    lint.set_defaults(run=_lint)

    from threetier.deploy.commands import add_commands

    add_commands(commands)
    return parser


def _generate(args: argparse.Namespace) -> int:
    project = emit.find_project(args.project_dir)
    output_dir = args.output_dir or project / "output"
    rendered = emit.build_all(project)
    if args.check:
        problems = emit.drift(output_dir, rendered)
        for problem in problems:
            print(f"{output_dir / problem.file_name}: {problem.problem}", file=sys.stderr)
        if problems:
            print(f"{len(problems)} file(s) out of date: run `python generate.py` and commit output/",
                  file=sys.stderr)
            return EXIT_FINDINGS
        print(f"output/ is up to date ({len(rendered)} templates)")
        return EXIT_OK
    changed = emit.write(output_dir, rendered)
    print(f"wrote {len(changed)} of {len(rendered)} templates to {output_dir}"
          + (f": {', '.join(changed)}" if changed else " (all unchanged)"))
    return EXIT_OK


def _lint(args: argparse.Namespace) -> int:
    from threetier.lint import lint_files

    regions = tuple(region.strip() for region in args.regions.split(",") if region.strip())
    files = args.files or sorted((emit.find_project(args.project_dir) / "output").glob("*.yaml"))
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing or not files:
        print(f"threetier lint: no such template: {', '.join(missing) or 'output/*.yaml is empty'}",
              file=sys.stderr)
        return EXIT_USAGE
    findings = lint_files(files, regions)
    for finding in findings:
        print(finding)
    print(f"cfn-lint: {len(files)} template(s), {len(findings)} finding(s), regions {', '.join(regions)}",
          file=sys.stderr if findings else sys.stdout)
    return EXIT_FINDINGS if findings else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
