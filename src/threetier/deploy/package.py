"""`threetier package`: upload nested templates to S3 and point the root stack at them.

Like `aws cloudformation package`: every AWS::CloudFormation::Stack whose
TemplateURL is a relative file name gets that file uploaded under a key derived
from the sha256 of its bytes, and the TemplateURL is rewritten to the object's
URL. An unchanged file keeps its key and URL, so CloudFormation sees no change
in the nested stack.

The root is rewritten line by line (only the `TemplateURL:` lines change, the
rest stays byte for byte as generated, short-form tags included), and the
result is checked by parsing it again; if the line rewrite ever fails that
check, the rewritten data is dumped with cfn-flip (short-form tags) instead.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError
from cfn_flip import dump_yaml
from cfn_tools import load_yaml

from threetier.blocks.resultcache import folder_for
from threetier.deploy import lambdazip
from threetier.deploy.errors import AwsError, InputError, aws_said

ROOT_TEMPLATE = "main.yaml"
PACKAGED_DIR = "packaged"
STACK_TYPE = "AWS::CloudFormation::Stack"

_TEMPLATE_URL_LINE = re.compile(r"^(?P<indent>\s*)TemplateURL:\s*(?P<value>\S.*?)\s*$")
# Nested stack parameters that name a local code zip, the bucket parameter beside each, and
# what builds the zip: `package` uploads it and writes both (the generated root has the
# zip's file name and an empty bucket). threetier.blocks.rotationfunction.
CODE_PARAMETERS = {"RotationCodeKey": ("RotationCodeBucket", lambdazip.rotation_zip)}


@dataclass(frozen=True)
class Upload:
    file_name: str
    key: str
    url: str
    uploaded: bool  # False: an object with the same content was already there
    note: str = ""  # why it was uploaded without knowing whether it was there


@dataclass(frozen=True)
class Packaged:
    root_text: str  # the root template with S3 TemplateURLs
    uploads: list[Upload] = field(default_factory=list)


@dataclass(frozen=True)
class Destination:
    """Where templates go: the bucket, a key prefix, and how to spell object URLs."""

    s3: object
    bucket: str
    prefix: str
    region: str
    endpoint_url: str | None = None

    def key_for(self, file_name: str, data: bytes) -> str:
        return content_key(self.prefix, file_name, data)

    def url_for(self, key: str) -> str:
        return object_url(self.bucket, key, self.region, self.endpoint_url)


def content_key(prefix: str, file_name: str, data: bytes) -> str:
    """`prefix/network-<sha256>.yaml`: the same bytes always give the same key."""
    stem, dot, suffix = file_name.rpartition(".")
    if not dot:
        stem, suffix = file_name, "yaml"
    name = f"{stem}-{hashlib.sha256(data).hexdigest()}.{suffix}"
    prefix = prefix.strip("/")
    return f"{prefix}/{name}" if prefix else name


def object_url(bucket: str, key: str, region: str, endpoint_url: str | None = None) -> str:
    """The https URL CloudFormation reads an object from.

    Virtual-hosted style (`https://B.s3.<region>.amazonaws.com/K`) unless the
    bucket name has dots (they break the TLS wildcard), then path style. With an
    endpoint (an emulator), path style under that endpoint; a loopback address
    is spelt `localhost`, because emulators such as moto read the first label of
    any other host name as the bucket.
    """
    quoted_key = quote(key, safe="/-_.~")
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        host = parts.hostname or "localhost"
        if _is_loopback_address(host):
            host = "localhost"
        netloc = f"{host}:{parts.port}" if parts.port else host
        base = parts.path.rstrip("/")
        return f"{parts.scheme}://{netloc}{base}/{bucket}/{quoted_key}"
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    if "." in bucket:
        return f"https://s3.{region}.{domain}/{bucket}/{quoted_key}"
    return f"https://{bucket}.s3.{region}.{domain}/{quoted_key}"


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


NOT_FOUND = ("404", "NoSuchKey", "NotFound")
FORBIDDEN = ("403", "Forbidden", "AccessDenied")
WRONG_REGION = ("301", "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException")
# Without s3:ListBucket, HeadObject answers 403 instead of 404 for a key that does not exist
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html): unknown, so upload.
HEAD_FORBIDDEN_NOTE = ("note: S3 answered 403 to HeadObject in bucket {bucket}, as it does for a missing key "
                       "when you may not list the bucket (no s3:ListBucket): the templates were uploaded "
                       "without checking whether they were already there")


def upload_if_missing(s3, bucket: str, key: str, data: bytes, region: str = "",
                      content_type: str = "application/x-yaml") -> tuple[bool, str]:
    """Put the object unless the key already exists: (uploaded, note saying why it was uploaded blind)."""
    note = ""
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False, note
    except ClientError as error:
        code = _code(error)
        if code in FORBIDDEN:
            note = HEAD_FORBIDDEN_NOTE.format(bucket=bucket)
        elif code not in NOT_FOUND:
            raise s3_error(error, bucket, region) from None
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
    except ClientError as error:
        raise s3_error(error, bucket, region) from None
    return True, note


def s3_error(error: ClientError, bucket: str, region: str) -> AwsError:
    """The S3 error as one line naming the bucket and what to do."""
    code = _code(error)
    said = aws_said(error)
    if code in ("NoSuchBucket", "404"):
        return AwsError(f"bucket {bucket} does not exist ({said}): create it in {region}, e.g. "
                        f"`aws s3 mb s3://{bucket} --region {region}`, or pass yours with --bucket")
    if code in WRONG_REGION:
        return AwsError(f"bucket {bucket} is not in {region} ({said}): CloudFormation reads nested templates "
                        f"from a bucket in the stack's region; use a bucket in {region}, or deploy to the "
                        "bucket's region with --region")
    if code in FORBIDDEN or code in ("AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return AwsError(f"access to bucket {bucket} denied ({said}): check that the bucket is yours (bucket "
                        "names are global: another account may own it) and that your credentials allow "
                        "s3:PutObject and s3:GetObject on it")
    return AwsError(f"bucket {bucket}: {said}")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def nested_template_urls(template: dict) -> dict[str, object]:
    """{logical id: TemplateURL} of every nested stack resource."""
    found = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") == STACK_TYPE:
            found[logical_id] = (resource.get("Properties") or {}).get("TemplateURL")
    return found


def is_local_file_url(url: object) -> bool:
    """A relative or absolute file path, not an http(s) or s3 URL nor an intrinsic function."""
    return isinstance(url, str) and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url)


def package(output_dir: Path, destination: Destination) -> Packaged:
    """Upload the nested templates of output/main.yaml and return the rewritten root."""
    root = output_dir / ROOT_TEMPLATE
    if not root.is_file():
        raise InputError(f"{root}: no such template; run `python generate.py` first")
    uploads: dict[Path, Upload] = {}
    root_text = _package_file(root.resolve(), destination, uploads, visiting=[])
    root_text, code = _package_code(root_text, destination, _wheel_cache(output_dir))
    return Packaged(root_text=root_text, uploads=[*uploads.values(), *code])


def _wheel_cache(output_dir: Path) -> Path:
    cache = folder_for(output_dir.resolve().parent)
    return (cache or Path.home() / ".cache" / "threetier") / "wheels"


def _package_code(text: str, destination: Destination, cache: Path) -> tuple[str, list[Upload]]:
    """`text` with each local code zip built, uploaded under its content key, and its parameters written."""
    template = parse_template(text, ROOT_TEMPLATE)
    values: dict[str, str] = {}
    uploads = []
    for parameters in _nested_parameters(template):
        for key_name, (bucket_name, builder) in CODE_PARAMETERS.items():
            file_name = parameters.get(key_name)
            if not (isinstance(file_name, str) and is_local_file_url(file_name) and file_name.endswith(".zip")):
                continue
            data = builder(cache)
            key = destination.key_for(file_name, data)
            uploaded, note = upload_if_missing(destination.s3, destination.bucket, key, data, destination.region,
                                               content_type="application/zip")
            uploads.append(Upload(file_name, key, destination.url_for(key), uploaded, note))
            values[key_name], values[bucket_name] = key, destination.bucket
    if not values:
        return text, []
    return rewrite_parameter_values(text, template, values), uploads


def _nested_parameters(template: dict) -> list[dict]:
    return [(resource.get("Properties") or {}).get("Parameters") or {}
            for resource in (template.get("Resources") or {}).values()
            if isinstance(resource, dict) and resource.get("Type") == STACK_TYPE]


def rewrite_parameter_values(text: str, template: dict, values: dict[str, str]) -> str:
    """Set these nested stack parameters (name -> value) in every nested stack that passes them,
    keeping every other byte of `text`; quoted, so a bucket named `2024` stays a string."""
    expected = copy.deepcopy(template)
    for parameters in _nested_parameters(expected):
        for name, value in values.items():
            if name in parameters:
                parameters[name] = value
    line_of = re.compile(r"^(?P<indent>\s*)(?P<name>%s):\s*(?P<value>\S.*?)?\s*$" % "|".join(map(re.escape, values)))

    def rewrite(body: str) -> str | None:
        match = line_of.match(body)
        return f"{match['indent']}{match['name']}: '{values[match['name']]}'" if match else None
    return _rewritten_or_dumped(text, expected, rewrite)


def _rewritten_or_dumped(text: str, expected: dict, rewrite) -> str:
    """`text` with the lines `rewrite` returns a new body for, if it then reads as `expected`; else
    `expected` dumped (an unusual layout: JSON, flow style), in short form like the generated files."""
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        new_body = rewrite(body)
        lines.append(line if new_body is None else new_body + line[len(body):])
    rewritten = "".join(lines)
    if load_yaml(rewritten) == expected:
        return rewritten
    return dump_yaml(expected)


def upload_template(text: str, file_name: str, destination: Destination) -> Upload:
    """Upload one template under its content key (used for the packaged root)."""
    data = text.encode("utf-8")
    key = destination.key_for(file_name, data)
    uploaded, note = upload_if_missing(destination.s3, destination.bucket, key, data, destination.region)
    return Upload(file_name, key, destination.url_for(key), uploaded, note)


def write_packaged_root(output_dir: Path, text: str) -> Path:
    path = output_dir / PACKAGED_DIR / ROOT_TEMPLATE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _package_file(path: Path, destination: Destination, uploads: dict[Path, Upload],
                  visiting: list[Path]) -> str:
    """The text of `path` with its nested TemplateURLs pointing at uploaded objects."""
    if path in visiting:
        chain = " -> ".join(p.name for p in (*visiting, path))
        raise InputError(f"nested stacks include each other: {chain}")
    text = path.read_text(encoding="utf-8")
    template = parse_template(text, path)
    replacements: dict[str, str] = {}
    for logical_id, url in nested_template_urls(template).items():
        if not is_local_file_url(url):
            continue
        child = (path.parent / url).resolve()
        if not child.is_file():
            raise InputError(f"{path}: {logical_id} has TemplateURL {url!r}, but {child} does not exist")
        if child not in uploads:
            child_text = _package_file(child, destination, uploads, [*visiting, path])
            uploads[child] = upload_template(child_text, child.name, destination)
        replacements[url] = uploads[child].url
    if not replacements:
        return text
    return rewrite_template_urls(text, template, replacements)


def parse_template(text: str, path: Path | str) -> dict:
    try:
        template = load_yaml(text)
    except Exception as error:  # yaml and json both raise their own error types
        raise InputError(f"{path}: not a readable template: {error}") from None
    if not isinstance(template, dict):
        raise InputError(f"{path}: not a CloudFormation template (expected a mapping)")
    return template


def rewrite_template_urls(text: str, template: dict, replacements: dict[str, str]) -> str:
    """Replace nested stack TemplateURLs, keeping every other byte of `text`."""
    expected = copy.deepcopy(template)
    for resource in (expected.get("Resources") or {}).values():
        if isinstance(resource, dict) and resource.get("Type") == STACK_TYPE:
            properties = resource.get("Properties") or {}
            url = properties.get("TemplateURL")
            if isinstance(url, str) and url in replacements:
                properties["TemplateURL"] = replacements[url]

    def rewrite(body: str) -> str | None:
        match = _TEMPLATE_URL_LINE.match(body)
        if match and _unquote(match["value"]) in replacements:
            return f"{match['indent']}TemplateURL: {replacements[_unquote(match['value'])]}"
        return None
    return _rewritten_or_dumped(text, expected, rewrite)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
