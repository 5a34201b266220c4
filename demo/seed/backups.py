"""The demo's backup targets: S3 buckets on the local S3 server and a heartbeat."""

from datetime import timedelta

from backups.models import BackupTarget

# The S3 API `manage.py demo_s3` serves on this host (moto); the demo's targets point at it.
S3_ENDPOINT = "http://127.0.0.1:15000"


def seed_backups(s, guests, machines):
    """The S3 backup targets and wiki1's WAL-shipping heartbeat."""
    s.ensure(
        BackupTarget,
        {"name": "wiki1 nightly (S3)"},
        {
            "kind": BackupTarget.Kind.S3,
            "guest": guests["wiki1"],
            "expected_interval": timedelta(days=1),
            "grace": timedelta(hours=3),
            "encryption_required": True,
            "min_size_bytes": 50 * 1024 * 1024,
            "endpoint_url": S3_ENDPOINT,
            "region": "us-east-1",
            "bucket": "demo-wiki-backups",
            "prefix": "wiki1/duplicity/",
            "access_key_id": "DEMOWIKIBACKUP",
            "secret_access_key": "demo-wiki-secret-key",
            "last_exercised_at": s.days_ago(40),
            "notes": "duplicity, nightly at 03:00 colo time. Encryption was off until the dom0 outage.",
        },
    )
    s.ensure(
        BackupTarget,
        {"name": "blog1 weekly (S3)"},
        {
            "kind": BackupTarget.Kind.S3,
            "guest": guests["blog1"],
            "expected_interval": timedelta(days=7),
            "grace": timedelta(hours=12),
            "encryption_required": True,
            "endpoint_url": S3_ENDPOINT,
            "region": "us-east-1",
            "bucket": "demo-blog-backups",
            "prefix": "blog1/",
            "access_key_id": "DEMOBLOGBACKUP",
            "secret_access_key": "demo-blog-secret-key",
        },
    )
    s.ensure(
        BackupTarget,
        {"name": "store1 configs (S3)"},
        {
            "kind": BackupTarget.Kind.S3,
            "machine": machines["store1"],
            "expected_interval": timedelta(days=1),
            "grace": timedelta(hours=3),
            "encryption_required": True,
            "endpoint_url": S3_ENDPOINT,
            "region": "us-east-1",
            "bucket": "demo-store1-configs",
            "prefix": "etc/",
            "access_key_id": "DEMOSTORE1CONFIGS",
            "secret_access_key": "demo-store1-secret-key",
            "notes": "etckeeper tarball, nightly. The cron job stopped when store1's disk filled up.",
        },
    )
    s.ensure(
        BackupTarget,
        {"name": "wiki1 WAL shipping"},
        {
            "kind": BackupTarget.Kind.HEARTBEAT,
            "guest": guests["wiki1"],
            "expected_interval": timedelta(minutes=15),
            "grace": timedelta(minutes=15),
            "encryption_required": False,
            "notes": "archive_command on wiki1 pings this after each WAL segment lands on store1.",
        },
    )
