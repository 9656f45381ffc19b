"""These templates over an environment deployed before the parallel stack layout (issue 37).

tests/review/fixtures/main-78a9b4c.tar.xz holds output/ and parameters/prod.json of main at
78a9b4c, the last commit before StackLayout: what every deployed environment runs. A deployed prod
keeps the chain layout (review.refusals refuses the other), and the new templates must then change
no database, file system, secret, key, bucket or hosted zone, through the same offline prediction
`plan` and `diff` use (threetier.review.updates), and through `threetier diff` itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile

import pytest

from threetier import cli
from threetier.emit import manifest
from threetier.insight import model, stacks
from threetier.parameters.evaluate import with_defaults
from threetier.review import refusals, templatediff, updates

FIXTURE = "main-78a9b4c.tar.xz"
# output/ file -> templates module, as templates/__init__.py's STACKS had them at 78a9b4c.
OLD_STACKS = {"main.yaml": "root", "network.yaml": "network", "security.yaml": "security", "data.yaml": "data",
              "dns.yaml": "dns", "app.yaml": "app", "admin.yaml": "admin", "edge.yaml": "edge",
              "monitoring.yaml": "monitoring", "deployer-role.yaml": "deployer_role"}
KEEP = ("AWS::RDS::DBInstance", "AWS::EFS::FileSystem", "AWS::EFS::AccessPoint", "AWS::SecretsManager::Secret",
        "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Route53::HostedZone", "AWS::ElasticLoadBalancingV2::LoadBalancer")
REGION = "us-east-1"


@pytest.fixture(scope="module")
def before(tmp_path_factory, project):
    folder = tmp_path_factory.mktemp("main-78a9b4c")
    with tarfile.open(project / "tests" / "review" / "fixtures" / FIXTURE) as archive:
        archive.extractall(folder, filter="data")
    return folder


def _old_templates(folder) -> stacks.Templates:
    return stacks.Templates(
        by_module={module: templatediff._parse((folder / "output" / file).read_text())
                   for file, module in OLD_STACKS.items()},
        module_of_file=dict(OLD_STACKS))


def _values(path) -> dict[str, str]:
    return {row["ParameterKey"]: row["ParameterValue"] for row in json.loads(path.read_text())}


@pytest.mark.parametrize("changes", [{}, {"DbReplicaEnabled": "true", "DomainName": "example.com",
                                          "HostedZoneId": "Z0123456789ABCDEFGHIJ", "AlbAccessLogs": "true"}],
                         ids=["prod.json", "with a domain and access logs"])
def test_a_deployed_prod_keeps_every_stateful_resource(before, project, templates, changes):
    old_values = {**_values(before / "parameters" / "prod.json"), **changes}
    # What the operator's prod.json says after this change: StackLayout chain, as the refusal asks.
    new_values = {**model.load_values(project, "prod")[1], **changes, "StackLayout": "chain"}
    old = updates.resources(stacks.evaluate(_old_templates(before), old_values, REGION))
    new = updates.resources(stacks.evaluate(templates, new_values, REGION))
    prediction = updates.compare(old, new)
    risky = prediction.of(updates.FAILS, updates.REPLACE, updates.MAY_REPLACE, updates.REMOVE)
    assert [change.name for change in risky if change.resource_type in KEEP] == []
    assert [change.name for change in risky if change.stateful] == []
    # The load balancer stays where it is, with its name and its deletion protection.
    assert "app.LoadBalancer" in old and "app.LoadBalancer" in new and "front.LoadBalancer" not in new
    assert not any(name.startswith(("front.", "replica.")) for name in new)


def test_the_parallel_layout_would_move_them_so_plan_refuses_it(before, project, templates):
    old_values = _values(before / "parameters" / "prod.json")
    new_values = model.load_values(project, "prod")[1]
    assert new_values["StackLayout"] == "parallel"
    declared = templates.of_file("main.yaml")["Parameters"]
    (refused,) = refusals.refusals(with_defaults(old_values, declared), with_defaults(new_values, declared))
    assert (refused.parameter, refused.before, refused.after) == ("StackLayout", "chain", "parallel")
    assert "keep StackLayout chain in the environment file" in str(refused)
    # What it refuses: the prediction of the same deploy replaces the replica (a named one fails) and the
    # origin secret, and makes a second load balancer.
    old = updates.resources(stacks.evaluate(_old_templates(before), old_values, REGION))
    new = updates.resources(stacks.evaluate(templates, new_values, REGION))
    prediction = updates.compare(old, new)
    removed = {change.name for change in prediction.of(updates.REMOVE)}
    assert {"data.DbReplica", "data.OriginVerifySecret", "app.LoadBalancer"} <= removed
    assert {"replica.DbReplica", "front.OriginVerifySecret", "front.LoadBalancer"} <= {
        change.name for change in prediction.of(updates.ADD)}


def test_threetier_diff_from_main_to_these_templates_finds_no_danger(before, project, templates, tmp_path, capsys,
                                                                    monkeypatch):
    """`threetier diff 78a9b4c`, as an operator would run it in a checkout: the templates' own diff, and
    prod.json with StackLayout chain (a deployed prod's)."""
    repo = tmp_path / "repo"
    shutil.copytree(before / "output", repo / "output")
    shutil.copytree(before / "parameters", repo / "parameters")
    (repo / "templates").mkdir()
    (repo / "templates" / "__init__.py").write_text("")
    (repo / "setup.cfg").write_text("")
    (repo / "output" / manifest.FILE_NAME).write_text(manifest.render(repo))  # output/ as generated there
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "main at 78a9b4c"], check=True)
    for path in (project / "output").glob("*.yaml"):
        shutil.copy(path, repo / "output" / path.name)
    prod = json.loads((project / "parameters" / "prod.json").read_text())
    for row in prod:
        if row["ParameterKey"] == "StackLayout":
            row["ParameterValue"] = "chain"
    (repo / "parameters" / "prod.json").write_text(json.dumps(prod, indent=2) + "\n")
    (repo / "output" / manifest.FILE_NAME).write_text(manifest.render(repo))
    # Predictions of parameter-file changes evaluate the real templates (the session's, built once).
    monkeypatch.setattr(model, "load_templates", lambda _project: templates)

    assert cli.main(["--project-dir", str(repo), "diff", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "Add     root/FrontStack  AWS::CloudFormation::Stack  (only when Parallel)" in out
    assert "StackLayout (none) -> chain" in out
    assert cli.main(["--project-dir", str(repo), "diff", "HEAD", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dangers"] == []
    replaced = [row for row in report["resources"] if row.get("replacement") in ("True", "Conditional")]
    assert not [row for row in replaced if row["type"] in KEEP], replaced
