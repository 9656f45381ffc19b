"""Instance boot scripts, kept as shell files and rendered by CloudFormation.

A script is plain bash with `${Name}` placeholders that Fn::Sub fills from the
stack (parameters, pseudo parameters, or the variables passed here) and
`${!name}` for the rare braced shell expansion.
"""

from __future__ import annotations

import re
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
