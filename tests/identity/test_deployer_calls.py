"""Every call a create, an update and a delete make under the deployer role is allowed, in every partition.

The calls are tests/identity/catalogue.py's, from the templates and the provider
schemas; the judge is principalmapper's IAM evaluation of the deployer role as
deployed (tests/identity/deployer.py).
"""

import pytest

from tests.identity import catalogue
from tests.identity.deployer import ACCOUNT, BOUNDARY, PROJECT, REGIONS, Deployed, unresolved
from threetier.blocks import deployerscopes

SETUPS = {
    "no boundary, path /": {},
    "boundary and path /app/": {"PermissionsBoundaryArn": BOUNDARY, "IamRolePath": "/app/"},
}


def _catalogue(region: str, partition: str, values: dict) -> list[catalogue.Call]:
    environment = {"ProjectName": PROJECT, "EnvironmentName": catalogue.ENVIRONMENT, **values}
    return catalogue.calls(catalogue.stack_resources(environment, region, partition), environment, region, partition)


def _values(setup: str, partition: str) -> dict:
    return {key: value.format(partition=partition, account=ACCOUNT) for key, value in SETUPS[setup].items()}


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("region", REGIONS)
def test_every_call_of_create_update_and_delete_is_allowed(region, setup):
    partition = REGIONS[region]
    values = _values(setup, partition)
    deployed = Deployed(region, partition, values)
    calls = _catalogue(region, partition, values)
    denied = [f"{call.action} on {call.resource} {call.context_dict()} ({call.why})" for call in calls
              if not call.refused and not deployed.allows(call.action, call.resource, call.context_dict())]
    assert not denied, "\n".join(denied)
    allowed_anyway = [call for call in calls
                      if call.refused and deployed.allows(call.action, call.resource, call.context_dict())]
    assert not allowed_anyway


@pytest.mark.parametrize("region", REGIONS)
def test_the_role_resolves_to_plain_policies_in_every_partition(region):
    deployed = Deployed(region, REGIONS[region], _values("boundary and path /app/", REGIONS[region]))
    assert deployed.role_arn == f"arn:{REGIONS[region]}:iam::{ACCOUNT}:role/app/{PROJECT}.deployer"
    for name, document in deployed.documents.items():
        assert not unresolved(document), name


def test_removing_a_boundary_is_the_one_call_refused_on_purpose():
    """CloudFormation removes a role's boundary when PermissionsBoundaryArn is emptied; the role refuses it
    (README: turning the boundary off takes an administrator)."""
    deployed = Deployed("us-east-1", "aws")
    refused = [call for call in _catalogue("us-east-1", "aws", {}) if call.refused]
    assert {call.action for call in refused} == set(deployerscopes.NEVER) == {"iam:DeleteRolePermissionsBoundary"}
    assert not any(deployed.allows(call.action, call.resource, call.context_dict()) for call in refused)


def test_with_a_boundary_every_role_the_stacks_make_takes_it():
    """The rotation function's role carries the boundary like every other (no hosted rotation role that
    cannot): with a boundary set nothing is refused but the boundary's removal."""
    values = _values("boundary and path /app/", "aws")
    refused = {call.refused for call in _catalogue("us-east-1", "aws", values) if call.refused}
    assert refused == {"the role never removes a boundary"}


def test_the_catalogue_covers_every_resource_and_the_nested_stacks():
    calls = _catalogue("us-east-1", "aws", {})
    resources = catalogue.stack_resources({"ProjectName": PROJECT, "EnvironmentName": "prod"}, "us-east-1", "aws")
    reasons = {call.why for call in calls}
    missing = [f"{r.stack} {r.logical_id}" for r in resources
               if not any(why.startswith(f"{r.stack} {r.logical_id} ") for why in reasons)]
    assert not missing
    passed_to_cloudformation = [call for call in calls if call.action == "iam:PassRole"
                                and ("iam:PassedToService", "cloudformation.amazonaws.com") in call.context]
    assert len(passed_to_cloudformation) == 11  # the 11 nested stacks
    assert len(calls) > 1000


def test_the_tables_disagree_exactly_on_the_actions_granted_on_any_resource_too():
    """cfn-lint's action table scopes them; the service authorization reference does not."""
    calls = _catalogue("us-east-1", "aws", {})
    disagreeing = {call.action for call in calls if call.resource == "*"
                   and any(other.action == call.action and other.resource != "*" for other in calls)}
    needed = {call.action for call in calls}
    assert disagreeing == {action for action in deployerscopes.ALSO_ON_ANY_RESOURCE if action in needed}


def test_the_readme_figures_of_the_schema_branches_are_the_tools(project):
    import templates
    from threetier.facts import deployerpolicy

    stacks = {file: templates.built_dict(module) for file, module in templates.STACKS.items()
              if module not in templates.NOT_FOR_THE_DEPLOYER}
    whole, _ = deployerpolicy.known_to_iam(deployerpolicy.handler_actions(deployerpolicy.resource_types(stacks)))
    used, _ = deployerpolicy.known_to_iam(deployerpolicy.used_actions(stacks))
    readme = " ".join((project / "docs" / "security.md").read_text().split())
    assert f"{len(used)} handler actions where the whole schemas give {len(whole)}" in readme


def test_the_readme_quotes_the_catalogues_size(project):
    calls = _catalogue("us-east-1", "aws", {})
    readme = " ".join((project / "docs" / "security.md").read_text().split())
    assert f"generates about {round(len(calls), -2):,} calls" in readme
