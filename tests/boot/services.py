"""What stands in for AWS inside a boot test's network namespace; run there with
`ip netns exec NS python -m tests.boot.services STATE_DIR`.

- IMDSv2 on 169.254.169.254:80: token required, instance id, region, role credentials;
- moto on 127.0.0.1:4566 for Secrets Manager, seeded from STATE_DIR/secrets.json;
- a SignalResource recorder on 127.0.0.1:4567 (moto has none), appending to STATE_DIR/signals.jsonl
  each signal and when it arrived;
  on the same port, DescribeStackResource of the app stack's launch template, for cfn-init: its
  metadata as the app template has it, or STATE_DIR/metadata.json where a test changed it.

Writes STATE_DIR/ready (the secret ARNs, as JSON) once everything listens.
"""

from __future__ import annotations

import json
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
REGION = "us-east-1"
ROLE = "threetier-boot-test-role"
TOKEN = "boot-test-token"  # pragma: allowlist secret (the fake IMDS session token)


class Imds(BaseHTTPRequestHandler):
    """IMDSv2 only: every GET needs the session token from a PUT, as with HttpTokens=required."""

    paths = {
        "/latest/meta-data/instance-id": INSTANCE_ID,
        "/latest/meta-data/placement/region": REGION,
        "/latest/dynamic/instance-identity/document": json.dumps(
            {"instanceId": INSTANCE_ID, "region": REGION, "accountId": "123456789012"}),
        "/latest/meta-data/iam/security-credentials/": ROLE,
        f"/latest/meta-data/iam/security-credentials/{ROLE}": json.dumps({
            "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIABOOTTEST",
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


def serve(address, handler) -> None:
    server = ThreadingHTTPServer(address, handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def seed_secrets(secrets: dict[str, str]) -> dict[str, str]:
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{MOTO_PORT}", region_name=REGION,
                          aws_access_key_id="seed", aws_secret_access_key="seed")  # pragma: allowlist secret
    return {name: client.create_secret(Name=name, SecretString=value)["ARN"] for name, value in secrets.items()}


def main(state_dir: str) -> None:
    from moto.server import ThreadedMotoServer

    from tests.boot import render

    state = Path(state_dir)
    serve(IMDS_ADDRESS, Imds)
    serve(("127.0.0.1", RECORDER_PORT), recorder(state, render.LAUNCH_TEMPLATE, render.launch_template_metadata()))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    moto.start()
    arns = seed_secrets(json.loads((state / "secrets.json").read_text()))
    (state / "ready").write_text(json.dumps(arns))
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
