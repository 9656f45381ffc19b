import importlib

import pytest

import templates

STACK_MODULES = sorted(templates.STACKS.values())


def tag_property(resource) -> str | None:
    """The property a resource type takes its tags in (EFS names it differently)."""
    return next((p for p in ("Tags", "FileSystemTags") if p in resource.props), None)


def tag_map(resource) -> dict:
    tags = resource.to_dict()["Properties"][tag_property(resource)]
    return {tag["Key"]: tag["Value"] for tag in tags}


@pytest.mark.parametrize("module", STACK_MODULES)
def test_every_taggable_resource_is_tagged(module):
    template = importlib.import_module(f"templates.{module}").build()
    taggable = [r for r in template.resources.values() if tag_property(r)]
    assert taggable, "each stack has something to tag"
    for resource in taggable:
        assert tag_property(resource) in resource.properties, f"{resource.title} has no tags"
        tags = tag_map(resource)
        assert tags["Project"] == {"Ref": "ProjectName"}, resource.title
        if module == "deployer_role":
            # One deployer role serves every environment of the project: no Environment to tag.
            assert "EnvironmentName" not in template.parameters
            assert tags["Name"] == {"Fn::Sub": "${ProjectName}.deployer"}
            continue
        assert tags["Environment"] == {"Ref": "EnvironmentName"}, resource.title
        if resource.resource_type == "AWS::CloudFormation::Stack":
            # Stack tags propagate to every resource inside; a Name here would
            # be stamped on resources that carry their own.
            assert "Name" not in tags
        else:
            name = tags["Name"]["Fn::Sub"]
            assert name.startswith("${ProjectName}-${EnvironmentName}-"), resource.title


@pytest.mark.parametrize("module", STACK_MODULES)
def test_name_tags_are_unique_per_stack(module):
    template = importlib.import_module(f"templates.{module}").build()
    names = [tag_map(r)["Name"]["Fn::Sub"] for r in template.resources.values()
             if tag_property(r) in r.properties and "Name" in tag_map(r)]
    assert len(names) == len(set(names))
