# shellcheck shell=bash
# Boot steps of a threetier app server. Not user data: cfn-init writes this file from the
# launch template's metadata, and the user data (app-instance.sh) checks it and sources it,
# so these functions run in the user data's shell, with its settings (set -Eeuo pipefail,
# the error trap that signals CloudFormation), the stack's values (STACK_NAME, REPO_URL, ...)
# and its helpers (log, retry, step). CloudFormation does not substitute anything here:
# a dollar-brace is the shell's own.

readonly APP_USER=app
readonly APP_HOME=/opt/app
readonly CONFIG_DIR=/etc/app
readonly LOG_DIR=/var/log/app
# How long a boot waits for the app's database login (wait_for_database_login).
readonly DB_LOGIN_WAIT_SECONDS=300
# The CA bundle the app's database connections verify the server's certificate with.
readonly DB_CA_BUNDLE=$CONFIG_DIR/db-ca-bundle.pem

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

fetch_db_ca_bundle() {
  # RDS signs each database's certificate with a CA of its region, and publishes the region's
  # bundle per partition (DB_CA_BUNDLE_URL, from the template's mapping): "Using SSL/TLS to
  # encrypt a connection to a DB instance or cluster", RDS User Guide,
  # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
  # Fetched over HTTPS (the host's web PKI vouches for AWS's truststore), not pinned by digest:
  # RDS adds CAs to the bundle, and a pinned one would fail every boot after that. A bundle
  # that holds no certificate, or that Python cannot load, fails here rather than at a login.
  install -d -m 0755 "$CONFIG_DIR"
  retry curl -fsS --max-time 30 -o "$DB_CA_BUNDLE.new" "$DB_CA_BUNDLE_URL"
  if ! grep -q -- '-----BEGIN CERTIFICATE-----' "$DB_CA_BUNDLE.new" \
      || ! python3 -c 'import ssl, sys; ssl.create_default_context(cafile=sys.argv[1])' "$DB_CA_BUNDLE.new"; then
    log "$DB_CA_BUNDLE_URL is no PEM bundle of CA certificates"
    return 1
  fi
  chmod 0644 "$DB_CA_BUNDLE.new"
  mv "$DB_CA_BUNDLE.new" "$DB_CA_BUNDLE"
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
  # TLS for the app's MySQL drivers, which read no TLS setting from the environment (the hook's
  # docstring): a .pth file in the venv imports it whenever the venv's Python starts.
  local site
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  install -m 0644 "$DB_TLS_HOOK" "$site/threetier_db_tls.py"
  echo 'import threetier_db_tls' > "$site/threetier_db_tls.pth"
}

write_config() {
  install -d -m 0755 "$CONFIG_DIR"
  # Everything the app needs except secrets; the loader adds those at start.
  cat > "$CONFIG_DIR/app.conf" <<CONF
AWS_REGION=$REGION
DB_SECRET_ARN=$DB_SECRET_ARN
APP_SECRET_ARN=$APP_SECRET_ARN
MYSQL_HOST=$DB_HOST
MYSQL_PORT=$DB_PORT
MYSQL_DB=$DB_NAME
TARGET_GROUP_ARN=$TARGET_GROUP_ARN
APP_PORT=$APP_PORT
HEALTH_CHECK_PATH=$HEALTH_CHECK_PATH
DB_CA_BUNDLE=$DB_CA_BUNDLE
PGSSLMODE=verify-full
PGSSLROOTCERT=$DB_CA_BUNDLE
CONF
  chmod 0644 "$CONFIG_DIR/app.conf"
}

write_service() {
  local workers=$(( $(nproc) * 2 + 1 ))
  cat > /etc/systemd/system/app.service <<UNIT
[Unit]
Description=threetier app (gunicorn on port $APP_PORT)
Wants=network-online.target
After=network-online.target remote-fs.target
RequiresMountsFor=/efs

[Service]
User=$APP_USER
Group=$APP_USER
WorkingDirectory=$APP_HOME/src
EnvironmentFile=$CONFIG_DIR/app.conf
EnvironmentFile=-/run/app/app.env
# '+': the loader runs as root, so only root can read what it writes.
ExecStartPre=+$SECRETS_LOADER
# --capture-output: what the app prints or writes to stderr (a database error it reports
# itself) goes to the error log, which the agent ships and the metric filter reads, not to
# the journal; gunicorn does so only with a file for --error-logfile. Unbuffered, so a
# printed line is there at once, not when a buffer fills.
Environment=PYTHONUNBUFFERED=1
ExecStart=$APP_HOME/venv/bin/gunicorn --bind 0.0.0.0:$APP_PORT --workers $workers --access-logfile $LOG_DIR/access.log --error-logfile $LOG_DIR/error.log --capture-output $APP_ENTRY_POINT
Restart=on-failure
RestartSec=5
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full

[Install]
WantedBy=multi-user.target
UNIT
  # Waits until the app's database user logs in (wait_for_database_login). The app secret's
  # first rotation creates that user as the master, and its schedule starts that rotation
  # without waiting for it to end (README, Secrets): a server may get here first. A unit, not a
  # command, so it runs with the app service's environment.
  cat > /etc/systemd/system/app-db-login.service <<UNIT
[Unit]
Description=Wait until the app's database user logs in
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
EnvironmentFile=$CONFIG_DIR/app.conf
ExecStart=$SECRETS_LOADER --wait-for-login $DB_LOGIN_WAIT_SECONDS
TimeoutStartSec=$(( DB_LOGIN_WAIT_SECONDS + 60 ))
UNIT
  # A rotated secret reaches the app: every 5 minutes, at a random offset of up
  # to 4 more per server, so servers restart one by one, not together. The
  # rotation keeps the previous credentials valid meanwhile (README, Secrets).
  # The loader restarts the app out of service (docs/rotation.md, "A refresh drops no
  # request"): its waits are bounded (5 + 5 + 2.5 + 5 minutes), and so is this.
  cat > /etc/systemd/system/app-secrets-refresh.service <<UNIT
[Unit]
Description=Restart the app out of service when its secrets changed (a rotation)
After=app.service

[Service]
Type=oneshot
EnvironmentFile=$CONFIG_DIR/app.conf
ExecStart=$SECRETS_LOADER --restart-if-changed
TimeoutStartSec=1200
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
}

wait_for_database_login() {
  # An app that cannot log in may still answer its health check (one that does not touch the
  # database), and the server would signal success without serving; or it may crash-loop until
  # the health check gives up. So the app starts only once its login works: the loader re-reads
  # the secret and tries it every few seconds, so a rotation that ends meanwhile is picked up.
  # Bounded well within the group's signal timeout (20 minutes): a login that never works fails
  # the boot here, by name, with the reason in the unit's journal.
  if ! systemctl start app-db-login.service; then
    journalctl -u app-db-login.service -o cat --no-pager | tail -n 5
    return 1
  fi
}

start_app() {
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
