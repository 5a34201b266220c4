"""`python manage.py demo_s3`: the demo's S3 server (moto, in this process) with demo backups in it.

`make run` starts it from Procfile.dev. It serves an S3 API on 127.0.0.1:15000 (the endpoint
demo/seed/backups.py gives the demo targets), uploads what the demo's checks should find, queues
those checks, and serves until stopped:
- wiki1 nightly: a fresh, encrypted 51 MB duplicity volume → ok;
- blog1 weekly: a fresh backup without server-side encryption → unencrypted;
- store1 configs: a tarball three days old, for a daily job → stale.
moto cannot take an object's date from a client, so the old tarball is written with moto's
clock set back: in this process only, and only for that one upload.

`--ping-path` prints the path of the demo's heartbeat target (wiki1 WAL shipping) and exits,
for the curl loop in Procfile.dev.
"""

import signal
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backups.models import BackupTarget
from backups.s3 import S3_CONFIG
from backups.tasks import queue_check
from demo import seed as demo

HEARTBEAT_TARGET = "wiki1 WAL shipping"
MB = 1024 * 1024


class Command(BaseCommand):
    help = "Serve the demo's S3 API (moto) on 127.0.0.1:15000 with demo backups, and queue their checks."

    def add_arguments(self, parser):
        parser.add_argument("--ping-path", action="store_true", help="Print the demo heartbeat's /ping/ path; exit.")

    def handle(self, *args, ping_path=False, **options):
        if ping_path:
            target = BackupTarget.objects.filter(name=HEARTBEAT_TARGET, kind="heartbeat").first()
            if target is None:
                raise CommandError(f"no heartbeat target {HEARTBEAT_TARGET!r}: run manage.py seed_demo first")
            self.stdout.write(f"/ping/{target.heartbeat_id}")
            return
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise CommandError("moto is not installed: pip install -r requirements-demo.txt (make run does)") from None

        endpoint = urlsplit(demo.S3_ENDPOINT)
        server = ThreadedMotoServer(ip_address=endpoint.hostname, port=endpoint.port, verbose=False)
        server.start()
        self._upload(demo.S3_ENDPOINT)
        targets = list(BackupTarget.objects.filter(endpoint_url=demo.S3_ENDPOINT).values_list("pk", flat=True))
        with transaction.atomic():
            for pk in targets:
                BackupTarget.objects.get(pk=pk).request_check()
                queue_check(pk)
        self.stdout.write(f"Demo S3 at {demo.S3_ENDPOINT}: demo backups uploaded, {len(targets)} check(s) queued.")

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        server.stop()

    def _upload(self, endpoint):
        import boto3
        import moto.s3.models

        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="demo",
            aws_secret_access_key="demo",  # noqa: S106 - the demo server accepts any key
            config=S3_CONFIG,
        )
        for bucket in ("demo-wiki-backups", "demo-blog-backups", "demo-store1-configs"):
            s3.create_bucket(Bucket=bucket)
        today = datetime.now(UTC).date()
        for days in (2, 1, 0):
            s3.put_object(
                Bucket="demo-wiki-backups",
                Key=f"wiki1/duplicity/duplicity-full.{today - timedelta(days=days):%Y%m%d}.vol1.difftar.gpg",
                Body=b"\0" * (51 * MB),
                ServerSideEncryption="AES256",
            )
        s3.put_object(Bucket="demo-blog-backups", Key=f"blog1/blog-{today:%Y%m%d}.sql.gz", Body=b"\0" * (3 * MB))
        three_days_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3)
        with mock.patch.object(moto.s3.models, "utcnow", return_value=three_days_ago):
            s3.put_object(
                Bucket="demo-store1-configs",
                Key=f"etc/store1-etc-{three_days_ago:%Y%m%d}.tar.gz",
                Body=b"\0" * 200_000,
                ServerSideEncryption="AES256",
            )
