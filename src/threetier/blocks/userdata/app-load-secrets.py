#!/usr/bin/python3
"""Write the app's secrets to /run/app/app.env (root only). Prints no value.

/usr/local/sbin/app-load-secrets on an app server: cfn-init writes it there from the launch
template's metadata (see app-instance.sh), and app.service runs it before the app starts.

With --restart-if-changed (the refresh timer): write nothing, and restart the
app when the secrets differ from what it started with (a rotation).
With --ensure-db-user (before the app starts): create the app's own database
user, if it does not exist yet, as the master user, with the grants the app
needs on its database and no more.
"""
import json
import os
import subprocess
import sys

ENV_FILE = "/run/app/app.env"


def secret(arn):
    result = subprocess.run(
        ["aws", "secretsmanager", "get-secret-value", "--region", os.environ["AWS_REGION"],
         "--secret-id", arn, "--query", "SecretString", "--output", "text"],
        check=True, capture_output=True, text=True,
    )
    return json.loads(result.stdout)


def run_root_only(argv, sql, env=None, config=None):
    """Run a database client with the SQL on stdin; a client config file lives only meanwhile."""
    path = "/run/app/client.cnf"
    os.makedirs("/run/app", mode=0o700, exist_ok=True)
    try:
        if config is not None:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as config_file:
                config_file.write(config)
            argv = [argv[0], "--defaults-extra-file=" + path, *argv[1:]]
        subprocess.run(argv, input=sql, text=True, check=True, env={**os.environ, **(env or {})})
    finally:
        if os.path.exists(path):
            os.remove(path)


def ensure_db_user():
    master = secret(os.environ["MASTER_SECRET_ARN"])
    user = secret(os.environ["DB_SECRET_ARN"])
    host, port, database = os.environ["MYSQL_HOST"], os.environ["MYSQL_PORT"], os.environ["MYSQL_DB"]
    name = user["username"]
    if master.get("engine", "mysql").startswith("postgres"):
        password = user["password"].replace("'", "''")
        sql = (
            "DO $do$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + name + "') THEN "
            "CREATE ROLE \"" + name + "\" LOGIN PASSWORD '" + password + "'; END IF; END $do$;\n"
            "GRANT CONNECT, TEMPORARY ON DATABASE \"" + database + "\" TO \"" + name + "\";\n"
            "GRANT USAGE, CREATE ON SCHEMA public TO \"" + name + "\";\n"
        )
        run_root_only(["psql", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", master["username"],
                       "-d", database], sql, env={"PGPASSWORD": master["password"], "PGSSLMODE": "require"})
        return
    password = user["password"].replace("\\", "\\\\").replace("'", "\\'")
    sql = (
        "CREATE USER IF NOT EXISTS '" + name + "'@'%' IDENTIFIED BY '" + password + "';\n"
        "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON `" + database + "`.* "
        "TO '" + name + "'@'%';\n"
    )
    quoted = master["password"].replace("\\", "\\\\").replace('"', '\\"')
    config = "[client]\nuser=" + master["username"] + '\npassword="' + quoted + '"\n'
    run_root_only(["mysql", "-h", host, "-P", port], sql, config=config)


if "--ensure-db-user" in sys.argv:
    ensure_db_user()
    sys.exit(0)
db = secret(os.environ["DB_SECRET_ARN"])
app = secret(os.environ["APP_SECRET_ARN"])
values = {
    "MYSQL_USER": db["username"],
    "DATABASE_PASSWORD": db["password"],
    "SECRET_KEY": app["SECRET_KEY"],
    "API_KEY": app.get("API_KEY", ""),
}
text = "".join(key + "=" + json.dumps(value) + "\n" for key, value in values.items())
if "--restart-if-changed" in sys.argv:
    try:
        with open(ENV_FILE) as current:
            changed = current.read() != text
    except FileNotFoundError:
        changed = True
    if changed:
        print("the app's secrets changed: restarting app.service")
        subprocess.run(["systemctl", "restart", "app.service"], check=True)
    sys.exit(0)
os.makedirs("/run/app", mode=0o700, exist_ok=True)
temporary = ENV_FILE + ".new"
descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(descriptor, "w") as env_file:
    env_file.write(text)
os.replace(temporary, ENV_FILE)
