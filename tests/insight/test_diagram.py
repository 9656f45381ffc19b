"""`threetier diagram`: the architecture drawn from the templates for each environment."""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from threetier.insight import commands, dot, model
from threetier.parameters import paramfile

BASTIONS = {"BastionCount": "2", "AdminCidr": "203.0.113.0/24", "BastionKeyPairName": "ops"}
CLOUDFRONT = {"CloudFrontEnabled": "true", "CloudFrontPrefixListId": "pl-3b927c52"}
needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None,
                                    reason="Graphviz `dot` is not installed (apt-get install -y graphviz)")
# The commands below draw from the session's templates, built once (conftest.py).
pytestmark = pytest.mark.usefixtures("templates_built_once")


def describe(templates, env_values, env, **overrides):
    return model.describe(templates, {**env_values[env], **overrides}, env)


def graph(arch) -> "Graph":
    return Graph(dot.to_dot(arch, f"parameters/{arch.env}.json"))


class Graph:
    """The visible nodes and edges of a DOT text, found by their labels."""

    NODE = re.compile(r'^\s+"([^"]+)" \[label="((?:[^"\\]|\\.)*)"', re.M)
    EDGE = re.compile(r'^\s+"([^"]+)" -> "([^"]+)" \[(.*)\];$', re.M)

    def __init__(self, text: str):
        self.text = text
        self.labels = {node_id: label.replace("\\n", "\n") for node_id, label in self.NODE.findall(text)}
        self.edges = []
        for source, target, attributes in self.EDGE.findall(text):
            if "style=invis" in attributes:
                continue
            label = re.search(r'label="([^"]*)"', attributes)
            self.edges.append((source, target, label.group(1) if label else ""))

    def nodes(self, prefix: str) -> list[str]:
        return [node_id for node_id, label in self.labels.items() if label.startswith(prefix)]

    def edge_labels(self, source_prefix: str, target_prefix: str) -> list[str]:
        sources, targets = set(self.nodes(source_prefix)), set(self.nodes(target_prefix))
        return [label for source, target, label in self.edges if source in sources and target in targets]

    def az_clusters(self) -> int:
        return len(re.findall(r"subgraph cluster_az_\d+ \{", self.text))


def test_prod_has_three_az_clusters_a_nat_per_az_and_a_replica(templates, env_values):
    arch = describe(templates, env_values, "prod")
    drawn = graph(arch)

    assert drawn.az_clusters() == 3
    assert len(drawn.nodes("NAT gateway")) == 3
    assert {arch.subnet(nat.subnet).az for nat in arch.nat_gateways} == set(arch.azs)
    for subnet in (s for s in arch.subnets if s.tier == "app"):
        nat = next(n for n in arch.nat_gateways if n.id == subnet.default_route)
        assert arch.subnet(nat.subnet).az == subnet.az, "each AZ goes out through its own NAT"
    assert len(drawn.nodes("App servers")) == 3
    assert len(drawn.nodes("EFS mount target")) == 3
    assert len(drawn.nodes("RDS primary")) == len(drawn.nodes("RDS standby")) == 1
    assert len(drawn.nodes("RDS read replica")) == 1
    assert drawn.nodes("Bastion") == []
    # The seed's production shape: CloudFront in front of the load balancer.
    assert len(drawn.nodes("CloudFront")) == 1
    assert drawn.edge_labels("Internet", "Application Load Balancer") == []


def test_dev_has_two_az_clusters_one_shared_nat_and_no_standby_or_replica(templates, env_values):
    arch = describe(templates, env_values, "dev")
    drawn = graph(arch)

    assert drawn.az_clusters() == 2
    assert len(drawn.nodes("NAT gateway")) == 1
    (nat,) = arch.nat_gateways
    assert {s.default_route for s in arch.subnets if s.tier == "app"} == {nat.id}
    assert len(drawn.edge_labels("App servers", "NAT gateway")) == 2
    assert len(drawn.nodes("App servers")) == 2
    assert drawn.nodes("RDS standby") == [] and drawn.nodes("RDS read replica") == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_edges_carry_the_security_group_ports(templates, env_values, env):
    arch = describe(templates, env_values, env)
    drawn = graph(arch)
    zones = len(arch.azs)

    front = "CloudFront" if arch.distributions else "Application Load Balancer"
    assert drawn.edge_labels("Internet", front) == ["80, 443"]
    assert drawn.edge_labels("Application Load Balancer", "App servers") == ["5000"] * zones
    assert drawn.edge_labels("App servers", "RDS primary") == ["3306"] * zones
    # Instances mount EFS through the mount target in their own AZ.
    assert drawn.edge_labels("App servers", "EFS mount target") == ["2049"] * zones
    assert all(label.startswith("out 80, 443") for label in drawn.edge_labels("App servers", "NAT gateway"))


def test_postgres_gives_5432_to_primary_and_replica(templates, env_values):
    drawn = graph(describe(templates, env_values, "prod", DbEngine="postgres"))

    assert set(drawn.edge_labels("App servers", "RDS primary")) == {"5432"}
    assert set(drawn.edge_labels("App servers", "RDS read replica")) == {"5432"}
    assert "3306" not in drawn.text


def test_the_app_port_parameter_labels_the_load_balancer_edges(templates, env_values):
    drawn = graph(describe(templates, env_values, "dev", AppPort="8080"))
    assert set(drawn.edge_labels("Application Load Balancer", "App servers")) == {"8080"}


def test_bastions_appear_only_when_on_with_ssh_from_the_admin_cidr(templates, env_values):
    drawn = graph(describe(templates, env_values, "dev", **BASTIONS))

    assert len(drawn.nodes("Bastion host")) == 2
    assert drawn.edge_labels("Admin network", "Bastion host") == ["22", "22"]
    assert set(drawn.edge_labels("Bastion host", "App servers")) == {"22"}
    assert "203.0.113.0/24" in drawn.labels[drawn.nodes("Admin network")[0]]


def test_cloudfront_sits_between_the_internet_and_the_load_balancer_when_on(templates, env_values):
    drawn = graph(describe(templates, env_values, "prod", **CLOUDFRONT))

    assert drawn.edge_labels("Internet", "CloudFront") == ["80, 443"]
    # The prefix-list rule admits 80-443 whatever the domain (issue 30); without one,
    # the load balancer listens on HTTP 80 only, and CloudFront's origin is HTTP.
    assert drawn.edge_labels("CloudFront", "Application Load Balancer") == ["80-443"]
    assert "listeners HTTP 80\n" in drawn.labels[drawn.nodes("Application Load Balancer")[0]]
    assert drawn.edge_labels("Internet", "Application Load Balancer") == []


def test_a_domain_adds_route53_aliases_and_an_https_origin(templates, env_values):
    drawn = graph(describe(templates, env_values, "prod", DomainName="example.com",
                           HostedZoneId="Z0123456789ABCDEFGHIJ", **CLOUDFRONT))

    assert drawn.edge_labels("CloudFront", "Application Load Balancer") == ["80-443"]
    assert drawn.edge_labels("Route 53", "CloudFront") == ["alias A/AAAA"]
    assert "HTTPS 443" in drawn.labels[drawn.nodes("Application Load Balancer")[0]]


def test_templates_without_an_edge_stack_are_drawn_too(templates, env_values):
    """An older root with no dns/edge stacks: nothing about CloudFront is needed."""
    root = templates.module_of_file[model.ROOT_FILE]
    older_root = {**templates.by_module[root]}
    older_root["Resources"] = {name: resource for name, resource in older_root["Resources"].items()
                               if resource["Properties"].get("TemplateURL") not in ("edge.yaml", "dns.yaml")}
    older = model.Templates(
        by_module={**{m: t for m, t in templates.by_module.items() if m not in ("edge", "dns")}, root: older_root},
        module_of_file={f: m for f, m in templates.module_of_file.items() if m not in ("edge", "dns")},
    )
    arch = model.describe(older, {**env_values["prod"], "CloudFrontEnabled": "false"}, "prod")

    assert "edge" not in arch.stacks and arch.distributions == ()
    assert graph(arch).edge_labels("Internet", "Application Load Balancer") == ["80, 443"]


def test_unknown_parameter_in_the_env_file_is_named(templates, env_values):
    with pytest.raises(model.InputError, match="NotAParameter"):
        model.describe(templates, {**env_values["dev"], "NotAParameter": "x"}, "dev")


# --- the command ------------------------------------------------------------------


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="threetier")
    parser.add_argument("--project-dir", type=Path, default=None)
    commands.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


def test_without_env_every_parameter_file_is_drawn(tmp_path, capsys):
    assert run("diagram", "--no-render", "--output-dir", str(tmp_path)) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["architecture-dev.dot", "architecture-prod.dot"]
    first_line = (tmp_path / "architecture-prod.dot").read_text().splitlines()[0]
    assert "parameters/prod.json" in first_line and str(tmp_path) not in first_line


def test_dot_is_byte_identical_across_processes(project, tmp_path):
    """Two separate runs with different hash seeds: no set or dict order leaks into the file."""
    script = ("import sys; from threetier.insight.commands import add_commands; import argparse; "
              "p = argparse.ArgumentParser(); p.add_argument('--project-dir', default=None); "
              "add_commands(p.add_subparsers(dest='command')); a = p.parse_args(sys.argv[1:]); "
              "sys.exit(a.run(a))")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, "diagram", "prod", "--no-render", "--output-dir", str(out)],
                       cwd=project, env=env, check=True, capture_output=True)
        outputs.append((out / "architecture-prod.dot").read_bytes())
    assert outputs[0] == outputs[1]


def test_unknown_env_is_a_clear_error_and_writes_nothing(tmp_path, capsys):
    assert run("diagram", "qa", "--output-dir", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "parameters/qa.json: no such parameter file" in err and "dev, prod" in err
    assert not (tmp_path / "out").exists()


def test_malformed_env_file_stops_every_env_before_anything_is_written(monkeypatch, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"ParameterKey": "NumberOfAzs", "ParameterValue": "3"},]')
    real_path_for = paramfile.path_for
    monkeypatch.setattr(paramfile, "path_for",
                        lambda project, env: broken if env == "broken" else real_path_for(project, env))
    monkeypatch.setattr(model, "environments", lambda project: ["dev", "broken"])

    assert run("diagram", "--output-dir", str(tmp_path / "out")) == 2
    assert f"{broken}:1:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists(), "dev was valid but nothing may be written"


def test_missing_graphviz_writes_the_dot_and_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(dot, "DOT_PROGRAM", "threetier-test-no-such-dot")

    assert run("diagram", "dev", "--output-dir", str(tmp_path)) == 1
    assert (tmp_path / "architecture-dev.dot").is_file()
    assert not (tmp_path / "architecture-dev.svg").exists()
    assert "apt-get install -y graphviz" in capsys.readouterr().err


def test_no_render_needs_no_graphviz(monkeypatch, tmp_path):
    monkeypatch.setattr(dot, "DOT_PROGRAM", "threetier-test-no-such-dot")
    assert run("diagram", "dev", "--no-render", "--output-dir", str(tmp_path)) == 0


@needs_graphviz
def test_renders_svg_and_png_the_same_way_twice(tmp_path, capsys):
    assert run("diagram", "prod", "--output-dir", str(tmp_path / "a")) == 0
    assert run("diagram", "prod", "--output-dir", str(tmp_path / "b")) == 0
    svg = (tmp_path / "a" / "architecture-prod.svg").read_text()
    assert "AZ 3 (us&#45;east&#45;1c)" in svg and "RDS read replica" in svg  # SVG escapes "-"
    assert (tmp_path / "a" / "architecture-prod.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg == (tmp_path / "b" / "architecture-prod.svg").read_text()


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_committed_diagram_is_what_the_templates_draw(project, templates, env_values, env):
    committed = (project / "output" / f"architecture-{env}.dot").read_text()
    assert committed == dot.to_dot(describe(templates, env_values, env), f"parameters/{env}.json"), (
        f"output/architecture-{env}.dot is stale: run `threetier diagram` and commit output/architecture-*")


@pytest.mark.parametrize("changes, message", [
    ({"AsgMinSize": "2.5"}, "AsgMinSize='2.5': must be a whole number written in digits"),
    ({"NumberOfAzs": "4"}, "NumberOfAzs='4': must be one of 2, 3"),  # once drawn as 2 AZs without a word
])
def test_values_the_templates_refuse_are_refused_before_drawing(odd_env, tmp_path, capsys, changes, message):
    odd_env(changes)

    assert run("diagram", "odd", "--output-dir", str(tmp_path / "out")) == 2

    err = capsys.readouterr().err
    assert message in err and "1 error: nothing was written" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
