"""Rotates an RDS database secret in Secrets Manager: the project's own rotation function.

Lambda handler `lambda_function.lambda_handler`, this file at the zip's root next to the pure-Python
drivers of requirements.txt (PyMySQL, pg8000), so one zip runs on x86_64 and arm64. It imports
only the standard library, boto3 (in the Lambda runtime) and those drivers.

The protocol ("Rotation by Lambda function", Secrets Manager User Guide,
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html): Secrets
Manager creates a version staged AWSPENDING and calls the function once per step with the same
ClientRequestToken (that version's id): createSecret (the new secret value), setSecret (the
database gets it), testSecret (it logs in), finishSecret (AWSCURRENT moves to the new version,
AWSPREVIOUS to the old one). Each step is safe to run again with the same token: Secrets Manager
retries a rotation that failed.

Strategies ("Lambda function rotation strategies",
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html), picked by
the secret's own JSON:
- with `masterarn`, alternating users: the app's user and `<user>_clone` take turns. The master
  (the master secret's AWSCURRENT value) sets the password of the user that is not current, so
  the current one keeps working until the new one is current. The first rotation creates the
  app's user when it does not exist yet, with the grants the app needs (docs/security.md, "Secrets").
- without, single user: the user changes its own password at setSecret.
AWS's own functions (github.com/aws-samples/aws-secrets-manager-rotation-lambdas,
SecretsManagerRDSMySQLRotationMultiUser/SingleUser, SecretsManagerRDSPostgreSQLRotation...) are
the reference for the behaviour; this is a rewrite, not a copy.

Rotations never overlap: an app rotation refuses to touch the database while the master secret
it logs in with has a rotation in progress (AWSPENDING on a version other than AWSCURRENT), so
Secrets Manager retries it later; nothing has changed by then.

TLS: every connection is encrypted, always. With `DB_CA_BUNDLE_URL` (the region's RDS CA bundle,
https://truststore.pki.rds.amazonaws.com/REGION/REGION-bundle.pem in the commercial partition,
"Using SSL/TLS to encrypt a connection to a DB instance", RDS User Guide), fetched once per
execution environment into /tmp over HTTPS (through the app subnets' NAT gateway, as the app
servers fetch it at boot), or `DB_CA_BUNDLE` (a file: a path inside the zip, or absolute), the
server's certificate is verified against that bundle and its name against the secret's `host`.
A bundle that cannot be fetched or read fails the rotation; it never falls back to trusting
anyone. Without either the connection is encrypted only: nothing proves the server is the
database. A server that offers no
TLS is refused: pg8000 and PyMySQL (given `ssl`) refuse it, and the function checks the MySQL
session's cipher itself, since PyMySQL releases before 1.2 fell back to plain text quietly.

Environment: SECRETS_MANAGER_ENDPOINT (optional), EXCLUDE_CHARACTERS and PASSWORD_LENGTH (for
GetRandomPassword), DB_CA_BUNDLE_URL or DB_CA_BUNDLE (optional), DB_CONNECT_TIMEOUT (seconds,
default 5).
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import string
import urllib.request

import boto3
import pg8000.exceptions
import pg8000.native
import pymysql

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
CLONE_SUFFIX = "_clone"
# What the templates' hosted rotation excluded until now: every punctuation character, so a
# password never needs quoting in a shell, a URL or a client config file.
DEFAULT_EXCLUDE_CHARACTERS = string.punctuation
DEFAULT_PASSWORD_LENGTH = 32

# What the app's user may do on its database: the grants docs/security.md "Secrets" lists, the same the
# servers gave it at boot until now (src/threetier/blocks/userdata/app-load-secrets.py).
MYSQL_APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES"
POSTGRES_APP_DATABASE_PRIVILEGES = "CONNECT, TEMPORARY"
POSTGRES_APP_SCHEMA_PRIVILEGES = "USAGE, CREATE"


class RotationError(Exception):
    """The rotation cannot go on; the message says why. Secrets Manager retries later."""


class SecretFormatError(RotationError):
    """The secret's JSON lacks a key or holds a value this function cannot use."""


class RotationInProgress(RotationError):
    """The other secret this rotation logs in with is being rotated itself."""


class LoginFailed(RotationError):
    """The database refused a login, or could not be reached."""


# --- the handler and the four steps ---------------------------------------------------------------

def lambda_handler(event, context):
    """Runs one rotation step for the secret version named by the event."""
    arn, token, step = _event_fields(event)
    client = secrets_client()
    stages = _stages_of_token(client, arn, token)
    if CURRENT in stages:
        # A retried finishSecret, or a rotation that already ended: nothing left to do.
        logger.info("%s: version %s of %s is already AWSCURRENT", step, token, arn)
        return
    STEPS[step](client, arn, token)


def create_secret(client, arn: str, token: str) -> None:
    """Puts the new value as the pending version, unless a retry already did."""
    current = read_secret(client, arn, CURRENT)
    if _version_has_value(client, arn, token):
        logger.info("createSecret: version %s of %s already has its value", token, arn)
        return
    pending = dict(current, password=random_password(client))
    if "masterarn" in current:
        pending["username"] = _next_app_username(client, current)
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(pending),
                            VersionStages=[PENDING])
    logger.info("createSecret: put version %s of %s for user %s", token, arn, pending["username"])


def set_secret(client, arn: str, token: str) -> None:
    """Makes the database accept the pending password (a no-op when it already does)."""
    current = read_secret(client, arn, CURRENT)
    pending = read_secret(client, arn, PENDING, token)
    _same_database(current, pending, arn)
    if "masterarn" in current:
        master = master_secret(client, current)
        _check_app_username(current, pending, master, arn)
        # The pending login is tried only after the master's check, so that a rotation started
        # while the master's was pending waits for it even on a retry.
        if _can_log_in(pending):
            logger.info("setSecret: the pending password of %s already works", arn)
            return
        _set_app_user(master, current, pending, arn)
    else:
        if _can_log_in(pending):
            logger.info("setSecret: the pending password of %s already works", arn)
            return
        _set_own_password(client, arn, current, pending)


def test_secret(client, arn: str, token: str) -> None:
    """Logs in with the pending value and runs a query on the secret's database."""
    pending = read_secret(client, arn, PENDING, token)
    connection = connect(pending)
    try:
        engine_of(pending).check(connection)
    finally:
        connection.close()
    logger.info("testSecret: user %s logs in with the pending version of %s", pending["username"], arn)


def finish_secret(client, arn: str, token: str) -> None:
    """Moves AWSCURRENT to the new version (Secrets Manager moves AWSPREVIOUS with it) and
    takes AWSPENDING off it, so no rotation looks in progress any more."""
    read_secret(client, arn, PENDING, token)  # never makes current a version without a usable value
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next((version for version, stages in versions.items() if CURRENT in stages), None)
    if current != token:
        client.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token,
                                           RemoveFromVersionId=current)
    if PENDING in versions.get(token, []):
        client.update_secret_version_stage(SecretId=arn, VersionStage=PENDING, RemoveFromVersionId=token)
    logger.info("finishSecret: version %s of %s is AWSCURRENT", token, arn)


STEPS = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": finish_secret,
}


def _event_fields(event) -> tuple[str, str, str]:
    missing = [key for key in ("SecretId", "ClientRequestToken", "Step") if not event.get(key)]
    if missing:
        raise RotationError(f"the event lacks {', '.join(missing)}: {sorted(event)}")
    if event["Step"] not in STEPS:
        raise RotationError(f"unknown Step {event['Step']!r}: expected one of {', '.join(STEPS)}")
    return event["SecretId"], event["ClientRequestToken"], event["Step"]


def _stages_of_token(client, arn: str, token: str) -> list[str]:
    """The token's staging labels, after checking Secrets Manager set the rotation up as the
    protocol says: rotation on, the token a version staged AWSPENDING (or already AWSCURRENT)."""
    metadata = client.describe_secret(SecretId=arn)
    if metadata.get("RotationEnabled") is False:
        raise RotationError(f"rotation is not enabled on secret {arn}")
    stages = metadata.get("VersionIdsToStages", {}).get(token)
    if stages is None:
        raise RotationError(f"secret {arn} has no version {token} to rotate to")
    if CURRENT not in stages and PENDING not in stages:
        raise RotationError(f"version {token} of secret {arn} is staged {stages}, not AWSPENDING")
    return stages


# --- secrets ----------------------------------------------------------------------------------------

def secrets_client():
    """Secrets Manager through SECRETS_MANAGER_ENDPOINT when set (a regional or VPC endpoint)."""
    return boto3.client("secretsmanager", endpoint_url=os.environ.get("SECRETS_MANAGER_ENDPOINT") or None)


def read_secret(client, arn: str, stage: str, token: str | None = None) -> dict:
    """A version's JSON, checked: the keys a login needs and an engine this function knows."""
    request = {"SecretId": arn, "VersionStage": stage}
    if token:
        request["VersionId"] = token
    where = f"secret {arn} ({stage})"
    try:
        text = client.get_secret_value(**request).get("SecretString")
    except client.exceptions.ResourceNotFoundException:
        if not token:
            raise
        raise RotationError(f"{where}: version {token} has no value yet (createSecret did not finish)") from None
    try:
        secret = json.loads(text or "")
    except ValueError:
        raise SecretFormatError(f"{where} is not JSON") from None
    return validate_secret(secret, where)


def validate_secret(secret, where: str) -> dict:
    if not isinstance(secret, dict):
        raise SecretFormatError(f"{where} is not a JSON object")
    for key in ("engine", "host", "username", "password"):
        if not isinstance(secret.get(key), str) or not secret[key]:
            raise SecretFormatError(f"{where}: key {key!r} is missing or not a non-empty string")
    if secret["engine"] not in ENGINES:
        raise SecretFormatError(f"{where}: engine {secret['engine']!r} is not one of {', '.join(ENGINES)}")
    if "port" in secret and not str(secret["port"]).isdigit():
        raise SecretFormatError(f"{where}: port {secret['port']!r} is not a number")
    if "masterarn" in secret:
        if not isinstance(secret["masterarn"], str) or not secret["masterarn"]:
            raise SecretFormatError(f"{where}: key 'masterarn' is not a secret ARN")
        if not secret.get("dbname"):
            raise SecretFormatError(f"{where}: key 'dbname' is missing (the app's user is granted rights on it)")
    return secret


def _version_has_value(client, arn: str, token: str) -> bool:
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def random_password(client) -> str:
    length = int(os.environ.get("PASSWORD_LENGTH") or DEFAULT_PASSWORD_LENGTH)
    exclude = os.environ.get("EXCLUDE_CHARACTERS", DEFAULT_EXCLUDE_CHARACTERS)
    # Said outright when no punctuation is left, so that "each included type" means letters and
    # digits only (moto, the tests' Secrets Manager, otherwise still asks for a punctuation mark).
    no_punctuation = set(string.punctuation) <= set(exclude)
    return client.get_random_password(PasswordLength=length, ExcludeCharacters=exclude,
                                      ExcludePunctuation=no_punctuation,
                                      RequireEachIncludedType=True)["RandomPassword"]


def master_secret(client, app_secret: dict) -> dict:
    """The master's AWSCURRENT value, refused while the master itself rotates: its AWSCURRENT
    password may already be the old one (single user sets the new one at setSecret)."""
    arn = app_secret["masterarn"]
    if rotation_in_progress(client, arn):
        raise RotationInProgress(f"the master secret {arn} is being rotated (a version is AWSPENDING, not "
                                 "AWSCURRENT): this rotation waits for it and Secrets Manager retries it")
    master = read_secret(client, arn, CURRENT)
    _same_database(app_secret, master, arn)
    return dict(master, dbname=app_secret["dbname"])


def rotation_in_progress(client, arn: str) -> bool:
    versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    return any(PENDING in stages and CURRENT not in stages for stages in versions.values())


def _same_database(secret: dict, other: dict, arn: str) -> None:
    """A rotation only ever touches the database its current secret names."""
    for key in ("engine", "host", "port"):
        if str(secret.get(key, "")) != str(other.get(key, "")):
            raise SecretFormatError(f"secret {arn}: {key} {other.get(key)!r} differs from {secret.get(key)!r}: "
                                    "a rotation stays on one database")


# --- alternating users --------------------------------------------------------------------------

def alternate_username(username: str) -> str:
    if username.endswith(CLONE_SUFFIX):
        return username[: -len(CLONE_SUFFIX)]
    return username + CLONE_SUFFIX


def _next_app_username(client, current: dict) -> str:
    """The user the new version names: the current one if it does not exist yet (the first
    rotation creates it), else the other of the pair."""
    master = master_secret(client, current)
    engine = engine_of(master)
    connection = connect(master, login_as="the master user")
    try:
        exists = engine.user_exists(connection, current["username"])
    finally:
        connection.close()
    if not exists:
        return current["username"]
    other = alternate_username(current["username"])
    if len(other) > engine.max_username_length:
        raise SecretFormatError(f"username {other!r} is longer than {engine.name} allows "
                                f"({engine.max_username_length} characters)")
    return other


def _check_app_username(current: dict, pending: dict, master: dict, arn: str) -> None:
    allowed = (current["username"], alternate_username(current["username"]))
    if pending["username"] not in allowed:
        raise SecretFormatError(f"secret {arn}: the pending user {pending['username']!r} is neither "
                                f"{allowed[0]!r} nor {allowed[1]!r}")
    if master["username"] in allowed:
        raise SecretFormatError(f"secret {arn}: user {current['username']!r} is the master user or its pair: "
                                "the app's secret never rotates the master")


def _set_app_user(master: dict, current: dict, pending: dict, arn: str) -> None:
    """As the master: the pending user gets its password and the app's grants. An existing
    current user must log in with the current password first, as in AWS's MultiUser functions:
    whoever wrote the secret knew the password, so the master is no confused deputy for a user
    named in a secret by someone who could not log in as it."""
    engine = engine_of(master)
    connection = connect(master, login_as="the master user")
    try:
        if engine.user_exists(connection, current["username"]) and not _can_log_in(current):
            raise LoginFailed(f"secret {arn}: user {current['username']!r} exists but its current password does "
                              "not log in: the rotation does not use the master for it")
        engine.set_app_user(connection, pending["username"], pending["password"], pending["dbname"])
    finally:
        connection.close()
    logger.info("setSecret: user %s of %s has the pending password and the app's grants", pending["username"], arn)


# --- single user ----------------------------------------------------------------------------------

def _set_own_password(client, arn: str, current: dict, pending: dict) -> None:
    """The user logs in with its current password, or the previous one when an earlier rotation
    set a password it never finished, and changes its own password."""
    if pending["username"] != current["username"]:
        raise SecretFormatError(f"secret {arn}: the pending user {pending['username']!r} is not the current "
                                f"{current['username']!r}")
    connection = _try_connect(current)
    if connection is None:
        previous = _previous_secret(client, arn)
        if previous and previous["username"] == current["username"]:
            connection = _try_connect(dict(current, password=previous["password"]))
    if connection is None:
        connect(current)  # raises the reason the current password does not log in
    try:
        engine_of(current).set_own_password(connection, pending["password"])
    finally:
        connection.close()
    logger.info("setSecret: user %s of %s has the pending password", pending["username"], arn)


def _previous_secret(client, arn: str) -> dict | None:
    try:
        return read_secret(client, arn, PREVIOUS)
    except (client.exceptions.ResourceNotFoundException, SecretFormatError):
        return None


# --- the databases ------------------------------------------------------------------------------

FETCHED_BUNDLE = "/tmp/db-ca-bundle.pem"  # Lambda's writable /tmp, kept while the environment lives


def tls_context() -> ssl.SSLContext:
    """Verified against DB_CA_BUNDLE, or the bundle DB_CA_BUNDLE_URL serves, when one is set, else
    encryption only (module docstring)."""
    bundle = os.environ.get("DB_CA_BUNDLE") or _fetched_bundle(os.environ.get("DB_CA_BUNDLE_URL"))
    if not bundle:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    path = bundle if os.path.isabs(bundle) else os.path.join(os.path.dirname(os.path.abspath(__file__)), bundle)
    if not os.path.isfile(path):
        # A bundle that was meant to be there and is not is a packaging fault, not a reason to trust anyone.
        raise RotationError(f"DB_CA_BUNDLE {bundle!r} is not a file in the function's package")
    try:
        context = ssl.create_default_context(cafile=path)
    except ssl.SSLError as error:
        raise RotationError(f"DB_CA_BUNDLE {bundle!r} holds no certificate ssl can load: {error}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _fetched_bundle(url: str | None) -> str | None:
    """The bundle at `url`, fetched once into FETCHED_BUNDLE (None without a url)."""
    if not url:
        return None
    if not os.path.isfile(FETCHED_BUNDLE):
        try:
            with urllib.request.urlopen(url, timeout=_timeout()) as response:  # noqa: S310 (https or file)
                body = response.read()
        except OSError as error:
            raise RotationError(f"DB_CA_BUNDLE_URL {url}: could not fetch the CA bundle: {error}") from None
        if b"-----BEGIN CERTIFICATE-----" not in body:
            raise RotationError(f"DB_CA_BUNDLE_URL {url}: not a PEM certificate bundle")
        partial = f"{FETCHED_BUNDLE}.{os.getpid()}"
        with open(partial, "wb") as file:
            file.write(body)
        os.replace(partial, FETCHED_BUNDLE)
    return FETCHED_BUNDLE


def connect(secret: dict, login_as: str | None = None):
    """A connection as the secret's user to its database, or LoginFailed naming who and where."""
    engine = engine_of(secret)
    try:
        return engine.connect(secret)
    except (engine.driver_error, OSError) as error:
        who = login_as or f"user {secret['username']!r}"
        raise LoginFailed(f"cannot log in to {engine.name} at {secret['host']}:{engine.port(secret)} as {who}: "
                          f"{_first_line(error)}") from None


def _try_connect(secret: dict):
    try:
        return connect(secret)
    except LoginFailed as error:
        logger.info("%s", error)
        return None


def _can_log_in(secret: dict) -> bool:
    connection = _try_connect(secret)
    if connection is None:
        return False
    connection.close()
    return True


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _timeout() -> int:
    return int(os.environ.get("DB_CONNECT_TIMEOUT") or 5)


class MySql:
    """MySQL and MariaDB through PyMySQL."""

    name = "mysql"
    driver_error = pymysql.MySQLError
    # MySQL 5.7 and 8 allow 32 characters in a user name (MariaDB 80): the smaller decides.
    max_username_length = 32

    @staticmethod
    def port(secret: dict) -> int:
        return int(secret.get("port") or 3306)

    @classmethod
    def connect(cls, secret: dict):
        connection = pymysql.connect(host=secret["host"], port=cls.port(secret), user=secret["username"],
                                     password=secret["password"], database=secret.get("dbname") or None,
                                     ssl=tls_context(), connect_timeout=_timeout(), autocommit=True)
        with connection.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            row = cursor.fetchone()
        if not row or not row[1]:
            connection.close()
            raise pymysql.err.OperationalError(0, "the server did not encrypt the connection (no TLS)")
        return connection

    @staticmethod
    def user_exists(connection, username: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM mysql.user WHERE User = %s AND Host = '%%'", (username,))
            return cursor.fetchone() is not None

    @staticmethod
    def set_app_user(connection, username: str, password: str, dbname: str) -> None:
        database = "`" + dbname.replace("`", "``") + "`"
        with connection.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (username, password))
            # An existing user (the other rotation's turn) keeps its name and gets the new password.
            cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (username, password))
            cursor.execute(f"GRANT {MYSQL_APP_PRIVILEGES} ON {database}.* TO %s@'%%'", (username,))

    @staticmethod
    def set_own_password(connection, password: str) -> None:
        # SET PASSWORD for one's own account needs no privilege. MySQL 8 takes the password
        # itself; MariaDB and MySQL 5.7 want PASSWORD(...), as in AWS's SingleUser functions.
        # (On MariaDB 10.11, ALTER USER CURRENT_USER() IDENTIFIED BY changed nothing, silently,
        # and ALTER USER with the account's name needs CREATE USER: both seen in the tests.)
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
            takes_plain = "mariadb" not in version.lower() and not version.startswith("5.")
            cursor.execute("SET PASSWORD = %s" if takes_plain else "SET PASSWORD = PASSWORD(%s)", (password,))

    @staticmethod
    def check(connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CURRENT_USER(), DATABASE()")
            cursor.fetchone()


class Postgres:
    """PostgreSQL through pg8000."""

    name = "postgres"
    driver_error = pg8000.exceptions.Error
    max_username_length = 63  # NAMEDATALEN - 1

    @staticmethod
    def port(secret: dict) -> int:
        return int(secret.get("port") or 5432)

    @classmethod
    def connect(cls, secret: dict):
        # pg8000 refuses to go on when the server does not answer the TLS request.
        return pg8000.native.Connection(secret["username"], host=secret["host"], port=cls.port(secret),
                                        password=secret["password"], database=secret.get("dbname") or "postgres",
                                        ssl_context=tls_context(), timeout=_timeout())

    @staticmethod
    def user_exists(connection, username: str) -> bool:
        return bool(connection.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=username))

    @classmethod
    def set_app_user(cls, connection, username: str, password: str, dbname: str) -> None:
        role, secret = pg8000.native.identifier(username), pg8000.native.literal(password)
        verb = "ALTER" if cls.user_exists(connection, username) else "CREATE"
        # Utility statements take no parameters: the password goes in as a quoted literal.
        connection.run(f"{verb} ROLE {role} WITH LOGIN PASSWORD {secret}")
        connection.run(f"GRANT {POSTGRES_APP_DATABASE_PRIVILEGES} ON DATABASE "
                       f"{pg8000.native.identifier(dbname)} TO {role}")
        connection.run(f"GRANT {POSTGRES_APP_SCHEMA_PRIVILEGES} ON SCHEMA public TO {role}")
        # Tables belong to the user who created them: the clone is a member of the app's first
        # user, so it can use what the app created before the first alternation. (The reverse
        # would make the membership circular, which PostgreSQL refuses.)
        if username.endswith(CLONE_SUFFIX) and cls.user_exists(connection, alternate_username(username)):
            connection.run(f"GRANT {pg8000.native.identifier(alternate_username(username))} TO {role}")

    @staticmethod
    def set_own_password(connection, password: str) -> None:
        connection.run(f"ALTER ROLE CURRENT_USER WITH PASSWORD {pg8000.native.literal(password)}")

    @staticmethod
    def check(connection) -> None:
        connection.run("SELECT current_user, current_database()")


# RDS's names in a secret: SecretTargetAttachment writes the instance's Engine.
ENGINES = {"mysql": MySql, "mariadb": MySql, "postgres": Postgres}


def engine_of(secret: dict):
    return ENGINES[secret["engine"]]
