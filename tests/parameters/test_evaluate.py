"""Evaluation's pseudo parameters: what an offline evaluation may fill in, and what it must leave alone."""

import pytest

from threetier.parameters.evaluate import Evaluation

TEMPLATE = {"Parameters": {"ProjectName": {"Type": "String"}}}
ROLE = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ProjectName}.deployer"


@pytest.mark.parametrize(("region", "partition", "suffix"), [
    ("us-east-1", "aws", "amazonaws.com"),
    ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
])
def test_the_partition_and_url_suffix_are_the_regions(region, partition, suffix):
    evaluation = Evaluation(TEMPLATE, {"ProjectName": "shop"}, region=region, account_id="123456789012")

    assert evaluation.resolve({"Ref": "AWS::Partition"}) == partition
    assert evaluation.resolve({"Ref": "AWS::URLSuffix"}) == suffix
    assert evaluation.resolve({"Fn::Sub": ROLE}) == f"arn:{partition}:iam::123456789012:role/shop.deployer"


def test_a_given_partition_and_account_win():
    evaluation = Evaluation(TEMPLATE, {}, account_id="210987654321", partition="aws-iso")

    assert evaluation.resolve({"Ref": "AWS::AccountId"}) == "210987654321"
    assert evaluation.resolve({"Ref": "AWS::Partition"}) == "aws-iso"


def test_without_an_account_the_account_id_stays_an_intrinsic():
    evaluation = Evaluation(TEMPLATE, {"ProjectName": "shop"})

    assert evaluation.resolve({"Ref": "AWS::AccountId"}) == {"Ref": "AWS::AccountId"}
    assert evaluation.resolve({"Fn::Sub": ROLE}) == {
        "Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/shop.deployer"}


def test_a_parameter_named_in_sub_is_not_mistaken_for_a_pseudo_parameter():
    evaluation = Evaluation(TEMPLATE, {"ProjectName": "shop"}, account_id="123456789012")

    assert evaluation.resolve({"Fn::Sub": "${AWS::StackName}-${ProjectName}"}) == {
        "Fn::Sub": "${AWS::StackName}-shop"}
