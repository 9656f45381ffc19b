import functools
import json
import os
from pathlib import Path

import pytest

from templates import network, root
from tests import background
from threetier.blocks.resultcache import CACHE_DIR_VARIABLE
from threetier.insight import model
from threetier.parameters import paramfile

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def session_result_cache(tmp_path_factory):
    """lint, scan and secrets cache results in a folder of this test session, never in the
    checkout's .cache: a result left by an earlier run (or by a developer) cannot make a test pass.
    Within the session an entry is reused only for the same key, i.e. the same inputs."""
    folder = tmp_path_factory.mktemp("result-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_VARIABLE, str(folder))
        yield folder


# The scan fixtures of tests/gates/test_gates.py: one insecure, one with skips written in its metadata.
SCAN_FIXTURES = ("tests/gates/fixtures/insecure.yaml", "tests/gates/fixtures/insecure-with-reason.yaml")

# Commands a test asks for by fixture name (see tests/background.py), with their niceness:
# the lower, the sooner done. The cfn-lint of test_edge.py is needed first (its module comes
# before test_gates.py); checkov and detect-secrets are the real console script.
# The six-region lint of check is not among them: it runs in the tests' own lint workers,
# warm by then; a process of its own would load cfn-lint's rules twice more.
BACKGROUND = {
    "edge_combinations_linted": (5, ["python", "-m", "tests.templates.test_edge"]),
    # checkov starts once for the project's templates and the scan fixtures.
    "scan_by_console_script": (15, ["threetier", "scan", *(
        str(path.relative_to(PROJECT)) for path in sorted((PROJECT / "output").glob("*.yaml"))), *SCAN_FIXTURES]),
    "secrets_by_console_script": (15, ["threetier", "secrets"]),
}


@pytest.fixture(scope="session", autouse=True)
def background_commands(request, session_result_cache, tmp_path_factory):
    """Start, when the session starts, the BACKGROUND commands that a selected test asks for.

    They write to the session's result cache (its THREETIER_CACHE_DIR is set by now).
    Under pytest-xdist each worker collects every test, so nothing starts early there:
    a command starts when a test first waits for it.
    """
    commands = {name: background.Command(argv, PROJECT, tmp_path_factory.mktemp(name), niceness)
                for name, (niceness, argv) in BACKGROUND.items()}
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        wanted = {name for item in request.session.items for name in item.fixturenames if name in commands}
        for name in sorted(wanted):
            commands[name].start()
    yield commands
    for command in commands.values():
        command.stop()


@pytest.fixture(scope="session")
def edge_combinations_linted(background_commands) -> dict[str, list[str]]:
    """{combination: its cfn-lint findings}, from `python -m tests.templates.test_edge` (see that module)."""
    done = background_commands["edge_combinations_linted"].result()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def scan_by_console_script(background_commands):
    """`threetier scan` of output/*.yaml and SCAN_FIXTURES by the console script: its CompletedProcess (text)."""
    return background_commands["scan_by_console_script"].result()


@pytest.fixture(scope="session")
def secrets_by_console_script(background_commands):
    """`threetier secrets` (the repository and output/) by the console script: its CompletedProcess (text)."""
    return background_commands["secrets_by_console_script"].result()


@pytest.fixture(scope="session", autouse=True)
def lint_workers_warming(request):
    """If a selected test asks for `lint_workers`: lint two small files when the session starts.

    lint_files keeps its worker processes for the next call; each pays once for importing
    cfn-lint and loading its rules (~1.3 s). This starts them beside the first tests, on
    the core those leave idle. The findings are not used; no result cache is involved.
    """
    import multiprocessing
    import threading
    import time

    from threetier.gates.lint import lint_files

    files = [PROJECT / "tests" / "gates" / "fixtures" / "lintrules" / name for name in ("e9005-good.yaml", "e9006-good.yaml")]
    thread = threading.Thread(target=lint_files, args=(files, ("us-east-1",)), daemon=True)
    if not os.environ.get("PYTEST_XDIST_WORKER") and any(
            "lint_workers" in item.fixturenames for item in request.session.items):
        workers = len(multiprocessing.active_children())
        thread.start()
        # Until a worker exists, the thread is still in lint.py's own code, where a test's
        # monkeypatch (tests/gates/test_result_cache.py) could reach it: no test starts before that.
        deadline = time.monotonic() + 10
        while len(multiprocessing.active_children()) == workers and thread.is_alive() \
                and time.monotonic() < deadline:
            time.sleep(0.005)
    yield thread


@pytest.fixture(scope="session")
def lint_workers(lint_workers_warming):
    """The tests that lint several files (in the workers) wait for the warming to be done."""
    if lint_workers_warming.ident is not None:
        lint_workers_warming.join()


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader():
    """Every botocore session of the test session reads AWS's service models through one loader.

    The deploy commands make a boto3 session per command, as a user's process does once;
    each fresh session would read and decode the same JSON models again (~70 ms a session,
    a few hundred times over). The loader caches what it read by file, so sharing it
    changes no model, endpoint or client: only the reading is done once.
    """
    import botocore.session

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", functools.cache(botocore.session.create_loader))
        yield


@pytest.fixture(scope="session")
def moto_endpoint():
    """One local moto server for the session: the `aws` fixture of tests/deploy/test_deploy_moto.py resets it per test.

    Defined here, not in a test module that others import it from: an imported
    session fixture is a fixture of each importing module, i.e. one more server
    (and 0.5 s to stop it).
    """
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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


@pytest.fixture
def templates_built_once(monkeypatch, project, templates):
    """Commands that build every stack's template (model.load_templates, ~50 ms a run) get, for this
    project, a copy of the session's `templates`: built by that same function, once. A copy, so
    what one command might change reaches no other test; another project's are built as usual."""
    import pickle

    build = model.load_templates
    monkeypatch.setattr(model, "load_templates", lambda where: pickle.loads(pickle.dumps(templates))
                        if Path(where).resolve() == project else build(where))


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
