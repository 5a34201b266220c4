"""A real S3 API for the backup tests: moto in server mode on 127.0.0.1, one per test session.

It runs with IAM authentication on, so a wrong key is refused as AWS would refuse it: the
first three requests (unauthenticated, by moto's INITIAL_NO_AUTH_ACTION_COUNT) make the user
whose key every test uses. Missing moto_server skips on a laptop and fails in CI.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from backups.models import BackupTarget
from coop.models import Site
from hosts.models import Guest, Machine
from tests.conftest import service_missing

MOTO_READY_TIMEOUT = 10
REGION = "us-east-1"


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str

    def client(self):
        """An S3 client with the test user's key, for putting objects where a check will look."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}),
        )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto_server on a free port with IAM auth on, and a user allowed everything on S3."""
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.exists():
        service_missing(f"{moto} is missing: pip install 'moto[server]' (requirements-test.txt)")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        if not wait_for_port(port, process, MOTO_READY_TIMEOUT):
            pytest.fail(f"moto_server did not listen on {port}:\n{log.read_text()[-2000:]}")
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client(
            "iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="setup", aws_secret_access_key="setup"
        )
        iam.create_user(UserName="backup-checker")
        key = iam.create_access_key(UserName="backup-checker")["AccessKey"]
        iam.put_user_policy(
            UserName="backup-checker",
            PolicyName="s3",
            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
        )
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3(s3_server):
    return s3_server.client()


@pytest.fixture
def bucket(s3):
    """A new, empty bucket for this test."""
    name = f"backups-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def wiki(db):
    """The guest whose backups the tests watch: wiki.example.org on dom0."""
    site = Site.objects.create(name="Colo Harbor", slug="harbor")
    machine = Machine.objects.create(hostname="dom0.harbor.example.org", site=site)
    return Guest.objects.create(name="wiki.example.org", machine=machine)


@pytest.fixture
def make_target(s3_server, wiki):
    """make_target(bucket, **fields): an S3 target on the test server, daily, encryption required."""

    def make(bucket, **fields):
        values = {
            "name": f"wiki nightly {uuid.uuid4().hex[:6]}",
            "kind": BackupTarget.Kind.S3,
            "guest": wiki,
            "endpoint_url": s3_server.endpoint,
            "region": REGION,
            "bucket": bucket,
            "prefix": "wiki/",
            "access_key_id": s3_server.access_key_id,
            "secret_access_key": s3_server.secret_access_key,
            "expected_interval": timedelta(days=1),
            "grace": timedelta(hours=2),
            "min_size_bytes": 100,
            **fields,
        }
        return BackupTarget.objects.create(**values)

    return make


@pytest.fixture
def heartbeat(wiki):
    """The wiki's WAL shipping: a heartbeat expected every 15 minutes, 5 minutes' grace."""
    return BackupTarget.objects.create(
        name="wiki WAL shipping",
        kind=BackupTarget.Kind.HEARTBEAT,
        guest=wiki,
        expected_interval=timedelta(minutes=15),
        grace=timedelta(minutes=5),
        encryption_required=False,
    )


def put(s3, bucket, key, size, encrypted=True):
    """Upload `size` bytes as a backup would, with or without server-side encryption."""
    extra = {"ServerSideEncryption": "AES256"} if encrypted else {}
    s3.put_object(Bucket=bucket, Key=key, Body=b"x" * size, **extra)
