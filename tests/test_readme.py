"""The README leads a newcomer: short, its links resolve, every figure it quotes is the tool's, and
its first-deploy commands run, in the order it gives, against a local moto server."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest

from tests.deploy.fixtures.profiles import use_profiles
from tests.deploy.fixtures.project import STACK_NAME, write_project
from tests.deploy.test_deploy_moto import fresh_moto
from threetier import cli, parameters as P
from threetier.deploy.commands import DEFAULT_TIMEOUT_MINUTES
from threetier.gates import DEFAULT_REGIONS

# What a newcomer reads in ten minutes, at about 250 words a minute.
READING_BUDGET_WORDS = 2_500
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def readme(project) -> str:
    return (project / "README.md").read_text(encoding="utf-8")


def section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.+?)\n```", re.sub(r"\n +", "\n", text), re.S)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_readme_reads_in_ten_minutes(project):
    words = len(readme(project).split())
    assert words <= READING_BUDGET_WORDS, f"README: {words} words; move reference into docs/"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but hyphens and spaces dropped."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("page", ["README.md", *sorted(f"docs/{p.name}" for p in
                                                        (Path(__file__).parents[1] / "docs").glob("*.md"))])
def test_every_relative_link_and_anchor_resolves(project, page):
    source = project / page
    for target in re.findall(r"\]\(([^)\s]+)\)", source.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (source.parent / file_part).resolve() if file_part else source
        assert linked.exists(), f"{page}: link to {target}: no such file"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{page}: link to {target}: no such heading"


def test_the_dev_environment_it_describes_is_dev_json(project):
    values = {entry["ParameterKey"]: entry["ParameterValue"]
              for entry in json.loads((project / "parameters" / "dev.json").read_text())}
    assert (values["NumberOfAzs"], values["SingleNatGateway"]) == ("2", "true")
    assert (values.get("DbMultiAz", P.DB_MULTI_AZ.default), values["DbInstanceClass"]) == ("false", "db.t4g.micro")
    assert (values["AsgMinSize"], values["AsgMaxSize"], values["InstanceType"]) == ("1", "2", "t3.small")
    assert ("2 AZs, one NAT gateway, a single-AZ `db.t4g.micro`, one or two `t3.small` servers"
            in flat(section(readme(project), "Your first dev deploy")))


def test_the_limits_it_quotes_are_the_templates_and_the_commands(project):
    text = flat(readme(project))
    assert f"within **{P.BOOT_SIGNAL_SECONDS // 60} minutes**" in text
    assert f"at most **{DEFAULT_TIMEOUT_MINUTES} minutes** (`--timeout`)" in text
    assert f"in {NUMBER_WORDS[len(DEFAULT_REGIONS)]} regions" in text


def test_the_durations_it_quotes_are_timelines(project):
    from threetier.insight import model, stacks, timeline
    templates = model.load_templates(project)
    text = flat(readme(project))
    def create(env: str, **changes: str) -> timeline.Timeline:
        values = {**model.load_values(project, env)[1], **changes}
        return timeline.create(templates, stacks.evaluate(templates, values, model.DEFAULT_REGION))

    dev, prod, chain = create("dev"), create("prod"), create("prod", StackLayout="chain")
    minutes = [round(seconds / 60) for seconds in (dev.total, prod.total, prod.serving, chain.total)]
    assert (f"estimates **about {minutes[0]} minutes** for dev's first create (prod: about {minutes[1]}, and its "
            f"site answers after about {minutes[2]}, where the stack layout of environments created before "
            f"December 2026 took {minutes[3]})" in text), minutes


def test_every_command_it_lists_is_a_command(project):
    commands = set(cli._parser()._subparsers._group_actions[0].choices)
    listed = re.findall(r"^threetier ([a-z|-]+)", "\n".join(fenced(readme(project), "sh")), re.M)
    named = {name for entry in listed for name in entry.split("|")}
    assert named and named <= commands, named - commands
    mentioned = set(re.findall(r"`([a-z-]+)`", section(readme(project), "Commands")))
    assert commands <= named | mentioned | {"generate"}, commands - named - mentioned


# ----------------------------------------------------------------------------- the walk, against moto

OFFLINE = {"validate", "cost"}


class _Terminal(io.StringIO):
    """A terminal on stdin where the newcomer types `yes`, as the README says to."""

    def isatty(self) -> bool:
        return True


def test_the_first_deploy_runs_as_written(project, moto_endpoint, tmp_path, monkeypatch, capsys):
    """Steps 2 to 8 and the console route, in the README's order. The offline steps run on this
    checkout's own templates; the AWS steps on a small project of the same shape (moto cannot
    create the real nested stacks: /work/shared/notes/moto-cloudformation.md), with the README's
    threetier.toml, bucket and profile as written."""
    walk = section(readme(project), "Your first dev deploy") + section(readme(project), "From the CloudFormation console")
    aws = fresh_moto(moto_endpoint, monkeypatch)
    (toml,) = fenced(walk, "toml")
    settings = dict(re.findall(r'^(\w+) = "([^"]*)"', toml, re.M))
    # The newcomer's `aws configure --profile dev`: dummy keys for moto, and no others to fall back on.
    use_profiles(tmp_path, monkeypatch, {settings["profile"]: ("testing", "testing")}, "us-east-1")
    small = write_project(tmp_path / "project")
    (small / "threetier.toml").write_text(toml + "\n")

    lines = [line for block in fenced(walk, "sh") for line in block.splitlines()]
    (make_bucket,) = [line for line in lines if line.startswith("aws s3 mb")]
    bucket, region = re.search(r"s3://(\S+) --region (\S+)", make_bucket).groups()
    assert (bucket, region) == (settings["bucket"], settings["region"])
    aws.s3.create_bucket(Bucket=bucket)

    ran = []
    for line in lines:
        if not line.startswith("threetier "):
            continue
        argv = shlex.split(line)[1:]
        if argv[0] in OFFLINE:
            code = cli.main(["--project-dir", str(project), *argv])
        else:
            monkeypatch.setattr("sys.stdin", _Terminal("yes\n"))
            code = cli.main(["--project-dir", str(small), *argv, "--endpoint-url", aws.endpoint])
        out, err = capsys.readouterr()
        assert code == 0, f"`{line}` exited {code}:\n{out}\n{err}"
        ran.append(argv[0])
        if argv[0] == "plan":
            [planned] = aws.cfn.describe_stacks(StackName=STACK_NAME)["Stacks"]
            assert planned["StackStatus"] == "REVIEW_IN_PROGRESS", "plan never executes"
            # moto makes a second stack of the same name for the next CREATE change set, where
            # CloudFormation executes it on this one; so the walk goes on as if plan had run
            # elsewhere (tests/deploy/test_deploy_stubbed.py covers the change set on this stack).
            aws.cfn.delete_stack(StackName=STACK_NAME)
        if argv[0] == "deploy":
            assert f"Stack {STACK_NAME}: CREATE_COMPLETE" in out
        if argv[0] == "status":
            assert "Status:  CREATE_COMPLETE" in out  # moto keeps no outputs after a change set
        if argv[0] == "package":
            assert "console.aws.amazon.com/cloudformation" in out

    assert ran == ["validate", "cost", "plan", "deploy", "status", "delete", "leftovers", "package"]
    assert not aws.cfn.list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]
