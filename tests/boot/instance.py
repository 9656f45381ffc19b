"""One app server for a boot test: a fresh copy of the image booted with systemd as PID 1.

Each instance gets its own network namespace (nothing leaves it) holding the
fake IMDS at 169.254.169.254, moto (Secrets Manager), the SignalResource
recorder, the rotation function (run by the services, tests/boot/services.py)
and a real MariaDB on 127.0.0.1:3306 that takes TLS logins only; an overlayfs over the cached
image, so every instance starts clean; and `systemd-nspawn -b` in that
namespace. Commands run inside through nsenter, as the container's root.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.boot import efs, services
from tests.rotation import servers

PROJECT = Path(__file__).resolve().parents[2]
USER_DATA = "/var/lib/cloud/instance/user-data.txt"
BOOT_LOG = "/var/log/cloud-init-output.log"
# A test hook that does not exist on EC2: the AWS CLI calls of the app service
# and of its secrets refresh go to moto.
ENDPOINT_DROP_IN = f"[Service]\nEnvironment=AWS_ENDPOINT_URL=http://127.0.0.1:{services.MOTO_PORT}\n"
UNITS_CALLING_AWS = ("app.service", "app-secrets-refresh.service", "app-db-login.service")
# The test's stand-in for the RDS CA bundle a server fetches at boot (fetch_db_ca_bundle): the CA of
# this namespace's MariaDB, at a file: URL the user data is given instead of AWS's truststore.
DB_CA_BUNDLE = "/srv/test-db-ca.pem"


class Instance:
    def __init__(self, image: Path, workdir: Path, name: str, secrets: dict[str, str],
                 access_points: dict[str, dict], cpu_quota: float | None = None):
        """`access_points`: what EFS knows of them (tests/boot/efs.py); `cpu_quota`: the share of one
        host CPU the instance may use in all (its boot and everything it runs), None for no limit."""
        self.image, self.name = image, name
        self.workdir = workdir
        # Unique on the machine: two boot test runs at once (two work trees) must not delete each
        # other's namespace when they start an instance of the same name.
        self.netns = f"tt{os.getpid() % 1000:03d}-{name}"[:15]
        self.root = workdir / "merged"
        self.state = workdir / "state"
        self.secrets = secrets
        self.access_points = access_points
        self.cpu_quota = cpu_quota
        self.cgroup: Path | None = None
        self.launched_at: float | None = None
        self.arns: dict[str, str] = {}
        self.target_group_arn = ""
        self._processes: list[subprocess.Popen] = []
        self._nspawn: subprocess.Popen | None = None
        self.init_pid: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, database: dict[str, str]) -> "Instance":
        for directory in ("upper", "work", "merged", "state", "mysql"):
            (self.workdir / directory).mkdir(parents=True, exist_ok=True)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        _run("ip", "netns", "add", self.netns)
        _run("ip", "-n", self.netns, "link", "set", "lo", "up")
        _run("ip", "-n", self.netns, "addr", "add", "169.254.169.254/32", "dev", "lo")
        # The rotation function refuses a database without TLS, and verifies its certificate.
        self.tls = servers.make_tls_files(self.state / "tls")
        self._start_services()
        self._start_mariadb(database)
        _run("mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={self.image},upperdir={self.workdir / 'upper'},workdir={self.workdir / 'work'}",
             str(self.root))
        shutil.copyfile(self.tls["ca.pem"], self.root / DB_CA_BUNDLE.lstrip("/"))
        for unit in UNITS_CALLING_AWS:
            drop_in = self.root / "etc" / "systemd" / "system" / f"{unit}.d" / "boot-test.conf"
            drop_in.parent.mkdir(parents=True, exist_ok=True)
            drop_in.write_text(ENDPOINT_DROP_IN)
        self.set_access_points(self.access_points)
        if self.cpu_quota is not None:
            self.cgroup = cpu_cgroup(f"threetier-boot-{self.netns}", self.cpu_quota)
        self.launched_at = time.time()
        self.boot()
        return self

    def set_access_points(self, access_points: dict[str, dict]) -> None:
        """What EFS knows of its access points, as the mount.efs stand-in reads it at each mount."""
        path = self.root / efs.SETTINGS.lstrip("/")
        path.write_text(json.dumps(access_points))

    def boot(self) -> None:
        log = open(self.workdir / "console.log", "a")
        nspawn = ["systemd-nspawn", "--quiet", "--boot", "--directory", str(self.root), "--register=no",
                  "--keep-unit", f"--network-namespace-path=/run/netns/{self.netns}", f"--machine={self.name}",
                  "--bind=/dev/fuse"]  # for the mount.efs stand-in
        if self.cgroup is not None:  # nspawn and all it starts, from its first instruction
            nspawn = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.cgroup / "cgroup.procs"), *nspawn]
        self._nspawn = subprocess.Popen(nspawn, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + (60 if self.cpu_quota is None else 60 / self.cpu_quota)
        while time.monotonic() < deadline:
            children = subprocess.run(["pgrep", "-P", str(self._nspawn.pid)], capture_output=True, text=True)
            if children.stdout.split():
                self.init_pid = int(children.stdout.split()[0])
                state = self.run(["systemctl", "is-system-running", "--wait"], check=False, timeout=60)
                if state.stdout.strip() in ("running", "degraded"):
                    return
            if self._nspawn.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not boot: {(self.workdir / 'console.log').read_text()[-2000:]}")

    def reboot(self) -> None:
        """Power off and boot the same disk again (nspawn exits on a reboot; a new one starts)."""
        self.run(["systemctl", "poweroff"], check=False)
        self._nspawn.wait(timeout=60)
        self.boot()

    def stop(self) -> None:
        if self._nspawn is not None and self._nspawn.poll() is None:
            self.run(["systemctl", "poweroff"], check=False, timeout=10)
            try:
                self._nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._nspawn.kill()
                self._nspawn.wait()
        for process in reversed(self._processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["umount", str(self.root)], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        if self.cgroup is not None:
            subprocess.run(["rmdir", str(self.cgroup)], capture_output=True)  # empty once nspawn has ended

    # ------------------------------------------------------------------ inside the instance

    def run(self, argv: list[str], check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(["nsenter", "-t", str(self.init_pid), "-a", *argv],
                                capture_output=True, text=True, timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise RuntimeError(f"{argv} exited {result.returncode}: {result.stdout}{result.stderr}")
        return result

    def run_user_data(self, script: str, xtrace: bool = False, timeout: float = 900) -> tuple[int, float]:
        """Run the rendered user data as cloud-init would (root, output to the boot log, and, as in
        cloud-final.service, KillMode=process: what it leaves running, such as a FUSE daemon,
        stays). Returns its exit code and how long it took."""
        path = self.root / USER_DATA.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(script)
        path.chmod(0o700)
        started = time.monotonic()
        result = self.run(
            ["systemd-run", "--wait", "--quiet", "--collect", "--service-type=exec", "--property=KillMode=process",
             f"--property=StandardOutput=append:{BOOT_LOG}", f"--property=StandardError=append:{BOOT_LOG}",
             "/bin/bash", *(["-x"] if xtrace else []), USER_DATA],
            check=False, timeout=timeout)
        return result.returncode, time.monotonic() - started

    def read(self, path: str) -> str:
        """A file on the instance's disk (not /run: that is memory inside the container)."""
        return (self.root / path.lstrip("/")).read_text()

    def http(self, method: str, path: str, port: int = 5000) -> tuple[int, str]:
        result = self.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/stdout", "-w", "\n%{http_code}",
                           "-X", method, f"http://127.0.0.1:{port}{path}"], check=False)
        body, _, code = result.stdout.rpartition("\n")
        return int(code or 0), body

    def signals(self) -> list[dict]:
        return [record["signal"] for record in self._signal_records()]

    def signal_times(self) -> list[float]:
        """When each signal reached the recorder, in seconds since the epoch (as time.time())."""
        return [record["received"] for record in self._signal_records()]

    def _signal_records(self) -> list[dict]:
        path = self.state / "signals.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def cpu_throttling(self) -> tuple[int, float]:
        """How often the CPU quota held the instance back, and for how many seconds in all."""
        stat = dict(line.split() for line in (self.cgroup / "cpu.stat").read_text().splitlines())
        if "nr_throttled" in stat and "throttled_time" in stat:  # cgroup v1: nanoseconds
            return int(stat["nr_throttled"]), int(stat["throttled_time"]) / 1e9
        return int(stat["nr_throttled"]), int(stat["throttled_usec"]) / 1e6  # cgroup v2

    # ------------------------------------------------------------------ the stand-ins for AWS

    def _in_netns(self, *argv: str, **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(["ip", "netns", "exec", self.netns, *argv], **kwargs)
        self._processes.append(process)
        return process

    def _start_services(self) -> None:
        (self.state / "secrets.json").write_text(json.dumps(self.secrets))
        log = open(self.workdir / "services.log", "w")
        self._in_netns(sys.executable, "-m", "tests.boot.services", str(self.state),
                       cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT)
        self.arns = json.loads(_wait_for(self.state / "ready", 60, self.workdir / "services.log"))
        self.target_group_arn = (self.state / "target-group-arn").read_text()

    def _start_mariadb(self, database: dict[str, str]) -> None:
        data = self.workdir / "mysql"
        _run("mariadb-install-db", "--user=root", f"--datadir={data}", "--auth-root-authentication-method=normal",
             "--skip-test-db")
        socket = data / "mysqld.sock"
        self.start_database()
        # The database RDS creates (DBName) and the master user; the app's own user
        # is the app secret's first rotation's to create (rotate).
        user, password = (sql_text(database[k]) for k in ("master_username", "master_password"))
        sql = (f"CREATE DATABASE `{database['dbname']}`; CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'; "
               f"GRANT ALL ON *.* TO '{user}'@'%' WITH GRANT OPTION;")
        _run("mariadb", f"--socket={socket}", "-uroot", "-e", sql)

    def start_database(self) -> None:
        """Start MariaDB on its data directory (again, after stop_database) and wait until it listens."""
        data = self.workdir / "mysql"
        socket = data / "mysqld.sock"
        socket.unlink(missing_ok=True)  # the server is down: a socket left behind would pass the wait below
        log = open(self.workdir / "mariadb.log", "a")
        self._mariadbd = self._in_netns(
            "mariadbd", "--user=root", f"--datadir={data}", "--bind-address=127.0.0.1",
            "--port=3306", f"--socket={socket}", f"--pid-file={data / 'mariadbd.pid'}",
            "--skip-name-resolve", f"--ssl-ca={self.tls['ca.pem']}", f"--ssl-cert={self.tls['server.pem']}",
            f"--ssl-key={self.tls['server.key']}",
            # As the RDS parameter group sets it: a login without TLS is refused.
            "--require-secure-transport=ON", stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not socket.exists():
            if time.monotonic() > deadline or self._mariadbd.poll() is not None:
                raise RuntimeError(f"MariaDB did not start: {(self.workdir / 'mariadb.log').read_text()[-2000:]}")
            time.sleep(0.2)

    def stop_database(self) -> None:
        """Shut MariaDB down cleanly (SIGTERM), as an outage or a failover looks to the app."""
        self._mariadbd.send_signal(signal.SIGTERM)
        self._mariadbd.wait(timeout=60)
        self._processes.remove(self._mariadbd)

    def put_secret(self, name: str, value: str) -> None:
        """A new AWSCURRENT version of one seeded secret, as a rotation's last step makes it."""
        code = ("import boto3, sys; boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name=sys.argv[2], "
                "aws_access_key_id='t', aws_secret_access_key='t').put_secret_value("  # pragma: allowlist secret
                "SecretId=sys.argv[3], SecretString=sys.stdin.read())")
        subprocess.run(["ip", "netns", "exec", self.netns, sys.executable, "-c", code,
                        f"http://127.0.0.1:{services.MOTO_PORT}", services.REGION, self.arns[name]],
                       input=value, text=True, check=True, capture_output=True)

    def rotate(self, name: str) -> None:
        """A rotation of one seeded secret by the project's rotation function, all four steps, as
        the secret's RotationSchedule starts it (the services run it inside the namespace)."""
        code = ("import json, sys, urllib.error, urllib.request\n"
                "try:\n"
                "    urllib.request.urlopen(urllib.request.Request(sys.argv[1], method='POST',\n"
                "                           data=json.dumps({'SecretId': sys.argv[2]}).encode()), timeout=120)\n"
                "except urllib.error.HTTPError as error:\n"
                "    sys.exit(error.read().decode())\n")
        result = subprocess.run(["ip", "netns", "exec", self.netns, sys.executable, "-c", code,
                                 f"http://127.0.0.1:{services.RECORDER_PORT}/rotate", self.arns[name]],
                                text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"the rotation of {name} failed: {result.stderr[-2000:]}")

    def secret_value(self, name: str) -> dict:
        """A seeded secret's AWSCURRENT value, as the test reads it (not recorded as the server's)."""
        code = ("import boto3, sys; print(boto3.client('secretsmanager', endpoint_url=sys.argv[1], "
                "region_name=sys.argv[2], aws_access_key_id='t', aws_secret_access_key='t')"  # pragma: allowlist secret
                ".get_secret_value(SecretId=sys.argv[3])['SecretString'])")
        result = subprocess.run(["ip", "netns", "exec", self.netns, sys.executable, "-c", code,
                                 f"http://127.0.0.1:{services.MOTO_PORT}", services.REGION, self.arns[name]],
                                text=True, check=True, capture_output=True)
        return json.loads(result.stdout)

    def elb_calls(self) -> list[dict]:
        """Every Elastic Load Balancing call so far: time, action, target group, targets, caller."""
        path = self.state / "elb.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def secrets_requests(self) -> list[dict]:
        """Every Secrets Manager request so far: action, SecretId and caller's access key id."""
        path = self.state / "requests.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def mariadb(self, query: str, database: str) -> str:
        return subprocess.run(["mariadb", f"--socket={self.workdir / 'mysql' / 'mysqld.sock'}", "-uroot",
                               "--batch", "--skip-column-names", database, "-e", query],
                              capture_output=True, text=True, check=True).stdout


def sql_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _wait_for(path: Path, seconds: float, log: Path) -> str:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} never appeared: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    return path.read_text()


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stdout}{result.stderr}")


CGROUP_V1_CPU = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")
CFS_PERIOD_US = 100_000


def cpu_cgroup(name: str, share: float) -> Path:
    """A cgroup whose processes together get `share` of one CPU (CFS bandwidth control), on the
    cgroup v1 cpu controller or on cgroup v2's cpu.max; its directory."""
    quota = max(1000, round(share * CFS_PERIOD_US))
    if (CGROUP_V1_CPU / "cpu.cfs_quota_us").exists():
        group = CGROUP_V1_CPU / name
        group.mkdir(exist_ok=True)
        (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
        return group
    if "cpu" not in (CGROUP_V2 / "cgroup.subtree_control").read_text().split():
        (CGROUP_V2 / "cgroup.subtree_control").write_text("+cpu")
    group = CGROUP_V2 / name
    group.mkdir(exist_ok=True)
    (group / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}")
    return group


def has_cpu_quota() -> bool:
    if (CGROUP_V1_CPU / "cpu.cfs_quota_us").exists():
        return True
    controllers = CGROUP_V2 / "cgroup.controllers"
    return controllers.exists() and "cpu" in controllers.read_text().split()


def prerequisites() -> list[str]:
    """What this machine lacks to boot an instance (empty: all there)."""
    missing = [tool for tool in ("debootstrap", "systemd-nspawn", "nsenter", "ip", "mariadbd",
                                 "mariadb-install-db", "apt-ftparchive", "pkg-config", "git")
               if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.insert(0, "root")
    if not Path("/dev/fuse").exists():
        missing.append("/dev/fuse (the mount.efs stand-in is a FUSE file system)")
    if not has_cpu_quota():
        missing.append("a cgroup cpu controller (v1 cpu or v2 cpu.max) for the CPU-quota boot")
    if not missing and subprocess.run(["pkg-config", "--exists", "mysqlclient"]).returncode != 0:
        missing.append("default-libmysqlclient-dev (to download mysqlclient's sdist)")
    return missing
