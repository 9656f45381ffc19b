"""The rotation function's zip: the same bytes from the same source and pins, and `package` uploads it."""

from __future__ import annotations

import hashlib
import zipfile
from io import BytesIO

import boto3
import pytest
from cfn_tools import load_yaml
from moto import mock_aws

from threetier.deploy import lambdazip
from threetier.deploy.errors import InputError
from threetier.deploy.package import Destination, package

HANDLER = "def lambda_handler(event, context):\n    return None\n"


def fake_wheel(folder, name="tinydriver", version="1.0", body=b"VALUE = 1\n"):
    """A pure-Python wheel as pip would download it: the package and its dist-info."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/__init__.py", body)
        archive.writestr(f"{name}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n")
        archive.writestr(f"{name}-{version}.dist-info/RECORD", "varies by build\n")
    return path


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "rotation"
    folder.mkdir()
    (folder / "lambda_function.py").write_text(HANDLER)
    cache = tmp_path / "cache"
    cache.mkdir()
    wheel = fake_wheel(cache)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (folder / "requirements.txt").write_text(f"tinydriver==1.0 \\\n    --hash=sha256:{digest}\n")
    return folder, cache


def never_download(requirements, cache):
    raise AssertionError("the pinned wheel is in the cache: no download")


def test_the_same_source_and_pins_give_the_same_bytes(source, tmp_path):
    folder, cache = source
    first = lambdazip.rotation_zip(cache, folder, download=never_download)
    (folder / "lambda_function.py").touch()  # another modification time changes nothing
    assert lambdazip.rotation_zip(cache, folder, download=never_download) == first
    with zipfile.ZipFile(BytesIO(first)) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert "lambda_function.py" in names and "tinydriver/__init__.py" in names
        assert not any(name.endswith("RECORD") for name in names), "RECORD differs between builds"
        assert {info.date_time for info in archive.infolist()} == {lambdazip.ZIP_DATE}


def test_a_cached_wheel_with_other_bytes_is_downloaded_again_and_refused_if_still_wrong(source):
    folder, cache = source
    wheel = next(cache.glob("*.whl"))
    wheel.unlink()
    fake_wheel(cache, body=b"VALUE = 2  # not the pinned wheel\n")
    asked = []
    with pytest.raises(InputError, match="tinydriver==1.0: no wheel with a pinned sha256"):
        lambdazip.rotation_zip(cache, folder, download=lambda requirements, into: asked.append(into))
    assert asked == [cache]


def test_a_requirement_without_a_hash_is_refused(source):
    folder, cache = source
    (folder / "requirements.txt").write_text("tinydriver==1.0\n")
    with pytest.raises(InputError, match="tinydriver has no --hash=sha256"):
        lambdazip.rotation_zip(cache, folder, download=never_download)


ROOT = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  AppStack:
    Type: AWS::CloudFormation::Stack
    Properties:
      Parameters:
        RotationCodeBucket: ''
        RotationCodeKey: rotation.zip
      TemplateURL: app.yaml
"""
APP = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n"


def test_package_uploads_the_zip_under_its_content_key_and_writes_both_parameters(source, tmp_path, monkeypatch):
    folder, cache = source
    built = lambdazip.rotation_zip(cache, folder, download=never_download)
    monkeypatch.setattr("threetier.deploy.package.CODE_PARAMETERS",
                        {"RotationCodeKey": ("RotationCodeBucket", lambda _: built)})
    output = tmp_path / "output"
    output.mkdir()
    (output / "main.yaml").write_text(ROOT)
    (output / "app.yaml").write_text(APP)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="2024")
        packaged = package(output, Destination(s3=s3, bucket="2024", prefix="threetier", region="us-east-1"))
        parameters = load_yaml(packaged.root_text)["Resources"]["AppStack"]["Properties"]["Parameters"]
        key = f"threetier/rotation-{hashlib.sha256(built).hexdigest()}.zip"
        assert parameters == {"RotationCodeBucket": "2024", "RotationCodeKey": key}
        assert s3.get_object(Bucket="2024", Key=key)["Body"].read() == built
        again = package(output, Destination(s3=s3, bucket="2024", prefix="threetier", region="us-east-1"))
    assert [upload.uploaded for upload in again.uploads if upload.file_name == "rotation.zip"] == [False]
