"""What a rotation test works with: Secrets Manager as it drives a rotation function (moto for
the API), and one deployment's database seen from outside the function.

Secrets Manager starts a rotation by staging a new version, with no value yet, AWSPENDING, then
calls the function once per step with that version's id ("Rotation by Lambda function",
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html). moto's
RotateSecret does the staging the same way but then runs the steps through moto's Lambda (which
needs Docker) and moves AWSCURRENT itself, which would hide what finishSecret does; so
`start_rotation` stages the version in moto's backend as RotateSecret does, and the test calls
the handler with the event Secrets Manager sends, step by step.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from dataclasses import dataclass

import pg8000.native
import pymysql
from moto.core import DEFAULT_ACCOUNT_ID
from moto.secretsmanager.models import secretsmanager_backends

from tests.rotation import servers
from threetier.rotation import lambda_function

REGION = "us-east-1"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class SecretsManagerStandIn:
    def __init__(self, client):
        self.client = client

    def create(self, name: str, value) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        arn = self.client.create_secret(Name=name, SecretString=text)["ARN"]
        self.enable_rotation(arn)
        return arn

    def enable_rotation(self, arn: str) -> None:
        """Rotation on, as a RotationSchedule sets it (moto's RotateSecret would also invoke a Lambda)."""
        self._backend_secret(arn).rotation_enabled = True

    def start_rotation(self, arn: str) -> str:
        """Stages a new version without a value AWSPENDING, as RotateSecret does; its id is the token."""
        token = str(uuid.uuid4())
        secret = self._backend_secret(arn)
        secret.remove_version_stages_from_old_versions(["AWSPENDING"])
        secret.versions[token] = {"createdate": int(time.time()), "version_id": token, "version_stages": ["AWSPENDING"]}
        return token

    def step(self, arn: str, token: str, step: str) -> None:
        try:
            lambda_function.lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)
        finally:
            self._follow_current(arn)

    def _follow_current(self, arn: str) -> None:
        """moto's UpdateSecretVersionStage moves the AWSCURRENT label but not its own idea of the
        current version, so a later PutSecretValue would leave two versions AWSCURRENT (moto
        5.2.6); Secrets Manager has one. Keep moto's in step with the label."""
        secret = self._backend_secret(arn)
        current = next(version for version, value in secret.versions.items() if "AWSCURRENT" in value["version_stages"])
        secret.default_version_id = current

    def run(self, arn: str, token: str, steps=STEPS) -> None:
        for step in steps:
            self.step(arn, token, step)

    def rotate(self, arn: str) -> str:
        token = self.start_rotation(arn)
        self.run(arn, token)
        return token

    def value(self, arn: str, stage: str = "AWSCURRENT", token: str | None = None) -> dict:
        request = {"SecretId": arn, "VersionStage": stage, **({"VersionId": token} if token else {})}
        return json.loads(self.client.get_secret_value(**request)["SecretString"])

    def stages(self, arn: str) -> dict[str, list[str]]:
        return {version: sorted(stages)
                for version, stages in self.client.describe_secret(SecretId=arn)["VersionIdsToStages"].items()}

    def version_of(self, arn: str, stage: str) -> str | None:
        return next((version for version, stages in self.stages(arn).items() if stage in stages), None)

    def has_value(self, arn: str, token: str) -> bool:
        return "secret_string" in self._backend_secret(arn).versions[token]

    @staticmethod
    def _backend_secret(arn: str):
        return secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[arn]


@dataclass
class Deployment:
    """One test's database on a shared server: its master user, the app's user name, the secrets."""

    server: servers.Server
    secrets: SecretsManagerStandIn
    dbname: str
    master_user: str
    app_user: str
    master_arn: str = ""
    app_arn: str = ""

    @classmethod
    def create(cls, server: servers.Server, secrets: SecretsManagerStandIn, suffix: str) -> Deployment:
        deployment = cls(server, secrets, f"news_{suffix}", f"master_{suffix}", f"app_{suffix}")
        password = f"Initial{suffix}Master1"
        admin_of(server).create_master(deployment.master_user, password, deployment.dbname)
        where = {"engine": server.engine, "host": server.host, "port": server.port}
        # As the data stack writes them: username and password generated, then the
        # SecretTargetAttachment adds engine, host and port (and dbInstanceIdentifier).
        deployment.master_arn = secrets.create(f"master-{suffix}", {
            "username": deployment.master_user, "password": password, **where, "dbInstanceIdentifier": "db"})
        deployment.app_arn = secrets.create(f"app-{suffix}", {
            "username": deployment.app_user, "password": f"Never{suffix}Used1", "dbname": deployment.dbname,
            "masterarn": deployment.master_arn, **where, "dbInstanceIdentifier": "db"})
        return deployment

    @property
    def admin(self):
        return admin_of(self.server)

    def logs_in(self, secret: dict) -> bool:
        return self.admin.logs_in(secret["username"], secret["password"], secret.get("dbname"))

    def current_logs_in(self, arn: str) -> bool:
        return self.logs_in(self.secrets.value(arn))


def tls_to(server: servers.Server) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


class MariaDbAdmin:
    """root on the MariaDB server, through its socket: the view from outside the function."""

    def __init__(self, server: servers.Server):
        self.server = server

    def execute(self, sql: str, params=()) -> list[tuple]:
        connection = servers.mariadb_admin(self.server)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def create_master(self, name: str, password: str, dbname: str) -> None:
        # RDS's master user holds every privilege it may grant, WITH GRANT OPTION.
        self.execute(f"CREATE DATABASE `{dbname}`")
        self.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, password))
        self.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (name,))

    def users(self) -> set[str]:
        return {row[0] for row in self.execute("SELECT User FROM mysql.user")}

    def grants(self, user: str, dbname: str) -> dict[str, set[str]]:
        """{object: privileges} from SHOW GRANTS, e.g. {"*.*": {"USAGE"}, "`db`.*": {"SELECT", ...}}."""
        grants = {}
        for (line,) in self.execute("SHOW GRANTS FOR %s@'%%'", (user,)):
            privileges, rest = line[len("GRANT "):].split(" ON ", 1)
            grants[rest.split(" TO ", 1)[0]] = {privilege.strip() for privilege in privileges.split(",")}
        return grants

    def expected_app_grants(self, dbname: str) -> dict[str, set[str]]:
        return {"*.*": {"USAGE"}, f"`{dbname}`.*": set(lambda_function.MYSQL_APP_PRIVILEGES.split(", "))}

    def create_app_user_as_boot_did(self, user: str, password: str, dbname: str) -> None:
        self.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
        self.execute(f"GRANT {lambda_function.MYSQL_APP_PRIVILEGES} ON `{dbname}`.* TO %s@'%%'", (user,))

    def set_password(self, user: str, password: str) -> None:
        self.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, password))

    def logs_in(self, user: str, password: str, dbname: str | None) -> bool:
        try:
            self.connect_as(user, password, dbname).close()
        except pymysql.MySQLError:
            return False
        return True

    def connect_as(self, user: str, password: str, dbname: str | None):
        return pymysql.connect(host=self.server.host, port=self.server.port, user=user, password=password,
                               database=dbname, ssl=tls_to(self.server), autocommit=True)

    def use_table(self, user: str, password: str, dbname: str, create: bool) -> list:
        """As the app does: create its table once, then write and read rows."""
        connection = self.connect_as(user, password, dbname)
        try:
            with connection.cursor() as cursor:
                if create:
                    cursor.execute("CREATE TABLE news (title VARCHAR(64))")
                cursor.execute("INSERT INTO news VALUES (%s)", (user,))
                cursor.execute("SELECT title FROM news ORDER BY title")
                return [row[0] for row in cursor.fetchall()]
        finally:
            connection.close()


class PostgresAdmin:
    """The postgres superuser, through the socket: the view from outside the function."""

    def __init__(self, server: servers.Server):
        self.server = server

    def run(self, sql: str, database: str = "postgres", **params) -> list:
        connection = servers.postgres_admin(self.server, database)
        try:
            return connection.run(sql, **params)
        finally:
            connection.close()

    def create_master(self, name: str, password: str, dbname: str) -> None:
        # RDS's master: no superuser, but CREATEROLE and CREATEDB, and the owner of the database
        # RDS creates (DBName), hence of its schema public (PostgreSQL 15: pg_database_owner).
        self.run(f"CREATE ROLE {name} LOGIN CREATEROLE CREATEDB PASSWORD {pg8000.native.literal(password)}")
        self.run(f"CREATE DATABASE {dbname} OWNER {name}")

    def users(self) -> set[str]:
        return {row[0] for row in self.run("SELECT rolname FROM pg_roles")}

    def grants(self, user: str, dbname: str) -> dict[str, set[str]]:
        """The user's privileges on the database and its schema public, its role attributes and
        the roles it is a member of."""
        oid = "(SELECT oid FROM pg_roles WHERE rolname = :user)"
        database = self.run(f"SELECT a.privilege_type FROM pg_database d, aclexplode(d.datacl) a "
                            f"WHERE d.datname = :db AND a.grantee = {oid}", user=user, db=dbname)
        schema = self.run(f"SELECT a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a "
                          f"WHERE n.nspname = 'public' AND a.grantee = {oid}", database=dbname, user=user)
        attributes = self.run("SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin "
                              "FROM pg_roles WHERE rolname = :user", user=user)[0]
        member_of = self.run(f"SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                             f"WHERE m.member = {oid}", user=user)
        names = ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS", "LOGIN")
        return {"database": {row[0] for row in database}, "schema public": {row[0] for row in schema},
                "attributes": {name for name, value in zip(names, attributes) if value},
                "member of": {row[0] for row in member_of}}

    def expected_app_grants(self, dbname: str, member_of: set[str] = frozenset()) -> dict[str, set[str]]:
        return {"database": set(lambda_function.POSTGRES_APP_DATABASE_PRIVILEGES.split(", ")),
                "schema public": set(lambda_function.POSTGRES_APP_SCHEMA_PRIVILEGES.split(", ")),
                "attributes": {"LOGIN"}, "member of": set(member_of)}

    def create_app_user_as_boot_did(self, user: str, password: str, dbname: str) -> None:
        self.run(f"CREATE ROLE {user} LOGIN PASSWORD {pg8000.native.literal(password)}")
        self.run(f"GRANT CONNECT, TEMPORARY ON DATABASE {dbname} TO {user}")
        self.run(f"GRANT USAGE, CREATE ON SCHEMA public TO {user}", database=dbname)

    def set_password(self, user: str, password: str) -> None:
        self.run(f"ALTER ROLE {user} PASSWORD {pg8000.native.literal(password)}")

    def logs_in(self, user: str, password: str, dbname: str | None) -> bool:
        try:
            self.connect_as(user, password, dbname).close()
        except pg8000.exceptions.Error:
            return False
        return True

    def connect_as(self, user: str, password: str, dbname: str | None):
        return pg8000.native.Connection(user, host=self.server.host, port=self.server.port, password=password,
                                        database=dbname or "postgres", ssl_context=tls_to(self.server))

    def use_table(self, user: str, password: str, dbname: str, create: bool) -> list:
        connection = self.connect_as(user, password, dbname)
        try:
            if create:
                connection.run("CREATE TABLE news (title VARCHAR(64))")
            connection.run("INSERT INTO news VALUES (:title)", title=user)
            return [row[0] for row in connection.run("SELECT title FROM news ORDER BY title")]
        finally:
            connection.close()


def admin_of(server: servers.Server):
    return MariaDbAdmin(server) if server.engine == "mysql" else PostgresAdmin(server)
