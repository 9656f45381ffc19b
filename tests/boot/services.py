"""What stands in for AWS inside a boot test's network namespace; run there with
`ip netns exec NS python -m tests.boot.services STATE_DIR`.

- IMDSv2 on 169.254.169.254:80: token required, instance id, region, role credentials;
- moto on 127.0.0.1:4566 for Secrets Manager, seeded from STATE_DIR/secrets.json (a value may
  name another secret's ARN as `${name}`, as the data stack's app secret names the master's),
  recording each request's action, SecretId and caller (access key id) in STATE_DIR/requests.jsonl;
  on the same port, Elastic Load Balancing: the app's target group (its ARN in
  STATE_DIR/target-group-arn) with this instance and another registered, as the Auto Scaling group
  leaves them,
  recording each call's action, targets, caller and time in STATE_DIR/elb.jsonl;
- a SignalResource recorder on 127.0.0.1:4567 (moto has none), appending to STATE_DIR/signals.jsonl
  each signal and when it arrived;
  on the same port, DescribeStackResource of the app stack's launch template, for cfn-init: its
  metadata as the app template has it, or STATE_DIR/metadata.json where a test changed it;
  on the same port, POST /rotate {"SecretId": ...}: a rotation of that secret by the project's own
  rotation function, its four steps driven as Secrets Manager drives them (as the rotation tests
  do, tests/rotation/deployment.py), against this namespace's MariaDB over TLS (CA:
  STATE_DIR/tls/ca.pem) and this moto, with the function's own credentials (ROTATION_KEY_ID).

Writes STATE_DIR/ready (the secret ARNs, as JSON) once everything listens.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

IMDS_ADDRESS = ("169.254.169.254", 80)
MOTO_PORT = 4566
RECORDER_PORT = 4567
INSTANCE_ID = "i-0123456789abcdef0"
# Another server of the group, registered in the target group beside this one (moto reports it healthy).
PEER_INSTANCE_ID = "i-0fedcba9876543210"
REGION = "us-east-1"
ROLE = "threetier-boot-test-role"
TOKEN = "boot-test-token"  # pragma: allowlist secret (the fake IMDS session token)
# Who called moto: the instance role's key (IMDS), or the rotation function's.
INSTANCE_KEY_ID = "ASIABOOTTEST"
ROTATION_KEY_ID = "ROTATIONFUNCTION"


class Imds(BaseHTTPRequestHandler):
    """IMDSv2 only: every GET needs the session token from a PUT, as with HttpTokens=required."""

    paths = {
        "/latest/meta-data/instance-id": INSTANCE_ID,
        "/latest/meta-data/placement/region": REGION,
        "/latest/dynamic/instance-identity/document": json.dumps(
            {"instanceId": INSTANCE_ID, "region": REGION, "accountId": "123456789012"}),
        "/latest/meta-data/iam/security-credentials/": ROLE,
        f"/latest/meta-data/iam/security-credentials/{ROLE}": json.dumps({
            "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": INSTANCE_KEY_ID,
            "SecretAccessKey": "boot-test-secret", "Token": "boot-test-session",  # pragma: allowlist secret
            "Expiration": "2099-01-01T00:00:00Z", "LastUpdated": "2026-01-01T00:00:00Z",
        }),
    }

    def do_PUT(self):
        if self.path != "/latest/api/token" or "X-aws-ec2-metadata-token-ttl-seconds" not in self.headers:
            return self._reply(400, "")
        self._reply(200, TOKEN)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self._reply(401, "")
        body = self.paths.get(self.path)
        self._reply(404 if body is None else 200, body or "")

    def _reply(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def recorder(state: Path, resource: str, metadata: dict):
    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/rotate":
                return self._rotate(json.loads(body)["SecretId"])
            with (state / "signals.jsonl").open("a") as out:
                out.write(json.dumps({"received": time.time(), "signal": json.loads(body)}) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            """DescribeStackResource (the query API, JSON), recorded in STATE_DIR/described.jsonl."""
            query = {key: value for key, (value,) in parse_qs(urlsplit(self.path).query).items()}
            with (state / "described.jsonl").open("a") as out:
                out.write(json.dumps(query) + "\n")
            if query.get("Action") != "DescribeStackResource" or query.get("LogicalResourceId") != resource:
                missing = f"Resource {query.get('LogicalResourceId')} does not exist for stack {query.get('StackName')}"
                return self._reply(400, {"Error": {"Code": "ValidationError", "Message": missing}})
            changed = state / "metadata.json"
            served = json.loads(changed.read_text()) if changed.exists() else metadata
            detail = {"StackName": query["StackName"], "LogicalResourceId": resource, "Metadata": json.dumps(served)}
            self._reply(200, {"DescribeStackResourceResponse": {"DescribeStackResourceResult": {
                "StackResourceDetail": detail}}})

        def _rotate(self, arn: str) -> None:
            try:
                rotate(arn)
            except Exception as error:  # the test reads why
                return self._reply(500, {"Error": f"{type(error).__name__}: {error}"})
            self._reply(200, {"Rotated": arn})

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Recorder


def rotate(arn: str) -> None:
    """One rotation of the secret as Secrets Manager runs it: rotation on (as a RotationSchedule
    sets it), a new version staged AWSPENDING, then the function's four steps with its token."""
    import boto3

    from tests.rotation.deployment import SecretsManagerStandIn

    client = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{MOTO_PORT}", region_name=REGION,
                          aws_access_key_id=ROTATION_KEY_ID, aws_secret_access_key="rotation")  # pragma: allowlist secret
    secrets = SecretsManagerStandIn(client)
    secrets.enable_rotation(arn)
    secrets.rotate(arn)


def function_environment(state: Path) -> dict[str, str]:
    """The rotation function's environment: what the template sets, pointed at this moto, the test
    CA as its CA bundle (the server's certificate is verified), and its own credentials."""
    return {"SECRETS_MANAGER_ENDPOINT": f"http://127.0.0.1:{MOTO_PORT}", "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ROTATION_KEY_ID, "AWS_SECRET_ACCESS_KEY": "rotation",  # pragma: allowlist secret
            "DB_CA_BUNDLE": str(state / "tls" / "ca.pem")}


CREDENTIAL = re.compile(r"Credential=([^/]+)/")


def recording(app, log: Path, elb_log: Path):
    """moto's WSGI app, appending each Secrets Manager request's action, SecretId and access key id to
    `log`, and each Elastic Load Balancing call (action, target group, targets, caller, time) to `elb_log`."""
    lock = threading.Lock()

    def record(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        if "/elasticloadbalancing/" in environ.get("HTTP_AUTHORIZATION", ""):
            with lock, elb_log.open("a") as out:
                out.write(json.dumps(elb_call(body, environ)) + "\n")
            return app(environ, start_response)
        try:
            secret_id = json.loads(body).get("SecretId")
        except (ValueError, AttributeError):
            secret_id = None
        key = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        entry = {"Action": environ.get("HTTP_X_AMZ_TARGET", ""), "SecretId": secret_id,
                 "AccessKeyId": key.group(1) if key else None}
        with lock, log.open("a") as out:
            out.write(json.dumps(entry) + "\n")
        return app(environ, start_response)

    return record


def elb_call(body: bytes, environ: dict) -> dict:
    """An Elastic Load Balancing query-API call as the recorder keeps it."""
    form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
    key = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return {"time": time.time(), "Action": form.get("Action"), "TargetGroupArn": form.get("TargetGroupArn"),
            "Targets": sorted(value for name, value in form.items() if re.fullmatch(r"Targets\.member\.\d+\.Id", name)),
            "AccessKeyId": key.group(1) if key else None}


def start_moto(state: Path) -> None:
    """moto's server, as ThreadedMotoServer starts it, behind the request recorder."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = recording(DomainDispatcherApplication(create_backend_app), state / "requests.jsonl", state / "elb.jsonl")
    server = make_server("127.0.0.1", MOTO_PORT, app, True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def serve(address, handler) -> None:
    server = ThreadingHTTPServer(address, handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def seed_secrets(secrets: dict[str, str]) -> dict[str, str]:
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{MOTO_PORT}", region_name=REGION,
                          aws_access_key_id="seed", aws_secret_access_key="seed")  # pragma: allowlist secret
    arns: dict[str, str] = {}
    for name, value in secrets.items():
        for earlier, arn in arns.items():
            value = value.replace("${%s}" % earlier, arn)
        arns[name] = client.create_secret(Name=name, SecretString=value)["ARN"]
    return arns


def seed_target_group() -> str:
    """The app's target group, as the app stack makes it, with this instance and another server of the
    group registered in it (the Auto Scaling group registers the instances it launches). Its ARN."""
    import boto3

    options = {"endpoint_url": f"http://127.0.0.1:{MOTO_PORT}", "region_name": REGION,
               "aws_access_key_id": "seed", "aws_secret_access_key": "seed"}  # pragma: allowlist secret
    vpc = boto3.client("ec2", **options).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    elb = boto3.client("elbv2", **options)
    arn = elb.create_target_group(Name="shop-dev-app-tg", Protocol="HTTP", Port=5000, VpcId=vpc,
                                  TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": INSTANCE_ID}, {"Id": PEER_INSTANCE_ID}])
    return arn


def main(state_dir: str) -> None:
    from tests.boot import render

    state = Path(state_dir)
    os.environ.update(function_environment(state))
    serve(IMDS_ADDRESS, Imds)
    serve(("127.0.0.1", RECORDER_PORT), recorder(state, render.LAUNCH_TEMPLATE, render.launch_template_metadata()))
    start_moto(state)
    arns = seed_secrets(json.loads((state / "secrets.json").read_text()))
    (state / "target-group-arn").write_text(seed_target_group())
    (state / "ready").write_text(json.dumps(arns))
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
