import templates
from threetier import parameters as P


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
    assert set(passed) == {p.name for p in P.PROJECT + P.NETWORK}


def test_root_outputs_come_from_the_network_stack(root_template):
    outputs = root_template.to_dict()["Outputs"]
    assert outputs["VpcId"]["Value"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.VpcId"]}
    for tier in ("Public", "App", "Data"):
        assert outputs[f"{tier}SubnetIds"]["Value"] == {
            "Fn::GetAtt": ["NetworkStack", f"Outputs.{tier}SubnetIds"]}
