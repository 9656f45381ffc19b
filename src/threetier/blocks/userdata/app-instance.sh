#!/bin/bash
# Boot script of a threetier app server. CloudFormation renders it with
# Fn::Sub, which fills every dollar-brace placeholder below from the stack, so
# shell expansions here are written without braces.
#
# Safe to run again (a reboot that re-runs user data, or by hand): every step
# checks before it changes anything. No secret value passes through this
# script or its log: the app's service reads the secrets from Secrets Manager
# each time it starts, into a root-only file under /run (memory, not disk).
set -Eeuo pipefail

readonly STACK_NAME='${AWS::StackName}'
readonly REGION='${AWS::Region}'
readonly SIGNAL_RESOURCE='${SignalResource}'
readonly EFS_ID='${EfsFileSystemId}'
readonly EFS_ACCESS_POINT='${EfsAccessPointId}'
readonly APP_PORT='${AppPort}'
readonly APP_ENTRY_POINT='${AppEntryPoint}'
readonly HEALTH_CHECK_PATH='${HealthCheckPath}'
readonly REPO_URL='${AppRepositoryUrl}'
readonly REPO_REF='${AppRepositoryRef}'
readonly DB_HOST='${DbEndpointAddress}'
readonly DB_PORT='${DbEndpointPort}'
readonly DB_NAME='${DbName}'
readonly DB_SECRET_ARN='${DbAppSecretArn}'
readonly MASTER_SECRET_ARN='${DbMasterSecretArn}'
readonly APP_SECRET_ARN='${AppSecretArn}'
readonly APP_LOG_GROUP='${AppLogGroup}'

readonly APP_USER=app
# The EFS access point writes as this uid and gid: the app user has them here too.
readonly APP_USER_ID='${AppUserId}'
readonly APP_HOME=/opt/app
readonly CONFIG_DIR=/etc/app
readonly CFN_BIN=/opt/aws/bin
readonly SECRETS_LOADER=/usr/local/sbin/app-load-secrets
readonly LOG_DIR=/var/log/app
readonly CW_AGENT=/opt/aws/amazon-cloudwatch-agent

log() {
  printf '%s threetier-boot: %s\n' "$(date -Is)" "$*"
}

signal() {
  "$CFN_BIN/cfn-signal" --exit-code "$1" --stack "$STACK_NAME" \
    --resource "$SIGNAL_RESOURCE" --region "$REGION" || log "cfn-signal could not report exit code $1"
}

STEP=starting

step() {
  # The step's name, for the error trap: a line number alone often points
  # into a shared helper, and a step that returns 1 fails in its caller.
  STEP=$1
  log "step $1"
  "$@"
}

on_error() {
  local status=$?
  log "failed in step $STEP (call stack: ${!FUNCNAME[*]:1}; line $1) with exit code $status"
  signal "$status"
  exit "$status"
}
trap 'on_error $LINENO' ERR

retry() {
  # Package managers on a first boot can race another one (on AL2023 the SSM
  # agent's dnf: amazon-linux-2023 issue 397) or hit a mirror hiccup.
  local attempt
  for attempt in 1 2 3 4; do
    "$@" && return 0
    log "attempt $attempt of 4 failed: $*"
    [ "$attempt" -lt 4 ] && sleep $((attempt * 5))
  done
  return 1
}

install_packages() {
  if command -v dnf >/dev/null 2>&1; then
    # Amazon Linux 2023. cfn-signal first, on its own: whatever fails after it
    # still reaches CloudFormation. The build packages are for the reference
    # app's pinned requirements (mysqlclient, pycairo) that pip builds from source.
    retry dnf install -y aws-cfn-bootstrap
    retry dnf install -y amazon-efs-utils amazon-cloudwatch-agent git python3 python3-pip \
      python3-devel gcc pkgconf-pkg-config mariadb-connector-c-devel cairo-devel mariadb105 postgresql15
  elif command -v apt-get >/dev/null 2>&1; then
    install_packages_ubuntu
  else
    log "unsupported distribution: this script needs dnf (Amazon Linux 2023) or apt-get (Ubuntu)"
    return 1
  fi
}

require_baked() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$2" ]; then
    log "this Ubuntu AMI has no $1: use an AMI with cfn-signal, amazon-efs-utils and the AWS CLI baked in, see the README section Supported AMIs"
    return 1
  fi
}

install_packages_ubuntu() {
  # AWS packages none of cfn-signal, amazon-efs-utils (whose build needs a Rust
  # toolchain) and the AWS CLI v2 for Ubuntu's apt, so the AMI has them baked
  # in (README, "Supported AMIs"): cfn-signal is there before anything can
  # fail, and nothing is compiled here but the app's own requirements.
  require_baked cfn-signal "$CFN_BIN/cfn-signal"
  require_baked mount.efs /sbin/mount.efs
  require_baked aws /usr/local/bin/aws
  export DEBIAN_FRONTEND=noninteractive
  retry apt-get update -y
  retry apt-get install -y git curl python3 python3-venv python3-dev build-essential pkg-config \
    default-libmysqlclient-dev libcairo2-dev default-mysql-client postgresql-client
  if [ ! -x "$CW_AGENT/bin/amazon-cloudwatch-agent-ctl" ]; then
    curl -fsSL --retry 3 -o /tmp/amazon-cloudwatch-agent.deb \
      "https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/$(dpkg --print-architecture)/latest/amazon-cloudwatch-agent.deb"
    retry apt-get install -y /tmp/amazon-cloudwatch-agent.deb
  fi
}

ship_logs() {
  # Boot log first, so a server that fails to boot still tells why.
  install -d -m 0755 "$LOG_DIR"
  cat > "$CW_AGENT/etc/amazon-cloudwatch-agent.json" <<AGENT
{
  "logs": {
    "logs_collected": {
      "files": {
        "collect_list": [
          {"file_path": "/var/log/cloud-init-output.log", "log_group_name": "$APP_LOG_GROUP", "log_stream_name": "{instance_id}/boot"},
          {"file_path": "$LOG_DIR/access.log", "log_group_name": "$APP_LOG_GROUP", "log_stream_name": "{instance_id}/access"},
          {"file_path": "$LOG_DIR/error.log", "log_group_name": "$APP_LOG_GROUP", "log_stream_name": "{instance_id}/error"}
        ]
      }
    }
  }
}
AGENT
  "$CW_AGENT/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s \
    -c "file:$CW_AGENT/etc/amazon-cloudwatch-agent.json"
  cat > /etc/logrotate.d/app <<ROTATE
$LOG_DIR/*.log {
  daily
  rotate 7
  compress
  missingok
  notifempty
  copytruncate
}
ROTATE
}

mount_efs() {
  # TLS in transit, IAM authorisation with the instance role, and the app's
  # access point (efs-utils): /efs is the access point's directory, written as
  # the app user whoever writes.
  local entry="$EFS_ID:/ /efs efs _netdev,tls,iam,accesspoint=$EFS_ACCESS_POINT 0 0"
  mkdir -p /efs
  grep -qxF "$entry" /etc/fstab || echo "$entry" >> /etc/fstab
  local attempt
  for attempt in $(seq 1 20); do
    if mountpoint -q /efs || mount /efs; then
      return 0
    fi
    # Mount target DNS names can take a minute to resolve after creation.
    log "EFS $EFS_ID not mountable yet (attempt $attempt of 20)"
    sleep 15
  done
  log "EFS $EFS_ID could not be mounted"
  return 1
}

create_app_user() {
  if ! getent group "$APP_USER" >/dev/null; then
    groupadd --system --gid "$APP_USER_ID" "$APP_USER"
  fi
  if ! id -u "$APP_USER" >/dev/null 2>&1; then
    useradd --system --uid "$APP_USER_ID" --gid "$APP_USER" --home-dir "$APP_HOME" \
      --shell /sbin/nologin "$APP_USER"
  fi
  install -d -o "$APP_USER" -g "$APP_USER" -m 0755 "$APP_HOME"
  chown "$APP_USER:$APP_USER" "$LOG_DIR"
}

as_app() {
  # HOME of the app user: git and pip read their config and cache from it.
  runuser -u "$APP_USER" -- env HOME="$APP_HOME" "$@"
}

checkout_app() {
  local src="$APP_HOME/src"
  as_app git init -q "$src"
  as_app git -C "$src" remote remove origin 2>/dev/null || true
  as_app git -C "$src" remote add origin "$REPO_URL"
  as_app git -C "$src" fetch -q --depth 1 origin "$REPO_REF"
  as_app git -C "$src" checkout -q --force --detach FETCH_HEAD
}

install_app() {
  local venv="$APP_HOME/venv"
  [ -x "$venv/bin/python" ] || as_app python3 -m venv "$venv"
  as_app "$venv/bin/pip" install --quiet --upgrade pip
  # Source packages build against this venv's own tools: old pins such as
  # PyYAML 5.4 fail to build with Cython 3 in an isolated build environment.
  # setuptools within a range both kinds build with: old pins need its
  # pkg_resources (gunicorn 20.1), which 81 and later drop; current sdists
  # (mysqlclient 2.2+) need 77 or later. Python 3.12 venvs ship none at all.
  as_app "$venv/bin/pip" install --quiet 'cython<3' wheel 'setuptools>=77,<81'
  as_app "$venv/bin/pip" install --quiet --no-build-isolation -r "$APP_HOME/src/requirements.txt"
  as_app "$venv/bin/pip" install --quiet gunicorn
}

write_config() {
  install -d -m 0755 "$CONFIG_DIR"
  # Everything the app needs except secrets; the loader adds those at start.
  cat > "$CONFIG_DIR/app.conf" <<CONF
AWS_REGION=$REGION
DB_SECRET_ARN=$DB_SECRET_ARN
MASTER_SECRET_ARN=$MASTER_SECRET_ARN
APP_SECRET_ARN=$APP_SECRET_ARN
MYSQL_HOST=$DB_HOST
MYSQL_PORT=$DB_PORT
MYSQL_DB=$DB_NAME
CONF
  chmod 0644 "$CONFIG_DIR/app.conf"

  cat > "$SECRETS_LOADER" <<'LOADER'
#!/usr/bin/python3
"""Write the app's secrets to /run/app/app.env (root only). Prints no value.

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
LOADER
  chmod 0700 "$SECRETS_LOADER"
}

write_service() {
  local workers=$(( $(nproc) * 2 + 1 ))
  cat > /etc/systemd/system/app.service <<UNIT
[Unit]
Description=threetier app (gunicorn on port $APP_PORT)
Wants=network-online.target
Requires=app-db-user.service
After=network-online.target remote-fs.target app-db-user.service
RequiresMountsFor=/efs

[Service]
User=$APP_USER
Group=$APP_USER
WorkingDirectory=$APP_HOME/src
EnvironmentFile=$CONFIG_DIR/app.conf
EnvironmentFile=-/run/app/app.env
# '+': the loader runs as root, so only root can read what it writes.
ExecStartPre=+$SECRETS_LOADER
ExecStart=$APP_HOME/venv/bin/gunicorn --bind 0.0.0.0:$APP_PORT --workers $workers --access-logfile $LOG_DIR/access.log --error-logfile $LOG_DIR/error.log $APP_ENTRY_POINT
Restart=on-failure
RestartSec=5
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full

[Install]
WantedBy=multi-user.target
UNIT
  # The app's own database user, created once per environment by the first
  # server (a no-op afterwards, rotations included), as the master user.
  cat > /etc/systemd/system/app-db-user.service <<UNIT
[Unit]
Description=Create the app's database user if it does not exist yet
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=$CONFIG_DIR/app.conf
ExecStart=$SECRETS_LOADER --ensure-db-user
UNIT
  # A rotated secret reaches the app: every 5 minutes, at a random offset of up
  # to 4 more per server, so servers restart one by one, not together. The
  # rotation keeps the previous credentials valid meanwhile (README, Secrets).
  cat > /etc/systemd/system/app-secrets-refresh.service <<UNIT
[Unit]
Description=Restart the app when its secrets changed (a rotation)
After=app.service

[Service]
Type=oneshot
EnvironmentFile=$CONFIG_DIR/app.conf
ExecStart=$SECRETS_LOADER --restart-if-changed
UNIT
  cat > /etc/systemd/system/app-secrets-refresh.timer <<UNIT
[Unit]
Description=Check the app's secrets for a rotation

[Timer]
OnBootSec=5min
OnUnitActiveSec=5min
RandomizedDelaySec=4min

[Install]
WantedBy=timers.target
UNIT
  systemctl daemon-reload
  systemctl enable app.service app-secrets-refresh.timer
  systemctl restart app.service
  systemctl start app-secrets-refresh.timer
}

wait_until_healthy() {
  local attempt
  for attempt in $(seq 1 30); do
    # --max-time: an app stuck on an unreachable database must not hang the loop.
    if curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$APP_PORT$HEALTH_CHECK_PATH"; then
      return 0
    fi
    log "app not answering on port $APP_PORT yet (attempt $attempt of 30)"
    sleep 5
  done
  log "app never answered $HEALTH_CHECK_PATH on port $APP_PORT"
  return 1
}

main() {
  log "starting (stack $STACK_NAME)"
  step install_packages
  step ship_logs
  step mount_efs
  step create_app_user
  step checkout_app
  step install_app
  step write_config
  step write_service
  step wait_until_healthy
  signal 0
  log "done"
}

main "$@"
