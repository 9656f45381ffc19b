"""The length bounds of threetier.facts.lengths hold for every region and partition botocore knows."""

from __future__ import annotations

import json
from pathlib import Path

import botocore

from threetier.facts import lengths, regions


def _partitions() -> list[dict]:
    return json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())["partitions"]


def test_region_and_partition_bounds_cover_every_one_botocore_knows():
    assert max(map(len, regions.known_regions())) <= lengths.REGION_NAME
    assert max(len(partition["id"]) for partition in _partitions()) <= lengths.PARTITION_NAME
    assert max(len(partition["outputs"]["dnsSuffix"]) for partition in _partitions()) == lengths.URL_SUFFIX


def test_the_longest_secret_arn_fits_its_bound():
    arn = (f"arn:{'p' * lengths.PARTITION_NAME}:secretsmanager:{'r' * lengths.REGION_NAME}:123456789012:secret:"
           f"{'n' * lengths.SECRET_NAME}-AbCdEf")
    assert len(arn) == lengths.SECRET_ARN


def test_the_most_user_data_is_what_both_the_raw_and_the_base64_limit_allow():
    def base64_characters(size: int) -> int:
        return -(-size // 3) * 4

    most = lengths.USER_DATA_MOST_BYTES
    assert most == 16_383
    assert most <= lengths.USER_DATA_BYTES and base64_characters(most) <= lengths.USER_DATA_BASE64_CHARACTERS
    assert base64_characters(most + 1) > lengths.USER_DATA_BASE64_CHARACTERS
