"""generate refuses a Ref, GetAtt or Sub variable to something the template does not define (exit 2,
nothing written), naming the file and the path."""

from __future__ import annotations

import sys
import types

import pytest
from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template, sns

import templates
from threetier.cli import main
from threetier.emit import references


def broken_template() -> Template:
    t = Template()
    t.add_parameter(Parameter("Owner", Type="String"))
    topic = t.add_resource(sns.Topic("Alerts", DisplayName=Ref("NoSuchParam")))
    t.add_resource(sns.Topic("Copies", DisplayName=Sub("${Owner}-${AWS::Region}-${!Literal}-${Alerts.TopicName}"),
                             TopicName=Sub("${Local}-${Missing}", Local=Ref(topic))))
    t.add_output(Output("Arn", Value=GetAtt("Gone", "TopicArn")))
    return t


@pytest.fixture
def broken_stack(monkeypatch):
    module = types.ModuleType("templates.broken")
    module.build = broken_template
    monkeypatch.setitem(sys.modules, "templates.broken", module)
    monkeypatch.setitem(templates.STACKS, "broken.yaml", "broken")
    yield
    templates.built.cache_clear()
    templates.built_dict.cache_clear()


def test_generate_names_each_undefined_reference_and_writes_nothing(broken_stack, tmp_path, capsys):
    output = tmp_path / "output"

    assert main(["generate", "--output-dir", str(output)]) == 2

    err = capsys.readouterr().err.splitlines()
    assert err == [
        "threetier generate: broken.yaml: Resources.Alerts.Properties.DisplayName: Ref NoSuchParam "
        "(no parameter, resource or pseudo parameter of that name)",
        "threetier generate: broken.yaml: Resources.Copies.Properties.TopicName: Sub ${Missing} "
        "(no parameter, resource, pseudo parameter or Sub variable of that name)",
        "threetier generate: broken.yaml: Outputs.Arn.Value: GetAtt Gone (no resource of that name)",
        "3 reference(s) to something undefined: nothing written",
    ]
    assert not output.exists()


def test_check_refuses_it_too(broken_stack, capsys):
    assert main(["generate", "--check"]) == 2
    assert "Ref NoSuchParam" in capsys.readouterr().err


def test_the_project_s_templates_reference_only_what_they_define():
    from threetier import emit
    from tests.conftest import PROJECT

    assert emit.undefined_references(emit.data_all(PROJECT)) == []


def test_a_sub_variable_of_a_nested_list_is_found_with_its_index():
    template = {"Resources": {"Box": {"Type": "AWS::SNS::Topic", "Properties": {
        "Tags": [{"Key": "a", "Value": {"Fn::Sub": "${Box.TopicName}"}}, {"Key": "b", "Value": {"Ref": "Nope"}}]}}}}
    assert references.undefined("x.yaml", template) == [
        "x.yaml: Resources.Box.Properties.Tags[1].Value: Ref Nope "
        "(no parameter, resource or pseudo parameter of that name)"]
