"""`threetier delegation ENV` against the local moto server (Route 53 zones, the root stack's
outputs) and a small DNS server on 127.0.0.1 standing in for public DNS."""

from __future__ import annotations

import json
import socket
import threading

import botocore.client
import dns.message
import dns.rcode
import dns.rrset
import pytest

from tests.deploy.fixtures.project import ENV, STACK_NAME, write_project
from tests.deploy.test_deploy_moto import aws  # noqa: F401 (fixture)
from threetier import cli

DOMAIN = "example.com"
REGISTRAR_SERVERS = ["ns1.registrar.example.net", "ns2.registrar.example.net"]


class FakeDns:
    """Answers NS queries for the names in `delegations`, NXDOMAIN for everything else."""

    def __init__(self):
        self.delegations: dict[str, list[str]] = {}
        self.queries: list[str] = []
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.address = "%s:%d" % self.socket.getsockname()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                wire, client = self.socket.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            self.queries.append(name)
            response = dns.message.make_response(query)
            if name in self.delegations:
                response.answer.append(dns.rrset.from_text_list(
                    question.name, 300, "IN", "NS", [server.rstrip(".") + "." for server in self.delegations[name]]))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.socket.sendto(response.to_wire(), client)

    def close(self):
        self.socket.close()


@pytest.fixture
def public_dns():
    server = FakeDns()
    yield server
    server.close()


def zone(aws) -> tuple[str, list[str]]:
    import boto3
    route53 = boto3.client("route53", endpoint_url=aws.endpoint, region_name="us-east-1")
    created = route53.create_hosted_zone(Name=DOMAIN, CallerReference="first-pass")
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    return zone_id, [server.lower() for server in created["DelegationSet"]["NameServers"]]


def first_pass_stack(aws, zone_id: str) -> None:
    """A deployed root stack whose HostedZoneId output names the zone it created."""
    template = {
        "Resources": {"Marker": {"Type": "AWS::SSM::Parameter",
                                 "Properties": {"Type": "String", "Value": "x", "Name": "/shop/dev/marker"}}},
        "Outputs": {"HostedZoneId": {"Value": zone_id}},
    }
    aws.cfn.create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(template))


def run(project, aws, dns_server, *extra) -> int:
    return cli.main(["--project-dir", str(project), "delegation", ENV, "--region", "us-east-1",
                     "--endpoint-url", aws.endpoint, "--resolver", dns_server.address, *extra])


def parameters(**values) -> dict:
    return {"ProjectName": "shop", "EnvironmentName": ENV, "DomainName": DOMAIN, **values}


def test_after_the_first_pass_a_delegated_domain_says_which_zone_id_to_set(tmp_path, aws, public_dns, capsys):
    zone_id, servers = zone(aws)
    first_pass_stack(aws, zone_id)
    public_dns.delegations[DOMAIN] = servers
    project = write_project(tmp_path, parameters=parameters())

    assert run(project, aws, public_dns) == 0

    out = capsys.readouterr().out
    assert f"{DOMAIN} is delegated to hosted zone {zone_id}" in out
    assert f"set HostedZoneId to {zone_id} in parameters/{ENV}.json" in out
    assert "--allow-delete" in out, "the zone leaving the stack is flagged by plan: say so"
    assert public_dns.queries == [DOMAIN]


def test_a_domain_still_at_the_registrar_lists_both_sets_of_name_servers(tmp_path, aws, public_dns, capsys):
    zone_id, servers = zone(aws)
    first_pass_stack(aws, zone_id)
    public_dns.delegations[DOMAIN] = REGISTRAR_SERVERS
    project = write_project(tmp_path, parameters=parameters())

    assert run(project, aws, public_dns) == 1

    out = capsys.readouterr().out
    assert f"{DOMAIN} is not delegated to {zone_id} yet." in out
    assert f"public DNS answers: {', '.join(REGISTRAR_SERVERS)}" in out
    assert f"the zone's name servers: {', '.join(sorted(servers))}" in out


def test_half_a_delegation_is_not_a_delegation(tmp_path, aws, public_dns, capsys):
    zone_id, servers = zone(aws)
    public_dns.delegations[DOMAIN] = servers[:2]
    project = write_project(tmp_path, parameters=parameters(HostedZoneId=zone_id))

    assert run(project, aws, public_dns) == 1
    assert "is not delegated" in capsys.readouterr().out


def test_a_given_zone_is_checked_without_a_stack(tmp_path, aws, public_dns, capsys):
    zone_id, servers = zone(aws)
    public_dns.delegations[DOMAIN] = [server.upper() for server in servers]  # case does not matter
    project = write_project(tmp_path, parameters=parameters(HostedZoneId=zone_id))

    assert run(project, aws, public_dns) == 0
    assert "its certificates can be validated" in capsys.readouterr().out


def test_without_a_stack_or_zone_it_says_to_deploy_the_first_pass(tmp_path, aws, public_dns, capsys):
    project = write_project(tmp_path, parameters=parameters())

    assert run(project, aws, public_dns) == 1

    err = capsys.readouterr().err
    assert f"stack {STACK_NAME} does not exist: deploy the first pass" in err
    assert public_dns.queries == [], "nothing to compare with, so DNS is not asked"


def test_an_unregistered_domain_is_named(tmp_path, aws, public_dns, capsys):
    zone_id, _ = zone(aws)
    project = write_project(tmp_path, parameters=parameters(HostedZoneId=zone_id))

    assert run(project, aws, public_dns) == 1
    assert f"{DOMAIN} does not exist in DNS: register it first" in capsys.readouterr().err


@pytest.mark.parametrize("values,extra,message", [
    ({"ProjectName": "shop", "EnvironmentName": ENV}, [], "DomainName is empty: there is no domain to delegate"),
    (parameters(), ["--resolver", "not:an:address"], "--resolver 'not:an:address': give an IP address"),
])
def test_bad_input_exits_2_before_any_aws_or_dns_call(tmp_path, aws, public_dns, capsys, monkeypatch,
                                                     values, extra, message):
    project = write_project(tmp_path, parameters=values)
    calls = []
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call",
                        lambda client, operation, params: calls.append(operation))

    assert cli.main(["--project-dir", str(project), "delegation", ENV, "--region", "us-east-1",
                     "--endpoint-url", aws.endpoint, *(extra or ["--resolver", public_dns.address])]) == 2

    assert message in capsys.readouterr().err
    assert calls == [] and public_dns.queries == []


def test_the_environments_role_from_threetier_toml_is_who_looks(tmp_path, aws, public_dns, capsys):
    """The zone and the stack exist only in the account of the role the environment assumes."""
    import boto3

    role = "arn:aws:iam::111122223333:role/deployer"
    credentials = boto3.client("sts", endpoint_url=aws.endpoint, region_name="us-east-1").assume_role(
        RoleArn=role, RoleSessionName="setup")["Credentials"]
    as_role = {"endpoint_url": aws.endpoint, "region_name": "us-east-1",
               "aws_access_key_id": credentials["AccessKeyId"],
               "aws_secret_access_key": credentials["SecretAccessKey"],
               "aws_session_token": credentials["SessionToken"]}
    created = boto3.client("route53", **as_role).create_hosted_zone(Name=DOMAIN, CallerReference="role")
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    boto3.client("cloudformation", **as_role).create_stack(StackName=STACK_NAME, TemplateBody=json.dumps({
        "Resources": {"Marker": {"Type": "AWS::SSM::Parameter",
                                 "Properties": {"Type": "String", "Value": "x", "Name": "/shop/dev/marker"}}},
        "Outputs": {"HostedZoneId": {"Value": zone_id}}}))
    public_dns.delegations[DOMAIN] = [server.lower() for server in created["DelegationSet"]["NameServers"]]
    project = write_project(tmp_path, parameters=parameters())
    (project / "threetier.toml").write_text(f'[dev]\nregion = "us-east-1"\nrole_to_assume = "{role}"\n')

    assert run(project, aws, public_dns) == 0
    assert f"{DOMAIN} is delegated to hosted zone {zone_id}" in capsys.readouterr().out
