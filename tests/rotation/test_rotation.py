"""The rotation function (src/threetier/rotation) against real servers: MariaDB 10.11 and
PostgreSQL 15 on 127.0.0.1, with TLS from a throwaway CA, and Secrets Manager from moto, driven
step by step as Secrets Manager drives it (tests/rotation/deployment.py).

What MariaDB can and cannot show for RDS MySQL: the SQL the function runs (CREATE USER IF NOT
EXISTS, ALTER USER ... IDENTIFIED BY, ALTER USER CURRENT_USER(), GRANT ... ON `db`.*, SHOW
GRANTS, mysql.user) means the same on MariaDB and MySQL 8, and MariaDB runs it for real here,
TLS included. It cannot show MySQL 8.4's default authentication, caching_sha2_password (MariaDB
has no such plugin: its users authenticate with mysql_native_password), so PyMySQL's
caching_sha2 exchange, its full-authentication path over TLS and RDS's own master privileges
are not proved here; nor is anything of real RDS (its endpoint, its certificates, the rds CA).

Run only these: `pytest -m rotation`; the fast suite leaves them out (`-m "not boot and not rotation"`).
"""

from __future__ import annotations

import errno
import json

import pytest

from tests.rotation.deployment import STEPS
from threetier.rotation import lambda_function

pytestmark = pytest.mark.rotation

CREATE, SET, TEST, FINISH = STEPS


def first_app_rotation(deployment) -> str:
    return deployment.secrets.rotate(deployment.app_arn)


def expected_grants(deployment, member_of=frozenset()) -> dict:
    if deployment.server.engine == "postgres":
        return deployment.admin.expected_app_grants(deployment.dbname, member_of)
    return deployment.admin.expected_app_grants(deployment.dbname)


# --- alternating users: the app's secret ----------------------------------------------------------

def test_the_first_rotation_creates_the_app_user_with_exactly_its_grants(deployment):
    sm, arn = deployment.secrets, deployment.app_arn
    before = sm.value(arn)
    assert deployment.app_user not in deployment.admin.users()

    token = first_app_rotation(deployment)

    current = sm.value(arn)
    assert sm.version_of(arn, "AWSCURRENT") == token
    assert sm.value(arn, "AWSPREVIOUS") == before
    assert sm.version_of(arn, "AWSPENDING") is None
    assert current["username"] == deployment.app_user
    assert current["password"] != before["password"]
    assert {key: value for key, value in current.items() if key != "password"} == \
        {key: value for key, value in before.items() if key != "password"}
    assert deployment.logs_in(current)
    assert deployment.admin.grants(deployment.app_user, deployment.dbname) == expected_grants(deployment)


def test_the_password_is_letters_and_digits_as_the_templates_asked(deployment):
    first_app_rotation(deployment)
    password = deployment.secrets.value(deployment.app_arn)["password"]
    assert len(password) == 32 and password.isalnum()


def test_the_next_rotations_alternate_users_and_the_old_one_works_until_the_new_one_is_current(deployment):
    sm, arn, admin = deployment.secrets, deployment.app_arn, deployment.admin
    first_app_rotation(deployment)
    first = sm.value(arn)
    # The app creates its table as the first user, as the reference app does on its first start.
    assert admin.use_table(first["username"], first["password"], deployment.dbname, create=True) == [first["username"]]

    token = sm.start_rotation(arn)
    sm.run(arn, token, (CREATE, SET, TEST))
    clone = sm.value(arn, "AWSPENDING", token)
    assert clone["username"] == deployment.app_user + "_clone"
    assert deployment.logs_in(clone) and deployment.logs_in(first), "both users log in while the rotation runs"
    assert sm.value(arn) == first, "the servers still read the first user until finishSecret"
    sm.step(arn, token, FINISH)

    assert sm.value(arn) == clone and sm.value(arn, "AWSPREVIOUS") == first
    assert deployment.logs_in(first), "the previous user keeps working until the next rotation"
    # The clone can use what the first user made: the same rows, and it writes its own.
    rows = admin.use_table(clone["username"], clone["password"], deployment.dbname, create=False)
    assert rows == sorted([first["username"], clone["username"]])
    member_of = {deployment.app_user} if deployment.server.engine == "postgres" else set()
    assert admin.grants(clone["username"], deployment.dbname) == expected_grants(deployment, member_of)

    # The third rotation turns back to the first user with a new password: the clone still works.
    sm.rotate(arn)
    third = sm.value(arn)
    assert third["username"] == deployment.app_user and third["password"] != first["password"]
    assert deployment.logs_in(third) and deployment.logs_in(clone) and not deployment.logs_in(first)
    assert admin.grants(deployment.app_user, deployment.dbname) == expected_grants(deployment)


def test_an_app_user_made_at_boot_is_kept_and_the_first_rotation_makes_the_clone(deployment):
    """Stacks deployed before this function: the first server made the app's user at boot, with
    the initial secret's password (app-load-secrets.py --ensure-db-user before issue 29), and created its table."""
    sm, arn, admin = deployment.secrets, deployment.app_arn, deployment.admin
    initial = sm.value(arn)
    admin.create_app_user_as_boot_did(initial["username"], initial["password"], deployment.dbname)
    admin.use_table(initial["username"], initial["password"], deployment.dbname, create=True)

    sm.rotate(arn)

    clone = sm.value(arn)
    assert clone["username"] == deployment.app_user + "_clone"
    assert deployment.logs_in(initial) and deployment.logs_in(clone)
    assert admin.use_table(clone["username"], clone["password"], deployment.dbname, create=False) == \
        sorted([initial["username"], clone["username"]])


# --- single user: the master's secret ------------------------------------------------------------

def test_the_master_changes_its_own_password(deployment):
    sm, arn = deployment.secrets, deployment.master_arn
    old = sm.value(arn)
    token = sm.start_rotation(arn)
    sm.run(arn, token, (CREATE, SET))
    new = sm.value(arn, "AWSPENDING", token)
    # Single user: from setSecret on only the new password works (the strategy's known gap,
    # "Lambda function rotation strategies"), and AWSCURRENT still names the old one.
    assert deployment.logs_in(new) and not deployment.logs_in(old)
    sm.run(arn, token, (TEST, FINISH))

    assert sm.value(arn) == new and sm.value(arn, "AWSPREVIOUS") == old
    assert new["username"] == old["username"] and new["password"] != old["password"]
    assert sm.version_of(arn, "AWSPENDING") is None


def test_a_master_rotation_after_an_app_rotation_keeps_the_app_user(deployment):
    sm = deployment.secrets
    first_app_rotation(deployment)
    sm.rotate(deployment.master_arn)
    sm.rotate(deployment.app_arn)
    assert deployment.current_logs_in(deployment.master_arn) and deployment.current_logs_in(deployment.app_arn)
    assert sm.value(deployment.app_arn)["username"] == deployment.app_user + "_clone"


# --- failures, then a retry of the same token ------------------------------------------------------

def database_unreachable(monkeypatch, deployment):
    """The function's connections fail as a closed port fails (the database restarting, a
    security group missing), while the test's own connections still reach the server."""
    def refuse(secret):
        raise ConnectionRefusedError(errno.ECONNREFUSED, f"Connection refused ({secret['host']})")

    engine = lambda_function.ENGINES[deployment.server.engine]
    monkeypatch.setattr(engine, "connect", staticmethod(refuse))


def break_app_password(deployment, token):
    """Someone sets another password between setSecret and testSecret."""
    user = deployment.secrets.value(deployment.app_arn, "AWSPENDING", token)["username"]
    deployment.admin.set_password(user, "SomethingElse1")


FAILURES = [
    # (which secret, step that fails, how)
    ("app", CREATE, "unreachable"),
    ("app", SET, "unreachable"),
    ("app", TEST, "wrong password"),
    ("app", FINISH, "crash before"),
    ("master", SET, "unreachable"),
    ("master", TEST, "unreachable"),
    ("master", FINISH, "crash before"),
]


@pytest.mark.parametrize("which, failing_step, how", FAILURES,
                         ids=[f"{which}-{how}-{step}" for which, step, how in FAILURES])
def test_a_failed_step_then_a_retry_of_the_same_token_completes(deployment, monkeypatch, which, failing_step, how):
    sm = deployment.secrets
    if which == "app":
        first_app_rotation(deployment)  # the user exists: this rotation is an alternation
    arn = deployment.app_arn if which == "app" else deployment.master_arn
    before, users_before = sm.value(arn), deployment.admin.users()
    token = sm.start_rotation(arn)
    done = STEPS[:STEPS.index(failing_step)]
    sm.run(arn, token, done)

    if how == "crash before":
        pass  # the function died after the previous step: Secrets Manager retries the rotation
    else:
        with monkeypatch.context() as patch:
            if how == "unreachable":
                database_unreachable(patch, deployment)
            else:
                break_app_password(deployment, token)
            with pytest.raises(lambda_function.LoginFailed, match="cannot log in to (mysql|postgres) at 127.0.0.1"):
                sm.step(arn, token, failing_step)

    assert sm.value(arn) == before, "AWSCURRENT did not move"
    if SET not in done:
        assert deployment.logs_in(before) and deployment.admin.users() == users_before, "the database did not change"
    if failing_step == CREATE:
        assert not sm.has_value(arn, token)

    sm.run(arn, token)  # Secrets Manager's retry: every step again, same token

    new = sm.value(arn)
    assert sm.version_of(arn, "AWSCURRENT") == token and deployment.logs_in(new)
    assert sm.value(arn, "AWSPREVIOUS") == before
    if which == "app":
        assert new["username"] == deployment.app_user + "_clone" and deployment.logs_in(before)


def test_a_retried_finish_is_a_no_op(deployment):
    sm, arn = deployment.secrets, deployment.master_arn
    token = sm.rotate(arn)
    stages = sm.stages(arn)
    sm.run(arn, token)
    assert sm.stages(arn) == stages


# --- rotations never overlap ------------------------------------------------------------------------

def logins_left(deployment, master_token=None) -> dict[str, bool]:
    """Whether the app's current user and the master (current or pending password) log in."""
    sm = deployment.secrets
    master_passwords = [sm.value(deployment.master_arn)]
    if master_token and sm.has_value(deployment.master_arn, master_token):
        master_passwords.append(sm.value(deployment.master_arn, "AWSPENDING", master_token))
    return {"app": deployment.current_logs_in(deployment.app_arn),
            "master": any(deployment.logs_in(secret) for secret in master_passwords)}


def test_an_app_rotation_waits_while_the_master_rotates(deployment):
    sm, app, master = deployment.secrets, deployment.app_arn, deployment.master_arn
    first_app_rotation(deployment)
    both = {"app": True, "master": True}

    app_token = sm.start_rotation(app)
    sm.step(app, app_token, CREATE)
    master_token = sm.start_rotation(master)
    sm.run(master, master_token, (CREATE, SET))
    assert logins_left(deployment, master_token) == both

    with pytest.raises(lambda_function.RotationInProgress, match="master secret .* is being rotated"):
        sm.step(app, app_token, SET)
    assert not deployment.logs_in(sm.value(app, "AWSPENDING", app_token)), "the app rotation changed nothing"

    sm.run(master, master_token, (TEST, FINISH))
    assert logins_left(deployment) == both
    sm.run(app, app_token)  # Secrets Manager's retry
    assert logins_left(deployment) == both
    assert sm.version_of(app, "AWSCURRENT") == app_token
    assert deployment.logs_in(sm.value(app, "AWSPREVIOUS"))


def test_an_app_rotation_refuses_to_start_while_the_master_rotates(deployment):
    sm, app, master = deployment.secrets, deployment.app_arn, deployment.master_arn
    master_token = sm.start_rotation(master)
    sm.run(master, master_token, (CREATE, SET))
    app_token = sm.start_rotation(app)

    with pytest.raises(lambda_function.RotationInProgress):
        sm.step(app, app_token, CREATE)
    assert not sm.has_value(app, app_token)

    sm.run(master, master_token, (TEST, FINISH))
    sm.run(app, app_token)
    assert deployment.current_logs_in(app) and deployment.current_logs_in(master)


# --- bad secrets ------------------------------------------------------------------------------------

def without(key):
    return lambda value: value.pop(key)


def with_values(**values):
    return lambda value: value.update(values)


def alternating_without_dbname(value):
    value.pop("dbname", None)
    value["masterarn"] = value.get("masterarn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:m")


BAD_VALUES = [
    ("no host", without("host"), "key 'host' is missing"),
    ("unknown engine", with_values(engine="oracle-ee"), "engine 'oracle-ee' is not one of mysql, mariadb, postgres"),
    ("port not a number", with_values(port="3306x"), "port '3306x' is not a number"),
    ("masterarn without dbname", alternating_without_dbname, "key 'dbname' is missing"),
    ("empty password", with_values(password=""), "key 'password' is missing or not a non-empty string"),
]


@pytest.mark.parametrize("which", ["app", "master"])
@pytest.mark.parametrize("what, spoil, message", BAD_VALUES, ids=[case[0] for case in BAD_VALUES])
def test_a_bad_secret_fails_clearly_and_changes_nothing(deployment, which, what, spoil, message):
    sm = deployment.secrets
    arn = deployment.app_arn if which == "app" else deployment.master_arn
    value = sm.value(arn)
    spoil(value)
    sm.client.put_secret_value(SecretId=arn, SecretString=json.dumps(value))
    users, stages = deployment.admin.users(), sm.stages(arn)
    token = sm.start_rotation(arn)

    for step in (CREATE, SET):
        with pytest.raises(lambda_function.SecretFormatError, match=message):
            sm.step(arn, token, step)
    # Secrets Manager stops at the first failed step; a later step on its own still moves nothing.
    for step in (TEST, FINISH):
        with pytest.raises(lambda_function.RotationError, match="has no value yet"):
            sm.step(arn, token, step)

    assert not sm.has_value(arn, token)
    assert sm.value(arn) == value and {v: s for v, s in sm.stages(arn).items() if v != token} == stages
    assert deployment.admin.users() == users


def test_a_bad_master_secret_stops_the_app_rotation(deployment):
    sm = deployment.secrets
    master = sm.value(deployment.master_arn)
    sm.client.put_secret_value(SecretId=deployment.master_arn, SecretString=json.dumps({**master, "engine": "db2"}))
    token = sm.start_rotation(deployment.app_arn)
    with pytest.raises(lambda_function.SecretFormatError, match=r"master.*engine 'db2' is not one of"):
        sm.step(deployment.app_arn, token, CREATE)
    assert deployment.app_user not in deployment.admin.users()


def test_a_pending_user_outside_the_pair_is_refused(deployment):
    """A pending version naming another user (the master, say) never gets its password set."""
    sm, arn = deployment.secrets, deployment.app_arn
    first_app_rotation(deployment)
    token = sm.start_rotation(arn)
    sm.step(arn, token, CREATE)
    pending = sm.value(arn, "AWSPENDING", token)
    sm.client.put_secret_value(SecretId=arn, ClientRequestToken=token, VersionStages=["AWSPENDING"],
                               SecretString=json.dumps({**pending, "username": deployment.master_user}))
    with pytest.raises(lambda_function.SecretFormatError, match="is neither"):
        sm.step(arn, token, SET)
    assert deployment.current_logs_in(deployment.master_arn)


def test_an_app_secret_whose_password_does_not_log_in_gets_no_help_from_the_master(deployment):
    """The confused-deputy check: someone who can write the secret but does not know the current
    user's password cannot have the master set a password for its pair."""
    sm, arn = deployment.secrets, deployment.app_arn
    first_app_rotation(deployment)
    current = sm.value(arn)
    sm.client.put_secret_value(SecretId=arn, SecretString=json.dumps({**current, "password": "Guessed123"}))
    users = deployment.admin.users()
    token = sm.start_rotation(arn)
    sm.step(arn, token, CREATE)
    with pytest.raises(lambda_function.LoginFailed, match="exists but its current password does not log in"):
        sm.step(arn, token, SET)
    assert deployment.admin.users() == users and deployment.logs_in(current)


def test_an_app_secret_naming_the_master_is_refused(deployment):
    sm, arn = deployment.secrets, deployment.app_arn
    sm.client.put_secret_value(SecretId=arn, SecretString=json.dumps(
        {**sm.value(arn), "username": deployment.master_user}))
    token = sm.start_rotation(arn)
    sm.step(arn, token, CREATE)
    with pytest.raises(lambda_function.SecretFormatError, match="is the master user or its pair"):
        sm.step(arn, token, SET)
    assert deployment.current_logs_in(deployment.master_arn)
    assert deployment.master_user + "_clone" not in deployment.admin.users()


# --- the protocol's checks ----------------------------------------------------------------------------

def test_a_token_that_is_no_pending_version_is_refused(deployment):
    sm, arn = deployment.secrets, deployment.master_arn
    with pytest.raises(lambda_function.RotationError, match="has no version"):
        sm.step(arn, "0" * 36, CREATE)
    old = sm.version_of(arn, "AWSCURRENT")
    sm.rotate(arn)
    with pytest.raises(lambda_function.RotationError, match="not AWSPENDING"):
        sm.step(arn, old, SET)  # now AWSPREVIOUS


@pytest.mark.parametrize("event, message", [
    ({"SecretId": "s", "ClientRequestToken": "t"}, "lacks Step"),
    ({"SecretId": "s", "ClientRequestToken": "t", "Step": "dropSecret"}, "unknown Step 'dropSecret'"),
])
def test_a_malformed_event_is_refused(event, message):
    with pytest.raises(lambda_function.RotationError, match=message):
        lambda_function.lambda_handler(event, None)


# --- TLS ---------------------------------------------------------------------------------------------

def test_a_server_certificate_from_another_ca_is_refused(deployment, monkeypatch):
    monkeypatch.setenv("DB_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    master = deployment.secrets.value(deployment.master_arn)
    with pytest.raises(lambda_function.LoginFailed, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        lambda_function.connect(master).close()


def test_without_a_ca_bundle_the_connection_is_still_encrypted(deployment, monkeypatch):
    monkeypatch.delenv("DB_CA_BUNDLE")
    token = deployment.secrets.rotate(deployment.master_arn)
    assert deployment.secrets.version_of(deployment.master_arn, "AWSCURRENT") == token


def test_a_ca_bundle_missing_from_the_package_is_an_error(deployment, monkeypatch):
    monkeypatch.setenv("DB_CA_BUNDLE", "rds-global-bundle.pem")
    with pytest.raises(lambda_function.RotationError, match="'rds-global-bundle.pem' is not a file"):
        lambda_function.connect(deployment.secrets.value(deployment.master_arn))


def _bundle_at_url(monkeypatch, tmp_path, pem: bytes | None) -> None:
    """The function as deployed: no DB_CA_BUNDLE, DB_CA_BUNDLE_URL serving `pem` (a file: URL here,
    the region's RDS bundle over HTTPS in AWS), fetched into a fresh /tmp stand-in."""
    monkeypatch.delenv("DB_CA_BUNDLE")
    served = tmp_path / "served-bundle.pem"
    if pem is not None:
        served.write_bytes(pem)
    monkeypatch.setenv("DB_CA_BUNDLE_URL", served.as_uri())
    monkeypatch.setattr(lambda_function, "FETCHED_BUNDLE", str(tmp_path / "fetched" / "db-ca-bundle.pem"))
    (tmp_path / "fetched").mkdir()


def test_the_bundle_at_its_url_verifies_the_server(deployment, monkeypatch, tmp_path, tls_files):
    _bundle_at_url(monkeypatch, tmp_path, tls_files["ca.pem"].read_bytes())
    token = deployment.secrets.rotate(deployment.master_arn)
    assert deployment.secrets.version_of(deployment.master_arn, "AWSCURRENT") == token
    assert (tmp_path / "fetched" / "db-ca-bundle.pem").read_bytes() == tls_files["ca.pem"].read_bytes()


def test_another_cas_bundle_at_the_url_is_refused(deployment, monkeypatch, tmp_path):
    _bundle_at_url(monkeypatch, tmp_path, open("/etc/ssl/certs/ca-certificates.crt", "rb").read())
    with pytest.raises(lambda_function.LoginFailed, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        lambda_function.connect(deployment.secrets.value(deployment.master_arn)).close()


@pytest.mark.parametrize("pem, message", [(None, "could not fetch the CA bundle"),
                                          (b"<html>Not Found</html>", "not a PEM certificate bundle")])
def test_a_bundle_url_that_serves_no_bundle_fails_and_trusts_no_one(deployment, monkeypatch, tmp_path, pem, message):
    _bundle_at_url(monkeypatch, tmp_path, pem)
    with pytest.raises(lambda_function.RotationError, match=message):
        lambda_function.connect(deployment.secrets.value(deployment.master_arn))
