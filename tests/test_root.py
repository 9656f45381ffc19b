import importlib

import pytest

import templates
from threetier import parameters as P
from threetier.evaluate import Evaluation


def test_root_parameters_have_groups_and_labels(root_template):
    root = root_template.to_dict()
    interface = root["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    assert sorted(grouped) == sorted(root["Parameters"]), "every parameter is in exactly one group"
    assert len(grouped) == len(set(grouped))
    assert set(interface["ParameterLabels"]) == set(root["Parameters"])
    assert [g["Label"]["default"] for g in interface["ParameterGroups"]][:2] == ["Project", "Network"]


def test_every_parameter_explains_itself(root_template):
    for name, spec in root_template.to_dict()["Parameters"].items():
        assert spec["Description"], name
        if "AllowedPattern" in spec or "AllowedValues" in spec or "MinValue" in spec:
            assert spec["ConstraintDescription"], f"{name} needs a ConstraintDescription"


def test_nested_stacks_use_relative_paths_of_generated_files(root_template, project):
    stacks = {k: r for k, r in root_template.to_dict()["Resources"].items()
              if r["Type"] == "AWS::CloudFormation::Stack"}
    assert stacks
    for logical_id, stack in stacks.items():
        url = stack["Properties"]["TemplateURL"]
        assert url in templates.STACKS and url != "main.yaml", logical_id
        assert (project / "output" / url).is_file()
        lint_config = stack["Metadata"]["cfn-lint"]["config"]
        assert lint_config["ignore_checks"] == ["W3002"]
        assert lint_config["ignore_reasons"]["W3002"], "a suppression carries its reason"


def test_root_passes_every_parameter_the_network_stack_declares(root_template, network_dict):
    network = network_dict
    passed = root_template.to_dict()["Resources"]["NetworkStack"]["Properties"]["Parameters"]
    required = {name for name, spec in network["Parameters"].items() if "Default" not in spec}
    assert required <= set(passed)
    assert set(passed) <= set(network["Parameters"])
    assert set(passed) == {p.name for p in P.PROJECT + P.NETWORK_SHARED} | {"VpcCidr"}
    # The root joins the block from its two parts, which a root Rule can check.
    assert passed["VpcCidr"] == {"Fn::Sub": "${VpcNetworkAddress}/${VpcPrefixLength}"}


@pytest.mark.parametrize("prefix,bits,ok", [
    ("16", "12", True), ("20", "8", True), ("23", "5", True),
    ("17", "12", False), ("20", "9", False), ("23", "6", False),
])
def test_nine_subnets_must_fit_the_vpc(root_template, prefix, bits, ok):
    assert rule_holds(root_template.to_dict(), "NineSubnetsFitTheVpc", VpcPrefixLength=prefix,
                      SubnetCidrBits=bits) is ok


def test_root_outputs_come_from_the_network_stack(root_template):
    outputs = root_template.to_dict()["Outputs"]
    assert outputs["VpcId"]["Value"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.VpcId"]}
    for tier in ("Public", "App", "Data"):
        assert outputs[f"{tier}SubnetIds"]["Value"] == {
            "Fn::GetAtt": ["NetworkStack", f"Outputs.{tier}SubnetIds"]}


def test_stacks_are_wired_outputs_to_parameters(root_template):
    resources = root_template.to_dict()["Resources"]
    security = resources["SecurityStack"]["Properties"]["Parameters"]
    data = resources["DataStack"]["Properties"]["Parameters"]
    assert security["VpcId"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.VpcId"]}
    assert data["DataSubnetIds"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.DataSubnetIds"]}
    assert data["AppSubnetIds"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.AppSubnetIds"]}
    assert data["DbSecurityGroupId"] == {"Fn::GetAtt": ["SecurityStack", "Outputs.DbSecurityGroupId"]}
    assert data["EfsSecurityGroupId"] == {"Fn::GetAtt": ["SecurityStack", "Outputs.EfsSecurityGroupId"]}


@pytest.mark.parametrize("module", ["network", "security", "data", "app", "admin"])
def test_root_passes_exactly_the_parameters_each_nested_stack_declares(root_template, module):
    nested = importlib.import_module(f"templates.{module}").build().to_dict()
    stack = next(r for r in root_template.to_dict()["Resources"].values()
                 if r["Type"] == "AWS::CloudFormation::Stack" and r["Properties"]["TemplateURL"] == f"{module}.yaml")
    passed = set(stack["Properties"]["Parameters"])
    required = {name for name, spec in nested["Parameters"].items() if "Default" not in spec}
    assert required <= passed <= set(nested["Parameters"])


def rule_holds(root: dict, rule: str, **values) -> bool:
    return not Evaluation(root, values).broken_assertions(root["Rules"][rule])


@pytest.mark.parametrize("count,cidr,ok", [
    ("0", "", True),
    ("1", "203.0.113.0/24", True),
    ("1", "", False),
    ("2", "0.0.0.0/0", False),
])
def test_bastions_need_a_restricted_admin_cidr(root_template, count, cidr, ok):
    root = root_template.to_dict()
    assert rule_holds(root, "BastionsNeedARestrictedAdminCidr", BastionCount=count, AdminCidr=cidr) is ok
    assert "AdminCidr" in root["Rules"]["BastionsNeedARestrictedAdminCidr"]["Assertions"][0]["AssertDescription"]


@pytest.mark.parametrize("instance_type,credits,ok", [
    ("t3.small", "unlimited", True),
    ("t4g.medium", "standard", True),
    ("m6i.large", "", True),
    ("m6i.large", "unlimited", False),
    ("c7g.xlarge", "standard", False),
])
def test_cpu_credits_only_for_t_instance_types(root_template, instance_type, credits, ok):
    root = root_template.to_dict()
    assert rule_holds(root, "CpuCreditsOnlyForTInstanceTypes", InstanceType=instance_type,
                      CpuCredits=credits) is ok


def test_the_launch_template_sends_the_credit_option_only_when_one_is_chosen():
    app = importlib.import_module("templates.app").build().to_dict()

    def credits(value):
        resources = Evaluation(app, {"CpuCredits": value}).resources()
        return resources["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"].get("CreditSpecification")

    assert credits("standard") == {"CpuCredits": "standard"}
    assert credits("") is None
