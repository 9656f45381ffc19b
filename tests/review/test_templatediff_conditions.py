"""The template diff and a property added under a condition no deployed stack can meet yet."""

from threetier.review import templatediff

DB = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceIdentifier": "shop-db", "DBName": {"Ref": "DbName"}}}
RESTORE = {"Fn::If": ["Restores", {"Ref": "Snapshot"}, {"Ref": "AWS::NoValue"}]}
NAME = {"Fn::If": ["Restores", {"Ref": "AWS::NoValue"}, {"Ref": "DbName"}]}


def _diff(new_parameter: dict, condition: dict):
    before = {"Parameters": {"DbName": {"Type": "String"}}, "Resources": {"Db": DB}}
    after = {"Parameters": {"DbName": {"Type": "String"}, **new_parameter},
             "Conditions": {"Restores": condition},
             "Resources": {"Db": {**DB, "Properties": {**DB["Properties"], "DBSnapshotIdentifier": RESTORE,
                                                        "DBName": NAME}}}}
    (found,) = templatediff.diff_templates({"main.yaml": before}, {"main.yaml": after}).resources
    return found


def test_a_new_parameter_at_its_default_keeps_a_deployed_database():
    """A stack deployed before the parameter existed takes its default: the condition is false, the
    snapshot property stays absent and DBName stays what it was, so no replacement."""
    found = _diff({"Snapshot": {"Type": "String", "Default": ""}},
                  {"Fn::Not": [{"Fn::Equals": [{"Ref": "Snapshot"}, ""]}]})
    assert found.change.replacement == "False"
    assert {p.name: p.requires_recreation for p in found.properties} == {"DBName": "Never",
                                                                           "DBSnapshotIdentifier": "Never"}


def test_a_condition_on_a_parameter_a_stack_already_has_stays_conditional():
    found = _diff({"Snapshot": {"Type": "String", "Default": ""}},
                  {"Fn::Not": [{"Fn::Equals": [{"Ref": "DbName"}, ""]}]})
    assert found.change.replacement == "Conditional"


def test_a_new_parameter_without_a_default_stays_conditional():
    found = _diff({"Snapshot": {"Type": "String"}}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "Snapshot"}, ""]}]})
    assert found.change.replacement == "Conditional"
