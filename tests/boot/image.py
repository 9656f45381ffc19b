"""The boot test's machine image: what an Ubuntu AMI for this stack holds, on Debian 12.

Built once with debootstrap and cached under a key of everything it depends on
(the script's package list and text, the fixture app, the stand-ins, this file),
so a run builds it at most once. The image holds, like the baked Ubuntu AMI the
docs/boot-test.md describes: systemd, python3, curl, logrotate, the AWS CLI (v1, from
PyPI), and stand-ins for cfn-signal, cfn-init, mount.efs and the CloudWatch agent (and,
for the mount.efs stand-in alone, libfuse2 and fusepy). For
the boot to run without network, its only apt source is a local repository of
exactly the packages the script installs, pip's only index a local wheelhouse,
and the app a local git repository (file://).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

from threetier.blocks import userdata

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# An Ubuntu cloud image has these before any user data runs (python3-venv
# only because the AWS CLI's virtualenv is built with it).
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "python3", "python3-venv", "curl", "ca-certificates",
                 "logrotate", "util-linux", "procps")
# Not on the AMI: what the mount.efs stand-in needs to act as the access point's user (FUSE, from
# Python through fusepy's ctypes bindings, whose one module is copied out of its sdist).
STANDIN_PACKAGES = ("libfuse2",)
FUSEPY = "fusepy==3.0.1"
APP_USER_ID = userdata.APP_USER_ID
BROKEN_REQUIREMENT = "brokenpkg==0.1"
HARNESS_VERSION = "1"


def cache_root() -> Path:
    return Path(os.environ.get("THREETIER_BOOT_CACHE", Path.home() / ".cache" / "threetier-boot"))


def script_text() -> str:
    return userdata.text("app-instance.sh")


def boot_texts() -> list[str]:
    """The user data and the files cfn-init writes for it (the boot steps install with pip)."""
    return [script_text(), *(userdata.text(file.source) for file in userdata.APP_BOOT_FILES)]


def apt_packages(script: str | None = None) -> list[str]:
    """Every package the script's Ubuntu path asks apt for (its `apt-get install -y` line)."""
    text = (script or script_text()).replace("\\\n", " ")
    ubuntu = text[text.index("install_packages_ubuntu() {"):]
    line = re.search(r"apt-get install -y ([a-z0-9 .+-]+)", ubuntu).group(1)
    return line.split()


def pip_requirements(script: str | None = None) -> list[str]:
    """What the boot installs with pip: its own tools (as the boot steps name them) and the app's."""
    text = script or "\n".join(boot_texts())
    tools = ["pip", "gunicorn", *re.findall(r"'([a-z]+[<>=][^']*)'", text), "wheel"]
    app = (HERE / "app" / "requirements.txt").read_text().split()
    return tools + app


def key() -> str:
    digest = hashlib.sha256(HARNESS_VERSION.encode())
    for part in (*BASE_PACKAGES, *STANDIN_PACKAGES, FUSEPY, *apt_packages(), *pip_requirements(), *boot_texts()):
        digest.update(part.encode() + b"\0")
    for path in sorted([*HERE.glob("app/*"), *HERE.glob("standins/*"), Path(__file__)]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def image(populate: Callable[[Path], None] | None = None) -> Path:
    """The cached image's root file system, built if missing (by `populate`, default the real debootstrap
    build: tests of the cache pass a cheap one).

    Two test runs may ask at once (two checkouts, or `-n 2`): one builds under the cache's lock while the
    other waits, then finds it built. A complete image only ever appears by a rename, so one that exists
    is used without the lock."""
    root = cache_root()
    target = root / key() / "rootfs"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / "lock"):
        if not target.is_dir():  # built by the run that held the lock before this one
            build(target, populate or populate_rootfs)
            _remove_older_images(keep=target.parent)
    return target


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path`, released when the process ends however it ends (flock)."""
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_older_images(keep: Path) -> None:
    """Images of other keys (about 700 MB each) are stale once the script or app changed."""
    for other in keep.parent.iterdir():
        if other != keep and re.fullmatch(r"[0-9a-f]{16}(\.building)?", other.name):
            shutil.rmtree(other, ignore_errors=True)


def build(target: Path, populate: Callable[[Path], None]) -> None:
    """Build into <key>.building and rename it to <key> when complete: a half-built image is never used.
    Called under the cache's lock: a .building folder left here is a killed run's."""
    work = target.parent.with_name(target.parent.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    rootfs = work / "rootfs"
    rootfs.parent.mkdir(parents=True)
    populate(rootfs)
    shutil.rmtree(target.parent, ignore_errors=True)  # a <key> folder without its rootfs: nothing to keep
    work.rename(target.parent)


def populate_rootfs(rootfs: Path) -> None:
    """The image itself: Debian by debootstrap, the local apt repository, the AWS CLI, the wheelhouse,
    the stand-ins and the fixture app."""
    packages = ",".join((*BASE_PACKAGES, *STANDIN_PACKAGES))
    run(["debootstrap", "--variant=minbase", f"--include={packages}", SUITE, str(rootfs), MIRROR])
    shutil.copy("/etc/resolv.conf", rootfs / "etc" / "resolv.conf")
    _local_apt_repository(rootfs)
    _aws_cli(rootfs)
    _wheelhouse(rootfs)
    _standins(rootfs)
    _app_repository(rootfs)
    (rootfs / "etc" / "resolv.conf").unlink()
    (rootfs / "etc" / "machine-id").write_text("")


def _local_apt_repository(rootfs: Path) -> None:
    chroot(rootfs, "apt-get", "update", "-qq")
    chroot(rootfs, "apt-get", "install", "--download-only", "-y", "-qq", *apt_packages())
    repo = rootfs / "srv" / "apt"
    repo.mkdir(parents=True)
    for deb in (rootfs / "var" / "cache" / "apt" / "archives").glob("*.deb"):
        shutil.move(str(deb), repo / deb.name)
    packages = run(["apt-ftparchive", "packages", "."], cwd=repo, capture=True)
    (repo / "Packages").write_text(packages)
    for sources in (rootfs / "etc" / "apt").glob("sources.list*"):
        if sources.is_dir():
            shutil.rmtree(sources)
        else:
            sources.unlink()
    (rootfs / "etc" / "apt" / "sources.list").write_text("deb [trusted=yes] file:/srv/apt ./\n")
    shutil.rmtree(rootfs / "var" / "lib" / "apt" / "lists", ignore_errors=True)
    (rootfs / "var" / "lib" / "apt" / "lists" / "partial").mkdir(parents=True)


def _aws_cli(rootfs: Path) -> None:
    """AWS CLI v1 from PyPI (it honours AWS_ENDPOINT_URL), downloaded by the host's pip (which
    knows this machine's certificates and indexes) and installed offline in the image."""
    wheels = rootfs / "tmp" / "awscli-wheels"
    pip_download(wheels, "awscli>=1.32")
    chroot(rootfs, "python3", "-m", "venv", "/opt/awscli")
    chroot(rootfs, "/opt/awscli/bin/pip", "install", "--quiet", "--no-index", "--find-links", "/tmp/awscli-wheels",
           "awscli")
    shutil.rmtree(wheels)
    (rootfs / "usr" / "local" / "bin" / "aws").symlink_to("/opt/awscli/bin/aws")


def pip_download(destination: Path, *requirements: str) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(destination), *requirements])


def _wheelhouse(rootfs: Path) -> None:
    """Wheels and sdists for exactly what the boot installs with pip (the host's Python is the
    image's: CPython 3.11 on the same architecture), plus a package that never builds."""
    wheels = rootfs / "srv" / "wheels"
    pip_download(wheels, *pip_requirements())
    _broken_sdist(wheels)
    (rootfs / "etc" / "pip.conf").write_text("[global]\nno-index = true\nfind-links = /srv/wheels\n")


def _broken_sdist(wheels: Path) -> None:
    name, version = BROKEN_REQUIREMENT.split("==")
    files = {
        "setup.py": "raise SystemExit('brokenpkg: this package never builds (boot test)')\n",
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    with tarfile.open(wheels / f"{name}-{version}.tar.gz", "w:gz") as archive:
        for file_name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{file_name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _standins(rootfs: Path) -> None:
    standins = HERE / "standins"
    helpers = rootfs / "opt" / "threetier-boot-test"
    helpers.mkdir(parents=True)
    shutil.copy(standins / "_imds.py", helpers / "_imds.py")
    _fusepy(helpers)
    places = {
        "cfn-signal": rootfs / "opt" / "aws" / "bin",
        "cfn-init": rootfs / "opt" / "aws" / "bin",
        "mount.efs": rootfs / "sbin",
        "amazon-cloudwatch-agent-ctl": rootfs / "opt" / "aws" / "amazon-cloudwatch-agent" / "bin",
    }
    for name, directory in places.items():
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(standins / name, directory / name)
        (directory / name).chmod(0o755)
    (rootfs / "opt" / "aws" / "amazon-cloudwatch-agent" / "etc").mkdir()
    # What EFS holds: one directory per file system (the stand-in creates it as a new one,
    # root-owned 755) and the access points the test writes from the template.
    (rootfs / "srv" / "efs").mkdir(mode=0o755)


def _fusepy(helpers: Path) -> None:
    """fusepy's one module (fuse.py), out of its sdist, beside the stand-ins that import it."""
    download = helpers / "fusepy-download"
    pip_download(download, "--no-deps", FUSEPY)
    (sdist,) = download.glob("fusepy-*.tar.gz")
    with tarfile.open(sdist) as archive:
        (member,) = [m for m in archive.getmembers() if m.name.endswith("/fuse.py")]
        (helpers / "fuse.py").write_bytes(archive.extractfile(member).read())
    shutil.rmtree(download)


def _app_repository(rootfs: Path) -> None:
    """The fixture app as a git repository with two branches: main, and one whose requirements
    never build. Owned by the app user's uid, who fetches it (git refuses other owners)."""
    repo = rootfs / "srv" / "app.git"
    source = repo.parent / "app-source"
    shutil.copytree(HERE / "app", source)
    git = ["git", "-C", str(source), "-c", "user.name=boot test", "-c", "user.email=boot@test.invalid"]
    run([*git[:3], "init", "-q", "-b", "main"])
    run([*git, "add", "."])
    run([*git, "commit", "-q", "-m", "fixture app"])
    run([*git, "checkout", "-q", "-b", "broken-requirements"])
    requirements = source / "requirements.txt"
    requirements.write_text(requirements.read_text() + BROKEN_REQUIREMENT + "\n")
    run([*git, "commit", "-q", "-am", "a requirement that never builds"])
    run(["git", "clone", "-q", "--bare", str(source), str(repo)])
    shutil.rmtree(source)
    for path in (repo, *repo.rglob("*")):
        os.lchown(path, APP_USER_ID, APP_USER_ID)


def chroot(rootfs: Path, *argv: str) -> None:
    # The host's pip settings (certificates, indexes) name host paths: keep them out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    run(["chroot", str(rootfs), *argv], env={**env, "DEBIAN_FRONTEND": "noninteractive", "PIP_CONFIG_FILE": "/dev/null"})


def run(argv: list[str], cwd: Path | None = None, capture: bool = False, env=None) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, text=True, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout[-2000:]}"
                           f"{result.stderr[-4000:]}")
    return result.stdout if capture else ""
