import json
from pathlib import Path

import pytest

from templates import network, root
from threetier import paramfile
from threetier.insight import model

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


@pytest.fixture(scope="session")
def templates(project):
    """Every stack's template as the insight model reads it."""
    return model.load_templates(project)


@pytest.fixture(scope="session")
def env_values(project):
    """The values of parameters/dev.json and prod.json."""
    return {env: paramfile.load(paramfile.path_for(project, env)) for env in ("dev", "prod")}


@pytest.fixture
def odd_env(monkeypatch, tmp_path, env_values):
    """Write dev's values with some changed to odd.json, and make every environment read it."""
    def write(changes: dict[str, str]) -> Path:
        odd = tmp_path / "odd.json"
        odd.write_text(json.dumps([{"ParameterKey": k, "ParameterValue": v}
                                   for k, v in {**env_values["dev"], **changes}.items()]))
        monkeypatch.setattr(paramfile, "path_for", lambda project, env: odd)
        return odd
    return write
