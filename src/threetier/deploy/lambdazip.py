"""The rotation function's zip: built the same, byte for byte, from the same source and pinned wheels.

The function's source (src/threetier/rotation/*.py, `lambda_function.py` at the
zip's root) and its pure-Python drivers, pinned by version and sha256 in
src/threetier/rotation/requirements.txt, make one zip for x86_64 and arm64.
- Wheels come from `pip download --require-hashes --no-deps --only-binary=:all:`
  into a cache folder; a wheel already there whose sha256 is the pinned one is
  used as is, so a second `package` needs no network, and a wheel whose bytes
  are not the pinned ones is refused (pip refuses it too).
- The zip holds each file once, in sorted order, dated 1980-01-01 with the same
  mode, so the same inputs give the same bytes, the same sha256 and the same S3
  key: an unchanged function is not uploaded again and CloudFormation sees no
  change in it. Lambda reads a zip's files as they are.
https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
https://pip.pypa.io/en/stable/topics/secure-installs/#hash-checking-mode
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from threetier.deploy.errors import InputError

SOURCE = Path(__file__).resolve().parents[1] / "rotation"
REQUIREMENTS = "requirements.txt"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16
# What a wheel carries that the function does not need at run time.
LEFT_OUT = re.compile(r"(^|/)(__pycache__/|[^/]+\.dist-info/(RECORD|INSTALLER|REQUESTED|direct_url\.json)$)")
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:(?P<digest>[0-9a-f]{64})")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    digests: frozenset[str]


def pins(requirements: Path) -> list[Pin]:
    """The requirements file's pins; each must name one version and at least one sha256."""
    found, current = [], None
    for line in _logical_lines(requirements.read_text()):
        match = _PIN.match(line)
        if not match:
            raise InputError(f"{requirements}: {line!r} is not `name==version --hash=sha256:...`")
        digests = frozenset(_HASH.findall(line))
        if not digests:
            raise InputError(f"{requirements}: {match['name']} has no --hash=sha256: pin it by hash")
        current = Pin(match["name"], match["version"], digests)
        found.append(current)
    return found


def _logical_lines(text: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", text)
    return [line.split("#", 1)[0].strip() for line in joined.splitlines() if line.split("#", 1)[0].strip()]


def wheels(requirements: Path, cache: Path, download=None) -> list[Path]:
    """The pinned wheels, from `cache` when there with the pinned bytes, else downloaded by pip into it."""
    wanted = pins(requirements)
    cache.mkdir(parents=True, exist_ok=True)
    if any(_cached(pin, cache) is None for pin in wanted):
        (download or _pip_download)(requirements, cache)
    found = []
    for pin in wanted:
        wheel = _cached(pin, cache)
        if wheel is None:
            raise InputError(f"{pin.name}=={pin.version}: no wheel with a pinned sha256 in {cache} after download")
        found.append(wheel)
    return found


def _cached(pin: Pin, cache: Path) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", pin.name).lower()
    for wheel in sorted(cache.glob("*.whl")):
        name, _, rest = wheel.name.partition("-")
        if re.sub(r"[-_.]+", "_", name).lower() == stem and rest.startswith(f"{pin.version}-"):
            if hashlib.sha256(wheel.read_bytes()).hexdigest() in pin.digests:
                return wheel
    return None


def _pip_download(requirements: Path, cache: Path) -> None:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes", "--no-deps",
               "--only-binary=:all:", "--dest", str(cache), "--requirement", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InputError(f"pip could not download the rotation function's pinned wheels: {result.stderr.strip()}")


def build(source: Path, wheel_files: list[Path]) -> bytes:
    """The zip: the source's .py files at the root, then every wheel's files, sorted, with fixed dates."""
    files: dict[str, bytes] = {}
    for path in sorted(source.glob("*.py")):
        if path.name != "__init__.py":  # it makes the folder a package of threetier, not of the zip
            files[path.name] = path.read_bytes()
    for wheel in wheel_files:
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if not name.endswith("/") and not LEFT_OUT.search(name):
                    files.setdefault(name, archive.read(name))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    return out.getvalue()


def rotation_zip(cache: Path, source: Path = SOURCE, download=None) -> bytes:
    """The rotation function's zip from the project's source and pins."""
    requirements = source / REQUIREMENTS
    if not (source / "lambda_function.py").is_file():
        raise InputError(f"{source}: no lambda_function.py, the rotation function's handler")
    pinned = wheels(requirements, cache, download) if requirements.is_file() else []
    return build(source, pinned)
