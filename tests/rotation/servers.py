"""Real MariaDB and PostgreSQL servers on 127.0.0.1 for the rotation tests, without systemd.

The recipes of /work/shared/notes/deploy-identity-and-limits.md ("Real database servers in a test,
without systemd"): each server in its own temporary directory on a free port, with TLS from a
throwaway CA made for the run (the rotation function refuses plain text), and only TLS logins
with a password accepted over TCP. Each server is stopped by its own pid or data directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pg8000.native
import pymysql

MARIADB_BINARIES = ("mariadb-install-db", "mariadbd")

def postgres_bin() -> Path:
    """Debian's and Ubuntu's server binaries, newest major version first (Debian 12 has 15)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return versions[-1].parent if versions else Path("/usr/lib/postgresql/15/bin")


POSTGRES_BIN = postgres_bin()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_tls_files(directory: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it, valid for two days."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {name: directory / name for name in ("ca.pem", "ca.key", "server.pem", "server.key")}
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                          "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                          "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    commands = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=rotation test CA",
         "-keyout", files["ca.key"], "-out", files["ca.pem"],
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", files["server.key"], "-out", directory / "server.csr"],
        ["openssl", "x509", "-req", "-in", directory / "server.csr", "-CA", files["ca.pem"], "-CAkey", files["ca.key"],
         "-CAcreateserial", "-days", "2", "-extfile", extensions, "-out", files["server.pem"]],
    ]
    for command in commands:
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return files


def wait_until(ready, what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start in {seconds} s: {log.read_text(errors='replace')[-2000:]}")


@dataclass
class Server:
    """A running server: where it listens and how its administrator reaches it (not over TCP)."""

    engine: str
    port: int
    directory: Path
    ca_file: Path
    host: str = "127.0.0.1"
    admin: dict = field(default_factory=dict)


def missing_mariadb() -> str | None:
    absent = [binary for binary in MARIADB_BINARIES if shutil.which(binary) is None]
    return f"not installed: {', '.join(absent)} (apt-get install mariadb-server)" if absent else None


def start_mariadb(directory: Path, tls: dict[str, Path]) -> Server:
    data = directory / "data"
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                    "--auth-root-authentication-method=normal"], check=True, capture_output=True)
    port, socket_path, log = free_port(), directory / "s.sock", directory / "mariadb.log"
    with open(log, "wb") as output:
        subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root", f"--port={port}",
                          "--bind-address=127.0.0.1", f"--socket={socket_path}", f"--pid-file={directory / 'p.pid'}",
                          f"--ssl-ca={tls['ca.pem']}", f"--ssl-cert={tls['server.pem']}", f"--ssl-key={tls['server.key']}",
                          "--skip-name-resolve", "--innodb-buffer-pool-size=32M"],
                         stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("mysql", port, directory, tls["ca.pem"], admin={"unix_socket": str(socket_path), "user": "root"})
    wait_until(lambda: _mariadb_answers(server), "MariaDB", log)
    return server


def _mariadb_answers(server: Server) -> bool:
    try:
        mariadb_admin(server).close()
    except pymysql.MySQLError:
        return False
    return True


def mariadb_admin(server: Server):
    """root over the server's socket, which needs no password and no TLS."""
    return pymysql.connect(**server.admin, autocommit=True)


def stop_mariadb(server: Server) -> None:
    pid_file = server.directory / "p.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    os.kill(pid, 15)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that has exited but was not reaped yet still answers signal 0.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def missing_postgres() -> str | None:
    absent = [str(POSTGRES_BIN / binary) for binary in ("initdb", "pg_ctl") if not (POSTGRES_BIN / binary).exists()]
    if shutil.which("runuser") is None:
        absent.append("runuser")
    return f"not installed: {', '.join(absent)} (apt-get install postgresql)" if absent else None


def _as_postgres(*command) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: its tools run as the postgres user."""
    return subprocess.run(["runuser", "-u", "postgres", "--", *[str(part) for part in command]],
                          check=True, capture_output=True, text=True)


def start_postgres(directory: Path, tls: dict[str, Path]) -> Server:
    shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    _as_postgres(POSTGRES_BIN / "initdb", "-D", data, "-A", "trust", "-U", "postgres")
    # The server reads its key only when the postgres user owns it and no one else can read it.
    for name in ("server.pem", "server.key"):
        shutil.copy(tls[name], data / name)
        shutil.chown(data / name, "postgres", "postgres")
        (data / name).chmod(0o600)
    # Over TCP only TLS with a password (SCRAM); the socket, for the administrator, as initdb made it.
    (data / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n")
    port, log = free_port(), directory / "postgres.log"
    options = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=server.pem "
               "-c ssl_key_file=server.key -c password_encryption=scram-sha-256 -c fsync=off")
    _as_postgres(POSTGRES_BIN / "pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")
    return Server("postgres", port, directory, tls["ca.pem"],
                  admin={"user": "postgres", "unix_sock": str(directory / f".s.PGSQL.{port}")})


def postgres_admin(server: Server, database: str = "postgres"):
    """The postgres superuser over the server's socket (trust), no TLS."""
    return pg8000.native.Connection(database=database, **server.admin)


def stop_postgres(server: Server) -> None:
    if (server.directory / "data" / "postmaster.pid").exists():
        _as_postgres(POSTGRES_BIN / "pg_ctl", "-D", server.directory / "data", "-m", "fast", "-w", "stop")
