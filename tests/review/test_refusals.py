"""Parameter changes AWS refuses mid-update (review/refusals.py), refused by diff before anything runs."""

from __future__ import annotations

import pytest

from tests.review.test_diff_command import checkout, each_text_parsed_once, edit, run  # noqa: F401 (fixtures)
from threetier.parameters.evaluate import with_defaults
from threetier.review import refusals

BASE = {"DbAllocatedStorage": "100", "NumberOfAzs": "3", "SubnetCidrBits": "12"}


@pytest.mark.parametrize("change, parameter, phrase", [
    ({"DbAllocatedStorage": "50"}, "DbAllocatedStorage", "RDS cannot reduce the storage of a DB instance"),
    ({"DbAllocatedStorage": "105"}, "DbAllocatedStorage", "set DbAllocatedStorage to 110 or more"),
    ({"NumberOfAzs": "2"}, "NumberOfAzs", "EC2 deletes no subnet that still holds a network interface"),
    ({"SubnetCidrBits": "11"}, "SubnetCidrBits", "EC2 refuses a range that overlaps one still in the VPC"),
    # Issue 36: a restore on the live stack would replace its database.
    ({"DbRestoreSnapshot": "awsbackup:job-1"}, "DbRestoreSnapshot", "a different DBSnapshotIdentifier replaces "
                                                                    "the database"),
])
def test_each_change_aws_refuses_is_named_with_its_page_and_what_works(change, parameter, phrase):
    (refusal,) = refusals.refusals(BASE, {**BASE, **change})
    assert refusal.parameter == parameter and phrase in str(refusal)
    assert "https://docs.aws.amazon.com/" in str(refusal) and "What works: " in str(refusal)


@pytest.mark.parametrize("change", [
    {"DbAllocatedStorage": "110"}, {"DbAllocatedStorage": "100"}, {"NumberOfAzs": "3"}, {"SubnetCidrBits": "12"},
])
def test_growth_by_a_tenth_and_no_change_go_through(change):
    assert refusals.refusals(BASE, {**BASE, **change}) == []


def test_a_restored_environment_keeps_its_snapshot_and_may_not_drop_it():
    restored = {**BASE, "DbRestoreSnapshot": "awsbackup:job-1"}
    assert refusals.refusals(restored, restored) == []
    (refusal,) = refusals.refusals(restored, {**restored, "DbRestoreSnapshot": ""})
    assert "What works: keep awsbackup:job-1" in str(refusal)


def test_more_azs_is_no_refusal():
    assert refusals.refusals({**BASE, "NumberOfAzs": "2"}, BASE) == []


def test_a_value_left_to_the_default_is_compared_as_the_default():
    declared = {"DbAllocatedStorage": {"Default": "20"}}
    before = with_defaults({}, declared)
    assert [r.parameter for r in refusals.refusals(before, with_defaults({"DbAllocatedStorage": "10"},
                                                                                    declared))] == ["DbAllocatedStorage"]


def test_diff_refuses_a_storage_shrink_and_fewer_azs_with_exit_2(checkout, capsys):  # noqa: F811
    path = checkout / "parameters" / "prod.json"
    edit(path, '"ParameterKey": "DbAllocatedStorage",\n    "ParameterValue": "100"',
         '"ParameterKey": "DbAllocatedStorage",\n    "ParameterValue": "50"')
    edit(path, '"ParameterKey": "NumberOfAzs",\n    "ParameterValue": "3"',
         '"ParameterKey": "NumberOfAzs",\n    "ParameterValue": "2"')

    assert run(checkout) == 2

    err = capsys.readouterr().err
    assert "parameters/prod.json: DbAllocatedStorage 100 -> 50: RDS cannot reduce the storage" in err
    assert "parameters/prod.json: NumberOfAzs 3 -> 2: the subnets of the AZs it drops are deleted" in err
    assert "threetier diff: AWS would refuse this change to parameters/prod.json" in err
    assert "Traceback" not in err


PIN = "0f9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c"


@pytest.mark.parametrize("pinned", [{"OriginVerifySecretVersion": PIN},
                                    {"OriginVerifySecretVersion": PIN, "OriginVerifyPreviousSecretVersion": PIN}])
def test_cloudfront_on_with_pins_into_the_deleted_secret_is_refused(pinned):
    before = {"CloudFrontEnabled": "false", **pinned}

    (refusal,) = refusals.refusals(before, {**before, "CloudFrontEnabled": "true"})

    assert (refusal.parameter, refusal.before, refusal.after) == ("CloudFrontEnabled", "false", "true")
    verb = "pin" if len(pinned) > 1 else "pins"
    assert f"{' and '.join(pinned)} {verb} versions of the one deleted" in str(refusal)
    assert "What works: empty OriginVerifySecretVersion and OriginVerifyPreviousSecretVersion" in str(refusal)
    assert refusals.DYNAMIC_REFERENCE_PAGE in str(refusal)


@pytest.mark.parametrize("before, after", [
    ({"CloudFrontEnabled": "false"}, {"CloudFrontEnabled": "true"}),  # no pins: the new secret's current value
    ({"CloudFrontEnabled": "true", "OriginVerifySecretVersion": PIN},  # a rotation while CloudFront is on
     {"CloudFrontEnabled": "true", "OriginVerifySecretVersion": PIN[::-1]}),
    ({"CloudFrontEnabled": "true"}, {"CloudFrontEnabled": "false", "OriginVerifySecretVersion": PIN}),
])
def test_cloudfront_on_without_pins_and_rotations_go_through(before, after):
    assert refusals.refusals(before, after) == []


def test_diff_refuses_cloudfront_on_with_a_pin_of_no_secret_yet(checkout, capsys):  # noqa: F811
    path = checkout / "parameters" / "dev.json"
    edit(path, '  {\n    "ParameterKey": "ProjectName",',
         '  {\n    "ParameterKey": "CloudFrontEnabled",\n    "ParameterValue": "true"\n  },\n'
         f'  {{\n    "ParameterKey": "OriginVerifySecretVersion",\n    "ParameterValue": "{PIN}"\n  }},\n'
         '  {\n    "ParameterKey": "ProjectName",')

    assert run(checkout) == 2

    err = capsys.readouterr().err
    assert "parameters/dev.json: CloudFrontEnabled false -> true: turning CloudFront on creates a new origin" in err
    assert "Traceback" not in err
