"""Fixtures of the rotation tests: one MariaDB and one PostgreSQL for the session, and per test
its own database, master user, secrets (moto, in process) and function environment.

With CI set, a server that cannot start fails the tests instead of skipping them, as the boot
test does (.ci/run installs mariadb-server and postgresql).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tests.rotation import servers
from tests.rotation.deployment import REGION, Deployment, SecretsManagerStandIn


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"rotation test prerequisite missing with CI set: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_root():
    # Not pytest's tmp_path: its base is readable by root only, and PostgreSQL runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="threetier-rotation-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_files(server_root):
    if shutil.which("openssl") is None:
        _unavailable("openssl is not installed")
    return servers.make_tls_files(server_root / "tls")


@pytest.fixture(scope="session")
def mariadb(server_root, tls_files):
    if (reason := servers.missing_mariadb()) is not None:
        _unavailable(reason)
    directory = server_root / "mariadb"
    directory.mkdir()
    server = servers.start_mariadb(directory, tls_files)
    yield server
    servers.stop_mariadb(server)


@pytest.fixture(scope="session")
def postgres(server_root, tls_files):
    if (reason := servers.missing_postgres()) is not None:
        _unavailable(reason)
    directory = server_root / "postgres"
    directory.mkdir()
    server = servers.start_postgres(directory, tls_files)
    yield server
    servers.stop_postgres(server)


@pytest.fixture(params=["mariadb", "postgres"])
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def function_env(monkeypatch, tls_files):
    """The function's environment as the template sets it, with the test CA as its CA bundle."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("DB_CA_BUNDLE", str(tls_files["ca.pem"]))
    monkeypatch.delenv("SECRETS_MANAGER_ENDPOINT", raising=False)
    monkeypatch.delenv("EXCLUDE_CHARACTERS", raising=False)
    monkeypatch.delenv("PASSWORD_LENGTH", raising=False)


@pytest.fixture
def secrets_manager(function_env):
    with mock_aws():
        yield SecretsManagerStandIn(boto3.client("secretsmanager", region_name=REGION))


@pytest.fixture
def deployment(server, secrets_manager):
    """A database with its master user and the two secrets the data stack makes: the master's
    (single user) and the app's (alternating users, `masterarn`), before any rotation."""
    return Deployment.create(server, secrets_manager, uuid.uuid4().hex[:6])
