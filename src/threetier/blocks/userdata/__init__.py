"""Instance boot scripts, kept as shell files and rendered by CloudFormation.

A script is plain bash with `${Name}` placeholders that Fn::Sub fills from the
stack (parameters, pseudo parameters, or the variables passed here) and
`${!name}` for the rare braced shell expansion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from troposphere import Base64, Sub

# uid and gid of the app user on every server. The EFS access point writes as
# this user whoever the client is, so files on /efs belong to the app.
APP_USER_ID = 1500

PLACEHOLDER = re.compile(r"\$\{(?!!)([A-Za-z0-9:]+)\}")


def text(name: str) -> str:
    # Beside this module (package data). Not importlib.resources: importing it (and the
    # zipfile, tempfile and random modules it brings) took more than reading the files.
    return (Path(__file__).parent / name).read_text(encoding="utf-8")


def placeholders(name: str) -> set[str]:
    """Every `${Name}` the script expects CloudFormation to fill."""
    return set(PLACEHOLDER.findall(text(name)))


def render(name: str, **variables) -> Base64:
    """The script as EC2 UserData: Fn::Base64 of Fn::Sub."""
    if variables:
        return Base64(Sub(text(name), **variables))
    return Base64(Sub(text(name)))


@dataclass(frozen=True)
class BootFile:
    """A file cfn-init writes on the server from the launch template's AWS::CloudFormation::Init
    metadata: the text of `source` (beside this module, no placeholders) at `path`."""

    path: str
    source: str
    mode: str  # cfn-init's six octal digits


# What the app user data fetches with cfn-init (its fetch_boot_files step), in the order its
# boot_files_digest reads them: the user data keeps within EC2's 16 KB with every value at its
# longest, while these count only against the template's size.
APP_BOOT_FILES = (
    BootFile("/usr/local/lib/threetier-boot-steps.sh", "app-boot-steps.sh", "000644"),
    BootFile("/usr/local/sbin/app-load-secrets", "app-load-secrets.py", "000700"),
    BootFile("/usr/local/lib/threetier-db-tls.py", "app-db-tls.py", "000644"),
)


def init_metadata(files: tuple[BootFile, ...]) -> dict:
    """The AWS::CloudFormation::Init metadata that has cfn-init write `files`, owned by root.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-init.html"""
    return {"AWS::CloudFormation::Init": {"config": {"files": {
        file.path: {"content": text(file.source), "mode": file.mode, "owner": "root", "group": "root"}
        for file in files
    }}}}


def boot_files_digest(files: tuple[BootFile, ...]) -> str:
    """sha256 of each file as the server sees it once cfn-init wrote it: `stat -c '%a %U:%G %n'`
    (mode, owner, path), then its text. The user data carries it, so that a change to any file
    is a new launch template version (metadata alone is not one), and checks it."""
    digest = _sha256()
    for file in files:
        digest.update(f"{int(file.mode, 8):o} root:root {file.path}\n".encode())
        digest.update(text(file.source).encode())
    return digest.hexdigest()


def _sha256():
    # CPython's own SHA-256, not hashlib's: hashlib loads OpenSSL, 12 ms of every generate.
    try:
        from _sha2 import sha256  # Python 3.12 and later
    except ImportError:
        try:
            from _sha256 import sha256  # 3.10 and 3.11
        except ImportError:
            from hashlib import sha256
    return sha256()

