"""The boot test: an app server boots for real from the user data the app stack renders.

Real: bash, apt, useradd, git, venv and pip builds (mysqlclient from source),
systemd and the unit the script writes, gunicorn, MariaDB, the AWS CLI reading
Secrets Manager with IMDSv2 role credentials, and the project's rotation function
(its four steps, driven as Secrets Manager drives them), which creates the app's
database user before or while a server boots. Faked, and only these: IMDS, the
AWS APIs (moto; a recorder for SignalResource and DescribeStackResource), and the
AWS-only binaries cfn-signal, cfn-init, mount.efs and the CloudWatch agent
(stand-ins that check what they are given). See tests/boot/ and docs/boot-test.md
section "The boot test".

Needs root, debootstrap, systemd-container, mariadb-server, apt-utils and
default-libmysqlclient-dev (.ci/run installs them); without them every test
here skips with the reason, unless CI is set, where that is a failure.
Run only these: `pytest -m boot`; the fast suite: `pytest -m "not boot and not rotation"`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
from typing import Self

import pytest
from cfnlint.decode import cfn_yaml

from templates import app
from tests.boot import efs, render
from tests.boot.instance import BOOT_LOG, DB_CA_BUNDLE, PROJECT, Instance, prerequisites, sql_text
from tests.boot.services import INSTANCE_ID, INSTANCE_KEY_ID, MOTO_PORT, REGION, ROTATION_KEY_ID
from tests.rotation import servers
from tests.templates.test_app import cloudwatch_matches
from threetier import parameters as P
from threetier.blocks import logstore
from threetier.facts import architectures
from threetier.gates.lintrules._helpers import iso8601_seconds
from threetier.parameters import paramfile

pytestmark = pytest.mark.boot

STACK = "shop-dev-AppStack-1ABCDEF"
LOG_GROUP = "shop-dev-AppStack-1ABCDEF-AppLogGroup-0123456789"  # pragma: allowlist secret (a log group name)
# Every character that breaks naive quoting: dollar, backtick, quotes, backslash, hash, percent, space.
DB_PASSWORD = "p$a`s's\\w#o%r\"d x"  # pragma: allowlist secret (test value)
MASTER_PASSWORD = "Master0password0for0the0boot0test"  # pragma: allowlist secret (test value)
DATABASE = {"username": "app_user", "password": DB_PASSWORD, "dbname": "newsreadb",
            "master_username": "dbadmin", "master_password": MASTER_PASSWORD}
APP_SECRET = {"SECRET_KEY": "k3y$(not run)`x`'\\%", "API_KEY": "news-api-key-for-the-boot-test"}  # pragma: allowlist secret
SECRET_VALUES = (DB_PASSWORD, APP_SECRET["SECRET_KEY"], APP_SECRET["API_KEY"])
ROTATED = {"username": "app_user_clone", "password": "r0tated$`'\\#%\"pass"}  # pragma: allowlist secret (test value)
FILE_SYSTEM_ID, ACCESS_POINT_ID = "fs-0123456789abcdef0", "fsap-0123456789abcdef0"


@pytest.fixture(scope="session")
def boot_image():
    missing = prerequisites()
    if missing:
        reason = f"boot test needs {', '.join(missing)} (see docs/boot-test.md)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from tests.boot import image
    return image.image()


def seeded_secrets() -> dict[str, str]:
    """The three secrets as the stack leaves them (connection details added by the attachments),
    before any rotation: the app's names the master's by its ARN (`masterarn`), as the data stack's
    does, and its user does not exist yet."""
    connection = {"engine": "mysql", "host": "127.0.0.1", "port": 3306}
    return {"db-master": json.dumps({"username": DATABASE["master_username"],
                                     "password": DATABASE["master_password"], **connection}),
            "db-app": json.dumps({"username": DATABASE["username"], "password": DATABASE["password"],
                                  "dbname": DATABASE["dbname"], "masterarn": "${db-master}", **connection}),
            "app": json.dumps(APP_SECRET)}


def new_instance(boot_image, tmp_path_factory, name: str, cpu_quota: float | None = None,
                 rotated: bool = True) -> Instance:
    """A server about to boot. `rotated`: the app secret's first rotation has run, as it has when the
    Auto Scaling group (after the app's RotationSchedule) launches it in the usual order."""
    instance = Instance(boot_image, tmp_path_factory.mktemp(name), name, seeded_secrets(),
                        efs.access_points(FILE_SYSTEM_ID, ACCESS_POINT_ID), cpu_quota)
    try:
        instance.start(DATABASE)
        if rotated:
            instance.rotate("db-app")
        return instance
    except BaseException:
        instance.stop()
        raise


def user_data(instance: Instance, **overrides) -> str:
    parameters = {
        "AppPort": "5000", "AppEntryPoint": "run:app", "HealthCheckPath": "/",
        "AppRepositoryUrl": "file:///srv/app.git", "AppRepositoryRef": "main",
        "DbEndpointAddress": "127.0.0.1", "DbEndpointPort": "3306", "DbName": DATABASE["dbname"],
        "DbMasterSecretArn": instance.arns["db-master"], "DbAppSecretArn": instance.arns["db-app"],
        "AppSecretArn": instance.arns["app"],
        "EfsFileSystemId": FILE_SYSTEM_ID, "EfsAccessPointId": ACCESS_POINT_ID,
        **overrides,
    }
    return render.user_data(parameters, STACK, REGION,
                            {"AppLogGroup": LOG_GROUP, "DbCaBundleUrl": f"file://{DB_CA_BUNDLE}",
                             # The app stack's own group or the front stack's (StackLayout): one group.
                             "TargetGroupArn": instance.target_group_arn})


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# ----------------------------------------------------------------------------- a good boot

WAIT_STEP = "threetier-boot: step wait_for_database_login"
NOT_YET = "cannot log in yet"


def boot_with_the_rotation_late(instance: Instance) -> tuple[int, float]:
    """The first boot of a new stack when the app secret's first rotation is still running (Secrets
    Manager runs it asynchronously): the user data runs while the app's user does not exist, and the
    rotation runs once the boot has tried the login and waits. Returns the boot's exit code and time."""
    result: list[tuple[int, float]] = []
    # xtrace on: even a traced boot must not print a secret value.
    boot = threading.Thread(target=lambda: result.append(
        instance.run_user_data(user_data(instance), xtrace=True)))
    boot.start()
    while boot.is_alive() and not _login_refused(instance):
        time.sleep(1)
    if boot.is_alive():
        instance.rotate("db-app")
    boot.join()
    return result[0]


def _login_refused(instance: Instance) -> bool:
    """The boot is in its wait step and has tried the login at least once."""
    try:
        if WAIT_STEP not in instance.read(BOOT_LOG):
            return False
    except FileNotFoundError:  # the boot has not written its log yet
        return False
    journal = instance.run(["journalctl", "-u", "app-db-login.service", "-o", "cat", "--no-pager"], check=False)
    return NOT_YET in journal.stdout


@pytest.fixture(scope="module")
def server(boot_image, tmp_path_factory):
    instance = new_instance(boot_image, tmp_path_factory, "good", rotated=False)
    try:
        status, seconds = boot_with_the_rotation_late(instance)
        instance.first_boot = (status, seconds)
        print(f"\nboot test: first boot to SUCCESS in {seconds:.0f} s, the app's user created by the rotation "
              f"while it waited (CreationPolicy timeout: 1200 s)")
        yield instance
    finally:
        instance.stop()


def test_first_boot_signals_success_once_for_the_group_of_this_stack(server):
    status, _ = server.first_boot
    assert status == 0, server.read(BOOT_LOG)[-3000:]
    assert server.signals() == [{"StackName": STACK, "LogicalResourceId": render.ASG, "Region": REGION,
                                 "UniqueId": INSTANCE_ID, "Status": "SUCCESS", "ExitCode": 0}]


def test_the_boot_waited_for_the_rotation_to_create_the_apps_user_then_started_the_app(server):
    boot_log = server.read(BOOT_LOG)
    assert boot_log.index(WAIT_STEP) < boot_log.index("threetier-boot: step start_app")
    journal = server.run(["journalctl", "-u", "app-db-login.service", "-o", "cat", "--no-pager"]).stdout
    waited = [line for line in journal.splitlines() if line.startswith("the app's database user")]
    assert NOT_YET in waited[0] and waited[-1] == f"the app's database user {DATABASE['username']} logs in", waited


def test_the_server_never_asks_for_the_master_secret(server):
    """The instance role may not read it (tests/templates/test_app.py); here, the server does not try:
    every Secrets Manager request it made (its role's key from IMDS) is for the app's two secrets,
    while the rotation function read the master's to create the app's user."""
    requests = server.secrets_requests()
    by_server = {(r["Action"], r["SecretId"]) for r in requests if r["AccessKeyId"] == INSTANCE_KEY_ID}
    assert by_server == {("secretsmanager.GetSecretValue", server.arns["db-app"]),
                         ("secretsmanager.GetSecretValue", server.arns["app"])}
    by_rotation = {r["SecretId"] for r in requests if r["AccessKeyId"] == ROTATION_KEY_ID}
    assert server.arns["db-master"] in by_rotation
    master = {server.arns["db-master"], "db-master"}
    assert not [r for r in requests if r["SecretId"] in master and r["AccessKeyId"] != ROTATION_KEY_ID]


def test_the_rotation_created_the_apps_own_database_user_with_only_what_it_needs(server):
    grants = server.mariadb(f"SHOW GRANTS FOR '{DATABASE['username']}'@'%'", DATABASE["dbname"])
    found = dict(re.findall(r"GRANT (.+?) ON (\S+) TO", grants))
    found = {on: set(privileges.split(", ")) for privileges, on in found.items()}
    assert found == {"*.*": {"USAGE"}, f"`{DATABASE['dbname']}`.*": {
        "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX", "REFERENCES"}}, grants


def test_the_app_answers_and_a_row_round_trips_through_mariadb(server):
    assert server.http("GET", "/") == (200, "ok\n")
    code, body = server.http("POST", "/visit/first-boot")
    assert code == 200 and json.loads(body) == {"stored": "first-boot"}
    assert server.mariadb("SELECT note FROM visits", DATABASE["dbname"]).split() == ["first-boot"]


# Run in the server with its app's venv Python, as root, the app's credentials on stdin: log in with
# one driver, as the app would (the venv's TLS hook reads DB_CA_BUNDLE), and say what the session is.
TLS_PROBE = """
import json, sys
secret = json.load(sys.stdin)
driver = __import__({"pymysql": "pymysql", "mysqlclient": "MySQLdb"}[sys.argv[1]])
options = {"ssl_disabled": True} if sys.argv[2:] == ["plaintext"] else {}
try:
    connection = driver.connect(host="127.0.0.1", port=3306, user=secret["username"],
                                password=secret["password"], database=secret["dbname"], **options)
    cursor = connection.cursor()
    cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    print(json.dumps({"cipher": cursor.fetchone()[1]}))
except Exception as error:
    print(json.dumps({"refused": str(error)}))
"""


def tls_probe(server: Instance, driver: str, bundle: str, *options: str) -> dict:
    result = server.run(["env", f"DB_CA_BUNDLE={bundle}", "/opt/app/venv/bin/python", "-c", TLS_PROBE, driver,
                         *options], input=json.dumps(server.secret_value("db-app")))
    return json.loads(result.stdout)


def test_the_app_talks_to_the_database_over_tls_with_the_servers_certificate_verified(server, tmp_path):
    """The database takes TLS logins only (require_secure_transport, as the parameter group sets it).
    The app's own session is encrypted; its drivers verify the certificate against the bundle the
    boot fetched (here the namespace's CA in place of RDS's): a bundle of another CA is refused."""
    code, body = server.http("GET", "/tls")
    assert code == 200 and json.loads(body)["Ssl_cipher"], body
    bundle = server.run(["cat", "/etc/app/db-ca-bundle.pem"]).stdout
    assert bundle == server.tls["ca.pem"].read_text()
    assert "DB_CA_BUNDLE=/etc/app/db-ca-bundle.pem" in server.read("/etc/app/app.conf").splitlines()
    other = servers.make_tls_files(tmp_path / "other-ca")["ca.pem"]
    (server.root / "srv" / "other-ca.pem").write_text(other.read_text())
    for driver in ("pymysql", "mysqlclient"):  # the reference app's, and the one it also pins
        assert tls_probe(server, driver, "/etc/app/db-ca-bundle.pem").get("cipher"), driver
        refused = tls_probe(server, driver, "/srv/other-ca.pem")
        assert "certificate" in refused.get("refused", "").lower(), (driver, refused)
    # Without TLS the app could not log in at all: the same login, in plain text, is refused.
    assert "refused" in tls_probe(server, "pymysql", "/etc/app/db-ca-bundle.pem", "plaintext")
    # The boot's login wait verifies too: with another CA's bundle its one try fails on the certificate.
    wait = server.run(["systemd-run", "--wait", "--pipe", "--quiet", "-p", "EnvironmentFile=/etc/app/app.conf",
                       "-p", f"Environment=AWS_ENDPOINT_URL=http://127.0.0.1:{MOTO_PORT}", "/usr/bin/env",
                       "DB_CA_BUNDLE=/srv/other-ca.pem", "/usr/local/sbin/app-load-secrets", "--wait-for-login", "0"],
                      check=False)
    assert wait.returncode != 0 and "certificate" in (wait.stdout + wait.stderr).lower(), wait


def test_the_secrets_reach_the_app_exactly(server):
    code, body = server.http("GET", "/digest")
    assert code == 200
    # The rotation's password: the initial one never logs in (its user did not exist).
    rotated = server.secret_value("db-app")
    assert rotated["username"] == DATABASE["username"] and rotated["password"] != DB_PASSWORD
    assert json.loads(body) == {
        "MYSQL_USER": digest(DATABASE["username"]), "DATABASE_PASSWORD": digest(rotated["password"]),
        "SECRET_KEY": digest(APP_SECRET["SECRET_KEY"]), "API_KEY": digest(APP_SECRET["API_KEY"]),
        "MYSQL_HOST": digest("127.0.0.1"), "MYSQL_DB": digest(DATABASE["dbname"]),
    }


def test_the_secrets_file_is_root_only_in_memory_and_no_secret_is_logged(server):
    mode = server.run(["stat", "-c", "%a %U %G", "/run/app/app.env"]).stdout.split()
    assert mode == ["600", "root", "root"]
    boot_log = server.read(BOOT_LOG)
    assert "+ main" in boot_log, "the log is the traced run"
    journal = server.run(["journalctl", "--no-pager", "-o", "cat"]).stdout
    for value in (*SECRET_VALUES, server.secret_value("db-app")["password"], MASTER_PASSWORD):
        assert value not in boot_log and value not in journal


def test_the_boot_files_came_from_the_stacks_launch_template_through_cfn_init(server):
    described = [json.loads(line) for line in (server.state / "described.jsonl").read_text().splitlines()]
    assert described and all(query == {"Action": "DescribeStackResource", "StackName": STACK, "Region": REGION,
                                       "LogicalResourceId": render.LAUNCH_TEMPLATE} for query in described)
    for path, mode in (("/usr/local/sbin/app-load-secrets", "700"), ("/usr/local/lib/threetier-boot-steps.sh", "644")):
        assert server.run(["stat", "-c", "%a %U %G", path]).stdout.split() == [mode, "root", "root"]


def assert_the_app_writes_efs_as_itself(server: Instance) -> None:
    """The app writes a file on /efs, and the file is the app user's: the access point's POSIX user is
    the app user's uid and gid, and its root directory one that user may write."""
    code, body = server.http("POST", "/efs/probe")
    assert code == 200, f"the app could not write /efs: {code} {body[-300:]}"
    uid, gid = (int(server.run(["id", flag, "app"]).stdout) for flag in ("-u", "-g"))
    assert json.loads(body) == {"uid": uid, "gid": gid, "text": "probe"}


def test_efs_is_mounted_through_the_access_point_and_written_as_the_app_user(server):
    mounts = server.read("/var/log/mount.efs.log")
    assert f"accesspoint={ACCESS_POINT_ID}" in mounts and "refused" not in mounts, mounts
    assert_the_app_writes_efs_as_itself(server)


def test_efs_acts_as_the_access_point_user_for_every_caller_from_the_root_directory_it_created(server):
    (settings,) = efs.access_points(FILE_SYSTEM_ID, ACCESS_POINT_ID).values()
    user, root = settings["PosixUser"], settings["RootDirectory"]
    creation = root["CreationInfo"]
    # The root directory, created on the file system as CreationInfo says.
    on_efs = f"/srv/efs/{FILE_SYSTEM_ID}{root['Path']}"
    assert server.run(["stat", "-c", "%u %g %a", on_efs]).stdout.split() == [
        creation["OwnerUid"], creation["OwnerGid"], format(int(creation["Permissions"], 8), "o")]
    # root on the instance writes as the access point's user too (root is no one special through it).
    server.run(["sh", "-c", "echo by-root > /efs/written-by-root"])
    assert server.run(["stat", "-c", "%u %g", "/efs/written-by-root"]).stdout.split() == [user["Uid"], user["Gid"]]


def test_logs_are_shipped_to_the_stack_log_group(server):
    (record,) = [json.loads(line) for line in server.read("/var/log/amazon-cloudwatch-agent-ctl.log").splitlines()]
    assert record["started"] is True
    assert {entry["log_group_name"] for entry in record["files"]} == {LOG_GROUP}
    assert "/var/log/cloud-init-output.log" in {entry["file_path"] for entry in record["files"]}


def test_systemd_accepts_the_unit(server):
    result = server.run(["systemd-analyze", "verify", "/etc/systemd/system/app.service"], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_good_boot_logs_nothing_the_database_errors_filter_counts(server):
    pattern = logstore.database_error_pattern()
    for log in (BOOT_LOG, "/var/log/app/error.log", "/var/log/app/access.log"):
        counted = [line for line in server.read(log).splitlines() if cloudwatch_matches(pattern, line)]
        assert counted == [], (log, counted[:5])


def test_a_rotation_keeps_the_app_answering_and_reaches_it_at_the_next_refresh(server):
    timer = server.run(["systemctl", "show", "app-secrets-refresh.timer", "-p", "ActiveState",
                        "-p", "UnitFileState"]).stdout.split()
    assert sorted(timer) == ["ActiveState=active", "UnitFileState=enabled"]
    main_pid = server.run(["systemctl", "show", "app.service", "-p", "MainPID", "--value"]).stdout.strip()
    # Nothing rotated yet: a refresh leaves the app alone.
    server.run(["systemctl", "start", "app-secrets-refresh.service"])
    assert server.run(["systemctl", "show", "app.service", "-p", "MainPID", "--value"]).stdout.strip() == main_pid

    # Rotate as Secrets Manager's alternating-users function does: the other user
    # gets a new password and the same grants, then becomes the secret's current version.
    name = DATABASE["dbname"]
    server.mariadb(f"CREATE USER '{ROTATED['username']}'@'%' IDENTIFIED BY '{sql_text(ROTATED['password'])}'; "
                   f"GRANT ALL ON `{name}`.* TO '{ROTATED['username']}'@'%';", name)
    server.put_secret("db-app", json.dumps(ROTATED))
    # The previous user stays valid: before any server notices, rows still round-trip.
    code, body = server.http("POST", "/visit/before-refresh")
    assert code == 200 and json.loads(body) == {"stored": "before-refresh"}

    # The refresh timer fires (here: now); the app restarts with the new user.
    started = time.monotonic()
    server.run(["systemctl", "start", "app-secrets-refresh.service"])
    while server.http("POST", "/visit/after-rotation")[0] != 200 and time.monotonic() - started < 60:
        time.sleep(0.2)
    print(f"\nboot test: the rotated password served rows {time.monotonic() - started:.1f} s after the refresh")
    assert server.mariadb("SELECT COUNT(*) FROM visits WHERE note = 'after-rotation'", name).split() == ["1"]
    received = json.loads(server.http("GET", "/digest")[1])
    assert received["MYSQL_USER"] == digest(ROTATED["username"])
    assert received["DATABASE_PASSWORD"] == digest(ROTATED["password"])


# A request loop inside the instance's namespace, straight to the app (as the load balancer's
# requests arrive): each request's start, end and HTTP status (0: no answer), until told to stop.
REQUEST_LOOP = """
import json, os, sys, time, urllib.error, urllib.request
log_path, stop_path = sys.argv[1], sys.argv[2]
with open(log_path, "w") as log:
    while not os.path.exists(stop_path):
        started = time.time()
        try:
            with urllib.request.urlopen("http://127.0.0.1:5000/", timeout=2) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        log.write(json.dumps([started, time.time(), status]) + "\\n")
        log.flush()
        time.sleep(0.05)
"""


class RequestLoop:
    """Requests to the server from start to stop; `requests`: (start, end, status) each."""

    def __init__(self, instance: Instance):
        self.log, self.stop_file = instance.workdir / "requests-loop.jsonl", instance.workdir / "requests-loop.stop"
        self.stop_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(["ip", "netns", "exec", instance.netns, sys.executable, "-c", REQUEST_LOOP,
                                         str(self.log), str(self.stop_file)])
        self.requests: list[tuple[float, float, int]] = []

    def __enter__(self) -> Self:
        deadline = time.monotonic() + 10
        while not (self.log.exists() and self.log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(1)  # a second of requests after whatever was measured
        self.stop_file.touch()
        self.process.wait(timeout=30)
        self.requests = [tuple(json.loads(line)) for line in self.log.read_text().splitlines()]


def failures_in_service(requests, out_of_service: list[tuple[float, float]]) -> list:
    """The requests that failed while the server was in its target group: not wholly within one
    of the windows (from its DeregisterTargets call to its RegisterTargets call)."""
    return [(start, end, status) for start, end, status in requests
            if status != 200 and not any(left <= start and end <= right for left, right in out_of_service)]


def out_of_service_windows(calls: list[dict]) -> list[tuple[float, float]]:
    windows, left = [], None
    for call in calls:
        if call["Action"] == "DeregisterTargets":
            left = call["time"]
        elif call["Action"] == "RegisterTargets" and left is not None:
            windows.append((left, call["time"]))
            left = None
    return windows


def app_pid(server: Instance) -> str:
    return server.run(["systemctl", "show", "app.service", "-p", "MainPID", "--value"]).stdout.strip()


def test_a_refresh_restarts_the_app_out_of_service_and_no_request_fails_while_in_service(server):
    """The refresh takes the server's own target out of its target group, waits until the load balancer
    reports it drained, restarts, waits until the app answers here, puts the target back and waits until
    it is healthy. A request loop meanwhile sees failures only while the target is out."""
    before, pid = len(server.elb_calls()), app_pid(server)
    server.put_secret("app", json.dumps({**APP_SECRET, "API_KEY": "rotated-news-api-key"}))  # pragma: allowlist secret
    with RequestLoop(server) as loop:
        server.run(["systemctl", "start", "app-secrets-refresh.service"], timeout=900)
    assert app_pid(server) != pid, "the refresh did not restart the app: nothing was measured"
    calls = [call for call in server.elb_calls()[before:] if call["AccessKeyId"] == INSTANCE_KEY_ID]
    assert {call["TargetGroupArn"] for call in calls} == {server.target_group_arn}, "only its own target group"
    assert {tuple(call["Targets"]) for call in calls} == {(INSTANCE_ID,), ()}, "only its own target"
    actions = [call["Action"] for call in calls]
    # Another target serving (the other server, healthy), out, drained, back, healthy.
    assert actions == ["DescribeTargetHealth", "DeregisterTargets", "DescribeTargetHealth", "RegisterTargets",
                       "DescribeTargetHealth"], actions
    (out, back), = out_of_service_windows(calls)
    requests = loop.requests
    failed = [request for request in requests if request[2] != 200]
    print(f"\nboot test: refresh out of service for {back - out:.1f} s; {len(requests)} requests, {len(failed)} "
          f"failed, all while out of service")
    assert failures_in_service(requests, [(out, back)]) == []
    # The loop covered the refresh: answered before the target went out and after it came back.
    assert any(status == 200 and end < out for _, end, status in requests)
    assert any(status == 200 and start > back for start, _, status in requests)


def test_the_request_loop_catches_a_restart_in_service(server):
    """The old order (restart while the target is in service) fails requests outside any window: the
    check above can fail."""
    before = len(server.elb_calls())
    with RequestLoop(server) as loop:
        server.run(["systemctl", "restart", "app.service"])
        deadline = time.monotonic() + 60
        while server.http("GET", "/")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
    windows = out_of_service_windows(server.elb_calls()[before:])
    assert windows == []
    assert failures_in_service(loop.requests, windows), "a restart in service failed no request"


def test_a_rejected_password_is_counted_by_the_database_errors_filter(server):
    # After a rotation gone wrong the servers keep passing the static health
    # check's idea of fine for a while; the metric filter must see the failure.
    pattern = logstore.database_error_pattern()
    errors_before = server.read("/var/log/app/error.log")
    server.put_secret("db-app", json.dumps({**ROTATED, "password": "not-the-password"}))  # pragma: allowlist secret (a wrong test value)
    # A restart, not the refresh: the refresh would wait minutes for an app that cannot start to answer.
    server.run(["systemctl", "restart", "app.service"])
    deadline = time.monotonic() + 60
    new_lines: list[str] = []
    while time.monotonic() < deadline and not any(cloudwatch_matches(pattern, line) for line in new_lines):
        time.sleep(1)
        new_lines = server.read("/var/log/app/error.log")[len(errors_before):].splitlines()
    assert any("Access denied for user" in line and cloudwatch_matches(pattern, line) for line in new_lines), (
        "\n".join(new_lines[-20:]))
    # Put the right secret back; the app recovers at the next refresh.
    server.put_secret("db-app", json.dumps(ROTATED))
    server.run(["systemctl", "start", "app-secrets-refresh.service"], timeout=900)
    deadline = time.monotonic() + 60
    while server.http("GET", "/")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert server.http("GET", "/") == (200, "ok\n")


def shipped_files(server: Instance) -> list[str]:
    """The files the CloudWatch agent ships, from the configuration the boot gave it."""
    (record,) = [json.loads(line) for line in server.read("/var/log/amazon-cloudwatch-agent-ctl.log").splitlines()]
    return [entry["file_path"] for entry in record["files"]]


def generated_filter_pattern() -> str:
    """The database errors filter's pattern as `generate` wrote it to output/app.yaml."""
    template = cfn_yaml.load(str(PROJECT / "output" / "app.yaml"))
    return template["Resources"]["DatabaseErrorsMetricFilter"]["Properties"]["FilterPattern"]


def test_a_database_gone_under_the_running_app_reaches_a_shipped_line_the_filter_counts(server):
    # The health check page never touches the database: only the metric filter sees this outage.
    pattern = generated_filter_pattern()
    files = shipped_files(server)
    assert "/var/log/app/error.log" in files
    before = {path: len(server.read(path)) for path in files}
    server.stop_database()
    try:
        # A query's error uncaught, as on the reference app's /login: Flask logs its traceback.
        assert server.http("POST", "/visit/while-the-database-is-down")[0] == 500
        # The connection refused before the reference app's /register catches anything: also logged.
        assert server.http("POST", "/register/while-the-database-is-down")[0] == 500
        # A server (re)started in the outage: the app prints the error (stdout, --capture-output).
        server.run(["systemctl", "restart", "app.service"])
        deadline = time.monotonic() + 60
        while server.http("GET", "/")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert server.http("GET", "/") == (200, "ok\n"), "the health check stays green in the outage"
        new = {path: server.read(path)[before.get(path, 0):].splitlines() for path in files}
    finally:
        server.start_database()
    # Line by line: the agent starts an event at each line that begins with a non-blank, and joins
    # indented ones to it; a matching line makes its event match.
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html
    counted = [line for lines in new.values() for line in lines if cloudwatch_matches(pattern, line)]
    shown = "\n".join(f"{path}: {line}" for path, lines in new.items() for line in lines[-15:])
    assert counted, f"no shipped line matches the filter pattern:\n{shown}"
    refused = "Can't connect to MySQL server on '127.0.0.1'"
    # The traceback's last line, and the printed error without a traceback (only captured output has it).
    assert any(line.startswith("pymysql.err.OperationalError: (2003") and refused in line for line in counted), shown
    assert any(line.startswith("(2003,") and refused in line for line in counted), shown
    assert not any(cloudwatch_matches(pattern, line) for line in new["/var/log/app/access.log"])
    # Back: the next request connects again.
    deadline = time.monotonic() + 30
    while server.http("POST", "/visit/after-the-outage")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert server.http("POST", "/visit/after-the-outage-2")[0] == 200


def test_running_the_user_data_again_changes_nothing_and_succeeds_again(server):
    status, _ = server.run_user_data(user_data(server))
    assert status == 0, server.read(BOOT_LOG)[-3000:]
    fstab = [line for line in server.read("/etc/fstab").splitlines() if " /efs " in line]
    assert fstab == ["fs-0123456789abcdef0:/ /efs efs _netdev,tls,iam,accesspoint=fsap-0123456789abcdef0 0 0"]
    assert [s["Status"] for s in server.signals()] == ["SUCCESS", "SUCCESS"]
    assert server.http("GET", "/") == (200, "ok\n")


def test_after_a_reboot_the_app_comes_back_without_user_data(server):
    server.reboot()
    deadline = time.monotonic() + 90
    while server.http("GET", "/")[0] != 200 and time.monotonic() < deadline:
        time.sleep(1)
    assert server.http("GET", "/") == (200, "ok\n")
    code, body = server.http("POST", "/visit/after-reboot")
    assert code == 200 and json.loads(body) == {"stored": "after-reboot"}
    assert server.run(["mountpoint", "-q", "/efs"], check=False).returncode == 0
    assert_the_app_writes_efs_as_itself(server)
    assert len(server.signals()) == 2, "a reboot runs no user data and sends no signal"


def _wrong(settings: dict, **changes) -> dict:
    """The template's access point with some of its settings changed (None: left out)."""
    changed = json.loads(json.dumps(settings))
    for path, value in changes.items():
        *parents, key = path.split("__")
        node = changed
        for parent in parents:
            node = node[parent]
        if value is None:
            del node[key]
        else:
            node[key] = value
    return changed


WRONG_ACCESS_POINTS = {
    # Mounts and writes, but as another user: the app's files on EFS are not the app user's.
    "posix-user-is-not-the-app-user": (
        dict(PosixUser={"Uid": "1000", "Gid": "1000"},
             RootDirectory__CreationInfo={"OwnerUid": "1000", "OwnerGid": "1000", "Permissions": "0750"}),
        r"'uid': 1000", "mounted"),
    # The file system's own root: root's, 755; the access point's user cannot write there.
    "root-directory-is-the-file-system-root": (
        dict(RootDirectory={"Path": "/"}), r"could not write /efs: 500", "mounted"),
    # The directory does not exist and EFS may not create it: the mount fails, the app does not start.
    "no-creation-info": (
        dict(RootDirectory__CreationInfo=None), r"could not write /efs: 0 ",
        "refused: root directory /app does not exist and the access point has no CreationInfo"),
}


@pytest.mark.parametrize("changes,failure,mount_log", WRONG_ACCESS_POINTS.values(), ids=WRONG_ACCESS_POINTS.keys())
def test_the_efs_check_fails_with_a_wrong_access_point(server, changes, failure, mount_log):
    """The EFS assertion above, against the same server with a wrong access point on a new file
    system: it must fail, for the reason the access point gives. Then the template's access point
    again, and it passes."""
    right = efs.access_points(FILE_SYSTEM_ID, ACCESS_POINT_ID)
    wrong = {ACCESS_POINT_ID: _wrong(right[ACCESS_POINT_ID], **changes)}
    data = f"/srv/efs/{FILE_SYSTEM_ID}"
    logged = len(server.read("/var/log/mount.efs.log"))
    _remount(server, wrong, f"mv {data} {data}.kept")
    try:
        with pytest.raises(AssertionError, match=failure):
            assert_the_app_writes_efs_as_itself(server)
        assert server.read("/var/log/mount.efs.log")[logged:].startswith(mount_log)
    finally:
        _remount(server, right, f"rm -rf {data} && mv {data}.kept {data}")
    assert_the_app_writes_efs_as_itself(server)


def _remount(server: Instance, access_points: dict, change_data: str) -> None:
    """Stop the app and unmount /efs, change what EFS holds, start the app again (which mounts /efs);
    wait until the app answers or the mount has failed."""
    server.run(["systemctl", "stop", "app.service", "efs.mount"])
    server.run(["sh", "-c", change_data])
    server.set_access_points(access_points)
    # Forget earlier failures, and the start rate limit that these quick restarts would hit.
    server.run(["systemctl", "reset-failed", "app.service", "efs.mount"], check=False)
    server.run(["systemctl", "start", "app.service"], check=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.http("GET", "/")[0] != 200:
        if server.run(["systemctl", "is-failed", "--quiet", "efs.mount"], check=False).returncode == 0:
            break
        time.sleep(0.5)


# ----------------------------------------------------------------------------- the boot budget

# One host CPU of this machine (an AMD EPYC of family 25, model 17: Zen 4) against one t3 vCPU (a
# hyperthread of an Intel Xeon Platinum 8175M or 8259CL, Skylake or Cascade Lake, at up to 3.1 GHz
# all-core turbo): Zen 4 does about 1.3 to 1.6 times the work per thread at similar clocks, so the
# quota is the baseline divided by 1.5, to err on the slow side rather than flatter the boot.
HOST_CPU_PER_T3_VCPU = 1.5


def smallest_baseline() -> tuple[str, str, float]:
    """The environment whose app servers start with the least CPU: (environment, instance type,
    vCPUs at the baseline). A T type in standard mode gets no launch credits (T3, T3a, T4g) and runs
    at its baseline from the start (EC2 User Guide, burstable performance instances); one in
    unlimited mode, or not a T type, is not held back."""
    held = []
    for env in paramfile.environments(PROJECT):
        _, values = paramfile.load_env(PROJECT, env)
        instance_type = values.get("InstanceType", P.INSTANCE_TYPE.default)
        credits = values.get("CpuCredits", P.CPU_CREDITS.default)
        if credits == "standard" and instance_type in architectures.BURSTABLE:
            vcpus, percent = architectures.BURSTABLE[instance_type]
            held.append((vcpus * percent / 100, env, instance_type))
    assert held, "no environment runs at a baseline: this scenario has nothing to show"
    vcpus, env, instance_type = min(held)
    return env, instance_type, vcpus


def creation_timeout() -> float:
    """How long CloudFormation waits for the group's signals, as the rendered template says."""
    group = app.build().to_dict()["Resources"][render.ASG]
    return iso8601_seconds(group["CreationPolicy"]["ResourceSignal"]["Timeout"])


def test_a_boot_at_the_smallest_baseline_signals_before_the_creation_timeout(boot_image, tmp_path_factory):
    env, instance_type, vcpus = smallest_baseline()
    share = vcpus / HOST_CPU_PER_T3_VCPU
    timeout = creation_timeout()
    assert timeout == P.BOOT_SIGNAL_SECONDS
    instance = new_instance(boot_image, tmp_path_factory, "baseline", cpu_quota=share)
    try:
        booted = time.time() - instance.launched_at
        status, seconds = instance.run_user_data(user_data(instance), timeout=timeout + 60)
        signals, times = instance.signals(), instance.signal_times()
        throttled, throttled_seconds = instance.cpu_throttling()
        took = times[0] - instance.launched_at if times else math.inf
        print(f"\nboot test: {env} ({instance_type}, {vcpus:g} vCPU at its baseline) as {share:.0%} of one "
              f"host CPU: launch to SUCCESS in {took:.0f} s (systemd up in {booted:.0f} s, user data "
              f"{seconds:.0f} s) against the {timeout:.0f} s CreationPolicy timeout: margin {timeout - took:.0f} s; "
              f"held back {throttled} times, {throttled_seconds:.0f} s in all")
        assert status == 0, instance.read(BOOT_LOG)[-3000:]
        assert [s["Status"] for s in signals] == ["SUCCESS"]
        assert took < timeout, f"the signal came {took:.0f} s after launch; CloudFormation waits {timeout:.0f} s"
        assert throttled > 0, "the quota never held the instance back: it did not apply"
    finally:
        instance.stop()


# ----------------------------------------------------------------------------- failures

def boot_files_changed(instance: Instance) -> None:
    """The stack was updated while the server booted: cfn-init gets other files than the launch
    template version's user data was made with."""
    metadata = render.launch_template_metadata()
    loader = metadata["AWS::CloudFormation::Init"]["config"]["files"]["/usr/local/sbin/app-load-secrets"]
    loader["content"] += "# changed by a stack update\n"
    (instance.state / "metadata.json").write_text(json.dumps(metadata))


# overrides of the user data's parameters, what breaks (a command on the instance, or a function of it
# on the host), the step the error trap names.
FAILURES = {
    "boot-files-changed": ({}, boot_files_changed, "fetch_boot_files"),
    "unknown-git-ref": ({"AppRepositoryRef": "no-such-ref"}, None, "checkout_app"),
    "requirements-do-not-build": ({"AppRepositoryRef": "broken-requirements"}, None, "install_app"),
    "apt-fails": ({}, "rm /srv/apt/Packages", "install_packages"),
    # What the RDS CA bundle's URL served is no bundle (an error page, a captive proxy).
    "db-ca-bundle-is-no-bundle": ({}, f"echo '<html>Not Found</html>' > {DB_CA_BUNDLE}", "fetch_db_ca_bundle"),
    "health-check-never-passes": ({"HealthCheckPath": "/no-such-page"}, None, "wait_until_healthy"),
}


@pytest.mark.parametrize("overrides,break_command,step", FAILURES.values(), ids=FAILURES.keys())
def test_a_failing_boot_signals_failure_and_names_the_step(boot_image, tmp_path_factory, overrides,
                                                         break_command, step):
    instance = new_instance(boot_image, tmp_path_factory, "fail")
    try:
        if callable(break_command):
            break_command(instance)
        elif break_command:
            instance.run(["sh", "-c", break_command])
        status, seconds = instance.run_user_data(user_data(instance, **overrides))
        print(f"\nboot test: {step} failed and signalled after {seconds:.0f} s")
        assert status != 0
        (signal,) = instance.signals()
        assert signal["Status"] == "FAILURE" and signal["LogicalResourceId"] == render.ASG
        assert signal["ExitCode"] == status
        failure = re.search(r"threetier-boot: failed in step (\S+) \(call stack: .*\) with exit code (\d+)",
                            instance.read(BOOT_LOG))
        assert failure and failure.groups() == (step, str(status)), instance.read(BOOT_LOG)[-3000:]
    finally:
        instance.stop()
