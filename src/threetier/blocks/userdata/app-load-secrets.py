#!/usr/bin/python3
"""Write the app's secrets to /run/app/app.env (root only). Prints no value.

/usr/local/sbin/app-load-secrets on an app server: cfn-init writes it there from the launch
template's metadata (see app-instance.sh), and app.service runs it before the app starts.

With --restart-if-changed (the refresh timer): write nothing, and restart the
app when the secrets differ from what it started with (a rotation).
With --wait-for-login SECONDS (a boot, before the app starts): wait until the
app's database user logs in with the secret's current value, re-read at each
try; exit 1 when it still does not after SECONDS. The server never creates that
user: the app secret's first rotation does, as the master (docs/security.md, Secrets).
"""
import json
import os
import subprocess
import sys
import time

ENV_FILE = "/run/app/app.env"


def secret(arn):
    result = subprocess.run(
        ["aws", "secretsmanager", "get-secret-value", "--region", os.environ["AWS_REGION"],
         "--secret-id", arn, "--query", "SecretString", "--output", "text"],
        check=True, capture_output=True, text=True,
    )
    return json.loads(result.stdout)


def run_root_only(argv, sql, env=None, config=None):
    """Run a database client with the SQL on stdin; a client config file lives only meanwhile.
    True when the client succeeded; what it printed goes to this process's output."""
    path = "/run/app/client.cnf"
    os.makedirs("/run/app", mode=0o700, exist_ok=True)
    try:
        if config is not None:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as config_file:
                config_file.write(config)
            argv = [argv[0], "--defaults-extra-file=" + path, *argv[1:]]
        done = subprocess.run(argv, input=sql, text=True, env={**os.environ, **(env or {})},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        sys.stderr.write(done.stderr)
        return done.returncode == 0
    finally:
        if os.path.exists(path):
            os.remove(path)


def logs_in(user):
    """Whether the secret's user logs in to the app's database and runs a query."""
    host, port, database = os.environ["MYSQL_HOST"], os.environ["MYSQL_PORT"], os.environ["MYSQL_DB"]
    if user.get("engine", "mysql").startswith("postgres"):
        return run_root_only(["psql", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", user["username"],
                              "-d", database], "SELECT 1;\n",
                             env={"PGPASSWORD": user["password"], "PGSSLMODE": "require", "PGCONNECT_TIMEOUT": "5"})
    quoted = user["password"].replace("\\", "\\\\").replace('"', '\\"')
    config = "[client]\nuser=" + user["username"] + '\npassword="' + quoted + '"\n'
    return run_root_only(["mysql", "-h", host, "-P", port, "--connect-timeout=5", database], "SELECT 1;\n",
                         config=config)


def wait_for_login(seconds):
    deadline = time.monotonic() + seconds
    while True:
        user = secret(os.environ["DB_SECRET_ARN"])
        if logs_in(user):
            say("the app's database user " + user["username"] + " logs in")
            return 0
        if time.monotonic() >= deadline:
            say("the app's database user " + user["username"] + " still cannot log in after " + str(seconds)
                + " s: has the app secret's first rotation run? (its rotation function's log group)")
            return 1
        say("the app's database user " + user["username"] + " cannot log in yet: the app secret's first "
            "rotation creates it; trying again in 10 s")
        time.sleep(10)


def say(line):
    # At once: a pipe to the journal would otherwise hold the lines until the wait ends.
    print(line, flush=True)


if "--wait-for-login" in sys.argv:
    sys.exit(wait_for_login(int(sys.argv[sys.argv.index("--wait-for-login") + 1])))
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
