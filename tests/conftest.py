from pathlib import Path

import pytest

from templates import network, root

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def network_template():
    return network.build()


@pytest.fixture(scope="session")
def network_dict(network_template):
    return network_template.to_dict()


@pytest.fixture(scope="session")
def root_template():
    return root.build()
