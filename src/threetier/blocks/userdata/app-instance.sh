#!/bin/bash
# Boot script of a threetier app server: the launch template's user data. CloudFormation
# renders it with Fn::Sub, which fills every dollar-brace placeholder below from the stack,
# so shell expansions here are written without braces.
#
# EC2 takes at most 16 KB of user data, and Fn::Sub makes it as long as the values it fills
# in. So this script holds only what must come first: the stack's values, the error trap
# that signals CloudFormation, and the packages that bring cfn-init. The boot steps
# (app-boot-steps.sh) and the secrets loader (app-load-secrets.py) are files in the launch
# template's metadata, which cfn-init writes to disk (fetch_boot_files).
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
readonly APP_SECRET_ARN='${AppSecretArn}'
readonly APP_LOG_GROUP='${AppLogGroup}'
readonly DB_CA_BUNDLE_URL='${DbCaBundleUrl}'
# The app's target group: a secret refresh takes this server out of it while the app restarts.
readonly TARGET_GROUP_ARN='${TargetGroupArn}'

# The EFS access point writes as this uid and gid: the app user has them here too.
readonly APP_USER_ID='${AppUserId}'
# The resource whose metadata holds the boot files, and their digest (see fetch_boot_files).
readonly BOOT_FILES_RESOURCE='${BootFilesResource}'
readonly BOOT_FILES_SHA256='${BootFilesSha256}'
readonly BOOT_STEPS=/usr/local/lib/threetier-boot-steps.sh
readonly SECRETS_LOADER=/usr/local/sbin/app-load-secrets
readonly DB_TLS_HOOK=/usr/local/lib/threetier-db-tls.py
readonly CFN_BIN=/opt/aws/bin
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
    log "this Ubuntu AMI has no $1: use an AMI with cfn-signal and cfn-init, amazon-efs-utils and the AWS CLI baked in, see the README section Supported AMIs"
    return 1
  fi
}

install_packages_ubuntu() {
  # AWS packages none of cfn-signal and cfn-init, amazon-efs-utils (whose build
  # needs a Rust toolchain) and the AWS CLI v2 for Ubuntu's apt, so the AMI has
  # them baked in (README, "Supported AMIs"): cfn-signal is there before anything
  # can fail, and nothing is compiled here but the app's own requirements.
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

fetch_boot_files() {
  # The boot steps and the secrets loader come from the AWS::CloudFormation::Init metadata of
  # the launch template, which counts against the template's size (1 MB in S3), not against
  # the user data's 16 KB: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html
  # cfn-init needs no credentials: CloudFormation lets an instance read the metadata of its
  # own stack (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/cfn-init.html),
  # and it comes with cfn-signal (aws-cfn-bootstrap). Neither an S3 object (a bucket and an
  # upload for every deploy, the console's included) nor compressed user data (cloud-init
  # would read gzip, but Fn::Sub cannot write it) would do without a second place to keep
  # the stack's values.
  local cfn_init=$CFN_BIN/cfn-init
  # An Ubuntu AMI baked by an older README linked only cfn-signal into /opt/aws/bin.
  [ -x "$cfn_init" ] || cfn_init=/opt/aws/cfn-bootstrap/bin/cfn-init
  retry "$cfn_init" --stack "$STACK_NAME" --resource "$BOOT_FILES_RESOURCE" --region "$REGION"
  # The files this launch template version was generated with, or none: a server that
  # booted while the stack was updated may have fetched newer ones.
  local digest
  digest=$(boot_files_digest)
  if [ "$digest" != "$BOOT_FILES_SHA256" ]; then
    log "cfn-init wrote boot files with sha256 $digest, not the $BOOT_FILES_SHA256 of this launch template version: the stack changed while this server booted"
    return 1
  fi
  # shellcheck source=app-boot-steps.sh
  source "$BOOT_STEPS"
}

boot_files_digest() {
  # threetier.blocks.userdata.boot_files_digest: each file's mode, owner and path, then its text.
  local file
  for file in "$BOOT_STEPS" "$SECRETS_LOADER" "$DB_TLS_HOOK"; do
    stat -c '%a %U:%G %n' "$file"
    cat "$file"
  done | sha256sum | cut -d ' ' -f 1
}

main() {
  log "starting (stack $STACK_NAME)"
  step install_packages
  step fetch_boot_files
  step fetch_db_ca_bundle
  step ship_logs
  step mount_efs
  step create_app_user
  step checkout_app
  step install_app
  step write_config
  step write_service
  step wait_for_database_login
  step start_app
  step wait_until_healthy
  signal 0
  log "done"
}

main "$@"
