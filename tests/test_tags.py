import importlib

import pytest

import templates

STACK_MODULES = sorted(templates.STACKS.values())


def tag_map(resource) -> dict:
    return {tag["Key"]: tag["Value"] for tag in resource.to_dict()["Properties"]["Tags"]}


@pytest.mark.parametrize("module", STACK_MODULES)
def test_every_taggable_resource_is_tagged(module):
    template = importlib.import_module(f"templates.{module}").build()
    taggable = [r for r in template.resources.values() if "Tags" in r.props]
    assert taggable, "each stack has something to tag"
    for resource in taggable:
        assert "Tags" in resource.properties, f"{resource.title} has no Tags"
        tags = tag_map(resource)
        assert tags["Project"] == {"Ref": "ProjectName"}, resource.title
        assert tags["Environment"] == {"Ref": "EnvironmentName"}, resource.title
        if resource.resource_type == "AWS::CloudFormation::Stack":
            # Stack tags propagate to every resource inside; a Name here would
            # be stamped on resources that carry their own.
            assert "Name" not in tags
        else:
            name = tags["Name"]["Fn::Sub"]
            assert name.startswith("${ProjectName}-${EnvironmentName}-"), resource.title


def test_name_tags_are_unique_per_stack(network_template):
    names = [tag_map(r)["Name"]["Fn::Sub"] for r in network_template.resources.values() if "Tags" in r.props]
    assert len(names) == len(set(names))
