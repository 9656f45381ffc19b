#!/usr/bin/python3
"""Write the app's secrets to /run/app/app.env (root only). Prints no value.

/usr/local/sbin/app-load-secrets on an app server: cfn-init writes it there from the launch
template's metadata (see app-instance.sh), and app.service runs it before the app starts.

With --restart-if-changed (the refresh timer): write nothing, and when the secrets
differ from what the app started with (a rotation), restart it out of service: take
this server's target out of the app's target group and wait until the load balancer
has drained it, restart, wait until the app answers its health check here, put the
target back and wait until the load balancer finds it healthy (restart_out_of_service).
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
import urllib.request

ENV_FILE = "/run/app/app.env"
IMDS = "http://169.254.169.254"
# Bounds of the waits around a restart. The target group's deregistration delay is 30 s
# (templates/app.py); a healthy verdict takes HealthyThresholdCount (2) checks 15 s apart.
DRAIN_WAIT_SECONDS = 300
PEER_WAIT_SECONDS = 300
LOCAL_HEALTH_WAIT_SECONDS = 150
HEALTHY_WAIT_SECONDS = 300
# How often to ask: the load balancer's answer changes in seconds, the app's within one.
ELB_POLL_SECONDS = 5
LOCAL_POLL_SECONDS = 1


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
    """Whether the secret's user logs in to the app's database and runs a query, over TLS with the
    server's certificate verified against DB_CA_BUNDLE, as the app connects (app.conf)."""
    host, port, database = os.environ["MYSQL_HOST"], os.environ["MYSQL_PORT"], os.environ["MYSQL_DB"]
    if user.get("engine", "mysql").startswith("postgres"):
        # libpq reads PGSSLMODE=verify-full and PGSSLROOTCERT from app.conf.
        return run_root_only(["psql", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", user["username"],
                              "-d", database], "SELECT 1;\n",
                             env={"PGPASSWORD": user["password"], "PGCONNECT_TIMEOUT": "5"})
    quoted = user["password"].replace("\\", "\\\\").replace('"', '\\"')
    # MariaDB's client (Amazon Linux, Debian) checks the certificate and its name with
    # ssl-verify-server-cert, MySQL's (Ubuntu) with ssl-mode; each refuses the other's option.
    client = subprocess.run(["mysql", "--version"], capture_output=True, text=True).stdout
    verify = "ssl-verify-server-cert" if "MariaDB" in client else "ssl-mode=VERIFY_IDENTITY"
    config = ("[client]\nuser=" + user["username"] + '\npassword="' + quoted + '"\nssl-ca=' + os.environ["DB_CA_BUNDLE"]
              + "\n" + verify + "\n")
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


def instance_id():
    """This server's instance id, from IMDSv2 (the launch template requires its token)."""
    session = urllib.request.urlopen(urllib.request.Request(
        IMDS + "/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}),
        timeout=2).read().decode()
    header = {"X-aws-ec2-metadata-token": session}  # pragma: allowlist secret (IMDSv2's session header)
    return urllib.request.urlopen(urllib.request.Request(IMDS + "/latest/meta-data/instance-id", headers=header),
                                  timeout=2).read().decode()


def target_group(*argv):
    """One Elastic Load Balancing call on the app's target group."""
    return subprocess.run(["aws", "elbv2", *argv, "--region", os.environ["AWS_REGION"],
                           "--target-group-arn", os.environ["TARGET_GROUP_ARN"]],
                          check=True, capture_output=True, text=True).stdout


def elbv2(target, *argv):
    """One Elastic Load Balancing call on this server's own target in the app's target group."""
    return target_group(*argv, "--targets", "Id=" + target)


def alone_or_covered(target):
    """Whether taking this target out leaves the load balancer something to send requests to: another
    target is healthy, or there is no other (a group of one restarts anyway, or it would never pick up
    the new secret). Servers refresh at random offsets, so two may reach this point together."""
    others = [line.split() for line in target_group(
        "describe-target-health", "--query", "TargetHealthDescriptions[].[Target.Id,TargetHealth.State]",
        "--output", "text").splitlines() if line.strip() and line.split()[0] != target]
    return not others or any(state == "healthy" for _, state in others)


def target_state(target):
    return elbv2(target, "describe-target-health", "--query", "TargetHealthDescriptions[0].TargetHealth.State",
                 "--output", "text").strip()


def wait_for(what, ready, seconds, every=ELB_POLL_SECONDS):
    """Poll `ready` every `every` seconds until it is true or `seconds` passed; whether it became true."""
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() >= deadline:
            say("still waiting for " + what + " after " + str(seconds) + " s: going on")
            return False
        time.sleep(every)
    say(what)
    return True


def answers_locally():
    url = "http://127.0.0.1:" + os.environ["APP_PORT"] + os.environ["HEALTH_CHECK_PATH"]
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return 200 <= response.status < 400  # the target group's matcher: 200-399
    except OSError:
        return False


def restart_out_of_service(target):
    """Restart the app while the load balancer sends it nothing, so no request fails.

    Deregistered, the target drains: the load balancer sends it no new request and lets those in
    flight finish within the deregistration delay, then reports it unused
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay).
    Deregistering, not Auto Scaling standby: the group replaces an instance whose target is
    unhealthy (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html),
    and a deregistered target is draining, then unused, never unhealthy
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html);
    standby would need the group's name in the role (a cycle in the stack) and, with the group
    at its minimum, either is refused or launches a replacement server at every rotation
    (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html).
    The target goes back in whatever the restart did: an app that does not answer is then found
    unhealthy and replaced by the group, instead of idling out of service unseen. It goes out only
    once another target is healthy (bounded: a refresh waits at most PEER_WAIT_SECONDS for one), so
    that two servers refreshing at once do not leave the load balancer with none."""
    wait_for("another target serves while this one is out, or none is registered",
             lambda: alone_or_covered(target), PEER_WAIT_SECONDS)
    elbv2(target, "deregister-targets")
    say("deregistered " + target + " from the app's target group")
    wait_for("the load balancer drained " + target, lambda: target_state(target) == "unused", DRAIN_WAIT_SECONDS)
    try:
        subprocess.run(["systemctl", "restart", "app.service"], check=True)
        answered = wait_for("the app answers its health check here", answers_locally, LOCAL_HEALTH_WAIT_SECONDS,
                            every=LOCAL_POLL_SECONDS)
    finally:
        elbv2(target, "register-targets")
        say("registered " + target + " in the app's target group again")
    healthy = wait_for("the load balancer finds " + target + " healthy", lambda: target_state(target) == "healthy",
                       HEALTHY_WAIT_SECONDS)
    return 0 if answered and healthy else 1


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
        say("the app's secrets changed: restarting app.service out of service")
        sys.exit(restart_out_of_service(instance_id()))
    sys.exit(0)
os.makedirs("/run/app", mode=0o700, exist_ok=True)
temporary = ENV_FILE + ".new"
descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(descriptor, "w") as env_file:
    env_file.write(text)
os.replace(temporary, ENV_FILE)
