import pytest

from templates import admin
from threetier.parameters.evaluate import Evaluation


@pytest.fixture(scope="module")
def admin_dict():
    return admin.build().to_dict()


@pytest.mark.parametrize("count", ["1", "2"])
def test_bastion_count_decides_the_hosts(admin_dict, count):
    active = Evaluation(admin_dict, {"BastionCount": count}).resources()
    hosts = {k: r for k, r in active.items() if r["Type"] == "AWS::EC2::Instance"}
    assert len(hosts) == int(count)
    subnets = [h["Properties"]["NetworkInterfaces"][0]["SubnetId"] for h in hosts.values()]
    assert len({str(s) for s in subnets}) == int(count), "one bastion per AZ"


def test_bastions_are_public_hardened_and_in_the_bastion_group(admin_dict):
    host = admin_dict["Resources"]["BastionHost1"]["Properties"]
    (interface,) = host["NetworkInterfaces"]
    assert interface["AssociatePublicIpAddress"] is True
    assert interface["GroupSet"] == [{"Ref": "BastionSecurityGroupId"}]
    data = admin_dict["Resources"]["BastionLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert data["KeyName"] == {"Ref": "BastionKeyPairName"}


def test_root_creates_the_admin_stack_only_with_bastions(root_template):
    root = root_template.to_dict()
    assert root["Resources"]["AdminStack"]["Condition"] == "HasBastions"
    for count, exists in (("0", False), ("1", True), ("2", True)):
        active = Evaluation(root, {"BastionCount": count}).resources()
        assert ("AdminStack" in active) is exists


@pytest.mark.parametrize("count,key,ok", [("0", "", True), ("1", "ops", True), ("2", "", False)])
def test_bastions_need_a_key_pair(root_template, count, key, ok):
    root = root_template.to_dict()
    evaluation = Evaluation(root, {"BastionCount": count, "BastionKeyPairName": key})
    assert (not evaluation.broken_assertions(root["Rules"]["BastionsNeedAKeyPair"])) is ok
