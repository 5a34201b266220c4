"""How fast can Switchboard check S3 backups? 1,000 S3 targets against a local S3 API (moto).

    .venv/bin/python -m bench.backup_checks                  # 1,000 targets, 4 threads (the demo worker's)
    .venv/bin/python -m bench.backup_checks --targets 200 --threads 1

Starts moto_server on a free port on 127.0.0.1, uploads two encrypted objects under each
target's prefix, makes the targets in the PostgreSQL database switchboard_bench_backups (made
and migrated when missing; its backup targets are replaced on every run), then runs
BackupTarget.run_check() for every target (claim, list, head, record: what the Celery task
does) from a pool of threads, and prints the wall time and checks per second.
Target: all 1,000 in under 60 s on a 2-core machine.
"""

import argparse
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg

from bench.env import PG_SERVER, use_database

DATABASE = "switchboard_bench_backups"
BUCKETS = 10


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(port):
    moto = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit("moto_server did not start (pip install -r requirements-demo.txt)")


def ensure_database():
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    use_database(DATABASE)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    ensure_database()
    import boto3
    from botocore.config import Config

    from backups.models import BackupState, BackupTarget
    from coop.models import Site
    from hosts.models import Machine

    port = free_port()
    moto = start_moto(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench-secret",  # noqa: S106 - moto accepts any key
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=32),
        )
        started = time.monotonic()
        for b in range(BUCKETS):
            s3.create_bucket(Bucket=f"bench-{b}")

        def upload(n):
            for day in (20, 21):
                s3.put_object(
                    Bucket=f"bench-{n % BUCKETS}",
                    Key=f"guest{n:04d}/2026-11-{day}.tar.gpg",
                    Body=b"x" * 2048,
                    ServerSideEncryption="AES256",
                )

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(upload, range(args.targets)))
        print(f"uploaded {2 * args.targets} objects in {time.monotonic() - started:.1f} s")

        BackupTarget.objects.filter(name__startswith="bench ").delete()
        site, _ = Site.objects.get_or_create(slug="bench-colo", defaults={"name": "Bench Colo"})
        machine, _ = Machine.objects.get_or_create(hostname="bench1.example.org", defaults={"site": site})
        BackupTarget.objects.bulk_create(
            BackupTarget(
                name=f"bench {n:04d}",
                kind=BackupTarget.Kind.S3,
                machine=machine,
                endpoint_url=endpoint,
                region="us-east-1",
                bucket=f"bench-{n % BUCKETS}",
                prefix=f"guest{n:04d}/",
                access_key_id="bench",
                secret_access_key="bench-secret",  # noqa: S106 - invented
                expected_interval=timedelta(days=1),
                min_size_bytes=1024,
            )
            for n in range(args.targets)
        )
        targets = list(BackupTarget.objects.filter(name__startswith="bench "))

        def check(target):
            from django.db import connection

            try:
                return target.run_check().state
            finally:
                connection.close()

        started = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            states = list(pool.map(check, targets))
        elapsed = time.monotonic() - started
    finally:
        moto.terminate()
        moto.wait()

    ok = states.count(BackupState.OK)
    print(f"checked {len(states)} S3 targets ({ok} ok) with {args.threads} thread(s) in {elapsed:.1f} s")
    print(f"{len(states) / elapsed:.1f} checks/s")
    if ok != len(states):
        sys.exit(f"expected every target ok, got {sorted(set(states))}")


if __name__ == "__main__":
    main()
